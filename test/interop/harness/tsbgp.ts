// tsbgp itself under test: `bin/tsbgp daemon --config FILE` with the TOML written from a plain object, started in its
// own process group, ready when stdout prints the line starting "tsbgp ready". Queried only through its HTTP API
// (GET /api/v1/neighbors, /api/v1/rib/{family}), reloaded by SIGHUP after an edited config is written, stopped by
// SIGTERM (SIGKILL after a bounded wait).

import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'smol-toml';
import type { Family, SessionState } from './types.ts';
import { ManagedProcess, tempDir, waitFor } from './util.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface TsbgpNeighborConfig {
  address: string;
  asn: number;
  description?: string;
  local_address?: string;
  port?: number;
  passive?: boolean;
  hold_time?: number;
  connect_retry?: number;
  families?: Family[];
  next_hop_ipv6?: string;
  next_hop_ipv4?: string;
  enabled?: boolean;
}

export interface TsbgpRouteConfig {
  prefix: string;
  next_hop?: string;
  communities?: string[];
  large_communities?: string[];
  med?: number;
  local_pref?: number;
  origin?: 'igp' | 'egp' | 'incomplete';
  as_path?: number[];
}

export interface TsbgpConfig {
  global: { asn: number; router_id: string; listen: string[] };
  api: { listen: string };
  neighbors: TsbgpNeighborConfig[];
  routes?: TsbgpRouteConfig[];
}

export interface TsbgpNeighbor {
  address: string;
  asn: number;
  description?: string;
  state: SessionState;
  uptime_s?: number;
  families?: Family[];
  received: Partial<Record<Family, number>>;
  advertised: Partial<Record<Family, number>>;
  last_error: string | null;
}

export interface TsbgpRoute {
  prefix: string;
  best: boolean;
  from: string;
  next_hop: string;
  origin: string;
  as_path: number[];
  med: number | null;
  local_pref: number | null;
  communities: string[];
  large_communities: string[];
  ext_communities?: string[];
}

/** A config for tsbgp on `address4`/`address6` (port 179) with its API on 127.0.0.1:(8000 + last octet). */
export function tsbgpConfig(opts: {
  asn: number;
  address4: string;
  address6: string;
  neighbors: TsbgpNeighborConfig[];
  routes?: TsbgpRouteConfig[];
}): TsbgpConfig {
  const octet = Number(opts.address4.split('.')[3]);
  return {
    global: { asn: opts.asn, router_id: opts.address4, listen: [`${opts.address4}:179`, `[${opts.address6}]:179`] },
    api: { listen: `127.0.0.1:${8000 + octet}` },
    neighbors: opts.neighbors.map((n) => ({ connect_retry: 1, ...n })),
    routes: opts.routes ?? [],
  };
}

export class TsbgpProcess {
  config: TsbgpConfig;
  dir = '';
  private proc: ManagedProcess | undefined;
  private ready = false;
  readyLine = '';

  constructor(config: TsbgpConfig) {
    this.config = config;
  }

  get configFile(): string {
    return join(this.dir, 'tsbgp.toml');
  }

  get apiBase(): string {
    return `http://${this.config.api.listen}`;
  }

  private async writeConfig(): Promise<void> {
    await writeFile(this.configFile, stringify(this.config));
  }

  async start(timeoutMs = 20_000): Promise<void> {
    if (!this.dir) this.dir = await tempDir('tsbgp');
    await this.writeConfig();
    this.ready = false;
    const proc = new ManagedProcess('tsbgp', join(ROOT, 'bin/tsbgp'), ['daemon', '--config', this.configFile], {
      logFile: join(this.dir, 'tsbgp.log'),
      onStdoutLine: (line) => {
        if (line.startsWith('tsbgp ready')) {
          this.ready = true;
          this.readyLine = line;
        }
      },
    });
    this.proc = proc;
    await proc.waitReady(() => this.ready, { timeoutMs, what: 'the "tsbgp ready" line', tailChars: 3000 });
  }

  /** Writes the edited config and sends SIGHUP; resolves once the API reflects the new neighbour list. */
  async reload(config: TsbgpConfig): Promise<void> {
    this.config = config;
    await this.writeConfig();
    this.proc?.signal('SIGHUP');
    const want = new Set(config.neighbors.map((n) => n.address));
    await waitFor(
      async () => {
        const got = await this.neighbors();
        return got.length === want.size && got.every((n) => want.has(n.address));
      },
      { timeoutMs: 10_000, what: 'tsbgp to apply the reloaded config' },
    );
  }

  async stop(): Promise<number | null | undefined> {
    return this.proc?.stop('SIGTERM', 10_000);
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  logTail(max = 4000): string {
    return this.proc?.logTail(max) ?? '';
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.apiBase}${path}`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  neighbors(): Promise<TsbgpNeighbor[]> {
    return this.get<TsbgpNeighbor[]>('/api/v1/neighbors');
  }

  async neighbor(address: string): Promise<TsbgpNeighbor> {
    const n = (await this.neighbors()).find((x) => x.address === address);
    if (!n) throw new Error(`tsbgp has no neighbour ${address}`);
    return n;
  }

  async rib(family: Family, prefix?: string): Promise<{ total: number; routes: TsbgpRoute[] }> {
    const q = prefix ? `?prefix=${encodeURIComponent(prefix)}` : '';
    return this.get(`/api/v1/rib/${family}${q}`);
  }

  /** The routes for `prefix` learned from `from` (any neighbour when omitted). */
  async routesFor(prefix: string, from?: string): Promise<TsbgpRoute[]> {
    const family: Family = prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
    const { routes } = await this.rib(family);
    return routes.filter((r) => r.prefix === prefix && (from === undefined || r.from === from));
  }

  async waitRoute(prefix: string, from?: string, timeoutMs = 20_000): Promise<TsbgpRoute> {
    return waitFor(async () => (await this.routesFor(prefix, from))[0], {
      timeoutMs,
      what: `tsbgp to receive ${prefix}${from ? ` from ${from}` : ''}`,
    });
  }

  async waitNoRoute(prefix: string, from?: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => (await this.routesFor(prefix, from)).length === 0, {
      timeoutMs,
      what: `tsbgp to drop ${prefix}${from ? ` from ${from}` : ''}`,
    });
  }

  async waitState(address: string, pred: (n: TsbgpNeighbor) => boolean, what: string, timeoutMs = 30_000) {
    let last: TsbgpNeighbor | undefined;
    try {
      return await waitFor(
        async () => {
          last = await this.neighbor(address);
          return pred(last) ? last : undefined;
        },
        { timeoutMs, what },
      );
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      e.message += ` (last: ${JSON.stringify(last)})\n--- tsbgp log tail ---\n${this.logTail(2500)}`;
      throw e;
    }
  }

  waitEstablished(address: string, timeoutMs = 30_000): Promise<TsbgpNeighbor> {
    return this.waitState(
      address,
      (n) => n.state === 'established',
      `tsbgp session with ${address} established`,
      timeoutMs,
    );
  }
}
