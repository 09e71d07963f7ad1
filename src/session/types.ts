// The session layer's contract with the daemon: what a peer is configured with, what it negotiated,
// what it tells its owner, and how it pulls routes to send.

import type { CodecContext, Family, OpenMessage, RouteRefreshMessage, UpdateMessage } from '../wire/index.ts';

export const SessionState = {
  IDLE: 'idle',
  CONNECT: 'connect',
  ACTIVE: 'active',
  OPENSENT: 'opensent',
  OPENCONFIRM: 'openconfirm',
  ESTABLISHED: 'established',
} as const;
export type SessionStateName = (typeof SessionState)[keyof typeof SessionState];

export interface PeerConfig {
  /** Remote address, IPv4 or IPv6 text. */
  address: string;
  /** Remote TCP port to connect to (default 179). */
  port: number;
  /** Source address for outgoing connections; also the address incoming ones must arrive on, when set. */
  localAddress?: string;
  localAsn: number;
  remoteAsn: number;
  /** Our BGP Identifier, dotted quad. */
  routerId: string;
  /** Hold time we propose (0 or ≥ 3; RFC 4271 §4.2). */
  holdTime: number;
  /** Base connect-retry time in seconds; retries back off from this up to 8×. */
  connectRetryTime: number;
  /** Only accept connections; never connect out. */
  passive: boolean;
  families: Family[];
  description?: string;
  /** Families for which we advertise Add-Path receive (RFC 7911). */
  addPathReceive: Family[];
  /** Graceful restart capability to advertise (RFC 4724); null to not advertise it. */
  gracefulRestart: { restartTime: number; restarting: boolean } | null;
  /** FQDN capability hostname (draft-walton-bgp-hostname-capability); omitted when unset. */
  hostname?: string;
}

/** What the two OPENs agreed on. */
export interface NegotiatedSession {
  remoteAsn: number;
  remoteRouterId: string;
  /** Negotiated hold time (the smaller of the two; 0 = no keepalives). */
  holdTime: number;
  keepaliveTime: number;
  /** Families both sides advertised. */
  families: Family[];
  codec: CodecContext;
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** The peer's graceful-restart capability, if it sent one. */
  peerGracefulRestart: { restartTime: number; restarting: boolean; families: Family[] } | null;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  openSent: OpenMessage;
  openReceived: OpenMessage;
}

/** Why a session left Established (or failed to reach it). */
export interface SessionDownReason {
  /** One line for people, e.g. "hold timer expired", "received NOTIFICATION 6/2 (Cease/administrative shutdown): maintenance". */
  message: string;
  /** The NOTIFICATION involved, if any, and which way it went. */
  notification?: { direction: 'sent' | 'received'; code: number; subcode: number; shutdownMessage?: string };
}

/** The owner of a Peer (the daemon) implements this. Calls are synchronous, in the order events happened. */
export interface PeerHandler {
  stateChanged(peer: PeerLike, from: SessionStateName, to: SessionStateName): void;
  established(peer: PeerLike, session: NegotiatedSession): void;
  update(peer: PeerLike, msg: UpdateMessage): void;
  routeRefresh(peer: PeerLike, msg: RouteRefreshMessage): void;
  /** Called once when an Established session ends (its routes must be withdrawn), and for failed attempts too. */
  down(peer: PeerLike, reason: SessionDownReason, wasEstablished: boolean): void;
}

/**
 * Where an Established peer pulls the UPDATEs it sends. The peer calls pull() whenever its socket can take
 * more (writable length under the high-water mark) and output is pending; pull returns encoded messages of
 * at most about `maxBytes` in total, or an empty array when there is nothing left to send.
 */
export interface OutputSource {
  pull(peer: PeerLike, maxBytes: number): Uint8Array[];
}

/** The surface of a Peer that handlers and the daemon see. */
export interface PeerLike {
  readonly config: PeerConfig;
  readonly state: SessionStateName;
  readonly session: NegotiatedSession | null;
}
