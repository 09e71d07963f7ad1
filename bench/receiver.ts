// The benchmark's receiver: one or more BGP sessions (in one process, one event loop) that count the distinct
// prefixes they hold — an announcement adds, a withdrawal removes (RFC 4271 §4.3 Withdrawn Routes and NLRI; RFC 4760
// MP_REACH_NLRI / MP_UNREACH_NLRI) — and report the moment each session holds the expected number.
//
// It never decodes attributes: it walks the bytes of each UPDATE to its prefixes and keeps them in an open-addressing
// hash set over typed arrays (no per-prefix objects). Churn markers (198.18.0.0/15 /32s, see table.ts) are not
// counted; the time each is first seen is recorded instead, to measure lag.
//
// Run as a child of bench/run.ts (IPC): {cmd:'start', sessions, ...} → {ev:'established'|'done'|'down'|...}.

import { MiniSession, nowMs, type SessionOptions } from './bgp.ts';
import { markerId } from './table.ts';

/**
 * A set of prefixes of up to 64 significant bits (every prefix the table generates, and every IPv4 prefix); longer
 * IPv6 prefixes go to a plain Set of strings. Linear probing with tombstones; grows at load 0.5.
 */
export class PrefixSet {
  size = 0;
  private used = 0;
  private mask: number;
  private a: Int32Array;
  private b: Int32Array;
  /** 0 empty, 255 deleted, otherwise prefix length + 1. */
  private t: Uint8Array;
  private long = new Set<string>();

  constructor(expected = 1024) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.a = new Int32Array(cap);
    this.b = new Int32Array(cap);
    this.t = new Uint8Array(cap);
  }

  private static hash(a: number, b: number, len: number): number {
    let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(len, 0x85ebca6b), 0x27d4eb2d);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return h ^ (h >>> 12);
  }

  /** Adds (a, b, len); returns true when it was not there. */
  add(a: number, b: number, len: number): boolean {
    const tag = len + 1;
    let i = PrefixSet.hash(a, b, len) & this.mask;
    let tomb = -1;
    for (;;) {
      const ti = this.t[i] as number;
      if (ti === 0) break;
      if (ti === 255) {
        if (tomb < 0) tomb = i;
      } else if (ti === tag && this.a[i] === a && this.b[i] === b) {
        return false;
      }
      i = (i + 1) & this.mask;
    }
    if (tomb >= 0) {
      i = tomb;
    } else {
      this.used++;
    }
    this.t[i] = tag;
    this.a[i] = a;
    this.b[i] = b;
    this.size++;
    if (this.used * 2 > this.mask) this.rehash(this.size * 2 > this.mask ? (this.mask + 1) * 2 : this.mask + 1);
    return true;
  }

  delete(a: number, b: number, len: number): boolean {
    const tag = len + 1;
    let i = PrefixSet.hash(a, b, len) & this.mask;
    for (;;) {
      const ti = this.t[i] as number;
      if (ti === 0) return false;
      if (ti === tag && this.a[i] === a && this.b[i] === b) {
        this.t[i] = 255;
        this.size--;
        return true;
      }
      i = (i + 1) & this.mask;
    }
  }

  addLong(key: string): void {
    if (!this.long.has(key)) {
      this.long.add(key);
      this.size++;
    }
  }

  deleteLong(key: string): void {
    if (this.long.delete(key)) this.size--;
  }

  private rehash(cap: number): void {
    const { a, b, t } = this;
    this.mask = cap - 1;
    this.a = new Int32Array(cap);
    this.b = new Int32Array(cap);
    this.t = new Uint8Array(cap);
    this.used = 0;
    this.size -= this.long.size;
    const longs = this.size;
    this.size = 0;
    for (let i = 0; i < t.length; i++) {
      const ti = t[i] as number;
      if (ti !== 0 && ti !== 255) this.add(a[i] as number, b[i] as number, ti - 1);
    }
    if (this.size !== longs) throw new Error('PrefixSet rehash lost entries');
    this.size += this.long.size;
  }
}

/** The distinct prefixes one session holds, and how it learned them. */
export class RibCounter {
  readonly v4: PrefixSet;
  readonly v6: PrefixSet;
  announced = 0;
  withdrawn = 0;
  endOfRib4 = false;
  endOfRib6 = false;
  /** Marker id → first time seen (ms, monotonic). */
  readonly markers = new Map<number, number>();

  constructor(expect4 = 0, expect6 = 0) {
    this.v4 = new PrefixSet(expect4);
    this.v6 = new PrefixSet(expect6);
  }

  /** Applies one UPDATE message (header included) at buf[off .. off+len). Throws on a malformed one. */
  apply(buf: Buffer, off: number, len: number): void {
    const end = off + len;
    let p = off + 19;
    const wlen = (buf[p] as number) * 256 + (buf[p + 1] as number);
    p += 2;
    const wend = p + wlen;
    while (p < wend) p = this.v4Prefix(buf, p, false);
    const alen = (buf[p] as number) * 256 + (buf[p + 1] as number);
    p += 2;
    const aend = p + alen;
    if (aend > end) throw new Error('attribute length past the message');
    if (wlen === 0 && alen === 0) this.endOfRib4 = true; // RFC 4724 §2
    while (p < aend) {
      const flags = buf[p] as number;
      const type = buf[p + 1] as number;
      let l: number;
      if (flags & 0x10) {
        l = (buf[p + 2] as number) * 256 + (buf[p + 3] as number);
        p += 4;
      } else {
        l = buf[p + 2] as number;
        p += 3;
      }
      const aEnd = p + l;
      if (type === 14) {
        // MP_REACH_NLRI: AFI, SAFI, next hop length, next hop, reserved, NLRI (RFC 4760 §3)
        const afi = (buf[p] as number) * 256 + (buf[p + 1] as number);
        const safi = buf[p + 2] as number;
        let q = p + 4 + (buf[p + 3] as number) + 1;
        if (safi === 1) {
          if (afi === 1) while (q < aEnd) q = this.v4Prefix(buf, q, true);
          else if (afi === 2) while (q < aEnd) q = this.v6Prefix(buf, q, true);
        }
      } else if (type === 15) {
        // MP_UNREACH_NLRI: AFI, SAFI, withdrawn routes (RFC 4760 §4); empty = End-of-RIB
        const afi = (buf[p] as number) * 256 + (buf[p + 1] as number);
        const safi = buf[p + 2] as number;
        let q = p + 3;
        if (safi === 1) {
          if (q === aEnd && afi === 2) this.endOfRib6 = true;
          if (q === aEnd && afi === 1) this.endOfRib4 = true;
          if (afi === 1) while (q < aEnd) q = this.v4Prefix(buf, q, false);
          else if (afi === 2) while (q < aEnd) q = this.v6Prefix(buf, q, false);
        }
      }
      p = aEnd;
    }
    while (p < end) p = this.v4Prefix(buf, p, true);
  }

  private v4Prefix(buf: Buffer, p: number, add: boolean): number {
    const len = buf[p] as number;
    const n = (len + 7) >> 3;
    let addr = 0;
    for (let i = 0; i < 4; i++) addr = (addr << 8) | (i < n ? (buf[p + 1 + i] as number) : 0);
    // Host bits are irrelevant (RFC 4271 §4.3).
    addr = len === 0 ? 0 : addr & (0xffffffff << (32 - len));
    const m = len === 32 ? markerId(addr >>> 0, len) : -1;
    if (m >= 0) {
      if (add && !this.markers.has(m)) this.markers.set(m, nowMs());
    } else if (add) {
      this.v4.add(addr, 0, len);
      this.announced++;
    } else {
      this.v4.delete(addr, 0, len);
      this.withdrawn++;
    }
    return p + 1 + n;
  }

  private v6Prefix(buf: Buffer, p: number, add: boolean): number {
    const len = buf[p] as number;
    const n = (len + 7) >> 3;
    if (len > 64) {
      const key = buf.toString('latin1', p, p + 1 + n);
      if (add) this.v6.addLong(key);
      else this.v6.deleteLong(key);
    } else {
      let hi = 0;
      let lo = 0;
      for (let i = 0; i < 4; i++) hi = (hi << 8) | (i < n ? (buf[p + 1 + i] as number) : 0);
      for (let i = 4; i < 8; i++) lo = (lo << 8) | (i < n ? (buf[p + 1 + i] as number) : 0);
      if (len < 32) {
        hi = len === 0 ? 0 : hi & (0xffffffff << (32 - len));
        lo = 0;
      } else if (len < 64) {
        lo = len === 32 ? 0 : lo & (0xffffffff << (64 - len));
      }
      if (add) this.v6.add(hi, lo, len);
      else this.v6.delete(hi, lo, len);
    }
    if (add) this.announced++;
    else this.withdrawn++;
    return p + 1 + n;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Child-process entry.

export interface ReceiverSessionSpec extends SessionOptions {
  expect4: number;
  expect6: number;
}

export type ReceiverCommand =
  | { cmd: 'start'; sessions: ReceiverSessionSpec[] }
  | { cmd: 'expect'; v4: number; v6: number; afterMarker?: number }
  | { cmd: 'report' }
  | { cmd: 'stop' };

export interface ReceiverSessionReport {
  v4: number;
  v6: number;
  updates: number;
  bytes: number;
  reads: number;
  announced: number;
  withdrawn: number;
  endOfRib: boolean;
  doneAt: number | null;
  markers: [number, number][];
}

export type ReceiverEvent =
  | { ev: 'established'; i: number; t: number }
  | { ev: 'done'; i: number; t: number }
  | { ev: 'down'; i: number; t: number; reason: string; established: boolean }
  | { ev: 'progress'; counts: [number, number][] }
  | { ev: 'report'; sessions: ReceiverSessionReport[]; cpuMs: number; rssMb: number }
  | { ev: 'error'; message: string };

function runChild(): void {
  const send = (m: ReceiverEvent) => process.send?.(m);
  const sessions: { s: MiniSession; rib: RibCounter; spec: ReceiverSessionSpec; doneAt: number | null }[] = [];
  let progress: NodeJS.Timeout | undefined;
  let afterMarker = -1;
  const check = (i: number) => {
    const x = sessions[i];
    if (!x || x.doneAt !== null) return;
    // After churn the counts pass through the final values on the way; the last marker (sent after the last
    // change) must have arrived first.
    if (afterMarker >= 0 && !x.rib.markers.has(afterMarker)) return;
    if (x.rib.v4.size === x.spec.expect4 && x.rib.v6.size === x.spec.expect6) {
      x.doneAt = nowMs();
      send({ ev: 'done', i, t: x.doneAt });
    }
  };
  process.on('message', (m: ReceiverCommand) => {
    if (m.cmd === 'start') {
      m.sessions.forEach((spec, i) => {
        const rib = new RibCounter(spec.expect4, spec.expect6);
        const s = new MiniSession(spec, {
          onUpdate: (buf, off, len) => {
            try {
              rib.apply(buf, off, len);
            } catch (err) {
              send({ ev: 'error', message: `session ${i}: malformed UPDATE: ${(err as Error).message}` });
              return;
            }
            check(i);
          },
          onEstablished: () => send({ ev: 'established', i, t: nowMs() }),
          onDown: (reason, established) => send({ ev: 'down', i, t: nowMs(), reason, established }),
        });
        sessions.push({ s, rib, spec, doneAt: null });
        s.start();
      });
      progress = setInterval(
        () => send({ ev: 'progress', counts: sessions.map((x) => [x.rib.v4.size, x.rib.v6.size]) }),
        1000,
      );
    } else if (m.cmd === 'expect') {
      // New targets (after churn): every session is done again when it holds exactly this many.
      afterMarker = m.afterMarker ?? -1;
      sessions.forEach((x, i) => {
        x.spec.expect4 = m.v4;
        x.spec.expect6 = m.v6;
        x.doneAt = null;
        check(i);
      });
    } else if (m.cmd === 'report') {
      const cpu = process.cpuUsage();
      send({
        ev: 'report',
        cpuMs: (cpu.user + cpu.system) / 1000,
        rssMb: process.memoryUsage().rss / 1e6,
        sessions: sessions.map((x) => ({
          v4: x.rib.v4.size,
          v6: x.rib.v6.size,
          updates: x.s.updatesIn,
          bytes: x.s.bytesIn,
          reads: x.s.readsIn,
          announced: x.rib.announced,
          withdrawn: x.rib.withdrawn,
          endOfRib: x.rib.endOfRib4 && x.rib.endOfRib6,
          doneAt: x.doneAt,
          markers: [...x.rib.markers],
        })),
      });
    } else if (m.cmd === 'stop') {
      clearInterval(progress);
      for (const x of sessions) x.s.stop();
      setTimeout(() => process.exit(0), 200);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (import.meta.main) runChild();
