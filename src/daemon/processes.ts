// The daemon's side of [[processes]] (src/exabgp): one ProcessHost per configured program, and the ProcessSink that
// turns the program's ExaBGP commands into local routes of source `process:NAME` (local-routes.ts).
//
//   announce   each prefix becomes a LocalRoute with the command's attributes and next hop ("self" when none, for
//              IPv6). A command for given neighbours (`neighbor 192.0.2.2 announce …`, or a process `neighbors`
//              list) sets LocalRoute.targets, and the RIB exports the route to those peers only. One route per
//              prefix per process: announcing the same attributes to another neighbour adds it to the targets;
//              other attributes replace the route (per-neighbour attributes for one prefix — MED 10 to A, MED 20 to
//              B — are not supported: the last command wins for every target).
//   withdraw   for every neighbour (no selector): the route goes; for given neighbours: they leave its targets (a
//              route that was for every neighbour is then for every other configured neighbour), and it goes when
//              none is left. Withdrawing what is not there is `done`, as in ExaBGP.
//   watchdog   routes announced with `watchdog NAME` follow `announce|withdraw watchdog NAME`; `withdraw` in the
//              announcement keeps such a route known but withdrawn until its watchdog is announced.
//   eor        End-of-RIB is the RIB's job (sent after every initial dump): answered `done`.
//   route-refresh  ROUTE-REFRESH (RFC 2918) to the targeted established neighbours that negotiated it.
//   teardown, shutdown  not offered to programs (answered `error`).
// When a program dies (or is stopped, or changed on reload) every route it announced is withdrawn (withdrawAll).
//
// Neighbour events go to the programs that asked for them: state changes (`connected` when the TCP connection is
// made, `up` at Established, `down` with the reason afterwards; NOTIFICATIONs sent or received) and, only when some
// program has receive_updates on, every UPDATE received (the speaker checks `receiveUpdates` first, so nobody pays
// for encoding otherwise).

import type { Logger } from 'pino';
import {
  type Direction,
  type HostOptions,
  type NeighborInfo,
  type NeighborState,
  OK,
  type PeerIdentity,
  type ProcessConfig,
  ProcessHost,
  type ProcessRef,
  type ProcessSink,
  type RouteSet,
  type SinkResult,
  type Target,
} from '../exabgp/index.ts';
import { attributesKey } from '../rib/intern.ts';
import type { LocalRoute } from '../rib/types.ts';
import { type Family, type PrefixKey, parsePrefix, type UpdateMessage } from '../wire/index.ts';
import { type LocalRoutes, sourceId } from './local-routes.ts';

/** What the process manager needs of the daemon. */
export interface ProcessEnv {
  readonly local: LocalRoutes;
  /** Local routes changed: wake the peers that now have output. */
  changed(): void;
  /** The configured neighbours, for the programs' `neighbor …` selectors. */
  neighbors(): NeighborInfo[];
  /** Sends ROUTE-REFRESH for `family` to the neighbour; false when it is not established or did not negotiate it. */
  routeRefresh(address: string, family: Family): boolean;
  readonly log: Logger;
}

/** A process as GET /api/v1/processes shows it (docs/api.md). */
export interface ProcessView {
  name: string;
  run: string | string[];
  encoder: 'text' | 'json';
  /** Neighbours it speaks for; empty: all. */
  neighbors: string[];
  pid: number | null;
  /** running; restarting (between a death and the respawn, or waiting for the old program on reload); stopped;
   * gave-up (died too often: ExaBGP's limit of 5 deaths within 64 s). */
  state: 'running' | 'restarting' | 'stopped' | 'gave-up';
  starts: number;
  /** Starts after the first (respawns). */
  respawns: number;
  commands: { ok: number; error: number };
  /** Local routes it holds (announced, not withdrawn by a watchdog). */
  routes: number;
  /** Event messages dropped because the program did not read its stdin. */
  dropped: number;
  last_error: string | null;
  last_exit: { code: number | null; signal: string | null; at: string } | null;
}

interface WatchdogRoute {
  route: LocalRoute;
  /** Withdrawn by the watchdog (or announced with `withdraw`): known, not in the RIB. */
  held: boolean;
}

interface Proc {
  config: ProcessConfig;
  signature: string;
  host: ProcessHost;
  source: string;
  /** Watchdog group → routes of the group, by "family prefixKey". */
  watchdogs: Map<string, Map<string, WatchdogRoute>>;
  /** Resolves once the program this one replaces (reload) has exited and its routes are gone. */
  ready: Promise<void>;
  started: boolean;
}

function famKey(family: Family, prefix: PrefixKey): string {
  return `${family} ${prefix}`;
}

function sameRoute(a: LocalRoute, b: LocalRoute): boolean {
  return a.nextHop === b.nextHop && attributesKey(a.attributes) === attributesKey(b.attributes);
}

export class ProcessManager {
  readonly #env: ProcessEnv;
  readonly #options: HostOptions;
  readonly #procs = new Map<string, Proc>();
  /** Stops in flight (removed or changed programs), awaited by stop(). */
  readonly #stopping = new Set<Promise<void>>();
  #running = false;
  #neighborChanges = false;
  #receiveUpdates = false;
  /** Neighbours told `connected` (or `up`) and not yet `down`. */
  readonly #connected = new Set<string>();

  constructor(env: ProcessEnv, options: HostOptions = {}) {
    this.#env = env;
    this.#options = options;
  }

  get size(): number {
    return this.#procs.size;
  }

  /** Some program wants received UPDATEs (receive_updates): only then does the speaker call notifyUpdate. */
  get receiveUpdates(): boolean {
    return this.#receiveUpdates;
  }

  /** Some program wants neighbour state changes (neighbor_changes). */
  get neighborChanges(): boolean {
    return this.#neighborChanges;
  }

  /**
   * Makes the programs those of `configs`: new ones are started (when the manager runs), removed ones stopped (their
   * routes withdrawn when they have exited), changed ones stopped and then started again. Synchronous; the stops
   * and restarts complete in the background.
   */
  apply(configs: readonly ProcessConfig[]): { added: string[]; removed: string[]; restarted: string[] } {
    const out = { added: [] as string[], removed: [] as string[], restarted: [] as string[] };
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const [name, p] of this.#procs) {
      if (wanted.has(name)) continue;
      this.#procs.delete(name);
      this.#stop(p);
      out.removed.push(name);
    }
    for (const c of configs) {
      const signature = JSON.stringify(c);
      const p = this.#procs.get(c.name);
      if (p && p.signature === signature) continue;
      let ready = Promise.resolve();
      if (p) {
        // The old program goes first (its routes are withdrawn when it has exited), then the new one starts.
        ready = this.#stop(p);
        out.restarted.push(c.name);
      } else {
        out.added.push(c.name);
      }
      this.#add(c, signature, ready);
    }
    this.#neighborChanges = configs.some((c) => c.neighborChanges);
    this.#receiveUpdates = configs.some((c) => c.receiveUpdates);
    return out;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const p of this.#procs.values()) this.#startWhenReady(p);
  }

  /** Sends `shutdown` to every program, terminates them and withdraws their routes. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const p of this.#procs.values()) this.#stop(p);
    this.#procs.clear();
    await Promise.allSettled([...this.#stopping]);
  }

  list(): ProcessView[] {
    return [...this.#procs.values()].map((p) => this.#view(p));
  }

  get(name: string): ProcessView | null {
    const p = this.#procs.get(name);
    return p ? this.#view(p) : null;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Neighbour events → programs.

  notifyState(peer: PeerIdentity, state: NeighborState, reason?: string): void {
    if (state === 'down') {
      // Only a neighbour that was reported connected (or up) is reported down, once.
      if (!this.#connected.delete(peer.peerAddress)) return;
    } else {
      this.#connected.add(peer.peerAddress);
    }
    if (!this.#neighborChanges) return;
    for (const p of this.#procs.values()) p.host.notifyState(peer, state, reason);
  }

  notifyNotification(peer: PeerIdentity, direction: Direction, code: number, subcode: number, data: Uint8Array): void {
    if (!this.#neighborChanges) return;
    for (const p of this.#procs.values()) p.host.notifyNotification(peer, direction, code, subcode, data);
  }

  notifyUpdate(peer: PeerIdentity, update: UpdateMessage): void {
    if (!this.#receiveUpdates) return;
    for (const p of this.#procs.values()) p.host.notifyUpdate(peer, 'receive', update);
  }

  // -------------------------------------------------------------------------------------------------------------

  #add(c: ProcessConfig, signature: string, ready: Promise<void>): void {
    const log = this.#env.log.child({ process: c.name });
    const options: HostOptions = {
      ...this.#options,
      logger: (level, message) => log[level](message),
    };
    const p: Proc = {
      config: c,
      signature,
      source: sourceId('process', c.name),
      watchdogs: new Map(),
      ready,
      started: false,
      host: undefined as unknown as ProcessHost,
    };
    p.host = new ProcessHost(c, this.#sink(p), options);
    p.host.on('gave-up', (deaths) => log.error({ deaths }, 'process died too often; not respawning'));
    this.#procs.set(c.name, p);
    if (this.#running) this.#startWhenReady(p);
  }

  #startWhenReady(p: Proc): void {
    void p.ready.then(() => {
      if (this.#running && this.#procs.get(p.config.name) === p && !p.started) {
        p.started = true;
        p.host.start();
      }
    });
  }

  /** Stops a program (removed, replaced or shutting down); resolves once it has exited and its routes are gone. */
  #stop(p: Proc): Promise<void> {
    const done = p.ready
      .then(() => p.host.stop())
      .then(() => {
        // Never started (or already cleaned up by the host): make sure nothing of it stays.
        this.#withdrawAll(p);
      })
      .catch((err: unknown) => this.#env.log.error({ err, process: p.config.name }, 'stopping the process failed'));
    const tracked = done.finally(() => this.#stopping.delete(tracked));
    this.#stopping.add(tracked);
    return tracked;
  }

  #view(p: Proc): ProcessView {
    const s = p.host.status();
    let state: ProcessView['state'];
    if (s.gaveUp) state = 'gave-up';
    else if (s.running) state = 'running';
    else if (p.started && p.config.respawn && this.#running) state = 'restarting';
    else if (!p.started && this.#running) state = 'restarting';
    else state = 'stopped';
    return {
      name: p.config.name,
      run: p.config.run,
      encoder: p.config.encoder,
      neighbors: [...p.config.neighbors],
      pid: s.pid,
      state,
      starts: s.starts,
      respawns: Math.max(0, s.starts - 1),
      commands: { ...s.commands },
      routes: this.#env.local.count(p.source),
      dropped: s.dropped,
      last_error: s.lastError,
      last_exit: s.lastExit ? { ...s.lastExit, at: new Date(s.lastExit.at).toISOString() } : null,
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // The ProcessSink of one program.

  #sink(p: Proc): ProcessSink {
    return {
      neighbors: () => this.#env.neighbors(),
      announce: (_ref: ProcessRef, target: Target, routes: RouteSet) => this.#announce(p, target, routes),
      withdraw: (_ref: ProcessRef, target: Target, routes: RouteSet) => this.#withdraw(p, target, routes),
      // RFC 4724 §2: the RIB sends End-of-RIB after each initial dump by itself.
      eor: () => OK,
      routeRefresh: (_ref, target, _afi, _safi, family) => this.#routeRefresh(target, family),
      watchdog: (_ref, action, name) => this.#watchdog(p, action, name),
      withdrawAll: () => this.#withdrawAll(p),
    };
  }

  /** The routes of a command, validated as a whole before anything changes. */
  #routes(target: Target, routes: RouteSet): LocalRoute[] | string {
    const out: LocalRoute[] = [];
    for (const text of routes.prefixes) {
      const { family, key } = parsePrefix(text, true);
      let nextHop = routes.nextHop ?? 'self';
      if (nextHop !== 'self') {
        const v6 = nextHop.includes(':');
        if (family === 'ipv4-unicast' && v6) {
          return `next-hop ${nextHop} is IPv6: an IPv4 route needs an IPv4 next hop (or "self")`;
        }
        // As ExaBGP does: an IPv4 next hop for an IPv6 route is sent IPv4-mapped.
        if (family === 'ipv6-unicast' && !v6) nextHop = `::ffff:${nextHop}`;
      }
      const r: LocalRoute = { family, prefix: key, attributes: routes.attributes, nextHop };
      if (!target.all) r.targets = [...target.neighbors];
      out.push(r);
    }
    return out;
  }

  #announce(p: Proc, target: Target, routes: RouteSet): SinkResult {
    const list = this.#routes(target, routes);
    if (typeof list === 'string') return { ok: false, error: list };
    const local = this.#env.local;
    for (const r of list) {
      const cur = local.get(p.source, r.family, r.prefix) ?? this.#watched(p, r.family, r.prefix)?.route;
      if (cur && r.targets && sameRoute(cur, r)) {
        // Same route for more neighbours: widen its targets (a route for everybody stays so).
        r.targets = cur.targets ? [...new Set([...cur.targets, ...r.targets])] : undefined;
        if (r.targets === undefined) delete r.targets;
      }
      // A route leaves any watchdog group it was in; joins the one it names.
      this.#unwatch(p, r.family, r.prefix);
      let held = false;
      if (routes.watchdog !== undefined) {
        held = routes.withdrawn === true;
        let group = p.watchdogs.get(routes.watchdog);
        if (!group) {
          group = new Map();
          p.watchdogs.set(routes.watchdog, group);
        }
        group.set(famKey(r.family, r.prefix), { route: r, held });
      }
      if (held) local.delete(p.source, r.family, r.prefix);
      else local.set(p.source, r);
    }
    this.#env.changed();
    return OK;
  }

  #withdraw(p: Proc, target: Target, routes: RouteSet): SinkResult {
    const list = this.#routes(target, routes);
    if (typeof list === 'string') return { ok: false, error: list };
    const local = this.#env.local;
    for (const r of list) {
      const w = this.#watched(p, r.family, r.prefix);
      const cur = local.get(p.source, r.family, r.prefix) ?? w?.route;
      if (!cur) continue;
      let remaining: string[] | null = null;
      if (!target.all) {
        const gone = new Set(target.neighbors);
        const from = cur.targets ?? this.#env.neighbors().map((n) => n.address);
        remaining = from.filter((a) => !gone.has(a));
      }
      if (remaining === null || remaining.length === 0) {
        this.#unwatch(p, r.family, r.prefix);
        local.delete(p.source, r.family, r.prefix);
        continue;
      }
      const next: LocalRoute = { ...cur, targets: remaining };
      if (w) w.route = next;
      if (!w?.held) local.set(p.source, next);
    }
    this.#env.changed();
    return OK;
  }

  #watched(p: Proc, family: Family, prefix: PrefixKey): WatchdogRoute | undefined {
    const k = famKey(family, prefix);
    for (const g of p.watchdogs.values()) {
      const w = g.get(k);
      if (w) return w;
    }
    return undefined;
  }

  #unwatch(p: Proc, family: Family, prefix: PrefixKey): void {
    const k = famKey(family, prefix);
    for (const [name, g] of p.watchdogs) {
      if (g.delete(k) && g.size === 0) p.watchdogs.delete(name);
    }
  }

  #watchdog(p: Proc, action: 'announce' | 'withdraw', name: string): SinkResult {
    const group = p.watchdogs.get(name);
    if (!group) return OK;
    const local = this.#env.local;
    for (const w of group.values()) {
      w.held = action === 'withdraw';
      if (w.held) local.delete(p.source, w.route.family, w.route.prefix);
      else local.set(p.source, w.route);
    }
    this.#env.log.info(
      { process: p.config.name, watchdog: name, routes: group.size },
      `watchdog ${action === 'announce' ? 'announced' : 'withdrawn'}`,
    );
    this.#env.changed();
    return OK;
  }

  #routeRefresh(target: Target, family: Family | null): SinkResult {
    if (family === null) return { ok: false, error: 'route refresh for a family tsbgp does not carry' };
    let sent = 0;
    for (const address of target.neighbors) if (this.#env.routeRefresh(address, family)) sent++;
    if (sent === 0) return { ok: false, error: 'no targeted neighbour negotiated route refresh (RFC 2918)' };
    return OK;
  }

  #withdrawAll(p: Proc): void {
    p.watchdogs.clear();
    const n = this.#env.local.clear(p.source);
    if (n > 0) {
      this.#env.log.info({ process: p.config.name, routes: n }, 'process routes withdrawn');
      this.#env.changed();
    }
  }
}
