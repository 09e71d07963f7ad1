// The common shape of every peer-daemon harness (BIRD, FRR, GoBGP, OpenBGPD, ExaBGP): options, the normalised route a
// daemon's own CLI/JSON is parsed into, and the PeerDaemon interface the interop tests program against.

export type Family = 'ipv4-unicast' | 'ipv6-unicast';

export type SessionState = 'idle' | 'connect' | 'active' | 'opensent' | 'openconfirm' | 'established' | 'unknown';

/** A route as the peer itself shows it, normalised across daemons. */
export interface Route {
  prefix: string;
  next_hop: string;
  as_path: number[];
  med: number | null;
  local_pref: number | null;
  communities: string[];
  large_communities: string[];
  /** The daemon marks it best (true when the daemon shows only best paths). */
  best: boolean;
  /** The neighbour (session address) the route was learned from. */
  from: string;
}

/** A route for the peer to originate. */
export interface Announcement {
  prefix: string;
  /** Next hop to put on the route; default: the daemon's own address on the session. */
  next_hop?: string;
  med?: number;
  /** Only meaningful towards iBGP neighbours. */
  local_pref?: number;
  /** "asn:value" */
  communities?: string[];
  /** "global:local1:local2" */
  large_communities?: string[];
  /** Whole AS_PATH to send (ExaBGP only, which sends it as given). */
  as_path?: number[];
}

export interface PeerNeighbor {
  address: string;
  asn: number;
  /** Source address; default: the daemon's own address of the neighbour's address family. */
  local_address?: string;
  passive?: boolean;
  /** Default both. */
  families?: Family[];
  /** Hold time offered on this session (default PeerOptions.hold_time). */
  hold_time?: number;
  /** Extra daemon-specific lines/options, used sparingly by tests (e.g. ExaBGP's `capability { asn4 disable; }`). */
  asn4?: boolean;
}

export interface PeerOptions {
  asn: number;
  router_id: string;
  /** The daemon's IPv4 and IPv6 addresses (it binds/listens only on these). */
  address4: string;
  address6: string;
  neighbors: PeerNeighbor[];
  routes?: Announcement[];
  /** Default 9 s, so a lost peer is noticed quickly. */
  hold_time?: number;
}

export interface PeerCounters {
  /** UPDATE messages (or routes, for daemons that count only routes) received from the neighbour. */
  updatesReceived: number;
}

export interface PeerDaemon {
  readonly name: string;
  readonly opts: PeerOptions;
  /** The temp directory holding its config, sockets and log. */
  readonly dir: string;
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after a bounded wait; safe to call twice. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  freeze(): void;
  thaw(): void;
  neighborState(neighbor: string): Promise<SessionState>;
  waitEstablished(neighbor: string, timeoutMs?: number): Promise<void>;
  /** The last error the daemon reports for the session (a NOTIFICATION sent or received, a timer expiry), '' if none. */
  lastError(neighbor: string): Promise<string>;
  /** Routes the daemon received over BGP (not the ones it originates), as its own CLI/JSON shows them. */
  routes(family: Family): Promise<Route[]>;
  announce(route: Announcement): Promise<void>;
  withdraw(prefix: string): Promise<void>;
  /** Makes the daemon send a ROUTE-REFRESH for every family to the neighbour (RFC 2918). */
  requestRefresh(neighbor: string): Promise<void>;
  counters(neighbor: string): Promise<PeerCounters>;
  /** Operator command to (re)start the session now, ending a back-off the daemon applies after errors (optional). */
  reconnect?(neighbor: string): Promise<void>;
  logTail(): string;
}

export function routeFamily(prefix: string): Family {
  return prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}
