// What every system-under-test module shares: the configuration it is given (a plain transit: receive from the
// senders, send every prefix to the receivers, no filtering), the Sut interface the scenarios drive, and Daemon,
// a process started in its own process group (so a multi-process daemon is measured and stopped as one) whose
// output goes to a log file.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';

export interface BenchNeighbor {
  /** The neighbour's IPv4 address; it connects from there (the SUT is passive towards every neighbour). */
  address: string;
  asn: number;
  role: 'sender' | 'receiver';
}

export interface SutConfig {
  asn: number;
  routerId: string;
  address4: string;
  address6: string;
  neighbors: BenchNeighbor[];
  holdTime: number;
  /** A fresh directory for config, sockets and logs. */
  dir: string;
}

export interface Sut {
  readonly name: string;
  /** The process whose tree is measured (-1 before start). */
  readonly pid: number;
  /** Starts the daemon; resolves once it accepts BGP connections (its control interface answers). */
  start(): Promise<void>;
  /** Stops it and everything it started (SIGTERM, then SIGKILL); safe to call twice. */
  stop(): Promise<void>;
  /** True while the main process lives. */
  running(): boolean;
  logTail(max?: number): string;
  /** The longest event-loop delay the daemon reports (tsbgp), null when it does not expose one. */
  maxLoopDelayMs?(): Promise<{ value: number | null; note: string }>;
  /** tsbgp's API base URL. */
  apiBase?: string;
}

export interface DaemonModule {
  name: string;
  /** null when the daemon can run here, otherwise why it is skipped. */
  unavailable(): Promise<string | null>;
  version(): Promise<string>;
  create(cfg: SutConfig): Sut;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after timeoutMs); never throws. */
export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export async function which(cmd: string): Promise<string | null> {
  const r = await run('sh', ['-c', `command -v ${cmd}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns true; throws after `timeoutMs`. */
export async function until(fn: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await fn()) return;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    }
    await delay(100);
  }
}

/** A daemon in its own process group, output appended to `logFile`. */
export class Daemon {
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<void>;
  exitCode: number | null | undefined = undefined;

  constructor(
    cmd: string,
    args: string[],
    logFile: string,
    onStdoutLine?: (line: string) => void,
    env?: NodeJS.ProcessEnv,
  ) {
    this.logFile = logFile;
    const log = createWriteStream(logFile, { flags: 'a' });
    this.child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let partial = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (!onStdoutLine) return;
      partial += chunk.toString('utf8');
      let nl = partial.indexOf('\n');
      while (nl >= 0) {
        onStdoutLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
        nl = partial.indexOf('\n');
      }
      if (partial.length > 65536) partial = '';
    });
    this.child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        log.write(`spawn error: ${err.message}\n`);
        this.exitCode = -1;
        resolve();
      });
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve();
      });
    });
    this.exited.then(() => log.end());
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  private signalGroup(sig: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      // The group is gone; signal the main process only if it is still ours (its pid cannot have been reused).
      if (this.running) {
        try {
          process.kill(this.pid, sig);
        } catch {
          // gone
        }
      }
    }
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; every process of the group is gone afterwards. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.running) {
      this.signalGroup('SIGTERM');
      await Promise.race([this.exited, delay(graceMs)]);
    }
    // Whatever is left of the group (children of a multi-process daemon included).
    this.signalGroup('SIGKILL');
    await Promise.race([this.exited, delay(2000)]);
  }

  logTail(max = 3000): string {
    if (!existsSync(this.logFile)) return '';
    const s = readFileSync(this.logFile, 'utf8');
    return s.length > max ? s.slice(-max) : s;
  }
}

export function v6Of(v4: string): string {
  return `2001:db8::${v4.split('.')[3]}`;
}
