// Interned route sources: one shared, reference-counted object per distinct (peer, family, path attributes,
// next hop). A full Internet table has ≈ 2.4 prefixes per distinct attribute set, so everything that can be
// computed from the attributes (the inputs of the decision process, the well-known community flags) is computed
// once here, per UPDATE, and never per prefix.
//
// The peer is part of the key so that a path needs no object of its own: without Add-Path (path id 0) a path IS
// its RouteSource (which therefore carries `src` = itself and `pathId` = 0); only a path with a non-zero Add-Path
// identifier gets a two-field IdPath. Code reads `path.src` and `path.pathId` and never cares which it has.
//
// The key is a compact binary serialisation (latin1 string: one byte per character, so V8 stores it in one
// byte per char) of the attributes; it is not the wire encoding (the wire encoding depends on the session)
// and covers every field of PathAttributes — a compile-time check below fails if a field is added.

import {
  AsPathSegmentType,
  type Family,
  ipv4ToNumber,
  type PathAttributes,
  WellKnownCommunity,
} from '../wire/index.ts';

/** Where a path came from, in the order of preference of decision step "local over eBGP over iBGP". */
export const SourceKind = { LOCAL: 0, EBGP: 1, IBGP: 2 } as const;
export type SourceKindCode = (typeof SourceKind)[keyof typeof SourceKind];

/** Bits of RouteSource.flags. */
export const SourceFlag = {
  /** NO_EXPORT or NO_EXPORT_SUBCONFED (RFC 1997): not to eBGP peers (tsbgp has no confederations). */
  NO_EXPORT: 1,
  /** NO_ADVERTISE (RFC 1997): to no peer at all. */
  NO_ADVERTISE: 2,
  /** A local route whose next hop is "self": resolved to the session's address per peer at export. */
  NEXT_HOP_SELF: 4,
} as const;

/** The peer index of routes originated by this speaker. */
export const LOCAL_PEER = 0;

export class RouteSource {
  /** Lets a RouteSource stand for a path without Add-Path identifier (see the module comment). */
  readonly src: RouteSource;
  readonly pathId: number;
  readonly key: string;
  /** Index of the peer the routes came from (LOCAL_PEER for originated routes). */
  readonly peer: number;
  readonly family: Family;
  readonly attrs: PathAttributes;
  /** Next hop text; "self" for a local route to be sent with the session's own address. */
  readonly nextHop: string;
  readonly nextHopLinkLocal: string | undefined;
  /** Paths in the Loc-RIB plus Adj-RIB-Out entries that reference this source. */
  refs = 0;
  readonly kind: SourceKindCode;
  readonly flags: number;
  // Inputs of the decision process (decision.ts), computed once.
  readonly localPref: number;
  readonly asPathLength: number;
  readonly origin: number;
  readonly med: number;
  /** Leftmost AS of the AS_PATH (RFC 4271 §9.1.2.2 (c)); 0 for an empty path, -1 when it starts with an AS_SET. */
  readonly neighborAs: number;
  /** ORIGINATOR_ID as a number, or -1 when absent (the peer's router id is used then; RFC 4456 §9). */
  readonly originatorId: number;
  readonly clusterListLength: number;

  constructor(
    key: string,
    peer: number,
    kind: SourceKindCode,
    family: Family,
    attrs: PathAttributes,
    nextHop: string,
    nextHopLinkLocal: string | undefined,
  ) {
    this.src = this;
    this.pathId = 0;
    this.key = key;
    this.peer = peer;
    this.kind = kind;
    this.family = family;
    this.attrs = attrs;
    this.nextHop = nextHop;
    this.nextHopLinkLocal = nextHopLinkLocal;
    let flags = kind === SourceKind.LOCAL && nextHop === 'self' ? SourceFlag.NEXT_HOP_SELF : 0;
    const cs = attrs.communities;
    if (cs !== undefined) {
      for (let i = 0; i < cs.length; i++) {
        const c = cs[i]!;
        if (c === WellKnownCommunity.NO_EXPORT || c === WellKnownCommunity.NO_EXPORT_SUBCONFED) {
          flags |= SourceFlag.NO_EXPORT;
        } else if (c === WellKnownCommunity.NO_ADVERTISE) flags |= SourceFlag.NO_ADVERTISE;
      }
    }
    this.flags = flags;
    // RFC 4271 §9.1.2.2 / §5.1.5: a missing LOCAL_PREF counts as the default, 100.
    this.localPref = attrs.localPref ?? 100;
    this.origin = attrs.origin;
    // RFC 4271 §9.1.2.2 (c): a missing MED counts as 0 (the lowest, most preferred value).
    this.med = attrs.med ?? 0;
    let len = 0;
    let nas = 0;
    let nasFound = false;
    for (const seg of attrs.asPath) {
      if (seg.type === AsPathSegmentType.AS_SEQUENCE) {
        len += seg.asns.length;
        if (!nasFound && seg.asns.length > 0) {
          nas = seg.asns[0]!;
          nasFound = true;
        }
      } else if (seg.type === AsPathSegmentType.AS_SET) {
        // RFC 4271 §9.1.2.2 (a): an AS_SET counts as 1 however many ASes it holds.
        len += 1;
        if (!nasFound) {
          nas = -1;
          nasFound = true;
        }
      }
      // RFC 5065 §5.3: confederation segments do not count towards the length, nor name the neighbour AS.
    }
    this.asPathLength = len;
    this.neighborAs = nas;
    this.originatorId = attrs.originatorId === undefined ? -1 : (ipv4ToNumber(attrs.originatorId) ?? -1);
    this.clusterListLength = attrs.clusterList?.length ?? 0;
  }
}

/** A path with a non-zero Add-Path identifier (RFC 7911): the only per-path object the RIB allocates. */
export class IdPath {
  readonly src: RouteSource;
  readonly pathId: number;
  constructor(src: RouteSource, pathId: number) {
    this.src = src;
    this.pathId = pathId;
  }
}

export type Path = RouteSource | IdPath;

export function makePath(src: RouteSource, pathId: number): Path {
  return pathId === 0 ? src : new IdPath(src, pathId);
}

// ---------------------------------------------------------------------------------------------------------------
// The canonical key of a PathAttributes value.

// Every field of PathAttributes must be handled by attributesKey: adding a field to the interface without
// adding it here is a type error.
const KEYED_FIELDS: Record<keyof PathAttributes, true> = {
  origin: true,
  asPath: true,
  med: true,
  localPref: true,
  atomicAggregate: true,
  aggregator: true,
  communities: true,
  originatorId: true,
  clusterList: true,
  extCommunities: true,
  largeCommunities: true,
  otc: true,
  unknown: true,
};
export const KEYED_ATTRIBUTE_FIELDS: readonly string[] = Object.keys(KEYED_FIELDS);

let scratch = Buffer.allocUnsafe(4096);
let pos = 0;

function ensure(n: number): void {
  if (pos + n <= scratch.length) return;
  const next = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + n));
  scratch.copy(next, 0, 0, pos);
  scratch = next;
}
function u8(v: number): void {
  scratch[pos++] = v & 0xff;
}
function u32(v: number): void {
  scratch[pos++] = (v >>> 24) & 0xff;
  scratch[pos++] = (v >>> 16) & 0xff;
  scratch[pos++] = (v >>> 8) & 0xff;
  scratch[pos++] = v & 0xff;
}
/**
 * A string that is equal for two PathAttributes exactly when they carry the same attributes.
 * Fields are written in a fixed order, each preceded by a tag byte, counts before lists.
 */
export function attributesKey(a: PathAttributes): string {
  pos = 0;
  ensure(64);
  u8(a.origin);
  u8(0x02);
  u32(a.asPath.length);
  for (const seg of a.asPath) {
    ensure(8 + seg.asns.length * 4);
    u8(seg.type);
    u32(seg.asns.length);
    for (let i = 0; i < seg.asns.length; i++) u32(seg.asns[i]!);
  }
  ensure(32);
  if (a.med !== undefined) {
    u8(0x04);
    u32(a.med);
  }
  if (a.localPref !== undefined) {
    u8(0x05);
    u32(a.localPref);
  }
  if (a.atomicAggregate) u8(0x06);
  if (a.aggregator !== undefined) {
    u8(0x07);
    u32(a.aggregator.asn);
    writeText(a.aggregator.address);
  }
  if (a.communities !== undefined) {
    ensure(8 + a.communities.length * 4);
    u8(0x08);
    u32(a.communities.length);
    for (let i = 0; i < a.communities.length; i++) u32(a.communities[i]!);
  }
  if (a.originatorId !== undefined) {
    u8(0x09);
    writeText(a.originatorId);
  }
  if (a.clusterList !== undefined) {
    ensure(8);
    u8(0x0a);
    u32(a.clusterList.length);
    for (const c of a.clusterList) writeText(c);
  }
  if (a.extCommunities !== undefined) {
    ensure(8 + a.extCommunities.length * 9);
    u8(0x10);
    u32(a.extCommunities.length);
    for (const ec of a.extCommunities) {
      u8(ec.length);
      for (let i = 0; i < ec.length; i++) u8(ec[i]!);
    }
  }
  if (a.largeCommunities !== undefined) {
    ensure(8 + a.largeCommunities.length * 12);
    u8(0x20);
    u32(a.largeCommunities.length);
    for (const lc of a.largeCommunities) {
      u32(lc[0]);
      u32(lc[1]);
      u32(lc[2]);
    }
  }
  if (a.otc !== undefined) {
    ensure(8);
    u8(0x23);
    u32(a.otc);
  }
  if (a.unknown !== undefined) {
    ensure(8);
    u8(0xff);
    u32(a.unknown.length);
    for (const u of a.unknown) {
      ensure(12 + u.value.length);
      u8(u.flags);
      u8(u.code);
      u32(u.value.length);
      scratch.set(u.value, pos);
      pos += u.value.length;
    }
  }
  return scratch.toString('latin1', 0, pos);
}

function writeText(s: string): void {
  // Addresses and identifiers: ASCII text, written with a length byte.
  ensure(s.length + 1);
  u8(s.length);
  for (let i = 0; i < s.length; i++) u8(s.charCodeAt(i));
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Copies what the decoder may have left as views into a socket chunk (extended communities, unknown attribute
 * values), so that a stored attribute set never pins a receive buffer (STYLE practice 4). Called only when a new
 * RouteSource is created, i.e. once per distinct attribute set.
 */
function ownAttributes(a: PathAttributes): PathAttributes {
  if (a.extCommunities === undefined && a.unknown === undefined) return a;
  const out: PathAttributes = { ...a };
  if (a.extCommunities !== undefined) out.extCommunities = a.extCommunities.map((ec) => ec.slice());
  if (a.unknown !== undefined)
    out.unknown = a.unknown.map((u) => ({ flags: u.flags, code: u.code, value: u.value.slice() }));
  return out;
}

/** The table of interned route sources. */
export class SourceTable {
  private readonly map = new Map<string, RouteSource>();

  /**
   * The RouteSource for these attributes from this peer, creating it when new. `attrsKey` is attributesKey(attrs),
   * computed once per UPDATE by the caller. The returned source's refs are not incremented: the caller counts
   * each path it stores, and calls dropIfUnused once done with the UPDATE.
   */
  intern(
    peer: number,
    kind: SourceKindCode,
    family: Family,
    attrs: PathAttributes,
    attrsKey: string,
    nextHop: string,
    nextHopLinkLocal: string | undefined,
  ): RouteSource {
    const key = `${peer}\x00${family === 'ipv4-unicast' ? 4 : 6}${nextHop}\x00${nextHopLinkLocal ?? ''}\x00${attrsKey}`;
    let src = this.map.get(key);
    if (src === undefined) {
      src = new RouteSource(key, peer, kind, family, ownAttributes(attrs), nextHop, nextHopLinkLocal);
      this.map.set(key, src);
    }
    return src;
  }

  /** Drops one reference; frees the source when it was the last. */
  release(src: RouteSource): void {
    if (--src.refs === 0) this.map.delete(src.key);
  }

  /** Frees a source that no path ended up using (e.g. every prefix of the UPDATE was a duplicate). */
  dropIfUnused(src: RouteSource): void {
    if (src.refs === 0) this.map.delete(src.key);
  }

  get size(): number {
    return this.map.size;
  }

  /** Sum of all reference counts (for leak tests). */
  totalRefs(): number {
    let n = 0;
    for (const s of this.map.values()) n += s.refs;
    return n;
  }
}
