// `npm run bench`: the side-by-side full-table benchmark (issue 4). Runs the chosen scenarios against each chosen
// daemon one after another, prints a table per scenario and writes bench/results/<date>-s<N>.json with the machine
// it ran on. See docs/performance.md for the method.
//
//   node bench/run.ts [--scenario 1,2,3,4,5] [--daemons direct,bird,frr,gobgp,openbgpd,tsbgp] [--scale 1]
//                     [--timeout 300] [--hold-time 90] [--churn-rate 5000] [--churn-seconds 60] [--seed 1]
//                     [--receivers 20] [--senders 20] [--per-sender 50000] [--ebgp-senders] [--api-routes 100000]
//                     [--repeat N] [--coalesce MS] [--no-save] [-v]
//
// Everything runs inside a network namespace of its own (created here, removed on exit) whose lo carries
// 198.51.100.1–60/32 and 2001:db8::1–60/128, so the daemons bind documentation addresses and never touch the
// host's network. Needs root (ip netns).

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, networkInterfaces, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bird } from './daemons/bird.ts';
import type { DaemonModule } from './daemons/common.ts';
import { frr } from './daemons/frr.ts';
import { gobgp } from './daemons/gobgp.ts';
import { openbgpd } from './daemons/openbgpd.ts';
import { tsbgp } from './daemons/tsbgp.ts';
import { type BenchOptions, emptyRecord, planScenario, type RunRecord, runPlan } from './scenarios.ts';
import { BENCH_DIR } from './table.ts';

const MODULES: Record<string, DaemonModule> = { bird, frr, gobgp, openbgpd, tsbgp };
const DEFAULT_DAEMONS = 'direct,bird,frr,gobgp,openbgpd,tsbgp';
const NETNS_ENV = 'TSBGP_BENCH_NETNS';

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: '1' },
    daemons: { type: 'string', default: DEFAULT_DAEMONS },
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '300' },
    'hold-time': { type: 'string', default: '90' },
    'churn-rate': { type: 'string', default: '5000' },
    'churn-seconds': { type: 'string', default: '60' },
    receivers: { type: 'string', default: '20' },
    senders: { type: 'string', default: '20' },
    'per-sender': { type: 'string', default: '50000' },
    'ebgp-senders': { type: 'boolean', default: false },
    'api-routes': { type: 'string', default: '100000' },
    coalesce: { type: 'string', default: '0' },
    repeat: { type: 'string', default: '1' },
    'no-save': { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  const head = readFileSync(new URL(import.meta.url), 'utf8').split('\n\n')[0] ?? '';
  console.log(head.replace(/^\/\/ ?/gm, ''));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------------
// The network namespace: re-run this script inside a fresh one unless already there.

function hasBenchAddresses(): boolean {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.address === '198.51.100.1') return true;
  return false;
}

function sh(cmd: string, a: string[], input?: string): void {
  execFileSync(cmd, a, { input, stdio: ['pipe', 'ignore', 'inherit'] });
}

async function reexecInNetns(): Promise<number> {
  // Namespaces left by earlier runs that were killed before they could clean up.
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^tsbgp-bench-(\d+)$/.exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      for (const p of execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          // gone
        }
      }
      sh('ip', ['netns', 'del', name]);
    }
  }
  const ns = `tsbgp-bench-${process.pid}`;
  sh('ip', ['netns', 'add', ns]);
  const batch = ['link set lo up'];
  for (let i = 1; i <= 60; i++)
    batch.push(`addr add 198.51.100.${i}/32 dev lo`, `addr add 2001:db8::${i}/128 dev lo nodad`);
  const cleanup = () => {
    try {
      for (const p of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          // gone
        }
      }
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
  };
  try {
    sh('ip', ['-n', ns, '-batch', '-'], `${batch.join('\n')}\n`);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, [NETNS_ENV]: ns },
    });
    const fwd = (sig: NodeJS.Signals) => () => child.kill(sig);
    process.on('SIGINT', fwd('SIGINT'));
    process.on('SIGTERM', fwd('SIGTERM'));
    return await new Promise<number>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 130 : 1))));
  } finally {
    cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Machine and versions.

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let kernel = '';
  try {
    kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    // ignore
  }
  return {
    nproc: cpus().length,
    model,
    mem_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel,
    node: process.version,
    loadavg_at_start: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function fmt(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits);
}

function printTable(title: string, runs: RunRecord[]): void {
  // With --repeat, the ratios are to BIRD's median run (by wall time).
  const birds = runs
    .filter((r) => r.daemon === 'bird' && r.status === 'ok')
    .sort((a, b) => (a.wall_s ?? 0) - (b.wall_s ?? 0));
  const base = birds[Math.floor((birds.length - 1) / 2)];
  const ratio = (a: number | null, b: number | null | undefined) => (a !== null && b ? `${(a / b).toFixed(2)}×` : '—');
  const rows = [
    [
      'daemon',
      'status',
      'wall s',
      'CPU s',
      'peak RSS MB',
      'B/prefix',
      'wall/BIRD',
      'CPU/BIRD',
      'RSS/BIRD',
      'drops',
      'max loop ms',
      'prefixes/s',
      'tx/rx CPU s',
    ],
  ];
  for (const r of runs) {
    rows.push([
      r.daemon,
      r.status,
      fmt(r.wall_s),
      fmt(r.cpu_s),
      fmt(r.peak_rss_mb, 0),
      fmt(r.bytes_per_prefix, 0),
      r.daemon === 'direct' ? '—' : ratio(r.wall_s, base?.wall_s),
      r.daemon === 'direct' ? '—' : ratio(r.cpu_s, base?.cpu_s),
      r.daemon === 'direct' ? '—' : ratio(r.peak_rss_mb, base?.peak_rss_mb),
      r.status === 'skipped' ? '—' : String(r.drops.length),
      fmt(r.max_loop_delay_ms, 0),
      r.prefixes_per_s === null ? '—' : r.prefixes_per_s.toLocaleString('en-US'),
      r.status === 'skipped' ? '—' : `${fmt(r.sender_cpu_s, 1)}/${fmt(r.receiver_cpu_s, 1)}`,
    ]);
  }
  // Scenario 5: the churn phase's own columns (wall s above is the initial table load).
  if (runs.some((r) => r.extra?.churn)) {
    (rows[0] as string[]).push('churn lag p50/p99/max ms', 'RSS growth MB', 'converged s');
    for (const [i, r] of runs.entries()) {
      const c = r.extra?.churn as
        | {
            lag_ms: { p50: number; p99: number; max: number };
            rss_growth_mb: number | null;
            converged_after_churn_s: number | null;
          }
        | undefined;
      (rows[i + 1] as string[]).push(
        c ? `${fmt(c.lag_ms.p50, 1)}/${fmt(c.lag_ms.p99, 1)}/${fmt(c.lag_ms.max, 1)}` : '—',
        c ? fmt(c.rss_growth_mb, 1) : '—',
        c ? fmt(c.converged_after_churn_s, 3) : '—',
      );
    }
  }
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  console.log(`\n${title}`);
  for (const [i, r] of rows.entries()) {
    console.log(
      r.map((cell, c) => (c === 0 || c === 1 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  '),
    );
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  for (const r of runs) {
    if (r.note) console.log(`  ${r.daemon}: ${r.note.split('\n')[0]}`);
    for (const d of r.drops.slice(0, 5)) console.log(`  ${r.daemon}: DROP ${d.who} at ${d.at_s} s: ${d.reason}`);
  }
}

async function main(): Promise<number> {
  if (!process.env[NETNS_ENV] && !hasBenchAddresses()) return reexecInNetns();

  const o: BenchOptions = {
    scale: Number(args.scale),
    seed: Number(args.seed),
    holdTime: Number(args['hold-time']),
    timeoutS: Number(args.timeout),
    receivers2: Number(args.receivers),
    senders3: Number(args.senders),
    perSender3: Number(args['per-sender']),
    senders3Ibgp: !args['ebgp-senders'],
    apiRoutes4: Number(args['api-routes']),
    churnRate: Number(args['churn-rate']),
    churnSeconds: Number(args['churn-seconds']),
    coalesceMs: Number(args.coalesce),
    verbose: args.verbose,
  };
  if (!(o.scale > 0)) throw new Error('--scale must be > 0');
  const repeat = Math.max(1, Number(args.repeat) || 1);
  const scenarios = (args.scenario as string).split(',').map((s) => Number(s.trim()));
  const names = (args.daemons as string)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names)
    if (n !== 'direct' && !MODULES[n]) throw new Error(`unknown daemon ${n} (known: ${DEFAULT_DAEMONS})`);

  const m = machine();
  const versions: Record<string, string> = {};
  const unavailable: Record<string, string> = {};
  for (const n of names) {
    const mod = MODULES[n];
    if (!mod) continue;
    const why = await mod.unavailable();
    if (why) unavailable[n] = why;
    else versions[n] = await mod.version();
  }
  console.log(
    `tsbgp bench: ${m.nproc} × ${m.model}, ${m.mem_gb} GB, kernel ${m.kernel}, node ${m.node}, load ${m.loadavg_at_start.join(' ')}`,
  );
  console.log(
    `versions: ${Object.entries(versions)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );

  for (const sc of scenarios) {
    const tGen = performance.now();
    const plan = planScenario(sc, o);
    const genS = (performance.now() - tGen) / 1000;
    const sm = plan.senders[0]?.stream.meta;
    console.log(
      `\nscenario ${plan.scenario}: ${plan.title} (scale ${o.scale}; ${plan.expect4} IPv4 + ${plan.expect6} IPv6 per receiver` +
        (sm
          ? `; ${plan.senders.reduce((s, x) => s + x.stream.meta.updates, 0)} UPDATEs, ${(plan.senders.reduce((s, x) => s + x.stream.meta.bytes, 0) / 1e6).toFixed(1)} MB`
          : '') +
        `; streams ready in ${genS.toFixed(1)} s)`,
    );
    const runs: RunRecord[] = [];
    for (const n of names) {
      const mod = n === 'direct' ? null : (MODULES[n] as DaemonModule);
      const skip = (note: string) => runs.push({ ...emptyRecord(n, versions[n] ?? '', 0), status: 'skipped', note });
      if (mod && unavailable[n]) {
        skip(`not installed: ${unavailable[n]}`);
        continue;
      }
      if (plan.only && !plan.only.names.includes(n)) {
        skip(plan.only.note);
        continue;
      }
      if (!mod && plan.api) {
        skip('no direct run for API injection');
        continue;
      }
      for (let k = 0; k < repeat; k++) {
        process.stdout.write(`  ${n}${repeat > 1 ? ` #${k + 1}` : ''} … `);
        const t = performance.now();
        const r = await runPlan(plan, mod, versions[n] ?? `tsbgp bench ${process.version}`, o);
        console.log(
          `${r.status}${r.wall_s !== null ? ` ${r.wall_s} s` : ''} (run took ${((performance.now() - t) / 1000).toFixed(0)} s)`,
        );
        runs.push(r);
      }
    }
    printTable(`scenario ${plan.scenario}: ${plan.title}`, runs);
    if (!args['no-save']) {
      const dir = join(BENCH_DIR, 'results');
      mkdirSync(dir, { recursive: true });
      const stamp = new Date()
        .toISOString()
        .replace(/:/g, '-')
        .replace(/\.\d+Z$/, 'Z');
      const file = join(dir, `${stamp}-s${plan.scenario}.json`);
      const doc = {
        scenario: plan.scenario,
        title: plan.title,
        date: new Date().toISOString(),
        machine: { ...m, loadavg_at_end: loadavg().map((x) => Math.round(x * 100) / 100) },
        versions,
        options: o,
        workload: {
          expect_v4: plan.expect4,
          expect_v6: plan.expect6,
          receivers: plan.receivers,
          senders: plan.senders.map((s) => ({ asn: s.view.asn, ibgp: s.view.ibgp, ...s.stream.meta })),
          churn: plan.churn
            ? {
                rate: plan.churn.rate,
                seconds: plan.churn.seconds,
                tick_ms: plan.churn.tickMs,
                ...{ ...plan.churn.meta, offsets: undefined },
              }
            : undefined,
          api_routes: plan.api?.count,
        },
        runs,
      };
      writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
      console.log(`  → ${file}`);
    }
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
