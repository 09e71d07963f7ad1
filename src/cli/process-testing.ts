// Test helpers that run the real `bin/tsbgp` as a separate process: start a daemon on a config and wait for its
// ready line, run CLI commands, wait for log lines, poll the API with a bound, stop with a signal.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = new URL('../../bin/tsbgp', import.meta.url).pathname;

/** A random port in 20000–60000 (tests pick their own 127.0.50.x addresses, so collisions are unlikely). */
export function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 40000);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tsbgp-test-'));
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(BIN, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export class DaemonProcess {
  readonly proc: ChildProcess;
  readonly configPath: string;
  /** "tsbgp ready: bgp on …, api on …" */
  readyLine = '';
  apiUrl = '';
  stderr = '';
  readonly logs: LogLine[] = [];
  private readonly waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(configPath: string, args: string[]) {
    this.configPath = configPath;
    this.proc = spawn(BIN, ['daemon', '--config', configPath, '--log-level', 'debug', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    let pending = '';
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      pending += chunk;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
        let parsed: LogLine;
        try {
          parsed = JSON.parse(line) as LogLine;
        } catch {
          continue;
        }
        this.logs.push(parsed);
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          const w = this.waiters[i]!;
          if (w.match(parsed)) {
            this.waiters.splice(i, 1);
            w.resolve(parsed);
          }
        }
      }
    });
  }

  /** Writes `toml` to a file in `dir`, starts `tsbgp daemon` on it and waits for the ready line. */
  static async start(dir: string, toml: string, name = 'tsbgp.toml'): Promise<DaemonProcess> {
    const path = join(dir, name);
    writeFileSync(path, toml);
    const d = new DaemonProcess(path, []);
    await d.waitReady();
    return d;
  }

  private waitReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error('no ready line within 30 s')), 30_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.proc.kill('SIGKILL');
        reject(new Error(`${err.message}\nstdout: ${out}\nstderr: ${this.stderr}`));
      };
      this.proc.stdout!.setEncoding('utf8');
      this.proc.stdout!.on('data', (chunk: string) => {
        out += chunk;
        const m = /^tsbgp ready: .*, api on (\S+)\n/m.exec(out);
        if (m && !this.readyLine) {
          clearTimeout(timer);
          this.readyLine = m[0].trim();
          // "https://127.0.0.1:8179" when the API serves TLS, "127.0.0.1:8179" for plain HTTP.
          this.apiUrl = m[1]!.startsWith('https://') ? m[1]! : `http://${m[1]}`;
          resolve();
        }
      });
      this.proc.on('exit', (code) => {
        if (!this.readyLine) fail(new Error(`daemon exited with ${code} before it was ready`));
      });
    });
  }

  /** Resolves with the first log line (already seen or future) that matches. */
  waitLog(match: (l: LogLine) => boolean, what: string, timeoutMs = 20_000): Promise<LogLine> {
    const seen = this.logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out waiting for log: ${what}\n${this.stderr.slice(-4000)}`));
      }, timeoutMs);
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  /** Number of log lines so far whose msg is `msg` (to wait for the next one after an action). */
  count(msg: string): number {
    return this.logs.filter((l) => l.msg === msg).length;
  }

  /** Waits for the (n+1)-th log line with this msg. */
  waitNth(msg: string, n: number, timeoutMs = 20_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => this.logs.filter((l) => l.msg === msg).length > n;
      if (check()) {
        resolve(this.logs.filter((l) => l.msg === msg)[n]!);
        return;
      }
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for "${msg}" #${n + 1}\n${this.stderr.slice(-4000)}`)),
        timeoutMs,
      );
      this.waiters.push({
        match: (l) => l.msg === msg && check(),
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(this.apiUrl + path);
    return (await res.json()) as T;
  }

  /** Sends `signal` and resolves with the exit status. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return await this.exited;
  }

  /** Kills the process if a test failed before stopping it. */
  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

/**
 * Calls `fn` until it returns a value other than undefined, at most `tries` times `intervalMs` apart. For state
 * in another process that announces no event (a route arriving in a peer's RIB).
 */
export async function poll<T>(
  fn: () => Promise<T | undefined>,
  what: string,
  tries = 200,
  intervalMs = 100,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
