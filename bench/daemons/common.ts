// What every system-under-test module shares: the configuration it is given (a plain transit: receive from the
// senders, send every prefix to the receivers, no filtering), the Sut interface the scenarios drive, and DaemonSut,
// a Sut run as the interop harness's ManagedProcess: started in its own process group (so a multi-process daemon is
// measured and stopped as one), its output going to a log file.

import { type ManagedProcess, run } from '../../test/interop/harness/util.ts';

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

export { run };

export async function which(cmd: string): Promise<string | null> {
  const r = await run('sh', ['-c', `command -v ${cmd}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A Sut that is one daemon (with the processes it forks) in its own process group, run by the interop harness's
 * ManagedProcess: subclasses write the config and call launch() from start().
 */
export abstract class DaemonSut implements Sut {
  abstract readonly name: string;
  protected readonly c: SutConfig;
  protected proc: ManagedProcess | undefined;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  protected stopGraceMs = 3000;

  constructor(c: SutConfig) {
    this.c = c;
  }

  get pid(): number {
    return this.proc?.pid ?? -1;
  }

  abstract start(): Promise<void>;

  /** Runs `proc` as this daemon and waits until `ready` (its control interface answers), polling every 100 ms. */
  protected async launch(
    proc: ManagedProcess,
    ready: () => boolean | Promise<boolean>,
    what: string,
    opts: { timeoutMs?: number; tailChars?: number } = {},
  ): Promise<void> {
    this.proc = proc;
    await proc.waitReady(ready, {
      timeoutMs: opts.timeoutMs ?? 15_000,
      what,
      intervalMs: 100,
      tailChars: opts.tailChars,
    });
  }

  async stop(): Promise<void> {
    await this.proc?.stop('SIGTERM', this.stopGraceMs);
  }

  running(): boolean {
    return this.proc?.running ?? false;
  }

  logTail(max?: number): string {
    return this.proc?.logTail(max) ?? '';
  }
}
