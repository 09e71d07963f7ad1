// Typed BGP messages: the contract between the codec (src/wire) and everything above it.
// Messages are a union keyed on `type`. Addresses are text (the RIB interns attribute sets, so this is paid
// once per distinct set, not per prefix); prefixes are PrefixKeys (see prefix.ts).

import type { AsPathSegmentTypeCode, Family, OriginCode, RouteRefreshSubtypeCode } from './constants.ts';
import type { WireError } from './errors.ts';
import type { PrefixKey } from './prefix.ts';

// ---------------------------------------------------------------------------------------------------------------
// Negotiated session state that travels with every encode and decode call.

export interface CodecContext {
  /** Both sides advertised the 4-octet AS capability (RFC 6793): AS numbers in AS_PATH/AGGREGATOR are 4 bytes. */
  asn4: boolean;
  /** Families for which we receive Add-Path path identifiers (we said receive, peer said send). RFC 7911. */
  addPathRx: ReadonlySet<Family>;
  /** Families for which we send Add-Path path identifiers. */
  addPathTx: ReadonlySet<Family>;
  /** 4096, or 65535 once both sides advertised Extended Message (RFC 8654). */
  maxMessageSize: number;
  /** The peer is in another AS: LOCAL_PREF received from it is discarded (RFC 7606 §7.5). */
  ebgp: boolean;
  /** Families whose NLRI may carry an IPv6 next hop (RFC 8950 Extended Next Hop, negotiated). */
  extendedNextHop: ReadonlySet<Family>;
}

/** The context before OPENs are exchanged, and for tests: 2-octet AS, no Add-Path, 4096-byte messages. */
export function defaultCodecContext(overrides: Partial<CodecContext> = {}): CodecContext {
  return {
    asn4: true,
    addPathRx: new Set(),
    addPathTx: new Set(),
    maxMessageSize: 4096,
    ebgp: true,
    extendedNextHop: new Set(),
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Capabilities (RFC 5492). Unknown ones are kept raw so they can be logged and ignored.

export type Capability =
  | { kind: 'multiprotocol'; afi: number; safi: number }
  | { kind: 'route-refresh' }
  | { kind: 'route-refresh-old' }
  | { kind: 'enhanced-route-refresh' }
  | { kind: 'extended-message' }
  | { kind: 'four-octet-as'; asn: number }
  | { kind: 'extended-next-hop'; entries: { afi: number; safi: number; nextHopAfi: number }[] }
  | {
      kind: 'graceful-restart';
      /** R bit (restart state) and N bit (RFC 8538 notification) as the raw 4-bit flags field. */
      flags: number;
      restartTime: number;
      families: { afi: number; safi: number; forwardingPreserved: boolean }[];
    }
  | { kind: 'add-path'; entries: { afi: number; safi: number; sendReceive: 1 | 2 | 3 }[] }
  | { kind: 'fqdn'; hostname: string; domain: string }
  | { kind: 'unknown'; code: number; value: Uint8Array };

// ---------------------------------------------------------------------------------------------------------------
// Messages

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The "My Autonomous System" field as sent (AS_TRANS when the real ASN needs 4 octets). */
  myAs: number;
  holdTime: number;
  /** BGP Identifier as dotted quad. */
  routerId: string;
  capabilities: Capability[];
}

export interface KeepaliveMessage {
  type: 'keepalive';
}

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Uint8Array;
  /** RFC 8203/9003 shutdown communication, decoded from Cease 2 or 4 data when present and valid UTF-8. */
  shutdownMessage?: string;
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /**
   * RFC 7313: 0 normal request, 1 BoRR, 2 EoRR. Any other byte is passed through as received: RFC 7313 §5 says
   * such a message MUST be ignored, so act only on the three known values.
   */
  subtype: RouteRefreshSubtypeCode;
}

/** A path attribute tsbgp does not know, passed on (optional transitive, with Partial set) or dropped. */
export interface UnknownAttribute {
  flags: number;
  code: number;
  value: Uint8Array;
}

export interface AsPathSegment {
  type: AsPathSegmentTypeCode;
  asns: number[];
}

/** RFC 4360 extended community, kept as its 8 bytes: type (high), subtype (low), 6 value bytes. */
export type ExtCommunity = Uint8Array;

/**
 * Path attributes of one UPDATE, decoded. AS numbers are always their full 4-octet value: when the peer is
 * 2-octet-only the decoder has already merged AS4_PATH / AS4_AGGREGATOR (RFC 6793 §4.2.3), and the encoder
 * produces AS_TRANS + AS4_PATH for such a peer.
 * The next hop is not here: it belongs to the NLRI it was sent with (see NlriBlock).
 */
export interface PathAttributes {
  origin: OriginCode;
  asPath: AsPathSegment[];
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  /** RFC 1997 communities as unsigned 32-bit numbers (high 16 bits AS, low 16 bits value). */
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  extCommunities?: ExtCommunity[];
  largeCommunities?: [number, number, number][];
  /** RFC 9234 Only-To-Customer. */
  otc?: number;
  unknown?: UnknownAttribute[];
}

/** Prefixes of one family announced (with a next hop) or withdrawn in one UPDATE. */
export interface NlriBlock {
  family: Family;
  prefixes: PrefixKey[];
  /** Add-Path path identifiers, parallel to `prefixes`; null when Add-Path is not in use for the family. */
  pathIds: number[] | null;
}

export interface AnnouncedBlock extends NlriBlock {
  /** Next hop as text: NEXT_HOP for IPv4 NLRI, MP_REACH next hop otherwise (global address when two are sent). */
  nextHop: string;
  /** IPv6 link-local next hop, when MP_REACH carried 32 bytes (RFC 2545 §3). */
  nextHopLinkLocal?: string;
}

export interface UpdateMessage {
  type: 'update';
  /** Withdrawn routes field (IPv4) and MP_UNREACH_NLRI, one block per family. */
  withdrawn: NlriBlock[];
  /** NLRI field (IPv4) and MP_REACH_NLRI, one block per family. */
  announced: AnnouncedBlock[];
  /** Decoded attributes; null when the UPDATE carries none (a pure withdrawal, or an IPv4 End-of-RIB). */
  attributes: PathAttributes | null;
  /**
   * RFC 7606: when set, the UPDATE must be handled as if every prefix in `announced` were withdrawn.
   * The decoder sets it for treat-as-withdraw errors; `errors` says why.
   */
  treatAsWithdraw: boolean;
  /** Non-fatal errors found while decoding (attribute discards, treat-as-withdraw), for logging. */
  errors: WireError[];
  /** Set when the UPDATE is an End-of-RIB marker (RFC 4724 §2) for this family. */
  endOfRib?: Family;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

// ---------------------------------------------------------------------------------------------------------------
// What the encoder takes to build UPDATEs.

/** Routes of one family that share one attribute set and next hop, to be packed into as few UPDATEs as fit. */
export interface RouteBatch {
  family: Family;
  attributes: PathAttributes;
  nextHop: string;
  nextHopLinkLocal?: string;
  prefixes: PrefixKey[];
  /** Required when Add-Path send is negotiated for the family. */
  pathIds?: number[];
}
