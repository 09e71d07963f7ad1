// Interned route sources: one shared, reference-counted object per distinct (peer, family, path attributes,
// next hop). A full Internet table has ≈ 2.4 prefixes per distinct attribute set, so everything that can be
// computed from the attributes (the inputs of the decision process, the well-known community flags) is computed
// once here, per UPDATE, and never per prefix.
//
// The peer is part of the key so that a path needs no object of its own: without Add-Path (path id 0) a path IS
// its RouteSource (which therefore carries `src` = itself and `pathId` = 0); only a path with a non-zero Add-Path
// identifier gets a two-field IdPath. Code reads `path.src` and `path.pathId` and never cares which it has.
//
// Memory: a source keeps its attributes only in its key, a compact binary serialisation (a latin1 string, which
// V8 stores at one byte per character) that covers every field of PathAttributes — a compile-time check below
// fails if a field is added without being serialised. attributes() decodes it again when the attributes are
// needed (export, once per attribute set and pull; the API). A decoded object graph (attribute object, AS_PATH
// segments and arrays, community arrays) would cost three times the key and several objects for the garbage
// collector to trace. The key is not the wire encoding: that depends on the session (2- or 4-octet ASNs).

import {
  AsPathSegmentType,
  type AsPathSegmentTypeCode,
  type Family,
  ipv4ToNumber,
  type OriginCode,
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

// RouteSource.bits: kind (2 bits), flags (3 bits), family (1 bit), origin (2 bits).
const FLAGS_SHIFT = 2;
const FAMILY_BIT = 1 << 5;
const ORIGIN_SHIFT = 6;

export class RouteSource {
  /** Lets a RouteSource stand for a path without Add-Path identifier (see the module comment). */
  readonly src: RouteSource;
  readonly pathId: number;
  /** The interning key: the serialised attributes, then peer, family and next hops (see SourceTable.intern). */
  readonly key: string;
  /** Index of the peer the routes came from (LOCAL_PEER for originated routes). */
  readonly peer: number;
  /** Next hop text; "self" for a local route to be sent with the session's own address. */
  readonly nextHop: string;
  readonly nextHopLinkLocal: string | undefined;
  /** Paths in the Loc-RIB plus Adj-RIB-Out entries that reference this source. */
  refs = 0;
  private readonly bits: number;
  // Inputs of the decision process (decision.ts), computed once.
  readonly localPref: number;
  readonly asPathLength: number;
  readonly med: number;
  /** Leftmost AS of the AS_PATH (RFC 4271 §9.1.2.2 (c)); 0 for an empty path, -1 when it starts with an AS_SET. */
  readonly neighborAs: number;
  /** ORIGINATOR_ID as a number, or -1 when absent (the peer's router id is used then; RFC 4456 §9). */
  readonly originatorId: number;
  readonly clusterListLength: number;

  /**
   * `attrs` are only read, not kept (see attributes()); `key` must serialise them (with `localPref` in place of
   * attrs.localPref when given, as SourceTable.intern does).
   */
  constructor(
    key: string,
    peer: number,
    kind: SourceKindCode,
    family: Family,
    attrs: PathAttributes,
    nextHop: string,
    nextHopLinkLocal: string | undefined,
    localPref: number | undefined = attrs.localPref,
  ) {
    this.src = this;
    this.pathId = 0;
    this.key = key;
    this.peer = peer;
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
    this.bits =
      kind | (flags << FLAGS_SHIFT) | (family === 'ipv6-unicast' ? FAMILY_BIT : 0) | (attrs.origin << ORIGIN_SHIFT);
    // RFC 4271 §9.1.2.2 / §5.1.5: a missing LOCAL_PREF counts as the default, 100.
    this.localPref = localPref ?? 100;
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

  get kind(): SourceKindCode {
    return (this.bits & 3) as SourceKindCode;
  }
  get flags(): number {
    return (this.bits >> FLAGS_SHIFT) & 7;
  }
  get family(): Family {
    return (this.bits & FAMILY_BIT) !== 0 ? 'ipv6-unicast' : 'ipv4-unicast';
  }
  get origin(): OriginCode {
    return ((this.bits >> ORIGIN_SHIFT) & 3) as OriginCode;
  }

  /** The attributes, decoded from the key: a new object on each call (not for per-prefix use). */
  attributes(): PathAttributes {
    return decodeAttributesKey(this.key);
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
// The serialised form of a PathAttributes value.
//
//   origin u8, segment count u16 (a 65535-byte UPDATE can carry thousands of one-AS segments), per segment:
//   type u8, count u16, ASNs u32 each;
//   then optional fields, each a tag byte (the attribute's type code) and its value, in this order:
//   0x04 MED u32 · 0x05 LOCAL_PREF u32 · 0x06 ATOMIC_AGGREGATE · 0x07 AGGREGATOR u32 + text ·
//   0x08 COMMUNITIES u16 count + u32s · 0x09 ORIGINATOR_ID text · 0x0a CLUSTER_LIST u16 count + texts ·
//   0x10 extended communities u16 count + (u8 length + bytes) · 0x20 large communities u16 count + 3 × u32 ·
//   0x23 OTC u32 · 0xff unknown u16 count + (flags u8, code u8, length u16, bytes);
//   then the end tag 0x00. A text is a length byte and its (ASCII) characters.
// Lists are bounded by the 65535-byte attribute length of the wire, so u16 counts are enough.

// Every field of PathAttributes must be handled by attributesKey and decodeAttributesKey: adding a field to the
// interface without adding it here is a type error.
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

const T = {
  END: 0x00,
  MED: 0x04,
  LOCAL_PREF: 0x05,
  ATOMIC_AGGREGATE: 0x06,
  AGGREGATOR: 0x07,
  COMMUNITIES: 0x08,
  ORIGINATOR_ID: 0x09,
  CLUSTER_LIST: 0x0a,
  EXT_COMMUNITIES: 0x10,
  LARGE_COMMUNITIES: 0x20,
  OTC: 0x23,
  UNKNOWN: 0xff,
} as const;

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
function u16(v: number): void {
  if (v > 0xffff) throw new RangeError(`attribute list of ${v} entries cannot be carried in an UPDATE`);
  scratch[pos++] = (v >>> 8) & 0xff;
  scratch[pos++] = v & 0xff;
}
function u32(v: number): void {
  scratch[pos++] = (v >>> 24) & 0xff;
  scratch[pos++] = (v >>> 16) & 0xff;
  scratch[pos++] = (v >>> 8) & 0xff;
  scratch[pos++] = v & 0xff;
}
function text(s: string): void {
  ensure(s.length + 1);
  u8(s.length);
  for (let i = 0; i < s.length; i++) u8(s.charCodeAt(i));
}

/**
 * A string equal for two PathAttributes exactly when they carry the same attributes; `localPref`, when given,
 * replaces attrs.localPref (so that an eBGP route's default needs no copy of its attributes).
 */
export function attributesKey(a: PathAttributes, localPref: number | undefined = a.localPref): string {
  pos = 0;
  writeAttributes(a, localPref);
  return scratch.toString('latin1', 0, pos);
}

/**
 * The interning key of a route source: its attributes (as attributesKey) followed by peer index, family and next
 * hops. Built in one piece so that V8 stores it as one flat string (a concatenation would keep a cons-string
 * wrapper alive in the Map for every attribute set).
 */
export function sourceKey(
  a: PathAttributes,
  localPref: number | undefined,
  peer: number,
  family: Family,
  nextHop: string,
  nextHopLinkLocal: string | undefined,
): string {
  pos = 0;
  writeAttributes(a, localPref);
  const ll = nextHopLinkLocal ?? '';
  ensure(16 + nextHop.length + ll.length);
  pos += scratch.write(`${peer}\x00${family === 'ipv4-unicast' ? 4 : 6}${nextHop}\x00${ll}`, pos, 'latin1');
  return scratch.toString('latin1', 0, pos);
}

function writeAttributes(a: PathAttributes, localPref: number | undefined): void {
  ensure(64);
  u8(a.origin);
  u16(a.asPath.length);
  for (const seg of a.asPath) {
    ensure(8 + seg.asns.length * 4);
    u8(seg.type);
    u16(seg.asns.length);
    for (let i = 0; i < seg.asns.length; i++) u32(seg.asns[i]!);
  }
  ensure(32);
  if (a.med !== undefined) {
    u8(T.MED);
    u32(a.med);
  }
  if (localPref !== undefined) {
    u8(T.LOCAL_PREF);
    u32(localPref);
  }
  if (a.atomicAggregate) u8(T.ATOMIC_AGGREGATE);
  if (a.aggregator !== undefined) {
    u8(T.AGGREGATOR);
    u32(a.aggregator.asn);
    text(a.aggregator.address);
  }
  if (a.communities !== undefined) {
    ensure(8 + a.communities.length * 4);
    u8(T.COMMUNITIES);
    u16(a.communities.length);
    for (let i = 0; i < a.communities.length; i++) u32(a.communities[i]!);
  }
  if (a.originatorId !== undefined) {
    ensure(1);
    u8(T.ORIGINATOR_ID);
    text(a.originatorId);
  }
  if (a.clusterList !== undefined) {
    ensure(8);
    u8(T.CLUSTER_LIST);
    u16(a.clusterList.length);
    for (const c of a.clusterList) text(c);
  }
  if (a.extCommunities !== undefined) {
    ensure(8 + a.extCommunities.length * 9);
    u8(T.EXT_COMMUNITIES);
    u16(a.extCommunities.length);
    for (const ec of a.extCommunities) {
      u8(ec.length);
      for (let i = 0; i < ec.length; i++) u8(ec[i]!);
    }
  }
  if (a.largeCommunities !== undefined) {
    ensure(8 + a.largeCommunities.length * 12);
    u8(T.LARGE_COMMUNITIES);
    u16(a.largeCommunities.length);
    for (const lc of a.largeCommunities) {
      u32(lc[0]);
      u32(lc[1]);
      u32(lc[2]);
    }
  }
  if (a.otc !== undefined) {
    ensure(8);
    u8(T.OTC);
    u32(a.otc);
  }
  if (a.unknown !== undefined) {
    ensure(8);
    u8(T.UNKNOWN);
    u16(a.unknown.length);
    for (const u of a.unknown) {
      ensure(8 + u.value.length);
      u8(u.flags);
      u8(u.code);
      u16(u.value.length);
      scratch.set(u.value, pos);
      pos += u.value.length;
    }
  }
  ensure(1);
  u8(T.END);
}

/** The inverse of attributesKey (reads up to its end tag; whatever follows is ignored). */
export function decodeAttributesKey(k: string): PathAttributes {
  let p = 0;
  const b = (): number => k.charCodeAt(p++);
  const w = (): number => (k.charCodeAt(p++) << 8) | k.charCodeAt(p++);
  const d = (): number =>
    ((k.charCodeAt(p++) << 24) | (k.charCodeAt(p++) << 16) | (k.charCodeAt(p++) << 8) | k.charCodeAt(p++)) >>> 0;
  const t = (): string => {
    const n = b();
    p += n;
    return k.slice(p - n, p);
  };
  const origin = b() as OriginCode;
  const nseg = w();
  const asPath = [];
  for (let s = 0; s < nseg; s++) {
    const type = b() as AsPathSegmentTypeCode;
    const n = w();
    const asns: number[] = [];
    for (let i = 0; i < n; i++) asns.push(d());
    asPath.push({ type, asns });
  }
  const a: PathAttributes = { origin, asPath };
  for (let tag = b(); tag !== T.END && p <= k.length; tag = b()) {
    switch (tag) {
      case T.MED:
        a.med = d();
        break;
      case T.LOCAL_PREF:
        a.localPref = d();
        break;
      case T.ATOMIC_AGGREGATE:
        a.atomicAggregate = true;
        break;
      case T.AGGREGATOR: {
        const asn = d();
        a.aggregator = { asn, address: t() };
        break;
      }
      case T.COMMUNITIES: {
        const n = w();
        const cs: number[] = [];
        for (let i = 0; i < n; i++) cs.push(d());
        a.communities = cs;
        break;
      }
      case T.ORIGINATOR_ID:
        a.originatorId = t();
        break;
      case T.CLUSTER_LIST: {
        const n = w();
        const cl: string[] = [];
        for (let i = 0; i < n; i++) cl.push(t());
        a.clusterList = cl;
        break;
      }
      case T.EXT_COMMUNITIES: {
        const n = w();
        const ecs: Uint8Array[] = [];
        for (let i = 0; i < n; i++) {
          const ec = new Uint8Array(b());
          for (let j = 0; j < ec.length; j++) ec[j] = b();
          ecs.push(ec);
        }
        a.extCommunities = ecs;
        break;
      }
      case T.LARGE_COMMUNITIES: {
        const n = w();
        const lcs: [number, number, number][] = [];
        for (let i = 0; i < n; i++) lcs.push([d(), d(), d()]);
        a.largeCommunities = lcs;
        break;
      }
      case T.OTC:
        a.otc = d();
        break;
      case T.UNKNOWN: {
        const n = w();
        const us = [];
        for (let i = 0; i < n; i++) {
          const flags = b();
          const code = b();
          const value = new Uint8Array(w());
          for (let j = 0; j < value.length; j++) value[j] = b();
          us.push({ flags, code, value });
        }
        a.unknown = us;
        break;
      }
      default:
        throw new Error(`corrupt attribute key: tag ${tag} at ${p - 1}`);
    }
  }
  return a;
}

// ---------------------------------------------------------------------------------------------------------------

/** Distinct next hops are few; sharing their strings saves one string per attribute set. */
const MAX_SHARED_NEXT_HOPS = 65536;

/** The table of interned route sources. */
export class SourceTable {
  private readonly map = new Map<string, RouteSource>();
  private readonly nextHops = new Map<string, string>();

  /**
   * The RouteSource for these attributes from this peer, creating it when new. `key` is sourceKey(attrs,
   * localPref, peer, family, nextHop, nextHopLinkLocal); `localPref`, when given, replaces attrs.localPref. The
   * returned source's refs are not incremented: the caller counts each path it stores, and calls dropIfUnused
   * once done with the UPDATE.
   */
  intern(
    key: string,
    peer: number,
    kind: SourceKindCode,
    family: Family,
    attrs: PathAttributes,
    nextHop: string,
    nextHopLinkLocal: string | undefined,
    localPref: number | undefined = attrs.localPref,
  ): RouteSource {
    let src = this.map.get(key);
    if (src === undefined) {
      let nh = this.nextHops.get(nextHop);
      if (nh === undefined) {
        if (this.nextHops.size >= MAX_SHARED_NEXT_HOPS) this.nextHops.clear();
        nh = nextHop;
        this.nextHops.set(nh, nh);
      }
      src = new RouteSource(key, peer, kind, family, attrs, nh, nextHopLinkLocal, localPref);
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
