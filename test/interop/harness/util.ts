// Shared plumbing for the interop harness: condition polling, temp dirs, running CLI commands with a bound on time,
// and ManagedProcess, a daemon spawned in its own process group (so SIGSTOP freezes every process of a multi-process
// daemon such as OpenBGPD, and stop() takes the helpers ExaBGP forks with it) whose output goes to a log file.
// Nothing here knows about BGP; types.ts holds the normalised route shape every daemon module returns.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Thrown inside a waitFor() callback to stop waiting at once (e.g. the daemon being waited for has exited). */
export class WaitAbort extends Error {}

/** Polls `fn` until it returns something other than undefined/false/null; throws after `timeoutMs` with the last value. */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as T;
      lastError = undefined;
    } catch (err) {
      if (err instanceof WaitAbort) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function tempDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `tsbgp-interop-${name}-`));
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after timeoutMs); never throws for a non-zero exit. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<RunResult>((resolve) => {
    execFile(
      cmd,
      args,
      {
        timeout: opts.timeoutMs ?? 10_000,
        maxBuffer: 64 * 1024 * 1024,
        env: opts.env ?? process.env,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Like run() but throws with the command's output when it exits non-zero. */
export async function runOk(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  }
  return r.stdout;
}

/**
 * A foreground daemon in its own process group. Output (stdout and stderr) is appended to `logFile`.
 * Signals go to the whole group, so a daemon's children are frozen, thawed and stopped together with it.
 */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;
  private frozen = false;

  constructor(
    name: string,
    cmd: string,
    args: string[],
    opts: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv; onStdoutLine?: (line: string) => void },
  ) {
    this.name = name;
    this.logFile = opts.logFile;
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    this.child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      if (!log.writableEnded) log.write(chunk);
      if (!opts.onStdoutLine) return;
      partial += chunk.toString('utf8');
      let nl = partial.indexOf('\n');
      while (nl >= 0) {
        opts.onStdoutLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
        nl = partial.indexOf('\n');
      }
      // A line this long is not one a caller waits for: drop it rather than hold an ever-growing string.
      if (partial.length > 65536) partial = '';
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      if (!log.writableEnded) log.write(chunk);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        if (!log.writableEnded) log.write(`spawn error: ${err.message}\n`);
        this.exitCode = -1;
        resolve(-1);
      });
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve(this.exitCode);
      });
    });
    // 'exit' can come before the last stdout/stderr chunks; 'close' comes after the stdio streams are done.
    this.child.on('close', () => log.end());
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /**
   * Polls `ready` (the daemon's control interface answers, a line was printed) until it returns true; stops waiting
   * at once, with the log's last `tailChars` characters, when the process exits first.
   */
  async waitReady(
    ready: () => boolean | Promise<boolean>,
    opts: { timeoutMs: number; what: string; intervalMs?: number; tailChars?: number },
  ): Promise<void> {
    await waitFor(async () => {
      if (!this.running) {
        throw new WaitAbort(`${this.name} exited (${this.exitCode}): ${this.logTail(opts.tailChars ?? 1000)}`);
      }
      return ready();
    }, opts);
  }

  /** Signals the whole process group (falls back to the main process if the group is gone). */
  signal(sig: NodeJS.Signals): void {
    if (!this.running || this.pid <= 0) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        process.kill(this.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  freeze(): void {
    this.signal('SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    this.signal('SIGCONT');
    this.frozen = false;
  }

  /** SIGTERM (or `sig`), then SIGKILL after `graceMs`; resolves once the process has exited (bounded). */
  async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | null | undefined> {
    if (!this.running) {
      // The main process died on its own: its group (a multi-process daemon's children) must not outlive it either.
      killGroup(this.pid);
      return this.exitCode;
    }
    if (this.frozen) this.thaw();
    this.signal(sig);
    const timedOut = Symbol('timeout');
    const first = await Promise.race([this.exited, delay(graceMs).then(() => timedOut)]);
    if (first === timedOut) {
      this.signal('SIGKILL');
      await Promise.race([this.exited, delay(3000)]);
    } else {
      // The main process is gone; give the rest of its group (tshark's dumpcap, bgpd's children) a moment to finish
      // writing and exit on the same signal, then make sure none outlives it.
      const deadline = Date.now() + 3000;
      while (groupAlive(this.pid) && Date.now() < deadline) await delay(50);
      killGroup(this.pid);
    }
    return this.exitCode;
  }

  /** The last `max` characters of the log, for assertion messages. */
  logTail(max = 4000): string {
    if (!existsSync(this.logFile)) return '';
    const s = readFileSync(this.logFile, 'utf8');
    return s.length > max ? s.slice(-max) : s;
  }
}

/** SIGKILL to what is left of process group `pgid` (nothing when it is empty). */
function killGroup(pgid: number): void {
  if (pgid <= 0) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // group already empty
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** True when this process runs inside the namespace scripts/netns.sh sets up (its documentation addresses are local). */
export function inTestNetns(): boolean {
  const ifs = networkInterfaces();
  for (const list of Object.values(ifs)) {
    for (const a of list ?? []) if (a.address === '198.51.100.1') return true;
  }
  return false;
}

/** Throws with a clear message unless run under scripts/netns.sh (the addresses the tests bind to exist only there). */
export function requireTestNetns(): void {
  if (!inTestNetns()) {
    throw new Error(
      'interop tests must run inside the test network namespace: bash scripts/netns.sh node --test test/interop/…',
    );
  }
}

/** The IPv6 address paired with an IPv4 test address: 198.51.100.12 → 2001:db8::12 (netns.sh adds both). */
export function v6Of(v4: string): string {
  const last = v4.split('.')[3];
  return `2001:db8::${last}`;
}

/** Community "a:b" → the 32-bit value, and back. */
export function communityToString(n: number): string {
  return `${Math.floor(n / 65536)}:${n % 65536}`;
}

const WELL_KNOWN_COMMUNITIES: Record<string, string> = {
  gracefulshutdown: '65535:0',
  acceptown: '65535:1',
  llgrstale: '65535:6',
  nollgr: '65535:7',
  blackhole: '65535:666',
  noexport: '65535:65281',
  noadvertise: '65535:65282',
  noexportsubconfed: '65535:65283',
  localas: '65535:65283',
  nopeer: '65535:65284',
};

/** Daemons print well-known communities by name (FRR "BLACKHOLE", OpenBGPD "NO_EXPORT"): back to "a:b". */
export function normaliseCommunity(c: string): string {
  if (/^\d+:\d+$/.test(c)) return c;
  return WELL_KNOWN_COMMUNITIES[c.toLowerCase().replace(/[-_ ]/g, '')] ?? c;
}

export function familyOfPrefix(prefix: string): 'ipv4-unicast' | 'ipv6-unicast' {
  return prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

export function isV6(addr: string): boolean {
  return addr.includes(':');
}

const NOTIFICATION_CODES: Record<number, [string, Record<number, string>]> = {
  1: ['Message Header Error', { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' }],
  2: [
    'OPEN Message Error',
    {
      1: 'Unsupported Version Number',
      2: 'Bad Peer AS',
      3: 'Bad BGP Identifier',
      4: 'Unsupported Optional Parameter',
      6: 'Unacceptable Hold Time',
      7: 'Unsupported Capability',
    },
  ],
  3: [
    'UPDATE Message Error',
    {
      1: 'Malformed Attribute List',
      2: 'Unrecognized Well-known Attribute',
      3: 'Missing Well-known Attribute',
      4: 'Attribute Flags Error',
      5: 'Attribute Length Error',
      6: 'Invalid ORIGIN Attribute',
      8: 'Invalid NEXT_HOP Attribute',
      9: 'Optional Attribute Error',
      10: 'Invalid Network Field',
      11: 'Malformed AS_PATH',
    },
  ],
  4: ['Hold Timer Expired', {}],
  5: ['Finite State Machine Error', {}],
  6: [
    'Cease',
    {
      1: 'Maximum Number of Prefixes Reached',
      2: 'Administrative Shutdown',
      3: 'Peer De-configured',
      4: 'Administrative Reset',
      5: 'Connection Rejected',
      6: 'Other Configuration Change',
      7: 'Connection Collision Resolution',
      8: 'Out of Resources',
      9: 'Hard Reset',
    },
  ],
  7: ['ROUTE-REFRESH Message Error', { 1: 'Invalid Message Length' }],
};

/** "2/2 (OPEN Message Error / Bad Peer AS)" — RFC 4271 §4.5 and RFC 4486 names, for daemons that log only numbers. */
export function notificationName(code: number, subcode: number): string {
  const c = NOTIFICATION_CODES[code];
  if (!c) return `${code}/${subcode}`;
  const sub = c[1][subcode];
  return `${code}/${subcode} (${c[0]}${sub ? ` / ${sub}` : ''})`;
}

/** Polls a string-valued `fn` until it matches `re`; the timeout error shows the last string seen. */
export async function waitMatch(
  fn: () => Promise<string>,
  re: RegExp,
  opts: { timeoutMs?: number; what: string },
): Promise<string> {
  let last = '';
  try {
    return await waitFor(
      async () => {
        last = await fn();
        return re.test(last) ? last : undefined;
      },
      { timeoutMs: opts.timeoutMs, what: opts.what },
    );
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message += ` (last seen: ${JSON.stringify(last)}, wanted ${re})`;
    throw e;
  }
}
