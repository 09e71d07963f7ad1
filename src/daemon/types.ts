// What the daemon shows to the API: the views of neighbours and routes, and the read surface the HTTP layer
// calls. The API depends on this file only (api → daemon), so it can be tested against any object that
// implements DaemonApi, without sockets.

import type { ExplainResult } from '../rib/explain.ts';
import type { RibFilter, RibPage, RibSearchResult } from '../rib/query.ts';
import type { RouteAttributesView, RouteView } from '../rib/types.ts';
import type { SessionStateName } from '../session/types.ts';
import type { Family, PrefixKey } from '../wire/index.ts';

/** A neighbour as `GET /api/v1/neighbors` shows it (docs/api.md). */
export interface NeighborView {
  address: string;
  asn: number;
  description: string | null;
  state: SessionStateName;
  /** false when the neighbour is configured with `enabled = false`. */
  enabled: boolean;
  /** Seconds since the session reached Established; null when it is not established. */
  uptime_s: number | null;
  /** Configured families. */
  families: Family[];
  /** Paths accepted from the neighbour, per family. */
  received: Record<Family, number>;
  /** Prefixes advertised to the neighbour, per family. */
  advertised: Record<Family, number>;
  /** Why the last session ended or the last attempt failed; null if nothing went wrong yet. */
  last_error: string | null;
  /** Configured maximum-prefix limits per family (RFC 4486 Cease 1); {} when none. */
  max_prefixes: Partial<Record<Family, number>>;
  /** What was negotiated, while established. */
  session: SessionView | null;
}

export interface SessionView {
  local_address: string;
  local_port: number;
  remote_port: number;
  remote_router_id: string;
  hold_time: number;
  keepalive_time: number;
  /** Families both sides advertised. */
  families: Family[];
  four_octet_as: boolean;
  route_refresh: boolean;
  extended_message: boolean;
}

export interface RibQuery {
  /** Exact prefix to look up. */
  prefix?: PrefixKey;
  /** Most routes to return (a prefix's paths are never split). */
  limit?: number;
  /** Continue after this prefix: the last prefix of the previous page. */
  after?: PrefixKey;
}

export interface RibResult {
  /** Paths matching the query in the whole table (not only those returned). */
  total: number;
  routes: RouteView[];
}

/** The read-only surface of the daemon the API serves. */
export interface DaemonApi extends DaemonObserve {
  readonly version: string;
  /** Seconds since the daemon started. */
  uptimeSeconds(): number;
  neighbors(): NeighborView[];
  /** `address` is normalised (RFC 5952 for IPv6). */
  neighbor(address: string): NeighborView | null;
  rib(family: Family, query: RibQuery): RibResult;
}

// ---------------------------------------------------------------------------------------------------------------
// The write surface (issue 3, helper "control"): runtime neighbours, injected routes, per-neighbour Adj-RIBs.

/** One page of a listing: at most `limit` routes, continuing where `cursor` (a previous `next_cursor`) left off. */
export interface PageQuery {
  limit: number;
  cursor?: string;
}

/** A page of routes; `next_cursor` is null on the last page. */
export interface RoutePage<T> {
  total: number;
  routes: T[];
  next_cursor: string | null;
}

/** POST /api/v1/neighbors/{address}/reset: Cease 4 and reconnect, ROUTE-REFRESH to the peer, or re-send to it. */
export type ResetMode = 'hard' | 'soft-in' | 'soft-out';
export const RESET_MODES: readonly ResetMode[] = ['hard', 'soft-in', 'soft-out'];

/** A route as GET /api/v1/routes lists it (the route as accepted, normalised, with its family). */
export interface InjectedRouteView extends RouteAttributesView {
  family: Family;
  prefix: string;
}

/**
 * The daemon's write operations. Each runs synchronously on the speaker's serial control path: the whole input
 * is validated first (a ControlError from ./errors.ts, naming the field, and nothing changed), then the change
 * is committed to the state store, then applied — so when a method returns, the change is durable.
 */
export interface DaemonControl {
  /** Largest request body the write endpoints accept, in bytes (config `[api] body_limit`). */
  readonly apiBodyLimit: number;
  /** `fields`: the keys of a [[neighbors]] table. */
  addNeighbor(fields: unknown): NeighborView;
  /** `changes`: any [[neighbors]] keys but `address`; null resets a key to the file's value. */
  changeNeighbor(address: string, changes: unknown): NeighborView;
  deleteNeighbor(address: string): void;
  setNeighborEnabled(address: string, enabled: boolean): NeighborView;
  resetNeighbor(address: string, mode: ResetMode): void;
  /** Drops every API change of the neighbour: it is again what the file says (null: the file has no such neighbour). */
  revertNeighbor(address: string): NeighborView | null;
  /**
   * `routes`: route objects; `single` when the body was one route (fields are then named without "routes[i].").
   * A large batch is validated in slices that yield to the event loop (sessions keep their keepalives); the store
   * commit and the RIB change then happen together, in one go, or not at all.
   */
  injectRoutes(routes: readonly unknown[], single: boolean): Promise<{ accepted: number }>;
  /** `prefixes`: prefix strings; `fieldOf(i)` names the i-th in errors. */
  withdrawRoutes(
    prefixes: readonly unknown[],
    fieldOf: (i: number) => string,
  ): { withdrawn: number; not_found: number };
  injectedRoutes(family: Family | undefined, page: PageQuery): RoutePage<InjectedRouteView>;
  adjRibIn(address: string, family: Family, prefix: PrefixKey | undefined, page: PageQuery): RoutePage<RouteView>;
  adjRibOut(address: string, family: Family, prefix: PrefixKey | undefined, page: PageQuery): RoutePage<RouteView>;
}

// ---------------------------------------------------------------------------------------------------------------
// The observe surface (issue 3, helper "observe"): filtered Loc-RIB, explain, watch events, metrics.

/** A best-path change as GET /api/v1/watch streams it (event `route`). */
export interface RouteEvent {
  family: Family;
  prefix: string;
  /** `best`: the prefix has a (new) best path; `withdraw`: it left the Loc-RIB. */
  action: 'best' | 'withdraw';
  route: RouteView | null;
  /** Where the previous best path came from (neighbour address or "local"); null when the prefix is new. */
  previous_from: string | null;
}

/** A session state change as GET /api/v1/watch streams it (event `session`). */
export interface SessionEvent {
  neighbor: string;
  from: SessionStateName;
  to: SessionStateName;
  /** Why the session went down (the neighbour's last_error), or what the operator did; null for progress. */
  reason: string | null;
}

export interface DaemonListener {
  route?(e: RouteEvent): void;
  session?(e: SessionEvent): void;
}

/** Message kinds counted per neighbour for metrics, as named in bgp_{received,sent}_<kind>_total. */
export type MessageKind = 'open' | 'update' | 'notification' | 'keepalive' | 'refresh';
export const MESSAGE_KINDS: readonly MessageKind[] = ['open', 'update', 'notification', 'keepalive', 'refresh'];

/** Per-neighbour numbers for GET /metrics, read at scrape time. Counters survive session resets. */
export interface PeerMetrics {
  address: string;
  state: SessionStateName;
  enabled: boolean;
  /** Seconds in Established; 0 when not established. */
  uptime_s: number;
  /** Times an Established session went down. */
  flaps: number;
  received: Record<MessageKind, number>;
  sent: Record<MessageKind, number>;
  /** Adj-RIB-In paths per family (after the import checks; equal to `accepted` until import policy exists). */
  routes_received: Record<Family, number>;
  routes_accepted: Record<Family, number>;
  routes_advertised: Record<Family, number>;
  /** Prefixes waiting to be sent (changed best paths and the rest of the initial dump). */
  out_queue_count: number;
  /** Bytes written to the socket and not yet sent. */
  out_queue_bytes: number;
}

export interface DaemonObserve {
  /** Loc-RIB paths matching `filter`, one page. Throws CursorError (rib/query.ts) for a bad cursor. */
  ribSearch(family: Family, filter: RibFilter, page: RibPage): RibSearchResult;
  /** Every candidate of a prefix with the decision explained; null when the prefix is not in the Loc-RIB. */
  explain(family: Family, prefix: PrefixKey): ExplainResult | null;
  /** Starts delivering events to `listener`; returns the function that stops it. */
  watch(listener: DaemonListener): () => void;
  peerMetrics(): PeerMetrics[];
  /** Loc-RIB prefixes per family. */
  ribSizes(): Record<Family, number>;
}
