// The daemon's side of [[services]] (src/health): one health-checked Service per configuration entry, whose
// announcements become local routes of source `service:NAME` (local-routes.ts), and the views the API shows.
//
// An announcement's attributes become path attributes with toPathAttributes, except the AS-path prepend of a degraded
// state: it is carried as LocalRoute.prependToEbgp, which the RIB's export applies towards eBGP neighbours only (an
// iBGP neighbour would otherwise see our own AS in the path and drop the route, RFC 4271 §9.1.2). The next hop is
// the service's `next_hop` ("self" by default: the session's own address towards each neighbour).
//
// Everything a service does arrives as an event from its timer callbacks; each is handled synchronously (the routes
// change, then the owner wakes the peers), so it runs on the daemon's serial control path like any other event.
// A service that is removed or changed on reload is stopped first (it emits nothing more) and its routes removed; a
// changed one then starts again from `init`.

import type { Logger } from 'pino';
import {
  type AnnounceAttrs,
  createService,
  type HealthService,
  type HistoryEntry,
  type ServiceConfig,
  type ServiceDeps,
  type ServiceStatus,
  toPathAttributes,
} from '../health/index.ts';
import type { LocalRoute } from '../rib/types.ts';
import { formatCommunity, formatLargeCommunity } from '../wire/attr-communities.ts';
import { parsePrefix } from '../wire/index.ts';
import { type LocalRoutes, sourceId } from './local-routes.ts';
import type { ProcessView } from './processes.ts';

/** What the service manager needs of the daemon. */
export interface ServiceEnv {
  readonly local: LocalRoutes;
  /** The AS our routes are originated in (for the prepend, and toPathAttributes). */
  localAsn(): number;
  /** Local routes changed: wake the peers that now have output. */
  changed(): void;
  readonly log: Logger;
}

// ---------------------------------------------------------------------------------------------------------------
// Views (GET /api/v1/services, docs/api.md).

export interface AnnouncementView {
  next_hop: string;
  med: number | null;
  local_pref: number | null;
  /** Extra copies of our AS towards eBGP neighbours. */
  as_path_prepend: number;
  communities: string[];
  large_communities: string[];
}

export interface CheckResultView {
  at: string;
  status: 'ok' | 'warning' | 'failed';
  detail: string;
  duration_ms: number;
  results: { check: string; status: 'ok' | 'warning' | 'failed'; detail: string; duration_ms: number }[];
}

export interface ServiceView {
  name: string;
  mode: 'prefixes' | 'discover';
  state: string;
  health: string;
  /** The service's own verdict: its prefixes are announced (with `announcement`). */
  announced: boolean;
  prefixes: string[];
  announcement: AnnouncementView | null;
  /** Prefixes the service announces whose route in the RIB is another source's (an API route, …). */
  overridden: { prefix: string; by: string }[];
  drained: { file: boolean; api: boolean; since: string | null };
  damping: { enabled: boolean; penalty: number; suppressed: boolean; reuse_at: string | null };
  counters: { passes: number; failures: number; ok: number; not_ok: number };
  rise: number;
  fall: number;
  withdraw_pending_until: string | null;
  last_check: CheckResultView | null;
}

export interface TransitionView {
  at: string;
  from: string;
  to: string;
  announced: boolean;
  reason: string;
}

export interface ServiceDetailView extends ServiceView {
  /** Oldest first. */
  history: TransitionView[];
  /** Discovery mode: one view per discovered address. */
  members?: ServiceView[];
}

/** What the API reads and changes of services and processes (the Speaker implements it). */
export interface DaemonServices {
  services(): ServiceView[];
  service(name: string): ServiceDetailView | null;
  /** null: no such service. */
  drainService(name: string): ServiceDetailView | null;
  undrainService(name: string): ServiceDetailView | null;
  processes(): ProcessView[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function announcementView(a: AnnounceAttrs): AnnouncementView {
  return {
    next_hop: a.nextHop,
    med: a.med ?? null,
    local_pref: a.localPref ?? null,
    as_path_prepend: a.asPathPrepend,
    communities: a.communities.map(formatCommunity),
    large_communities: a.largeCommunities.map(formatLargeCommunity),
  };
}

function transitionView(h: HistoryEntry): TransitionView {
  return { at: iso(h.at)!, from: h.from, to: h.to, announced: h.announced, reason: h.reason };
}

// ---------------------------------------------------------------------------------------------------------------

interface Entry {
  config: ServiceConfig;
  /** JSON of the config: a reload restarts the service only when it changed. */
  signature: string;
  service: HealthService;
  source: string;
}

export class ServiceManager {
  readonly #env: ServiceEnv;
  readonly #deps: (c: ServiceConfig) => ServiceDeps;
  readonly #entries = new Map<string, Entry>();
  #running = false;

  constructor(env: ServiceEnv, deps: (c: ServiceConfig) => ServiceDeps = () => ({})) {
    this.#env = env;
    this.#deps = deps;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Makes the running services those of `configs`: new ones are created (and started when the manager runs),
   * removed ones stopped and their routes withdrawn, changed ones restarted. Synchronous.
   */
  apply(configs: readonly ServiceConfig[]): { added: string[]; removed: string[]; changed: string[] } {
    const out = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const [name, e] of this.#entries) {
      if (wanted.has(name)) continue;
      this.#remove(e);
      out.removed.push(name);
    }
    for (const c of configs) {
      const e = this.#entries.get(c.name);
      const signature = JSON.stringify(c);
      if (e && e.signature === signature) {
        e.config = c;
        continue;
      }
      if (e) {
        this.#remove(e);
        out.changed.push(c.name);
      } else {
        out.added.push(c.name);
      }
      this.#add(c, signature);
    }
    if (out.removed.length + out.changed.length > 0) this.#env.changed();
    return out;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const e of this.#entries.values()) e.service.start();
  }

  /** Stops every service (their routes stay: the daemon is going down). */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all([...this.#entries.values()].map((e) => e.service.stop()));
  }

  list(): ServiceView[] {
    return [...this.#entries.values()].map((e) => this.#view(e.service.status(), e));
  }

  get(name: string): ServiceDetailView | null {
    const e = this.#entries.get(name);
    if (!e) return null;
    const s = e.service.status();
    const out: ServiceDetailView = { ...this.#view(s, e), history: s.history.map(transitionView) };
    const members = (s as ServiceStatus & { members?: ServiceStatus[] }).members;
    if (members) out.members = members.map((m) => this.#view(m, e));
    return out;
  }

  /** Drains by API (RFC 8326 graceful shutdown first when configured). null: no such service. */
  drain(name: string): ServiceDetailView | null {
    const e = this.#entries.get(name);
    if (!e) return null;
    this.#env.log.info({ service: name }, 'service drained through the API');
    e.service.drain();
    return this.get(name);
  }

  undrain(name: string): ServiceDetailView | null {
    const e = this.#entries.get(name);
    if (!e) return null;
    this.#env.log.info({ service: name }, 'service undrained through the API');
    e.service.undrain();
    return this.get(name);
  }

  // -------------------------------------------------------------------------------------------------------------

  #add(c: ServiceConfig, signature: string): void {
    const service = createService(c, this.#deps(c));
    const e: Entry = { config: c, signature, service, source: sourceId('service', c.name) };
    const log = this.#env.log;
    service.on('announce', (prefixes, attrs) => this.#announce(e, prefixes, attrs));
    service.on('withdraw', (prefixes) => this.#withdraw(e, prefixes));
    service.on('transition', (t) => {
      log.info(
        { service: c.name, from: t.from, to: t.to, announced: t.announced, reason: t.reason },
        'service state changed',
      );
    });
    this.#entries.set(c.name, e);
    if (this.#running) service.start();
  }

  #remove(e: Entry): void {
    // Nothing it emits from now on may reach the RIB.
    e.service.removeAllListeners();
    void e.service.stop();
    this.#entries.delete(e.config.name);
    const n = this.#env.local.clear(e.source);
    if (n > 0) this.#env.log.info({ service: e.config.name, routes: n }, 'service removed: its routes withdrawn');
  }

  #announce(e: Entry, prefixes: string[], attrs: AnnounceAttrs): void {
    const asn = this.#env.localAsn();
    // The prepend goes on in the RIB's export, towards eBGP only (LocalRoute.prependToEbgp).
    const attributes = toPathAttributes({ ...attrs, asPathPrepend: 0 }, asn);
    const nhV6 = attrs.nextHop.includes(':');
    for (const text of prefixes) {
      const { family, key } = parsePrefix(text, true);
      // The config checks the family of next_hop against `prefixes`; a discovered address of the other family
      // gets "self".
      const nextHop = attrs.nextHop === 'self' || nhV6 === (family === 'ipv6-unicast') ? attrs.nextHop : 'self';
      const r: LocalRoute = { family, prefix: key, attributes, nextHop };
      if (attrs.asPathPrepend > 0) r.prependToEbgp = attrs.asPathPrepend;
      this.#env.local.set(e.source, r);
    }
    this.#env.log.info({ service: e.config.name, prefixes, attrs: announcementView(attrs) }, 'service announced');
    this.#env.changed();
  }

  #withdraw(e: Entry, prefixes: string[]): void {
    for (const text of prefixes) {
      const { family, key } = parsePrefix(text, true);
      this.#env.local.delete(e.source, family, key);
    }
    this.#env.log.info({ service: e.config.name, prefixes }, 'service withdrawn');
    this.#env.changed();
  }

  #view(s: ServiceStatus, e: Entry): ServiceView {
    const overridden: { prefix: string; by: string }[] = [];
    if (s.announced) {
      for (const text of s.prefixes) {
        const { family, key } = parsePrefix(text, true);
        const eff = this.#env.local.effective(family, key);
        if (eff && eff.source !== e.source) overridden.push({ prefix: text, by: eff.source });
      }
    }
    const c = s.lastCheck;
    return {
      name: s.name,
      mode: e.config.discover ? 'discover' : 'prefixes',
      state: s.state,
      health: s.health,
      announced: s.announced,
      prefixes: s.prefixes,
      announcement: s.announcement.action === 'announce' ? announcementView(s.announcement.attrs) : null,
      overridden,
      drained: { file: s.drained.file, api: s.drained.api, since: iso(s.drained.since) },
      damping: {
        enabled: s.damping.enabled,
        penalty: s.damping.penalty,
        suppressed: s.damping.suppressed,
        reuse_at: iso(s.damping.reuseAt),
      },
      counters: {
        passes: s.counters.passes,
        failures: s.counters.failures,
        ok: s.counters.ok,
        not_ok: s.counters.notOk,
      },
      rise: s.rise,
      fall: s.fall,
      withdraw_pending_until: iso(s.withdrawPendingUntil),
      last_check:
        c === null
          ? null
          : {
              at: iso(c.at)!,
              status: c.status,
              detail: c.detail,
              duration_ms: Math.round(c.durationMs),
              results: c.results.map((r) => ({
                check: r.check,
                status: r.status,
                detail: r.detail,
                duration_ms: Math.round(r.durationMs),
              })),
            },
    };
  }
}
