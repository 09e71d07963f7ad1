// HA2BGP-style discovery: announce every address that something listens on (for the given ports) when the address
// is inside one of the configured networks and is configured on an interface that is up (optionally a given device
// or label). Each address found becomes a /32 or /128 with its own Service — the same rise/fall, withdraw delay and
// damping as a configured service — whose checks are "still listening on this address" and "address still up",
// plus any checks the service configures. An address that disappears fails its own checks and is withdrawn by them;
// its Service is dropped once it is down, withdrawn and no longer discovered.

import { EventEmitter } from 'node:events';
import { type Family, parsePrefix, prefixContains } from '../wire/index.ts';
import { type CheckEnv, type CheckSpec, defaultCheckEnv, matchAddress } from './checks.ts';
import type { DiscoverConfig, ServiceConfig } from './config.ts';
import {
  type HealthService,
  type HistoryEntry,
  Service,
  type ServiceDeps,
  type ServiceEvents,
  type ServiceStatus,
} from './service.ts';
import { readAddresses, readListeners } from './system.ts';
import { type Cancel, realTimer, type Timer } from './timer.ts';

/**
 * The addresses to announce right now, as prefix texts ("192.0.2.10/32", "2001:db8::10/128"), sorted.
 * Wildcard listeners (0.0.0.0, ::) name no address and are ignored, as HA2BGP does.
 */
export async function discoverAddresses(d: DiscoverConfig, env: CheckEnv = defaultCheckEnv): Promise<string[]> {
  const [listeners, addresses] = await Promise.all([readListeners(env.procRoot), readAddresses(env.ip)]);
  const nets = d.networks.map((n) => parsePrefix(n, true));
  const ports = new Set(d.ports);
  const found = new Set<string>();
  for (const l of listeners) {
    if (l.wildcard || !ports.has(l.port)) continue;
    const p = parsePrefix(l.address);
    const family: Family = p.family;
    if (!nets.some((n) => n.family === family && prefixContains(n.key, p.key))) continue;
    const present = matchAddress(addresses, l.address, d.device, d.label).some(
      (a) => a.up && !a.tentative && !a.dadfailed,
    );
    if (!present) continue;
    found.add(`${l.address}/${family === 'ipv4-unicast' ? 32 : 128}`);
  }
  return [...found].sort();
}

export interface DiscoveryStatus extends ServiceStatus {
  /** One status per discovered address. */
  members: ServiceStatus[];
}

/**
 * A service in discovery mode. Its events are those of its members (each with its own single prefix); status()
 * aggregates them. Discovery runs every `interval`.
 */
export class DiscoveryService extends EventEmitter<ServiceEvents> implements HealthService {
  readonly config: ServiceConfig;
  readonly #deps: ServiceDeps;
  readonly #timer: Timer;
  readonly #env: CheckEnv;
  readonly #discover: () => Promise<string[]>;
  readonly #members = new Map<string, Service>();
  #current = new Set<string>();
  #running = false;
  #cancel: Cancel | null = null;
  #inFlight: Promise<void> | null = null;
  #drained = false;
  #lastError: string | null = null;
  #history: HistoryEntry[] = [];

  constructor(config: ServiceConfig, deps: ServiceDeps & { discover?: () => Promise<string[]> } = {}) {
    super();
    if (!config.discover) throw new Error(`service ${config.name}: no discover table`);
    this.config = config;
    this.#deps = deps;
    this.#timer = deps.timer ?? realTimer;
    this.#env = deps.env ?? defaultCheckEnv;
    const d = config.discover;
    this.#discover = deps.discover ?? (() => discoverAddresses(d, this.#env));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#cancel?.();
    this.#cancel = null;
    await this.#inFlight;
    await Promise.all([...this.#members.values()].map((m) => m.stop()));
  }

  drain(): void {
    this.#drained = true;
    for (const m of this.#members.values()) m.drain();
  }

  undrain(): void {
    this.#drained = false;
    for (const m of this.#members.values()) m.undrain();
  }

  /** Addresses (prefix texts) with a member service. */
  members(): string[] {
    return [...this.#members.keys()].sort();
  }

  member(prefix: string): Service | undefined {
    return this.#members.get(prefix);
  }

  status(): DiscoveryStatus {
    const members = [...this.#members.keys()].sort().map((k) => this.#members.get(k)!.status());
    const announced = members.filter((m) => m.announced);
    return {
      name: this.config.name,
      prefixes: announced.flatMap((m) => m.prefixes),
      state: this.#drained ? 'drained' : announced.length ? 'up' : members.length ? 'down' : 'init',
      health: announced.length ? 'up' : members.length ? 'down' : 'init',
      announced: announced.length > 0,
      announcement: announced[0]?.announcement ?? { action: 'withdraw' },
      drained: { file: members.some((m) => m.drained.file), api: this.#drained, since: null },
      damping: { enabled: this.config.damping.enabled, penalty: 0, suppressed: false, reuseAt: null },
      counters: { passes: 0, failures: 0, ok: 0, notOk: 0 },
      rise: this.config.rise,
      fall: this.config.fall,
      withdrawPendingUntil: null,
      lastCheck: this.#lastError
        ? {
            at: this.#timer.now(),
            status: 'failed',
            detail: `discovery: ${this.#lastError}`,
            durationMs: 0,
            results: [],
          }
        : null,
      history: [...this.#history],
      members,
    };
  }

  #schedule(delayMs: number): void {
    this.#cancel = this.#timer.schedule(delayMs, () => {
      this.#cancel = null;
      const p = this.#round();
      this.#inFlight = p;
      return p;
    });
  }

  async #round(): Promise<void> {
    if (!this.#running) return;
    try {
      this.#current = new Set(await this.#discover());
      this.#lastError = null;
    } catch (e) {
      // Keep the previous set: a failing `ip` must not make every address look gone at once.
      this.#lastError = (e as Error).message;
    }
    if (!this.#running) return;
    for (const prefix of this.#current) if (!this.#members.has(prefix)) this.#add(prefix);
    for (const [prefix, m] of this.#members) {
      if (this.#current.has(prefix)) continue;
      const s = m.status();
      if (s.health === 'down' && !s.announced) {
        await m.stop();
        this.#members.delete(prefix);
        this.#record(prefix, 'no longer discovered and down: dropped');
      }
    }
    if (this.#running) this.#schedule(this.config.intervalMs);
  }

  #add(prefix: string): void {
    const d = this.config.discover!;
    const address = prefix.slice(0, prefix.indexOf('/'));
    const checks: CheckSpec[] = [
      // HA2BGP's filter is "sport = :80 or sport = :443": one of the ports is enough.
      { type: 'listening', ports: [...d.ports], addresses: [address], anyPort: true },
      {
        type: 'address',
        address,
        ...(d.device !== undefined && { device: d.device }),
        ...(d.label !== undefined && { label: d.label }),
      },
      ...this.config.checks,
    ];
    const cfg: ServiceConfig = { ...this.config, name: `${this.config.name}/${address}`, prefixes: [prefix], checks };
    delete cfg.discover;
    const m = new Service(cfg, { ...this.#deps, timer: this.#timer, env: this.#env });
    m.on('announce', (p, a) => this.emit('announce', p, a));
    m.on('withdraw', (p) => this.emit('withdraw', p));
    m.on('transition', (e) => this.emit('transition', e));
    m.on('check', (r) => this.emit('check', r));
    this.#members.set(prefix, m);
    this.#record(prefix, 'discovered');
    if (this.#drained) m.drain();
    m.start();
  }

  #record(prefix: string, reason: string): void {
    const e: HistoryEntry = {
      at: this.#timer.now(),
      from: 'init',
      to: 'init',
      announced: false,
      reason: `${prefix}: ${reason}`,
    };
    this.#history.push(e);
    if (this.#history.length > this.config.historySize) this.#history.shift();
  }
}
