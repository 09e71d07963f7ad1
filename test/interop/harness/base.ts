// What every peer-daemon harness shares: the temp directory, the ManagedProcess, waitEstablished() by polling
// neighborState(), freeze/thaw/stop/restart, and the lookups of options by neighbour address.

import type { Announcement, Family, PeerDaemon, PeerNeighbor, PeerOptions, Route, SessionState } from './types.ts';
import { type ManagedProcess, tempDir, waitFor } from './util.ts';

export abstract class BaseDaemon implements PeerDaemon {
  abstract readonly name: string;
  readonly opts: PeerOptions;
  dir = '';
  protected proc: ManagedProcess | undefined;
  /** Routes currently originated, by prefix (announce/withdraw edit this, then the daemon is told). */
  protected readonly announced = new Map<string, Announcement>();

  constructor(opts: PeerOptions) {
    this.opts = { hold_time: 9, ...opts };
    for (const r of opts.routes ?? []) this.announced.set(r.prefix, r);
  }

  /** Creates the temp dir once (kept across restarts so the config and log survive). */
  protected async ensureDir(): Promise<string> {
    if (!this.dir) this.dir = await tempDir(this.name);
    return this.dir;
  }

  /** Starts the process and waits until its control interface answers. */
  protected abstract launch(): Promise<void>;

  async start(): Promise<void> {
    await this.ensureDir();
    await this.launch();
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    await p.stop('SIGTERM', 8000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  freeze(): void {
    this.proc?.freeze();
  }

  thaw(): void {
    this.proc?.thaw();
  }

  abstract neighborState(neighbor: string): Promise<SessionState>;
  abstract lastError(neighbor: string): Promise<string>;
  abstract routes(family: Family): Promise<Route[]>;
  abstract announce(route: Announcement): Promise<void>;
  abstract withdraw(prefix: string): Promise<void>;
  abstract requestRefresh(neighbor: string): Promise<void>;
  abstract counters(neighbor: string): Promise<{ updatesReceived: number }>;

  async waitEstablished(neighbor: string, timeoutMs = 30_000): Promise<void> {
    let last: SessionState = 'unknown';
    try {
      await waitFor(
        async () => {
          last = await this.neighborState(neighbor);
          return last === 'established';
        },
        { timeoutMs, what: `${this.name} session with ${neighbor} established` },
      );
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      e.message += ` (last state ${last}; last error: ${await this.lastError(neighbor).catch(() => '?')})\n--- ${this.name} log tail ---\n${this.logTail(2000)}`;
      throw e;
    }
  }

  logTail(max = 4000): string {
    return this.proc?.logTail(max) ?? '';
  }

  protected neighbor(address: string): PeerNeighbor {
    const n = this.opts.neighbors.find((x) => x.address === address);
    if (!n) throw new Error(`${this.name}: no neighbour ${address} configured`);
    return n;
  }

  /** The daemon's own address in the address family of `peer` (the session's local address). */
  protected localFor(n: PeerNeighbor): string {
    return n.local_address ?? (n.address.includes(':') ? this.opts.address6 : this.opts.address4);
  }

  protected familiesOf(n: PeerNeighbor): Family[] {
    return n.families ?? ['ipv4-unicast', 'ipv6-unicast'];
  }
}

/** Sorts a daemon's routes by prefix so assertion diffs are stable. */
export function sortRoutes(routes: Route[]): Route[] {
  return routes.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}
