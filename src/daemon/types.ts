// What the daemon shows to the API: the views of neighbours and routes, and the read surface the HTTP layer
// calls. The API depends on this file only (api → daemon), so it can be tested against any object that
// implements DaemonApi, without sockets.

import type { RouteView } from '../rib/types.ts';
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
export interface DaemonApi {
  readonly version: string;
  /** Seconds since the daemon started. */
  uptimeSeconds(): number;
  neighbors(): NeighborView[];
  /** `address` is normalised (RFC 5952 for IPv6). */
  neighbor(address: string): NeighborView | null;
  rib(family: Family, query: RibQuery): RibResult;
}
