// The benchmark scenarios (issue 4) and the one procedure they share:
//   start the system under test → bring every receiver session up → bring every sender session up → settle →
//   sample the SUT's CPU → "go" → wait until every receiver holds every prefix (or the run's time limit) →
//   sample again; peak RSS is sampled every 100 ms throughout.
// Wall time runs from the sender's first UPDATE to the moment the last receiver holds the last prefix, both on the
// system-wide monotonic clock. A "direct" run wires the senders straight to the receivers (no SUT) to show that
// neither is the bottleneck.
//
// Addresses (all on lo of the benchmark's network namespace, see run.ts):
//   SUT 198.51.100.1 / 2001:db8::1, AS 65000; sender i 198.51.100.(11+i); receiver j 198.51.100.(31+j), AS 65101+j.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nowMs } from './bgp.ts';
import { type ReceiverChild, type SenderChild, startReceiverChild, startSenderChild } from './children.ts';
import type { BenchNeighbor, DaemonModule, Sut } from './daemons/common.ts';
import { delay } from './daemons/common.ts';
import { cpuSeconds, hwmMb, processTree, RssSampler } from './procs.ts';
import type { ReceiverEvent, ReceiverSessionReport, ReceiverSessionSpec } from './receiver.ts';
import type { SenderEvent, SenderSessionSpec } from './sender.ts';
import {
  apiRoutes,
  type ChurnMeta,
  churnFile,
  type SenderView,
  type StreamMeta,
  streamFile,
  type TableParams,
  tableParams,
} from './table.ts';

export const SUT = { asn: 65000, address4: '198.51.100.1', address6: '2001:db8::1' } as const;
export const senderAddr = (i: number) => `198.51.100.${11 + i}`;
export const receiverAddr = (j: number) => `198.51.100.${31 + j}`;
const v6 = (v4: string) => `2001:db8::${v4.split('.')[3]}`;

export interface BenchOptions {
  scale: number;
  seed: number;
  holdTime: number;
  timeoutS: number;
  receivers2: number;
  senders3: number;
  perSender3: number;
  /** Scenario 3 senders: iBGP (default, RFC 4271 §9.2 split horizon keeps the SUT from sending each sender the
   *  others' routes) or eBGP (then every sender also gets the others' routes back: a full fan-out). */
  senders3Ibgp: boolean;
  apiRoutes4: number;
  churnRate: number;
  churnSeconds: number;
  /** Receiver read coalescing (ms), see bgp.ts. */
  coalesceMs: number;
  verbose: boolean;
}

export interface Drop {
  who: string;
  reason: string;
  at_s: number;
}

export interface RunRecord {
  daemon: string;
  version: string;
  status: 'ok' | 'timeout' | 'failed' | 'skipped';
  note?: string;
  wall_s: number | null;
  cpu_s: number | null;
  peak_rss_mb: number | null;
  /** Sum of VmHWM over the SUT's processes (an upper bound of the sampled peak). */
  hwm_mb: number | null;
  /** RSS just before the first UPDATE (sessions up, tables empty). */
  rss_baseline_mb?: number | null;
  /** (peak RSS − baseline) / prefixes held by the SUT: everything a prefix costs it, Adj-RIB-In, Loc-RIB and
   *  Adj-RIB-Out (or update queues) together, allocator and GC slack included. */
  bytes_per_prefix?: number | null;
  drops: Drop[];
  max_loop_delay_ms: number | null;
  loop_delay_note?: string;
  /** Prefixes delivered to all receivers together, per second of wall time. */
  prefixes_per_s: number | null;
  sender_cpu_s: number | null;
  receiver_cpu_s: number | null;
  /** Receivers that held the whole table at the end. */
  receivers_done: number;
  receivers: number;
  /** Per-receiver completion times after the first UPDATE (s), when more than one. */
  receiver_times_s?: number[];
  extra?: Record<string, unknown>;
}

export interface Plan {
  scenario: string;
  title: string;
  senders: { view: SenderView; stream: { file: string; meta: StreamMeta } }[];
  receivers: number;
  expect4: number;
  expect6: number;
  churn?: { file: string; meta: ChurnMeta; tickMs: number; rate: number; seconds: number };
  api?: { count: number; params: TableParams };
  /** Daemons this scenario runs (others are recorded as skipped with this note). */
  only?: { names: string[]; note: string };
}

const log = (opts: BenchOptions, ...a: unknown[]) => {
  if (opts.verbose) console.error('[bench]', ...a);
};

function view(i: number, ibgp: boolean): SenderView {
  const a = senderAddr(i);
  return { asn: ibgp ? SUT.asn : 65001 + i, ibgp, nextHop4: a, nextHop6: v6(a) };
}

/** Builds (or loads from the cache) everything scenario `n` sends. */
export function planScenario(n: number, o: BenchOptions): Plan {
  const full = tableParams(o.scale, o.seed);
  switch (n) {
    case 1: {
      const st = streamFile({ table: full, view: view(0, false) });
      return {
        scenario: '1',
        title: '1 sender → SUT → 1 receiver, full table',
        senders: [{ view: view(0, false), stream: st }],
        receivers: 1,
        expect4: st.meta.v4,
        expect6: st.meta.v6,
      };
    }
    case 2: {
      const st = streamFile({ table: full, view: view(0, false) });
      return {
        scenario: '2',
        title: `1 sender → SUT → ${o.receivers2} receivers, full table`,
        senders: [{ view: view(0, false), stream: st }],
        receivers: o.receivers2,
        expect4: st.meta.v4,
        expect6: st.meta.v6,
      };
    }
    case 3: {
      // N × per-sender distinct prefixes, IPv4/IPv6 in the full table's ratio, cut from one table.
      const total = Math.round(o.senders3 * o.perSender3 * o.scale);
      const p: TableParams = {
        seed: o.seed + 3,
        v4: Math.round((total * full.v4) / (full.v4 + full.v6)),
        v6: total - Math.round((total * full.v4) / (full.v4 + full.v6)),
      };
      const senders = Array.from({ length: o.senders3 }, (_, i) => {
        const vw = view(i, o.senders3Ibgp);
        return { view: vw, stream: streamFile({ table: p, view: vw, slice: { index: i, of: o.senders3 } }) };
      });
      return {
        scenario: '3',
        title: `${o.senders3} senders (${o.senders3Ibgp ? 'iBGP' : 'eBGP'}) × ${Math.round(o.perSender3 * o.scale)} distinct prefixes → SUT → 1 receiver`,
        senders,
        receivers: 1,
        expect4: senders.reduce((s, x) => s + x.stream.meta.v4, 0),
        expect6: senders.reduce((s, x) => s + x.stream.meta.v6, 0),
      };
    }
    case 4: {
      const count = Math.round(o.apiRoutes4 * o.scale);
      const p: TableParams = { seed: o.seed + 4, v4: Math.round(count * 0.82), v6: count - Math.round(count * 0.82) };
      return {
        scenario: '4',
        title: `${count} routes injected through the API (POST /api/v1/routes) → SUT → 1 receiver`,
        senders: [],
        receivers: 1,
        expect4: p.v4,
        expect6: p.v6,
        api: { count, params: p },
        only: { names: ['tsbgp'], note: 'route injection through an HTTP API is tsbgp-specific' },
      };
    }
    case 5: {
      const st = streamFile({ table: full, view: view(0, false) });
      const tickMs = 100;
      const ch = churnFile({
        table: full,
        view: view(0, false),
        rate: o.churnRate,
        seconds: o.churnSeconds,
        tickMs,
        seed: o.seed,
      });
      return {
        scenario: '5',
        title: `churn: full table, then ${o.churnRate} changes/s for ${o.churnSeconds} s (withdrawals and re-announcements)`,
        senders: [{ view: view(0, false), stream: st }],
        receivers: 1,
        expect4: st.meta.v4,
        expect6: st.meta.v6,
        churn: { file: ch.file, meta: ch.meta, tickMs, rate: o.churnRate, seconds: o.churnSeconds },
      };
    }
    default:
      throw new Error(`unknown scenario ${n}`);
  }
}

/** A run's record before it has results (status failed until it succeeds). */
export function emptyRecord(daemon: string, version: string, receivers: number): RunRecord {
  return {
    daemon,
    version,
    status: 'failed',
    wall_s: null,
    cpu_s: null,
    peak_rss_mb: null,
    hwm_mb: null,
    drops: [],
    max_loop_delay_ms: null,
    prefixes_per_s: null,
    sender_cpu_s: null,
    receiver_cpu_s: null,
    receivers_done: 0,
    receivers,
  };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Runs one plan against one daemon (`mod` null: the direct sender → receiver run). Never throws: failures are
 * recorded with the daemon's log tail. Everything started is stopped before it returns.
 */
export async function runPlan(
  plan: Plan,
  mod: DaemonModule | null,
  version: string,
  o: BenchOptions,
): Promise<RunRecord> {
  const name = mod?.name ?? 'direct';
  const rec = emptyRecord(name, version, plan.receivers);
  const direct = mod === null;
  let dir = '';
  let sut: Sut | undefined;
  let sender: SenderChild | undefined;
  let receiver: ReceiverChild | undefined;
  let sampler: RssSampler | undefined;
  const drops: Drop[] = [];
  let t0 = 0;
  const since = () => (t0 ? r3((nowMs() - t0) / 1000) : 0);
  try {
    dir = await mkdtemp(join(tmpdir(), `tsbgp-bench-${name}-`));
    // The direct run pairs sender session i with receiver session i.
    const pairs = direct ? Math.max(plan.senders.length, plan.receivers) : 0;
    const nSenders = direct ? pairs : plan.senders.length;
    const nReceivers = direct ? pairs : plan.receivers;
    if (!direct && mod) {
      const neighbors: BenchNeighbor[] = [
        ...plan.senders.map((s, i) => ({ address: senderAddr(i), asn: s.view.asn, role: 'sender' as const })),
        ...Array.from({ length: plan.receivers }, (_, j) => ({
          address: receiverAddr(j),
          asn: 65101 + j,
          role: 'receiver' as const,
        })),
      ];
      sut = mod.create({
        asn: SUT.asn,
        routerId: SUT.address4,
        address4: SUT.address4,
        address6: SUT.address6,
        neighbors,
        holdTime: o.holdTime,
        dir,
      });
      await sut.start();
      log(o, `${name} started (pid ${sut.pid})`);
    }

    const expect = (j: number) => {
      if (!direct || plan.senders.length !== pairs) return { expect4: plan.expect4, expect6: plan.expect6 };
      // Direct run of N distinct senders: receiver j expects sender j's share.
      const m = plan.senders[j]?.stream.meta;
      return { expect4: m?.v4 ?? 0, expect6: m?.v6 ?? 0 };
    };
    const rSpecs: ReceiverSessionSpec[] = Array.from({ length: nReceivers }, (_, j) => ({
      localAddress: receiverAddr(j),
      remoteAddress: direct ? senderAddr(j) : SUT.address4,
      port: 179,
      mode: direct ? 'listen' : 'connect',
      asn: 65101 + j,
      routerId: receiverAddr(j),
      holdTime: o.holdTime,
      coalesceMs: o.coalesceMs,
      ...expect(j),
    }));
    receiver = startReceiverChild();
    receiver.on((e: ReceiverEvent) => {
      if (e.ev === 'down') drops.push({ who: `receiver ${j2a(e.i)}`, reason: e.reason, at_s: since() });
      if (e.ev === 'error') drops.push({ who: 'receiver', reason: e.message, at_s: since() });
    });
    receiver.send({ cmd: 'start', sessions: rSpecs });
    if (direct) await delay(300); // listeners up

    const sSpecs: SenderSessionSpec[] = Array.from({ length: nSenders }, (_, i) => {
      const src = plan.senders[i % Math.max(1, plan.senders.length)];
      if (!src) throw new Error('no sender stream');
      return {
        localAddress: senderAddr(i),
        remoteAddress: direct ? receiverAddr(i) : SUT.address4,
        port: 179,
        mode: 'connect',
        asn: direct ? 65001 + i : src.view.asn,
        routerId: senderAddr(i),
        holdTime: o.holdTime,
        stream: src.stream.file,
        churn:
          plan.churn && i === 0
            ? { file: plan.churn.file, offsets: plan.churn.meta.offsets, tickMs: plan.churn.tickMs }
            : undefined,
      };
    });
    if (nSenders > 0) {
      sender = startSenderChild();
      sender.on((e: SenderEvent) => {
        if (e.ev === 'down') drops.push({ who: `sender ${senderAddr(e.i)}`, reason: e.reason, at_s: since() });
        if (e.ev === 'error') drops.push({ who: 'sender', reason: e.message, at_s: since() });
      });
    }

    // Receivers first, so that the SUT has somewhere to send before the first UPDATE arrives.
    const upTimeout = 60_000;
    if (!direct) {
      await receiver.waitCount((e) => e.ev === 'established', nReceivers, upTimeout, 'receiver sessions Established');
    }
    if (sender) {
      sender.send({ cmd: 'start', sessions: sSpecs });
      await sender.waitCount((e) => e.ev === 'established', nSenders, upTimeout, 'sender sessions Established');
    }
    if (direct)
      await receiver.waitCount((e) => e.ev === 'established', nReceivers, upTimeout, 'receiver sessions Established');
    log(o, `${name}: ${nSenders} sender and ${nReceivers} receiver sessions established`);
    await delay(1000);

    const pids = sut ? processTree(sut.pid) : [];
    if (sut) {
      sampler = new RssSampler(sut.pid);
      sampler.start(100);
      rec.rss_baseline_mb = r1(sampler.lastMb);
    }
    const cpu0 = sut ? cpuSeconds(pids) : 0;
    const deadline = Date.now() + o.timeoutS * 1000;
    let apiExtra: Record<string, unknown> | undefined;

    if (plan.api && sut) {
      const r = await injectRoutes(sut, plan, o);
      if (r.skipped) {
        rec.status = 'skipped';
        rec.note = r.skipped;
        return rec;
      }
      t0 = r.t0;
      apiExtra = r.extra;
    } else {
      if (!sender) throw new Error('no sender');
      sender.send({ cmd: 'go' });
      const first = (await sender.waitFor((e) => e.ev === 'first-update', 30_000, 'the first UPDATE')) as Extract<
        SenderEvent,
        { ev: 'first-update' }
      >;
      t0 = first.t;
    }

    // Until every receiver holds every prefix, a session drops for good, or the time limit.
    let timedOut = false;
    try {
      await receiver.waitCount(
        (e) => e.ev === 'done',
        nReceivers,
        Math.max(1000, deadline - Date.now()),
        'every receiver to hold every prefix',
      );
    } catch {
      timedOut = true;
    }
    const tLoad = nowMs();
    const cpu1 = sut ? cpuSeconds(processTree(sut.pid)) : 0;
    const done = receiver.events.filter((e) => e.ev === 'done') as Extract<ReceiverEvent, { ev: 'done' }>[];
    rec.receivers_done = done.length;
    if (!timedOut) {
      const last = Math.max(...done.map((e) => e.t));
      rec.wall_s = r3((last - t0) / 1000);
      if (done.length > 1) rec.receiver_times_s = done.map((e) => r3((e.t - t0) / 1000)).sort((a, b) => a - b);
      rec.prefixes_per_s = Math.round(rSpecs.reduce((a, x) => a + x.expect4 + x.expect6, 0) / ((last - t0) / 1000));
    } else {
      const prog = [...receiver.events].reverse().find((e) => e.ev === 'progress') as
        | Extract<ReceiverEvent, { ev: 'progress' }>
        | undefined;
      rec.note = `time limit of ${o.timeoutS} s reached; receivers held ${JSON.stringify(prog?.counts.slice(0, 4) ?? [])} of [${plan.expect4},${plan.expect6}]`;
    }
    if (sut) rec.cpu_s = r3(cpu1 - cpu0);
    rec.extra = { ...apiExtra };
    if (plan.churn && sender && !timedOut) {
      rec.extra = { ...rec.extra, churn: await runChurn(plan, sender, receiver, sampler, o) };
    }
    if (sampler) {
      sampler.stop();
      rec.peak_rss_mb = r1(sampler.peakMb);
      rec.hwm_mb = r1(hwmMb(processTree(sut?.pid ?? -1)));
      if (!timedOut && rec.rss_baseline_mb != null && !plan.churn) {
        rec.bytes_per_prefix = Math.round(
          ((sampler.peakMb - rec.rss_baseline_mb) * 2 ** 20) / (plan.expect4 + plan.expect6),
        );
      }
    }
    if (sut?.maxLoopDelayMs) {
      const d = await sut.maxLoopDelayMs();
      rec.max_loop_delay_ms = d.value;
      rec.loop_delay_note = d.note;
    }
    // The children's own CPU, to show they were not the bottleneck.
    receiver.send({ cmd: 'report' });
    const rr = (await receiver.waitFor((e) => e.ev === 'report', 10_000, 'receiver report')) as Extract<
      ReceiverEvent,
      { ev: 'report' }
    >;
    rec.receiver_cpu_s = r3(rr.cpuMs / 1000);
    if (sender) {
      sender.send({ cmd: 'report' });
      const sr = (await sender.waitFor((e) => e.ev === 'report', 10_000, 'sender report')) as Extract<
        SenderEvent,
        { ev: 'report' }
      >;
      rec.sender_cpu_s = r3(sr.cpuMs / 1000);
      const back = sr.received.reduce((a, b) => a + b, 0);
      if (back > 0) rec.extra = { ...rec.extra, updates_sent_back_to_senders: back };
    }
    rec.extra = { ...rec.extra, receiver_sessions: summarize(rr.sessions), load_done_after_s: r3((tLoad - t0) / 1000) };
    rec.drops = [...drops];
    rec.status = timedOut ? 'timeout' : 'ok';
    if (sut && !sut.running()) {
      rec.status = 'failed';
      rec.note = `${rec.note ?? ''} ${name} exited during the run: ${sut.logTail(800)}`.trim();
    }
  } catch (err) {
    rec.status = 'failed';
    rec.note = `${(err as Error).message}${sut ? `\n--- ${name} log tail ---\n${sut.logTail(1500)}` : ''}`;
    rec.drops = [...drops];
  } finally {
    sampler?.stop();
    await Promise.all([sender?.stop({ cmd: 'stop' }), receiver?.stop({ cmd: 'stop' })]);
    await sut?.stop();
    if (dir && !process.env.TSBGP_BENCH_KEEP) await rm(dir, { recursive: true, force: true });
  }
  return rec;
}

function j2a(i: number): string {
  return receiverAddr(i);
}

function summarize(sessions: ReceiverSessionReport[]) {
  const first = sessions[0];
  return {
    count: sessions.length,
    first: first
      ? {
          v4: first.v4,
          v6: first.v6,
          updates: first.updates,
          bytes: first.bytes,
          reads: first.reads,
          announced: first.announced,
          withdrawn: first.withdrawn,
          end_of_rib: first.endOfRib,
        }
      : null,
    updates_total: sessions.reduce((s, x) => s + x.updates, 0),
    prefixes_per_update: first?.updates ? r3(first.announced / first.updates) : null,
  };
}

/** Scenario 5's second phase: the churn file at its pace, then convergence to the final table. */
async function runChurn(
  plan: Plan,
  sender: SenderChild,
  receiver: ReceiverChild,
  sampler: RssSampler | undefined,
  o: BenchOptions,
) {
  const c = plan.churn as NonNullable<Plan['churn']>;
  const rssAfterLoad = sampler ? sampler.sample() : null;
  sampler?.resetPeak();
  const before = receiver.events.length;
  sender.send({ cmd: 'churn' });
  const cd = (await sender.waitFor(
    (e) => e.ev === 'churn-done',
    (c.seconds + 60) * 1000,
    'the churn to be sent',
  )) as Extract<SenderEvent, { ev: 'churn-done' }>;
  // Convergence: the receiver holds exactly the final table.
  receiver.send({ cmd: 'expect', v4: c.meta.finalV4, v6: c.meta.finalV6, afterMarker: c.meta.ticks - 1 });
  let convergedS: number | null = null;
  try {
    const d = (await receiver.waitFor(
      (e) => e.ev === 'done' && receiver.events.indexOf(e) >= before,
      Math.max(5000, o.timeoutS * 1000),
      'the receiver to converge after churn',
    )) as Extract<ReceiverEvent, { ev: 'done' }>;
    convergedS = r3(Math.max(0, d.t - cd.t) / 1000);
  } catch {
    convergedS = null;
  }
  receiver.send({ cmd: 'report' });
  const rr = (await receiver.waitFor(
    (e) => e.ev === 'report' && receiver.events.indexOf(e) >= before,
    10_000,
    'receiver report',
  )) as Extract<ReceiverEvent, { ev: 'report' }>;
  const seen = new Map(rr.sessions[0]?.markers ?? []);
  const lags: number[] = [];
  let missing = 0;
  cd.markerSent.forEach((t, k) => {
    const r = seen.get(k);
    if (r === undefined) missing++;
    else lags.push(r - t);
  });
  lags.sort((a, b) => a - b);
  const rssEnd = sampler ? sampler.sample() : null;
  return {
    rate_per_s: c.rate,
    seconds: c.seconds,
    changes: c.meta.announces + c.meta.withdrawals,
    announces: c.meta.announces,
    withdrawals: c.meta.withdrawals,
    markers: cd.markerSent.length,
    markers_missing: missing,
    lag_ms: {
      p50: r1(percentile(lags, 0.5)),
      p99: r1(percentile(lags, 0.99)),
      max: r1(lags[lags.length - 1] ?? Number.NaN),
    },
    converged_after_churn_s: convergedS,
    final_expected: [c.meta.finalV4, c.meta.finalV6],
    final_held: [rr.sessions[0]?.v4, rr.sessions[0]?.v6],
    sender_max_backlog_bytes: cd.maxBacklogBytes,
    sender_late_ticks: cd.lateTicks,
    rss_after_load_mb: rssAfterLoad === null ? null : r1(rssAfterLoad),
    rss_peak_during_churn_mb: sampler ? r1(sampler.peakMb) : null,
    rss_end_mb: rssEnd === null ? null : r1(rssEnd),
    rss_growth_mb: rssEnd !== null && rssAfterLoad !== null ? r1(rssEnd - rssAfterLoad) : null,
  };
}

/** Scenario 4: POST /api/v1/routes with one batch; skipped when the endpoint does not exist. */
async function injectRoutes(
  sut: Sut,
  plan: Plan,
  _o: BenchOptions,
): Promise<{ skipped?: string; t0: number; extra?: Record<string, unknown> }> {
  const base = sut.apiBase;
  if (!base) return { skipped: 'no API', t0: 0 };
  const a = plan.api as NonNullable<Plan['api']>;
  const probe = await fetch(`${base}/api/v1/routes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ routes: [] }),
  }).catch((e: Error) => ({ status: -1, text: async () => e.message }));
  if (probe.status === 404 || probe.status === 405 || probe.status === -1) {
    return { skipped: `skipped: POST /api/v1/routes not available (HTTP ${probe.status})`, t0: 0 };
  }
  const routes = apiRoutes(a.params, a.count, SUT.address4, SUT.address6);
  const body = JSON.stringify({ routes });
  const t0 = nowMs();
  const res = await fetch(`${base}/api/v1/routes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const tResp = nowMs();
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /api/v1/routes answered ${res.status}: ${text.slice(0, 500)}`);
  return {
    t0,
    extra: { api_response_s: r3((tResp - t0) / 1000), api_body_mb: r1(body.length / 1e6), api_status: res.status },
  };
}
