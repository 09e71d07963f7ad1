// The RIB's contract with the daemon: peers as the RIB sees them, routes as the API shows them,
// and the operations the daemon performs on the serial control path.

import type { CodecContext, Family, PathAttributes, PrefixKey } from '../wire/index.ts';

/** A neighbour as the RIB sees it. `id` is stable for the neighbour's lifetime (the daemon uses its address). */
export interface RibPeer {
  id: string;
  address: string;
  asn: number;
  /** ASN we use towards this peer (global ASN). */
  localAsn: number;
  /** Peer's BGP Identifier as an unsigned 32-bit number (set when the session comes up; 0 before). */
  routerId: number;
  /** iBGP when asn === localAsn. */
  ibgp: boolean;
  /** Route-reflector client (RFC 4456): iBGP routes may be reflected to and from it. */
  routeReflectorClient: boolean;
  /** Local address of the session, used as next hop self. */
  localAddress: string;
  /** IPv6 next hop to send for IPv6 routes when the session runs over IPv4 (config next_hop_ipv6). */
  nextHopIpv6?: string;
  /** IPv4 next hop to send for IPv4 routes when the session runs over IPv6. */
  nextHopIpv4?: string;
}

/** The session parameters the RIB needs to encode for an Established peer. */
export interface RibPeerSession {
  families: Family[];
  codec: CodecContext;
}

/** Routes this speaker originates (config [[routes]] and, later, the API), injected as from peer "local". */
export interface LocalRoute {
  family: Family;
  prefix: PrefixKey;
  attributes: PathAttributes;
  /** Next hop text, or "self" (the session's local address towards each peer). */
  nextHop: string;
  /**
   * Ids of the peers this route is exported to (ExaBGP's `neighbor X announce …`); absent: every peer. The Loc-RIB
   * still holds one local route per prefix, so a peer not listed gets no route for the prefix from here.
   */
  targets?: string[];
  /** Extra copies of our AS prepended towards eBGP peers only (a degraded anycast service); iBGP peers never see it. */
  prependToEbgp?: number;
}

/** A route's next hop and attributes as the API shows them (in RIB paths and in injected routes). */
export interface RouteAttributesView {
  next_hop: string;
  origin: 'igp' | 'egp' | 'incomplete';
  as_path: number[];
  med: number | null;
  local_pref: number | null;
  communities: string[];
  large_communities: string[];
  ext_communities: string[];
}

/** A path as the API shows it (`GET /api/v1/rib/{family}`). */
export interface RouteView extends RouteAttributesView {
  prefix: string;
  best: boolean;
  /** Peer address the path came from, or "local". */
  from: string;
  /** Why this path won or lost against the best path (best-path reason), when known. */
  reason?: string;
}

export interface RibCounts {
  received: Partial<Record<Family, number>>;
  advertised: Partial<Record<Family, number>>;
}

/** A change of best path, for watchers and metrics. */
export interface BestChange {
  family: Family;
  prefix: PrefixKey;
  /** null when the prefix is gone from the Loc-RIB. */
  best: RouteView | null;
  /** Where the previous best path came from (neighbour address or "local"); null when the prefix is new. */
  previousFrom?: string | null;
}
