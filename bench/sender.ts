// The benchmark's sender: one or more BGP sessions (in one process) that each bring a session up, wait for the word,
// then write a pre-encoded UPDATE stream (table.ts) as fast as the socket takes it — in chunks of whole messages,
// waiting for 'drain' whenever the socket's buffer is full — followed by End-of-RIB for both families (RFC 4724 §2),
// while KEEPALIVEs keep flowing (bgp.ts). It records the time of its first UPDATE, which starts the benchmark's clock.
//
// For the churn scenario it then plays a pre-encoded churn file tick by tick at a fixed pace; each tick ends with a
// marker announcement whose send time it records (the receiver records its arrival).
//
// Run as a child of bench/run.ts (IPC): {cmd:'start'} → established; {cmd:'go'} → first-update, sent; {cmd:'churn'}.

import { readFileSync } from 'node:fs';
import { MiniSession, nowMs, type SessionOptions } from './bgp.ts';
import { encodeEndOfRib } from './table.ts';

const CHUNK = 256 * 1024;

/** Cuts a stream of whole BGP messages into slices of about CHUNK bytes that end on message boundaries. */
export function chunkBoundaries(buf: Buffer, chunk = CHUNK): number[] {
  const cuts = [0];
  let off = 0;
  let last = 0;
  while (off + 19 <= buf.length) {
    const len = buf.readUInt16BE(off + 16);
    if (len < 19) throw new Error(`bad message length ${len} at ${off}`);
    off += len;
    if (off - last >= chunk) {
      cuts.push(off);
      last = off;
    }
  }
  if (off !== buf.length) throw new Error('stream does not end on a message boundary');
  if (last !== off) cuts.push(off);
  return cuts;
}

export interface SenderSessionSpec extends SessionOptions {
  stream: string;
  churn?: { file: string; offsets: number[]; tickMs: number };
}

export type SenderCommand =
  | { cmd: 'start'; sessions: SenderSessionSpec[] }
  | { cmd: 'go' }
  | { cmd: 'churn' }
  | { cmd: 'report' }
  | { cmd: 'stop' };

export type SenderEvent =
  | { ev: 'established'; i: number; t: number }
  | { ev: 'first-update'; t: number }
  | { ev: 'sent'; i: number; t: number }
  | { ev: 'down'; i: number; t: number; reason: string; established: boolean }
  | { ev: 'churn-done'; i: number; t: number; markerSent: number[]; maxBacklogBytes: number; lateTicks: number }
  | { ev: 'report'; cpuMs: number; rssMb: number; received: number[] }
  | { ev: 'error'; message: string };

function runChild(): void {
  const send = (m: SenderEvent) => process.send?.(m);
  const eor = encodeEndOfRib();
  const sessions: { s: MiniSession; spec: SenderSessionSpec; buf: Buffer; cuts: number[] }[] = [];
  let firstSent = false;

  const pump = (i: number) => {
    const x = sessions[i];
    if (!x) return;
    let k = 0;
    const step = () => {
      while (k < x.cuts.length - 1) {
        if (!firstSent) {
          firstSent = true;
          send({ ev: 'first-update', t: nowMs() });
        }
        const ok = x.s.write(x.buf.subarray(x.cuts[k], x.cuts[k + 1]));
        k++;
        if (!ok) {
          x.s.socket?.once('drain', step);
          return;
        }
      }
      x.s.write(eor);
      send({ ev: 'sent', i, t: nowMs() });
    };
    step();
  };

  const churn = (i: number) => {
    const x = sessions[i];
    const c = x?.spec.churn;
    if (!x || !c) return;
    const data = readFileSync(c.file);
    const ticks = c.offsets.length - 1;
    const markerSent: number[] = new Array(ticks).fill(0);
    let maxBacklog = 0;
    let late = 0;
    const t0 = nowMs();
    let k = 0;
    const tick = () => {
      // Every tick whose time has come is written now (a late timer catches up rather than slowing the pace).
      const now = nowMs();
      while (k < ticks && t0 + k * c.tickMs <= now) {
        if (now - (t0 + k * c.tickMs) > c.tickMs) late++;
        x.s.write(data.subarray(c.offsets[k], c.offsets[k + 1]));
        markerSent[k] = nowMs();
        k++;
      }
      maxBacklog = Math.max(maxBacklog, x.s.socket?.writableLength ?? 0);
      if (k < ticks) {
        setTimeout(tick, Math.max(0, t0 + k * c.tickMs - nowMs()));
      } else {
        send({ ev: 'churn-done', i, t: nowMs(), markerSent, maxBacklogBytes: maxBacklog, lateTicks: late });
      }
    };
    tick();
  };

  process.on('message', (m: SenderCommand) => {
    try {
      if (m.cmd === 'start') {
        m.sessions.forEach((spec, i) => {
          const buf = readFileSync(spec.stream);
          const s = new MiniSession(spec, {
            onEstablished: () => send({ ev: 'established', i, t: nowMs() }),
            onDown: (reason, established) => send({ ev: 'down', i, t: nowMs(), reason, established }),
          });
          sessions.push({ s, spec, buf, cuts: chunkBoundaries(buf) });
          s.start();
        });
      } else if (m.cmd === 'go') {
        for (let i = 0; i < sessions.length; i++) pump(i);
      } else if (m.cmd === 'churn') {
        for (let i = 0; i < sessions.length; i++) churn(i);
      } else if (m.cmd === 'report') {
        const cpu = process.cpuUsage();
        send({
          ev: 'report',
          cpuMs: (cpu.user + cpu.system) / 1000,
          rssMb: process.memoryUsage().rss / 1e6,
          received: sessions.map((x) => x.s.updatesIn),
        });
      } else if (m.cmd === 'stop') {
        for (const x of sessions) x.s.stop();
        setTimeout(() => process.exit(0), 200);
      }
    } catch (err) {
      send({ ev: 'error', message: (err as Error).stack ?? String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (import.meta.main) runChild();
