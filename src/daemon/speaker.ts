// The speaker: the one owner of all BGP state in the daemon. It wires sessions (src/session) to the RIB
// (src/rib), accepts TCP connections, applies configuration (at start and on reload) and answers the API.
//
// Serial control path: every state change — a peer event, a configuration reload, later an API write — runs
// synchronously on the event loop inside one method of this class, with no `await` between reading and
// changing the RIB (STYLE.md practice 7). Peers call the PeerHandler methods synchronously as events happen;
// the RIB is changed, then every peer that now has output pending is woken and pulls its UPDATEs itself
// (OutputSource.pull), so encoding happens only when a socket can take more.
//
// Runtime changes (DaemonControl, issue 3) take the same path: a neighbour added, changed or deleted through the API
// becomes a row of the neighbour overlay (overlay.ts) in the state store (store.ts); the effective configuration
// — the TOML file's with the overlay applied — is recomputed and applied exactly as a SIGHUP reload is. Injected
// routes are stored, then originated as local routes; a file [[routes]] entry of the same prefix waits behind an
// injected one (the RIB's local peer holds one route per prefix). Every write is committed before it is applied
// and before the API answers.
//
// A Peer object carries its configuration for its lifetime. When a neighbour's session-relevant settings change
// the old Peer is detached (its later events are ignored; its routes are withdrawn at once) and stopped, and a
// fresh Peer takes its place. Only the configuration's description may change without a reset.

import net from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { HostOptions, NeighborInfo, PeerIdentity } from '../exabgp/index.ts';
import type { ServiceConfig, ServiceDeps } from '../health/index.ts';
import type { ExplainResult } from '../rib/explain.ts';
import type { RibFilter, RibPage, RibSearchResult } from '../rib/query.ts';
import { OriginateKeys, Rib, type RibOptions, type RibQueryOptions } from '../rib/rib.ts';
import type { BestChange, LocalRoute, RibPeer, RouteView } from '../rib/types.ts';
import { Peer } from '../session/peer.ts';
import type {
  NegotiatedSession,
  OutputSource,
  PeerConfig,
  PeerHandler,
  PeerLike,
  SessionDownReason,
  SessionStateName,
} from '../session/types.ts';
import {
  AsPathSegmentType,
  afiSafiOf,
  CeaseSubcode,
  ErrorCode,
  encodeNotification,
  FAMILIES,
  type Family,
  familyOf,
  formatPrefix,
  ipv4ToNumber,
  type PathAttributes,
  type PrefixKey,
  parsePrefix,
  type RouteRefreshMessage,
  RouteRefreshSubtype,
  type UpdateMessage,
  withNlri,
} from '../wire/index.ts';
import {
  checkNeighbor,
  type DaemonConfig,
  type FieldError,
  type ListenAddress,
  NEIGHBOR_KEYS,
  type NeighborConfig,
  neighborFields,
  normalizeAddress,
  type RouteConfig,
} from './config.ts';
import { ControlError } from './errors.ts';
import { type InjectedRoute, injectedRouteJson, RouteInputError, RouteParser } from './injected.ts';
import { LocalRoutes } from './local-routes.ts';
import { applyOverlay, mergeNeighbor } from './overlay.ts';
import { ProcessManager, type ProcessView } from './processes.ts';
import { type DaemonServices, type ServiceDetailView, ServiceManager, type ServiceView } from './services.ts';
import { type OverlayRow, StateStore, StoreError } from './store.ts';
import {
  type DaemonApi,
  type DaemonControl,
  type DaemonListener,
  type InjectedRouteView,
  MESSAGE_KINDS,
  type MessageKind,
  type NeighborView,
  type PageQuery,
  type PeerMetrics,
  type ResetMode,
  type RibQuery,
  type RibResult,
  type RouteEvent,
  type RoutePage,
  type SessionEvent,
  type SessionView,
} from './types.ts';
import { VERSION } from './version.ts';

/** What the speaker needs of a session; the real one is src/session/peer.ts, tests may pass fakes. */
export interface PeerControl extends PeerLike {
  start(): void;
  stop(opts?: { subcode?: number; message?: string; data?: Uint8Array }): Promise<void>;
  acceptConnection(socket: net.Socket): void;
  wakeOutput(): void;
  /** Hard: Cease 4 (Administrative Reset, RFC 4486) and connect again. Soft: ROUTE-REFRESH per family. */
  reset(hard?: boolean, message?: string): void;
  /** Sends ROUTE-REFRESH (RFC 2918) for the family; false when the session cannot carry one. */
  sendRouteRefresh(family: Family): boolean;
  /** Message counters and flaps (src/session/peer.ts PeerStats), for metrics; fakes may omit them. */
  readonly stats?: { messagesIn: Record<string, number>; messagesOut: Record<string, number>; flaps: number };
  /** Bytes written to the socket and not yet sent, for metrics. */
  readonly outQueueBytes?: number;
}

export type PeerFactory = (
  config: PeerConfig,
  handler: PeerHandler,
  output: OutputSource,
  opts: { logger: Logger },
) => PeerControl;

const defaultPeerFactory: PeerFactory = (config, handler, output, opts) => new Peer(config, handler, output, opts);

export interface SpeakerOptions {
  logger: Logger;
  createPeer?: PeerFactory;
  /** Milliseconds to wait for peers to send their Cease on shutdown before closing anyway. */
  shutdownGraceMs?: number;
  /**
   * The durable state (injected routes, neighbour overlay), opened by the caller, who also closes it. Without one
   * the speaker keeps its runtime state in a throw-away in-memory store (tests).
   */
  store?: StateStore;
  /** Dependencies of each [[services]] entry (tests: a ManualTimer, a scripted probe). */
  serviceDeps?: (c: ServiceConfig) => ServiceDeps;
  /** Options of each [[processes]] host (tests: short stop timeouts). */
  processOptions?: HostOptions;
}

interface NeighborEntry {
  config: NeighborConfig;
  /** The settings that, when changed, require a new session (everything but the description). */
  signature: string;
  peer: PeerControl | null;
  /** The RIB has this neighbour as up (peerUp called, peerDown not yet). */
  ribUp: boolean;
  establishedAt: number | null;
  lastError: string | null;
  log: Logger;
  /** Counters of the neighbour's earlier Peer objects (a reset replaces the Peer), so metrics never go back. */
  retired?: PeerCounters;
  /** Replaced Peers still saying goodbye: their counters still move until they are folded into `retired`. */
  retiring?: Set<PeerControl>;
  /** A state change waiting a moment for its reason (the Peer reports the down reason just after the change). */
  pendingSession?: SessionEvent | null;
  /** The session's local address, normalised (set when it comes up): a next hop naming it is refused. */
  localNextHop?: string;
  /**
   * The maximum-prefix limit tripped (RFC 4486 Cease 1): the session is stopped and stays Idle until `timer`
   * (max_prefixes_restart) fires or an operator resets or enables the neighbour.
   */
  tripped?: { message: string; timer: NodeJS.Timeout | null } | null;
  /** warning_only: the families whose limit is currently exceeded (logged once per crossing). */
  overLimit?: Set<Family>;
}

interface PeerCounters {
  flaps: number;
  in: Record<string, number>;
  out: Record<string, number>;
}

/** Peer stats' message type names → metric names. */
const MESSAGE_TYPE_NAMES: Record<MessageKind, string> = {
  open: 'OPEN',
  update: 'UPDATE',
  notification: 'NOTIFICATION',
  keepalive: 'KEEPALIVE',
  refresh: 'ROUTE-REFRESH',
};

export interface ReloadSummary {
  added: string[];
  removed: string[];
  reset: string[];
  updated: string[];
  routesOriginated: number;
  routesWithdrawn: number;
  /** Global identity (asn, router_id, cluster_id) changed: every session was reset and the RIB rebuilt. */
  globalReset: boolean;
  warnings: string[];
  /** [[services]] added, removed and changed (a changed one starts again from init). */
  services?: { added: string[]; removed: string[]; changed: string[] };
  /** [[processes]] added, removed and restarted (the old program's routes are withdrawn before the new one starts). */
  processes?: { added: string[]; removed: string[]; restarted: string[] };
}

/** Most routes in one POST /api/v1/routes. */
export const MAX_ROUTE_BATCH = 1_000_000;
/** Routes validated between two yields to the event loop (injectRoutes). */
const VALIDATE_SLICE = 5_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every problem of a request body in one 400: the field of the first, the messages of all. */
function fieldErrors(errors: FieldError[]): ControlError {
  const first = errors[0];
  const text = errors.map((e) => (e.field === '' ? e.message : `${e.field}: ${e.message}`)).join('; ');
  return new ControlError('bad_request', text, first?.field || undefined);
}

/** Opaque page cursors: base64url of the text they continue after. */
function encodeCursor(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function cursorText(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new ControlError('bad_request', 'cursor: malformed', 'cursor');
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** The prefix a cursor continues after; of `family` when given. */
function cursorPrefix(text: string, family: Family | undefined): { family: Family; key: PrefixKey } {
  try {
    const p = parsePrefix(text, true);
    if (family === undefined || p.family === family) return p;
  } catch {
    // reported below
  }
  throw new ControlError('bad_request', 'cursor: not a cursor of this listing', 'cursor');
}

/** Text form of a listening socket's address: "127.0.0.1:1179", "[::]:179". */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function routeSignature(r: RouteConfig): string {
  return JSON.stringify([
    r.nextHop,
    r.origin,
    r.asPath,
    r.med ?? null,
    r.localPref ?? null,
    r.communities,
    r.largeCommunities,
    r.extCommunities.map((e) => Array.from(e)),
  ]);
}

function routeKey(r: RouteConfig): string {
  return `${r.family}|${r.prefix}`;
}

export class Speaker implements DaemonApi, DaemonControl, DaemonServices, PeerHandler, OutputSource {
  readonly version = VERSION;
  private readonly log: Logger;
  private readonly createPeer: PeerFactory;
  private readonly shutdownGraceMs: number;
  /** The effective configuration: the file's with the neighbour overlay applied. */
  private config: DaemonConfig;
  /** The configuration file as last read (start or SIGHUP). */
  private fileConfig: DaemonConfig;
  private readonly store: StateStore;
  /** The store's neighbour overlay rows, in store order. */
  private overlay = new Map<string, OverlayRow>();
  /**
   * Who owns each local route — config [[routes]], API-injected, service:NAME, process:NAME — and which one is in the
   * RIB (local-routes.ts: api > service > process > config). API routes are kept there as prefixes only.
   */
  private readonly local = new LocalRoutes({
    originate: (r) => this.table.originate(r),
    withdrawLocal: (f, p) => this.table.withdrawLocal(f, p),
  });
  /** [[services]]: health-checked announcements (services.ts). */
  private readonly serviceManager: ServiceManager;
  /** [[processes]]: ExaBGP helper programs (processes.ts). */
  private readonly processManager: ProcessManager;
  private table: Rib;
  private readonly entries = new Map<string, NeighborEntry>();
  /** Peer object → its entry; a Peer not found here (or not the entry's current one) is detached. */
  private readonly byPeer = new WeakMap<PeerLike, NeighborEntry>();
  private readonly servers = new Map<string, net.Server>();
  private readonly routes = new Map<string, { route: RouteConfig; signature: string }>();
  /** Stops in flight (detached peers saying goodbye), awaited on shutdown. */
  private readonly stopping = new Set<Promise<void>>();
  /** Peers the RIB said have output pending (RibOptions.onPending), woken once the RIB operation is over. */
  private readonly toWake = new Set<string>();
  private readonly startedAt = Date.now();
  /** Watchers (GET /api/v1/watch); the RIB builds a view per best-path change only while one wants routes. */
  private readonly listeners = new Set<DaemonListener>();
  private routeListeners = 0;
  private running = false;
  private shuttingDown = false;

  constructor(config: DaemonConfig, opts: SpeakerOptions) {
    this.config = config;
    this.log = opts.logger;
    this.createPeer = opts.createPeer ?? defaultPeerFactory;
    this.shutdownGraceMs = opts.shutdownGraceMs ?? 5000;
    this.store = opts.store ?? StateStore.open(':memory:');
    this.fileConfig = config;
    for (const row of this.store.overlay()) this.overlay.set(row.address, row);
    const eff = applyOverlay(config, this.overlay.values());
    for (const w of eff.warnings) this.log.warn(w);
    this.config = eff.config;
    this.table = this.newRib(this.config);
    // Injected and config routes go into the RIB before any peer exists, so the first UPDATEs of every session
    // carry them ahead of End-of-RIB (RFC 4724 §4). Injected first: they win over a config route of the same prefix.
    const t0 = performance.now();
    const n = this.loadInjected();
    if (n > 0) {
      this.log.info(
        { routes: n, ms: Math.round(performance.now() - t0) },
        'injected routes loaded from the state store',
      );
    }
    for (const r of this.config.routes) this.originate(r);
    for (const nb of this.config.neighbors) this.addEntry(nb, false);
    // Services and processes start with the speaker (start()); their routes join the RIB as they announce.
    this.serviceManager = new ServiceManager(
      {
        local: this.local,
        localAsn: () => this.config.global.asn,
        changed: () => this.wakePending(),
        log: this.log,
      },
      opts.serviceDeps,
    );
    this.processManager = new ProcessManager(
      {
        local: this.local,
        changed: () => this.wakePending(),
        neighbors: () => this.neighborInfos(),
        routeRefresh: (address, family) => this.refreshFrom(address, family),
        log: this.log,
      },
      opts.processOptions,
    );
    this.serviceManager.apply(this.config.services);
    this.processManager.apply(this.config.processes);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Life cycle.

  /** Opens the BGP listeners, then starts every enabled neighbour. Rejects (with every listener closed) if a bind fails. */
  async start(): Promise<string[]> {
    try {
      for (const l of this.config.global.listen) {
        try {
          await this.listen(l);
        } catch (err) {
          // A host without IPv6 cannot bind the default "[::]:179"; the IPv4 wildcard still serves it.
          const code = (err as NodeJS.ErrnoException).code;
          if (l.host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err;
          this.log.warn({ listen: l.text }, `${(err as Error).message}; continuing without it`);
        }
      }
    } catch (err) {
      await this.closeListeners();
      throw err;
    }
    this.running = true;
    for (const e of this.entries.values()) e.peer?.start();
    this.serviceManager.start();
    this.processManager.start();
    return this.listenAddresses();
  }

  /** The addresses BGP actually listens on (with the real port when the config said 0). */
  listenAddresses(): string[] {
    const out: string[] = [];
    for (const s of this.servers.values()) {
      const a = s.address();
      if (a && typeof a === 'object') out.push(formatHostPort(a.address, a.port));
    }
    return out;
  }

  /**
   * RFC 4486 Cease / administrative shutdown (with RFC 8203 text) to every peer, then the listeners close.
   * Resolves when every peer has finished or after the grace period.
   */
  async shutdown(message = 'tsbgp shutting down'): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.running = false;
    const closing = this.closeListeners();
    // Programs are told `shutdown` and terminated (bounded by their SIGKILL timeout) while the peers say goodbye.
    const programs = Promise.all([this.serviceManager.stop(), this.processManager.stop()]);
    for (const e of this.entries.values()) {
      if (e.peer) this.detach(e, CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, message);
    }
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.log.warn({ pending: this.stopping.size }, 'peers did not close within the grace period');
        resolve();
      }, this.shutdownGraceMs);
    });
    await Promise.race([Promise.allSettled([...this.stopping]), grace]);
    clearTimeout(timer);
    await closing;
    await programs;
  }

  private async listen(l: ListenAddress): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EACCES'
            ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
            : err.code === 'EADDRINUSE'
              ? 'address already in use'
              : err.code === 'EADDRNOTAVAIL'
                ? 'address not available on this host'
                : err.message;
        reject(Object.assign(new Error(`cannot listen for BGP on ${l.text}: ${why}`), { code: err.code }));
      };
      server.once('error', onError);
      // ipv6Only: "[::]:179" next to "0.0.0.0:179" must not claim the IPv4 port too.
      server.listen({ host: l.host, port: l.port, ipv6Only: l.host.includes(':'), backlog: 128 }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err, listen: l.text }, 'BGP listener error'));
    this.servers.set(l.text, server);
    this.log.info({ listen: formatHostPort(l.host, (server.address() as net.AddressInfo).port) }, 'BGP listening');
  }

  private async closeListeners(texts: string[] = [...this.servers.keys()]): Promise<void> {
    await Promise.all(
      texts.map((t) => {
        const s = this.servers.get(t);
        this.servers.delete(t);
        return s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
      }),
    );
  }

  /** An incoming TCP connection: hand it to the neighbour with that address, or refuse it (RFC 4486 Cease 5). */
  private onConnection(socket: net.Socket): void {
    const remote = normalizeAddress(socket.remoteAddress ?? '') ?? socket.remoteAddress ?? '?';
    const local = normalizeAddress(socket.localAddress ?? '') ?? '';
    const e = this.entries.get(remote);
    let refusal: string | null = null;
    if (this.shuttingDown) refusal = 'shutting down';
    else if (!e) refusal = 'not a configured neighbor';
    else if (!e.peer) refusal = 'neighbor is disabled';
    else if (e.config.localAddress && e.config.localAddress !== local) {
      refusal = `arrived on ${local}, the neighbor's local_address is ${e.config.localAddress}`;
    }
    if (refusal === null && e?.peer) {
      e.peer.acceptConnection(socket);
      return;
    }
    this.log.info({ remote, local, reason: refusal }, 'refusing BGP connection');
    socket.on('error', () => {});
    socket.setTimeout(5000, () => socket.destroy());
    socket.end(encodeNotification(ErrorCode.CEASE, CeaseSubcode.CONNECTION_REJECTED));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Configuration.

  private newRib(config: DaemonConfig): Rib {
    const opts: RibOptions = {
      localAsn: config.global.asn,
      routerId: ipv4ToNumber(config.global.routerId) ?? 0,
      // Not woken here: the RIB is in the middle of an operation, and a woken peer pulls from it at once.
      onPending: (id) => this.toWake.add(id),
      // A down peer's routes leave the RIB in slices: wake the peers each slice gave something to send.
      onBackground: () => this.wakePending(),
    };
    if (config.global.clusterId) opts.clusterId = ipv4ToNumber(config.global.clusterId) ?? 0;
    const rib = new Rib(opts);
    if (this.routeListeners > 0) rib.setBestChangeListener(this.onBestChange);
    return rib;
  }

  private peerConfig(n: NeighborConfig, config: DaemonConfig = this.config): PeerConfig {
    const pc: PeerConfig = {
      address: n.address,
      port: n.port,
      localAsn: config.global.asn,
      remoteAsn: n.asn,
      routerId: config.global.routerId,
      holdTime: n.holdTime,
      connectRetryTime: n.connectRetry,
      passive: n.passive,
      families: [...n.families],
      addPathReceive: n.addPathReceive ? [...n.families] : [],
      gracefulRestart: n.gracefulRestart ? { restartTime: n.restartTime, restarting: false } : null,
    };
    if (n.localAddress) pc.localAddress = n.localAddress;
    if (n.description !== undefined) pc.description = n.description;
    if (config.global.hostname) pc.hostname = config.global.hostname;
    return pc;
  }

  private ribPeer(n: NeighborConfig): RibPeer {
    const rp: RibPeer = {
      id: n.address,
      address: n.address,
      asn: n.asn,
      localAsn: this.config.global.asn,
      routerId: 0,
      ibgp: n.asn === this.config.global.asn,
      routeReflectorClient: n.routeReflectorClient,
      localAddress: n.localAddress ?? '',
    };
    if (n.nextHopIpv6) rp.nextHopIpv6 = n.nextHopIpv6;
    if (n.nextHopIpv4) rp.nextHopIpv4 = n.nextHopIpv4;
    return rp;
  }

  private signature(n: NeighborConfig, config: DaemonConfig = this.config): string {
    const { description: _d, ...pc } = this.peerConfig(n, config);
    return JSON.stringify([pc, n.routeReflectorClient, n.nextHopIpv4 ?? null, n.nextHopIpv6 ?? null]);
  }

  private addEntry(n: NeighborConfig, start: boolean): void {
    const e: NeighborEntry = {
      config: n,
      signature: this.signature(n),
      peer: null,
      ribUp: false,
      establishedAt: null,
      lastError: null,
      log: this.log.child({ neighbor: n.address }),
    };
    this.entries.set(n.address, e);
    this.table.addPeer(this.ribPeer(n));
    if (n.enabled) this.attach(e, start);
  }

  /** Creates the entry's Peer (and starts it when the speaker runs). */
  private attach(e: NeighborEntry, start: boolean): void {
    this.clearTrip(e);
    // The Peer logs its own state changes and tags them with the neighbour's address itself.
    const peer = this.createPeer(this.peerConfig(e.config), this, this, { logger: this.log });
    e.peer = peer;
    this.byPeer.set(peer, e);
    if (start) peer.start();
  }

  /**
   * Detaches the entry's Peer: from now on its events are ignored; its routes leave the RIB at once; it is
   * told to stop with a Cease of `subcode` (RFC 4486) and `message` (RFC 8203).
   */
  private detach(e: NeighborEntry, subcode: number, message: string): void {
    const peer = e.peer;
    this.clearTrip(e);
    if (!peer) return;
    this.flushSession(e);
    if (peer.state !== 'idle')
      this.emitSession({ neighbor: e.config.address, from: peer.state, to: 'idle', reason: message });
    e.peer = null;
    this.byPeer.delete(peer);
    if (this.processManager.size > 0) this.notifyDown(e, { message });
    if (e.ribUp) {
      e.ribUp = false;
      this.table.peerDown(e.config.address);
    }
    e.establishedAt = null;
    const p = peer
      .stop({ subcode, message })
      .catch((err: unknown) => e.log.warn({ err }, 'error while stopping the session'));
    const tracked = p.finally(() => {
      this.stopping.delete(tracked);
      this.retire(e, peer);
    });
    this.stopping.add(tracked);
    e.retiring ??= new Set();
    e.retiring.add(peer);
  }

  /** A config route: recorded, and originated unless an injected route holds its prefix. */
  private originate(r: RouteConfig): void {
    this.routes.set(routeKey(r), { route: r, signature: routeSignature(r) });
    // Behind an injected, service or process route of the same prefix it waits (local-routes.ts).
    this.local.set('config', this.localRoute(r));
  }

  private localRoute(r: RouteConfig): LocalRoute {
    const attributes: PathAttributes = {
      origin: r.origin,
      asPath: r.asPath.length > 0 ? [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [...r.asPath] }] : [],
    };
    if (r.med !== undefined) attributes.med = r.med;
    if (r.localPref !== undefined) attributes.localPref = r.localPref;
    if (r.communities.length > 0) attributes.communities = [...r.communities];
    if (r.largeCommunities.length > 0) attributes.largeCommunities = r.largeCommunities.map((c) => [c[0], c[1], c[2]]);
    if (r.extCommunities.length > 0) attributes.extCommunities = r.extCommunities.map((c) => c.slice());
    return { family: r.family, prefix: r.prefix, attributes, nextHop: r.nextHop };
  }

  /** Originates every injected route of the store into the (new, peerless) RIB; returns how many. */
  private loadInjected(): number {
    const parser = new RouteParser();
    const keys = new OriginateKeys();
    const r: LocalRoute = { family: 'ipv4-unicast', prefix: '', attributes: { origin: 0, asPath: [] }, nextHop: '' };
    let n = 0;
    this.store.forEachRoute((family, prefix, json) => {
      try {
        parser.fromStore(family, prefix, json, r);
      } catch (err) {
        const path = this.store.path;
        const what = `injected route ${formatPrefix(family, prefix)}`;
        throw new StoreError(path, `state store ${path}: ${what}: ${(err as Error).message}`, err);
      }
      this.local.markApi(family, prefix);
      this.table.originate(r, keys);
      n++;
    });
    return n;
  }

  /**
   * Applies a re-read configuration file (SIGHUP): the neighbour overlay is applied to it and the result applied
   * by applyConfig. Synchronous. Keys that only a restart applies are reported as warnings.
   */
  reload(nextFile: DaemonConfig): ReloadSummary {
    const prevFile = this.fileConfig;
    this.fileConfig = nextFile;
    const eff = applyOverlay(nextFile, this.overlay.values());
    const summary = this.applyConfig(eff.config);
    summary.warnings.push(...eff.warnings);
    if (prevFile.state.path !== nextFile.state.path) {
      summary.warnings.push(`state.path changed (${prevFile.state.path} → ${nextFile.state.path}): restart to apply`);
    }
    if (prevFile.api.bodyLimit !== nextFile.api.bodyLimit) {
      summary.warnings.push('api.body_limit changed: restart to apply');
    }
    return summary;
  }

  /**
   * Applies a new effective configuration (a reload, or an API change of the neighbour overlay). Synchronous:
   * neighbours added, removed and changed and routes diffed in one step on the control path. Listener changes are
   * applied asynchronously; their failures are logged.
   */
  private applyConfig(next: DaemonConfig): ReloadSummary {
    const summary: ReloadSummary = {
      added: [],
      removed: [],
      reset: [],
      updated: [],
      routesOriginated: 0,
      routesWithdrawn: 0,
      globalReset: false,
      warnings: [],
    };
    const prev = this.config;
    const g0 = prev.global;
    const g1 = next.global;
    if (prev.api.listen.text !== next.api.listen.text) {
      summary.warnings.push(`api.listen changed (${prev.api.listen.text} → ${next.api.listen.text}): restart to apply`);
    }
    this.config = next;

    if (g0.asn !== g1.asn || g0.routerId !== g1.routerId || g0.clusterId !== g1.clusterId) {
      // The RIB's identity changed: rebuild it and every session, as a restart would.
      summary.globalReset = true;
      for (const e of this.entries.values()) {
        this.detach(e, CeaseSubcode.OTHER_CONFIGURATION_CHANGE, 'global configuration changed');
      }
      this.entries.clear();
      this.routes.clear();
      this.table = this.newRib(next);
      // The RIB is new: API routes from the store first, then the file's, then the services' and processes'.
      this.local.rebuild();
      this.loadInjected();
      for (const r of next.routes) this.originate(r);
      this.local.replay();
      summary.routesOriginated = next.routes.length;
      for (const n of next.neighbors) this.addEntry(n, this.running);
      summary.reset = next.neighbors.map((n) => n.address);
    } else {
      // Routes first, so that a neighbour (re)started below sends the new set before End-of-RIB.
      const wanted = new Map(next.routes.map((r) => [routeKey(r), r]));
      for (const [k, { route }] of this.routes) {
        if (!wanted.has(k)) {
          // A route of a higher-priority source for the prefix stays (local-routes.ts).
          this.local.delete('config', route.family, route.prefix);
          this.routes.delete(k);
          summary.routesWithdrawn++;
        }
      }
      for (const [k, r] of wanted) {
        const cur = this.routes.get(k);
        if (!cur || cur.signature !== routeSignature(r)) {
          this.originate(r);
          summary.routesOriginated++;
        }
      }

      const nextByAddr = new Map(next.neighbors.map((n) => [n.address, n]));
      for (const [addr, e] of this.entries) {
        if (nextByAddr.has(addr)) continue;
        this.detach(e, CeaseSubcode.PEER_DECONFIGURED, 'peer de-configured');
        this.table.removePeer(addr);
        this.entries.delete(addr);
        summary.removed.push(addr);
      }
      for (const n of next.neighbors) {
        const e = this.entries.get(n.address);
        if (!e) {
          this.addEntry(n, this.running);
          summary.added.push(n.address);
          continue;
        }
        const sig = this.signature(n);
        const wasEnabled = e.config.enabled;
        if (sig === e.signature && wasEnabled === n.enabled) {
          if (e.config.description !== n.description) summary.updated.push(n.address);
          e.config = n;
          continue;
        }
        summary.reset.push(n.address);
        if (e.peer) {
          this.detach(
            e,
            n.enabled ? CeaseSubcode.OTHER_CONFIGURATION_CHANGE : CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
            n.enabled ? 'neighbor configuration changed' : 'neighbor disabled',
          );
        }
        if (sig !== e.signature) {
          // The RIB's view of the neighbour (AS, next hops, reflector client) may have changed too.
          this.table.removePeer(n.address);
          this.table.addPeer(this.ribPeer(n));
        }
        e.config = n;
        e.signature = sig;
        if (n.enabled) this.attach(e, this.running);
      }
    }

    summary.services = this.serviceManager.apply(next.services);
    summary.processes = this.processManager.apply(next.processes);

    // Listeners: open the new ones, close the ones gone.
    const want = new Set(next.global.listen.map((l) => l.text));
    if (this.running) {
      const gone = [...this.servers.keys()].filter((t) => !want.has(t));
      void this.closeListeners(gone);
      for (const l of next.global.listen) {
        if (!this.servers.has(l.text)) {
          this.listen(l).catch((err: Error) => this.log.error({ listen: l.text }, err.message));
        }
      }
    }
    this.wakePending();
    return summary;
  }

  // -------------------------------------------------------------------------------------------------------------
  // PeerHandler: session events, called synchronously by the Peers.

  /** The entry of a Peer that is still attached, or null for a detached (replaced or removed) one. */
  private entryOf(peer: PeerLike): NeighborEntry | null {
    const e = this.byPeer.get(peer);
    return e && e.peer === peer ? e : null;
  }

  stateChanged(peer: PeerLike, from: SessionStateName, to: SessionStateName): void {
    const e = this.entryOf(peer);
    if (!e) return;
    e.log.debug({ from, to }, 'session state');
    if (from === 'established' && to !== 'established') e.establishedAt = null;
    // ExaBGP's `connected`: the TCP connection is up and our OPEN is on its way.
    if (to === 'opensent' && this.processManager.neighborChanges) {
      this.processManager.notifyState(this.identity(e), 'connected');
    }
    if (this.listeners.size > 0) {
      // The Peer reports why a session failed (down()) right after the state change: wait for it, briefly.
      this.flushSession(e);
      const ev: SessionEvent = { neighbor: e.config.address, from, to, reason: null };
      e.pendingSession = ev;
      queueMicrotask(() => {
        if (e.pendingSession === ev) this.flushSession(e);
      });
    }
  }

  established(peer: PeerLike, session: NegotiatedSession): void {
    const e = this.entryOf(peer);
    if (!e) return;
    e.establishedAt = Date.now();
    e.log.debug({ localAddress: session.localAddress }, 'session established: starting the RIB export');
    this.table.peerUp(e.config.address, {
      families: session.families,
      codec: session.codec,
      localAddress: normalizeAddress(session.localAddress) ?? session.localAddress,
      routerId: ipv4ToNumber(session.remoteRouterId) ?? 0,
    });
    e.ribUp = true;
    e.localNextHop = normalizeAddress(session.localAddress) ?? session.localAddress;
    this.wakePending();
    if (this.processManager.size > 0) this.processManager.notifyState(this.identity(e), 'up');
  }

  update(peer: PeerLike, received: UpdateMessage): void {
    const e = this.entryOf(peer);
    if (!e?.ribUp) return;
    if (received.errors.length > 0) {
      e.log.warn({ errors: received.errors.map((x) => `${x.action}: ${x.message}`) }, 'UPDATE with errors (RFC 7606)');
    }
    const msg = this.screen(e, peer.session?.families, received);
    this.table.applyUpdate(e.config.address, msg);
    if (this.processManager.receiveUpdates) this.processManager.notifyUpdate(this.identity(e), msg);
    if (e.config.maxPrefixes['ipv4-unicast'] !== undefined || e.config.maxPrefixes['ipv6-unicast'] !== undefined) {
      this.checkMaxPrefixes(e, peer as PeerControl);
    }
    this.wakePending();
  }

  /**
   * RFC 4486 §4: when the paths accepted from the neighbour in a family exceed its limit, send Cease 1 with
   * AFI(2) SAFI(1) limit(4) and drop the session (its routes leave the RIB as on any session loss). The RIB keeps
   * per-peer counts, so this is one look-up per UPDATE, no per-prefix work.
   */
  private checkMaxPrefixes(e: NeighborEntry, peer: PeerControl): void {
    const counts = this.table.counts(e.config.address).received;
    for (const f of FAMILIES) {
      const limit = e.config.maxPrefixes[f];
      if (limit === undefined) continue;
      const n = counts[f] ?? 0;
      if (n <= limit) {
        e.overLimit?.delete(f);
        continue;
      }
      const message = `maximum prefixes exceeded for ${f}: ${n} > ${limit}`;
      if (e.config.maxPrefixesWarningOnly) {
        e.overLimit ??= new Set();
        if (!e.overLimit.has(f)) {
          e.overLimit.add(f);
          e.log.warn({ family: f, received: n, limit }, `${message} (warning only)`);
        }
        continue;
      }
      e.log.warn({ family: f, received: n, limit }, `${message}: stopping the session (Cease 1)`);
      const { afi, safi } = afiSafiOf(f);
      const data = new Uint8Array(7);
      const dv = new DataView(data.buffer);
      dv.setUint16(0, afi);
      dv.setUint8(2, safi);
      dv.setUint32(3, limit);
      e.lastError = message;
      // Withdraw its routes now: the Peer handles the stop after the current UPDATE, and later ones are ignored.
      if (e.ribUp) {
        e.ribUp = false;
        this.table.peerDown(e.config.address);
      }
      e.establishedAt = null;
      const restart = e.config.maxPrefixesRestart;
      const trip: { message: string; timer: NodeJS.Timeout | null } = { message, timer: null };
      if (restart > 0) {
        trip.timer = setTimeout(() => {
          if (e.tripped !== trip || e.peer !== peer) return;
          e.tripped = null;
          e.log.info({ after_s: restart }, 'max_prefixes_restart elapsed: starting the session again');
          if (this.running) peer.start();
        }, restart * 1000);
        trip.timer.unref();
      }
      e.tripped = trip;
      peer
        .stop({ subcode: CeaseSubcode.MAX_PREFIXES, data })
        .catch((err: unknown) => e.log.warn({ err }, 'error while stopping the session'));
      return;
    }
  }

  /** Forgets a tripped maximum-prefix limit (and its restart timer). */
  private clearTrip(e: NeighborEntry): void {
    if (e.tripped?.timer) clearTimeout(e.tripped.timer);
    e.tripped = null;
    e.overLimit?.clear();
  }

  /** An operator reset or enable after the limit tripped: start the stopped session again. */
  private restartTripped(e: NeighborEntry): boolean {
    if (!e.tripped || !e.peer) return false;
    this.clearTrip(e);
    e.log.info('starting the session again after the maximum-prefix limit tripped');
    if (this.running) e.peer.start();
    return true;
  }

  /**
   * What of an UPDATE the session may bring in. RFC 4760 §6: routes of an AFI/SAFI the two OPENs did not both
   * advertise are ignored (as BIRD, FRR and GoBGP do) — else a neighbour configured for IPv4 only could inject IPv6
   * routes. RFC 4271 §6.3: a next hop that is the receiving speaker's own address is semantically incorrect; the
   * route is ignored (treated as withdrawn) and the session stays up. The common UPDATE passes through untouched.
   */
  private screen(e: NeighborEntry, families: readonly Family[] | undefined, msg: UpdateMessage): UpdateMessage {
    if (families === undefined) return msg;
    let clean = true;
    for (const b of msg.withdrawn) if (!families.includes(b.family)) clean = false;
    for (const b of msg.announced) if (!families.includes(b.family) || b.nextHop === e.localNextHop) clean = false;
    if (clean) return msg;
    const withdrawn = msg.withdrawn.filter((b) => families.includes(b.family));
    const announced = [];
    for (const b of msg.announced) {
      if (!families.includes(b.family)) {
        e.log.warn({ family: b.family, prefixes: b.prefixes.length }, 'UPDATE for a family not negotiated: ignored');
      } else if (b.nextHop === e.localNextHop) {
        e.log.warn({ nextHop: b.nextHop, prefixes: b.prefixes.length }, 'next hop is our own address: route ignored');
        withdrawn.push({ family: b.family, prefixes: b.prefixes, pathIds: b.pathIds });
      } else {
        announced.push(b);
      }
    }
    return withNlri(msg, withdrawn, announced); // a spread would lose a decoded UPDATE's lazy `attributes`
  }

  routeRefresh(peer: PeerLike, msg: RouteRefreshMessage): void {
    const e = this.entryOf(peer);
    if (!e?.ribUp) return;
    const family = familyOf(msg.afi, msg.safi);
    // RFC 7313 §4: BoRR/EoRR from the peer demarcate its own re-advertisement; only a normal request asks us to resend.
    if (!family || msg.subtype !== RouteRefreshSubtype.NORMAL) return;
    e.log.info({ family }, 'route refresh requested');
    this.table.refreshOut(e.config.address, family);
    this.toWake.add(e.config.address);
    this.wakePending();
  }

  down(peer: PeerLike, reason: SessionDownReason, wasEstablished: boolean): void {
    const e = this.entryOf(peer);
    if (!e) return;
    // After a tripped maximum-prefix limit the FSM reports an administrative stop: keep the reason that matters.
    e.lastError = e.tripped ? e.tripped.message : reason.message;
    e.establishedAt = null;
    if (e.pendingSession) {
      e.pendingSession.reason = e.lastError;
      this.flushSession(e);
    }
    e.log.debug({ reason: reason.message, wasEstablished }, 'session down: withdrawing its routes');
    if (this.processManager.size > 0) this.notifyDown(e, reason);
    if (e.ribUp) {
      e.ribUp = false;
      this.table.peerDown(e.config.address);
      this.wakePending();
    }
  }

  // OutputSource: an Established peer pulls its UPDATEs when its socket can take more.
  pull(peer: PeerLike, maxBytes: number): Uint8Array[] {
    const e = this.entryOf(peer);
    if (!e?.ribUp) return [];
    return this.table.pull(e.config.address, maxBytes);
  }

  /** After a RIB change: wakes the established peers that now have output pending, so they start pulling. */
  private wakePending(): void {
    if (this.toWake.size === 0) return;
    const ids = [...this.toWake];
    this.toWake.clear();
    for (const id of ids) {
      const e = this.entries.get(id);
      if (e?.peer && e.ribUp && this.table.hasPending(id)) e.peer.wakeOutput();
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // DaemonControl: runtime changes through the API. Each method validates everything first (ControlError, and
  // nothing changed), commits to the state store, then applies the change — all synchronously, so no other event
  // runs in between and the API answers only once the change is durable.

  get apiBodyLimit(): number {
    return this.config.api.bodyLimit;
  }

  /** Runs a store write; a failure (disk full, I/O error) becomes a 503 and nothing is applied. */
  private commit<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      this.log.error({ err, store: err.path }, `state store write failed: ${what}`);
      throw new ControlError('state_store_error', `${what} not saved: ${err.message}`);
    }
  }

  /** Stores one neighbour's overlay row (null: none) and applies the new effective configuration. */
  private commitOverlay(address: string, row: OverlayRow | null, what: string): ReloadSummary {
    const next = new Map(this.overlay);
    if (row === null) next.delete(address);
    else next.set(address, row);
    const eff = applyOverlay(this.fileConfig, next.values());
    this.commit(what, () => this.store.setOverlay(address, row));
    this.overlay = next;
    const s = this.applyConfig(eff.config);
    for (const w of eff.warnings) this.log.warn(w);
    this.log.info(
      { neighbor: address, overlay: row?.kind ?? 'none', added: s.added, removed: s.removed, reset: s.reset },
      what,
    );
    return s;
  }

  private entryOrThrow(address: string): NeighborEntry {
    const e = this.entries.get(address);
    if (!e) throw new ControlError('neighbor_not_found', `no neighbor ${address} is configured`, 'address');
    return e;
  }

  private fileNeighbor(address: string): NeighborConfig | null {
    return this.fileConfig.neighbors.find((n) => n.address === address) ?? null;
  }

  addNeighbor(fields: unknown): NeighborView {
    if (!isObject(fields)) throw new ControlError('bad_request', 'expected a JSON object of neighbor keys', 'body');
    const c = checkNeighbor(fields, this.config.global.asn);
    if (!c.ok) throw fieldErrors(c.errors);
    const address = c.neighbor.address;
    if (this.entries.has(address)) {
      throw new ControlError('neighbor_exists', `neighbor ${address} is already configured`, 'address');
    }
    this.commitOverlay(address, { address, kind: 'added', fields: { ...c.fields, address } }, 'neighbor added');
    return this.view(this.entryOrThrow(address));
  }

  changeNeighbor(address: string, changes: unknown): NeighborView {
    const e = this.entryOrThrow(address);
    if (!isObject(changes)) throw new ControlError('bad_request', 'expected a JSON object of neighbor keys', 'body');
    const errors: FieldError[] = [];
    for (const k of Object.keys(changes)) {
      if (k === 'address') {
        errors.push({ field: k, message: 'cannot be changed: delete the neighbor and add it again' });
      } else if (!NEIGHBOR_KEYS.includes(k)) errors.push({ field: k, message: 'unknown key' });
    }
    if (errors.length > 0) throw fieldErrors(errors);
    const row = this.overlay.get(address);
    const file = this.fileNeighbor(address);
    // A neighbour the API added (possibly shadowing a file one) stays whole; a file neighbour gets changed keys.
    const added = row?.kind === 'added' || file === null;
    const fields: Record<string, unknown> = added
      ? { ...(row?.fields ?? neighborFields(e.config)) }
      : { ...row?.fields };
    // null resets a key: to the file's value for a file neighbour, to the default for an added one.
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete fields[k];
      else fields[k] = v;
    }
    const m = mergeNeighbor(added ? null : file, fields, this.config.global.asn);
    if (!m.ok) throw fieldErrors(m.errors);
    let next: OverlayRow | null;
    if (added) next = { address, kind: 'added', fields: { ...fields, address } };
    else next = Object.keys(fields).length === 0 ? null : { address, kind: 'changed', fields };
    this.commitOverlay(address, next, 'neighbor changed');
    return this.view(this.entryOrThrow(address));
  }

  deleteNeighbor(address: string): void {
    this.entryOrThrow(address);
    // A file neighbour stays deleted (a row says so); an API-only one simply loses its row.
    const next: OverlayRow | null =
      this.fileNeighbor(address) === null ? null : { address, kind: 'deleted', fields: {} };
    this.commitOverlay(address, next, 'neighbor deleted');
  }

  setNeighborEnabled(address: string, enabled: boolean): NeighborView {
    const e = this.entryOrThrow(address);
    // Already enabled but stopped by its maximum-prefix limit: enabling starts it again (the config is unchanged).
    if (enabled && e.config.enabled && this.restartTripped(e)) return this.view(e);
    return this.changeNeighbor(address, { enabled });
  }

  revertNeighbor(address: string): NeighborView | null {
    if (!this.overlay.has(address)) {
      throw new ControlError('overlay_not_found', `neighbor ${address} has no changes made through the API`, 'address');
    }
    this.commitOverlay(address, null, 'neighbor reverted to the configuration file');
    const e = this.entries.get(address);
    return e ? this.view(e) : null;
  }

  resetNeighbor(address: string, mode: ResetMode): void {
    const e = this.entryOrThrow(address);
    const peer = e.peer;
    if (!peer) throw new ControlError('neighbor_disabled', `neighbor ${address} is disabled`, 'address');
    if (mode === 'hard') {
      e.log.info('hard reset requested through the API');
      if (this.restartTripped(e)) return;
      // RFC 4486 Cease 4, Administrative Reset; the session is then started again.
      peer.reset(true, 'administrative reset');
      return;
    }
    const s = peer.session;
    if (!e.ribUp || peer.state !== 'established' || s === null) {
      throw new ControlError('neighbor_not_established', `neighbor ${address} is not established (${peer.state})`);
    }
    if (mode === 'soft-in') {
      // RFC 2918: ask the peer to send its Adj-RIB-Out again; the session stays up.
      if (!s.routeRefresh) {
        throw new ControlError('route_refresh_unsupported', `neighbor ${address} did not advertise route refresh`);
      }
      e.log.info({ families: s.families }, 'soft reset in: sending ROUTE-REFRESH');
      for (const f of s.families) peer.sendRouteRefresh(f);
      return;
    }
    // soft-out: send our whole Adj-RIB-Out again, as for a ROUTE-REFRESH received.
    e.log.info({ families: s.families }, 'soft reset out: re-sending the Adj-RIB-Out');
    for (const f of s.families) this.table.refreshOut(address, f);
    this.toWake.add(address);
    this.wakePending();
  }

  async injectRoutes(items: readonly unknown[], single: boolean): Promise<{ accepted: number }> {
    const t0 = performance.now();
    if (items.length > MAX_ROUTE_BATCH) {
      throw new ControlError('bad_request', `routes: at most ${MAX_ROUTE_BATCH} routes per request`, 'routes');
    }
    const parser = new RouteParser();
    const routes: InjectedRoute[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      // Validation changes nothing, so it may yield: a 100 000-route batch would otherwise hold the event loop
      // for ≈ 0.3 s of parsing before the commit. What follows it (commit, then RIB) runs without a break.
      if (i > 0 && i % VALIDATE_SLICE === 0) await nextTurn();
      try {
        routes[i] = parser.parse(items[i], single ? -1 : i);
      } catch (err) {
        if (!(err instanceof RouteInputError)) throw err;
        throw new ControlError(err.field.endsWith('prefix') ? 'bad_prefix' : 'bad_request', err.message, err.field);
      }
    }
    const t1 = performance.now();
    this.commit(`${routes.length} routes`, () => this.store.putRoutes(routes));
    const t2 = performance.now();
    const keys = new OriginateKeys();
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      this.local.markApi(r.family, r.prefix);
      this.table.originate(r, keys);
    }
    this.wakePending();
    const t3 = performance.now();
    this.log.info(
      {
        routes: routes.length,
        validate_ms: Math.round(t1 - t0),
        commit_ms: Math.round(t2 - t1),
        apply_ms: Math.round(t3 - t2),
      },
      'routes injected',
    );
    return { accepted: routes.length };
  }

  withdrawRoutes(
    prefixes: readonly unknown[],
    fieldOf: (i: number) => string,
  ): { withdrawn: number; not_found: number } {
    if (prefixes.length > MAX_ROUTE_BATCH) {
      throw new ControlError('bad_request', `at most ${MAX_ROUTE_BATCH} prefixes per request`, fieldOf(0));
    }
    const keys: { family: Family; prefix: PrefixKey }[] = new Array(prefixes.length);
    for (let i = 0; i < prefixes.length; i++) {
      const p = prefixes[i];
      if (typeof p !== 'string') {
        throw new ControlError('bad_prefix', `${fieldOf(i)}: expected a prefix string`, fieldOf(i));
      }
      try {
        const { family, key } = parsePrefix(p, true);
        keys[i] = { family, prefix: key };
      } catch (err) {
        throw new ControlError('bad_prefix', `${fieldOf(i)}: ${(err as Error).message}`, fieldOf(i));
      }
    }
    const existed = this.commit(`withdrawal of ${keys.length} routes`, () => this.store.deleteRoutes(keys));
    let withdrawn = 0;
    for (let i = 0; i < keys.length; i++) {
      if (!existed[i]) continue;
      withdrawn++;
      const { family, prefix } = keys[i]!;
      // A config, service or process route of the same prefix waiting behind the injected one comes back.
      this.local.delete('api', family, prefix);
    }
    this.wakePending();
    this.log.info({ withdrawn, not_found: keys.length - withdrawn }, 'injected routes withdrawn');
    return { withdrawn, not_found: keys.length - withdrawn };
  }

  injectedRoutes(family: Family | undefined, page: PageQuery): RoutePage<InjectedRouteView> {
    let after: { family: Family; prefix: PrefixKey } | undefined;
    if (page.cursor !== undefined) {
      // "<family> <prefix>"
      const text = cursorText(page.cursor);
      const sp = text.indexOf(' ');
      const f = text.slice(0, sp) as Family;
      if (sp < 0 || (f !== 'ipv4-unicast' && f !== 'ipv6-unicast')) {
        throw new ControlError('bad_request', 'cursor: not a cursor of this listing', 'cursor');
      }
      const p = cursorPrefix(text.slice(sp + 1), f);
      after = { family: p.family, prefix: p.key };
    }
    const q: Parameters<StateStore['listRoutes']>[0] = { limit: page.limit + 1 };
    if (family !== undefined) q.family = family;
    if (after !== undefined) q.after = after;
    const rows = this.store.listRoutes(q);
    const more = rows.length > page.limit;
    if (more) rows.length = page.limit;
    const last = rows.at(-1);
    return {
      total: this.store.countRoutes(family),
      routes: rows.map((r) => injectedRouteJson(r.family, r.prefixText, r.attributesJson)),
      next_cursor: more && last ? encodeCursor(`${last.family} ${last.prefixText}`) : null,
    };
  }

  adjRibIn(address: string, family: Family, prefix: PrefixKey | undefined, page: PageQuery): RoutePage<RouteView> {
    return this.adjRib('in', address, family, prefix, page);
  }

  adjRibOut(address: string, family: Family, prefix: PrefixKey | undefined, page: PageQuery): RoutePage<RouteView> {
    return this.adjRib('out', address, family, prefix, page);
  }

  private adjRib(
    which: 'in' | 'out',
    address: string,
    family: Family,
    prefix: PrefixKey | undefined,
    page: PageQuery,
  ): RoutePage<RouteView> {
    this.entryOrThrow(address);
    const q: Parameters<Rib['adjRibIn']>[2] = { limit: page.limit };
    if (prefix !== undefined) q.prefix = prefix;
    if (page.cursor !== undefined) q.after = cursorPrefix(cursorText(page.cursor), family).key;
    const r = which === 'in' ? this.table.adjRibIn(address, family, q) : this.table.adjRibOut(address, family, q);
    return {
      total: r.total,
      routes: r.routes,
      next_cursor: r.last === null ? null : encodeCursor(formatPrefix(family, r.last)),
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // DaemonApi: what the HTTP API reads.

  uptimeSeconds(): number {
    return Math.floor((Date.now() - this.startedAt) / 1000);
  }

  neighbors(): NeighborView[] {
    return [...this.entries.values()].map((e) => this.view(e));
  }

  neighbor(address: string): NeighborView | null {
    const e = this.entries.get(address);
    return e ? this.view(e) : null;
  }

  rib(family: Family, query: RibQuery): RibResult {
    const q: RibQueryOptions = {};
    if (query.prefix !== undefined) q.prefix = formatPrefix(family, query.prefix);
    if (query.after !== undefined) q.after = formatPrefix(family, query.after);
    if (query.limit !== undefined) q.limit = query.limit;
    return this.table.query(family, q);
  }

  /** Number of routes in the Loc-RIB of `family`. */
  ribSize(family: Family): number {
    return this.table.size(family);
  }

  private view(e: NeighborEntry): NeighborView {
    const counts = this.table.counts(e.config.address);
    const received = {} as Record<Family, number>;
    const advertised = {} as Record<Family, number>;
    for (const f of FAMILIES) {
      received[f] = counts.received[f] ?? 0;
      advertised[f] = counts.advertised[f] ?? 0;
    }
    const s = e.peer?.session;
    const established = e.peer?.state === 'established' && s;
    let session: SessionView | null = null;
    if (established && s) {
      session = {
        local_address: normalizeAddress(s.localAddress) ?? s.localAddress,
        local_port: s.localPort,
        remote_port: s.remotePort,
        remote_router_id: s.remoteRouterId,
        hold_time: s.holdTime,
        keepalive_time: s.keepaliveTime,
        families: [...s.families],
        four_octet_as: s.codec.asn4,
        route_refresh: s.routeRefresh,
        extended_message: s.codec.maxMessageSize > 4096,
      };
    }
    return {
      address: e.config.address,
      asn: e.config.asn,
      description: e.config.description ?? null,
      state: e.peer ? e.peer.state : 'idle',
      enabled: e.config.enabled,
      uptime_s: established && e.establishedAt !== null ? Math.floor((Date.now() - e.establishedAt) / 1000) : null,
      families: [...e.config.families],
      received,
      advertised,
      last_error: e.lastError,
      max_prefixes: { ...e.config.maxPrefixes },
      session,
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // DaemonObserve (issue 3): the filtered Loc-RIB, explain, watchers, metrics.

  ribSearch(family: Family, filter: RibFilter, page: RibPage): RibSearchResult {
    return this.table.search(family, filter, page);
  }

  explain(family: Family, prefix: PrefixKey): ExplainResult | null {
    return this.table.explainSteps(family, prefix);
  }

  watch(listener: DaemonListener): () => void {
    if (this.listeners.has(listener)) throw new Error('listener already watching');
    this.listeners.add(listener);
    if (listener.route && ++this.routeListeners === 1) this.table.setBestChangeListener(this.onBestChange);
    return () => {
      if (!this.listeners.delete(listener)) return;
      if (listener.route && --this.routeListeners === 0) this.table.setBestChangeListener(undefined);
    };
  }

  /** Called by the RIB in the middle of an operation: a listener must not throw into it. */
  private readonly onBestChange = (c: BestChange): void => {
    const ev: RouteEvent = {
      family: c.family,
      prefix: c.best?.prefix ?? formatPrefix(c.family, c.prefix),
      action: c.best ? 'best' : 'withdraw',
      route: c.best,
      previous_from: c.previousFrom ?? null,
    };
    for (const l of this.listeners) {
      try {
        l.route?.(ev);
      } catch (err) {
        this.log.error({ err }, 'watch listener failed');
      }
    }
  };

  private emitSession(ev: SessionEvent): void {
    for (const l of this.listeners) {
      try {
        l.session?.(ev);
      } catch (err) {
        this.log.error({ err }, 'watch listener failed');
      }
    }
  }

  private flushSession(e: NeighborEntry): void {
    const ev = e.pendingSession;
    if (!ev) return;
    e.pendingSession = null;
    this.emitSession(ev);
  }

  /** A replaced Peer finished stopping: its counters join the neighbour's totals. */
  private retire(e: NeighborEntry, peer: PeerControl): void {
    e.retiring?.delete(peer);
    const st = peer.stats;
    if (!st) return;
    e.retired ??= { flaps: 0, in: {}, out: {} };
    const r = e.retired;
    r.flaps += st.flaps;
    for (const [k, v] of Object.entries(st.messagesIn)) r.in[k] = (r.in[k] ?? 0) + v;
    for (const [k, v] of Object.entries(st.messagesOut)) r.out[k] = (r.out[k] ?? 0) + v;
  }

  peerMetrics(): PeerMetrics[] {
    const out: PeerMetrics[] = [];
    const now = Date.now();
    for (const e of this.entries.values()) {
      let flaps = e.retired?.flaps ?? 0;
      const received = {} as Record<MessageKind, number>;
      const sent = {} as Record<MessageKind, number>;
      const peers: PeerControl[] = e.peer ? [e.peer, ...(e.retiring ?? [])] : [...(e.retiring ?? [])];
      for (const k of MESSAGE_KINDS) {
        const name = MESSAGE_TYPE_NAMES[k];
        received[k] = e.retired?.in[name] ?? 0;
        sent[k] = e.retired?.out[name] ?? 0;
        for (const p of peers) {
          received[k] += p.stats?.messagesIn[name] ?? 0;
          sent[k] += p.stats?.messagesOut[name] ?? 0;
        }
      }
      for (const p of peers) flaps += p.stats?.flaps ?? 0;
      const counts = this.table.counts(e.config.address);
      const routesIn = {} as Record<Family, number>;
      const routesOut = {} as Record<Family, number>;
      for (const f of FAMILIES) {
        routesIn[f] = counts.received[f] ?? 0;
        routesOut[f] = counts.advertised[f] ?? 0;
      }
      const established = e.peer?.state === 'established' && e.establishedAt !== null;
      out.push({
        address: e.config.address,
        state: e.peer ? e.peer.state : 'idle',
        enabled: e.config.enabled,
        uptime_s: established ? Math.floor((now - e.establishedAt!) / 1000) : 0,
        flaps,
        received,
        sent,
        routes_received: routesIn,
        routes_accepted: { ...routesIn },
        routes_advertised: routesOut,
        out_queue_count: e.ribUp ? this.table.outQueue(e.config.address) : 0,
        out_queue_bytes: e.peer?.outQueueBytes ?? 0,
      });
    }
    return out;
  }

  ribSizes(): Record<Family, number> {
    const out = {} as Record<Family, number>;
    for (const f of FAMILIES) out[f] = this.table.size(f);
    return out;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Services and processes (issue 5): what the API reads and changes, and what the programs are told.

  services(): ServiceView[] {
    return this.serviceManager.list();
  }

  service(name: string): ServiceDetailView | null {
    return this.serviceManager.get(name);
  }

  drainService(name: string): ServiceDetailView | null {
    const v = this.serviceManager.drain(name);
    this.wakePending();
    return v;
  }

  undrainService(name: string): ServiceDetailView | null {
    const v = this.serviceManager.undrain(name);
    this.wakePending();
    return v;
  }

  processes(): ProcessView[] {
    return this.processManager.list();
  }

  /** The session as ExaBGP's messages name it. */
  private identity(e: NeighborEntry): PeerIdentity {
    const s = e.peer?.session;
    return {
      localAddress: s ? (normalizeAddress(s.localAddress) ?? s.localAddress) : (e.config.localAddress ?? ''),
      peerAddress: e.config.address,
      localAs: this.config.global.asn,
      peerAs: e.config.asn,
    };
  }

  private notifyDown(e: NeighborEntry, reason: SessionDownReason): void {
    const id = this.identity(e);
    const n = reason.notification;
    if (n) {
      // The NOTIFICATION's data is not kept by the session; programs get the code and subcode.
      const dir = n.direction === 'sent' ? 'send' : 'receive';
      this.processManager.notifyNotification(id, dir, n.code, n.subcode, new Uint8Array(0));
    }
    this.processManager.notifyState(id, 'down', reason.message);
  }

  /** The neighbours for the programs' `neighbor …` selectors. */
  private neighborInfos(): NeighborInfo[] {
    const out: NeighborInfo[] = [];
    for (const e of this.entries.values()) {
      out.push({
        address: e.config.address,
        localAddress: this.identity(e).localAddress,
        localAs: this.config.global.asn,
        peerAs: e.config.asn,
        routerId: this.config.global.routerId,
        established: e.ribUp && e.peer?.state === 'established',
      });
    }
    return out;
  }

  /** ROUTE-REFRESH (RFC 2918) to one neighbour for a program; false when it cannot carry one. */
  private refreshFrom(address: string, family: Family): boolean {
    const e = this.entries.get(address);
    const s = e?.peer?.session;
    if (!e?.peer || !e.ribUp || !s?.routeRefresh || !s.families.includes(family)) return false;
    return e.peer.sendRouteRefresh(family);
  }
}
