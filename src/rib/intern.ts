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
  type AsPathSegment,
  AsPathSegmentType,
  type AsPathSegmentTypeCode,
  type Family,
  ipv4ToNumber,
  type OriginCode,
  type PathAttributes,
  WellKnownCommunity,
} from '../wire/index.ts';
import { grown } from './grow.ts';
import { fmix, hashBytes, hashString } from './hash.ts';

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

// RouteSource.bits: kind (2 bits), flags (3 bits), family (1 bit), origin (2 bits), peer index (22 bits): 30 bits,
// a small integer in every V8 configuration. RouteSource.lens: AS_PATH length (16 bits; a 65535-byte UPDATE holds
// fewer than 32768 ASNs), CLUSTER_LIST length (14 bits; fewer than 16384 entries). Each field of a RouteSource
// costs 8 bytes per attribute set — 4 MB per 500 k sets — so the small ones share a word.
const FLAGS_SHIFT = 2;
const FAMILY_BIT = 1 << 5;
const ORIGIN_SHIFT = 6;
const PEER_SHIFT = 8;
/** The bits of RouteSource.bits that are part of a source's identity besides key and next hops. */
const PEER_FAMILY_MASK = ~((1 << PEER_SHIFT) - 1) | FAMILY_BIT;
function peerFamilyBits(peer: number, family: Family): number {
  return (peer << PEER_SHIFT) | (family === 'ipv6-unicast' ? FAMILY_BIT : 0);
}
/** Peer indexes must fit the 22 bits left in RouteSource.bits. */
export const MAX_PEER_INDEX = (1 << 22) - 1;
const CLUSTER_SHIFT = 16;
/** RouteSource.lens: the source has an ORIGINATOR_ID (bit 30: still a small integer). */
const HAS_ORIGINATOR = 1 << 30;

/** A next hop and its link-local companion (RFC 2545 §3), shared by all sources that have them. */
interface NextHops {
  readonly nextHop: string;
  readonly linkLocal: string | undefined;
}

/** Distinct next hops are few; sharing them saves a field and a string per attribute set. */
const MAX_SHARED_NEXT_HOPS = 65536;
const sharedHops = new Map<string, NextHops>();
let lastHop: NextHops = { nextHop: '', linkLocal: undefined };

function hopOf(nextHop: string, linkLocal: string | undefined): NextHops {
  // One peer's UPDATEs nearly all carry the same next hop.
  if (lastHop.nextHop === nextHop && lastHop.linkLocal === linkLocal) return lastHop;
  const k = linkLocal === undefined ? nextHop : `${nextHop} ${linkLocal}`;
  let hop = sharedHops.get(k);
  if (hop === undefined) {
    if (sharedHops.size >= MAX_SHARED_NEXT_HOPS) sharedHops.clear(); // a bound, not expected to be reached
    hop = { nextHop, linkLocal };
    sharedHops.set(k, hop);
  }
  lastHop = hop;
  return hop;
}

export class RouteSource {
  /**
   * The interning key: the serialised attributes (attributesKey), followed by peer, family and next hops when
   * the source was interned by a sourceKey (SourceTable.internAttributes keeps those in the other fields only).
   */
  readonly key: string;
  /** The next hops, shared by every source with the same ones (see hopOf). */
  private readonly hop: NextHops;
  /** Paths in the Loc-RIB plus Adj-RIB-Out entries that reference this source. */
  refs = 0;
  /** kind, flags, family, origin and peer index, packed (read them through the getters). */
  readonly bits: number;
  private readonly lens: number;
  // Inputs of the decision process (decision.ts), computed once. Unsigned 32-bit values are stored as signed
  // (`| 0`) and read back through getters: V8 keeps a field as a small integer only while every instance's value
  // fits 32 signed bits; one MED, ASN or router id of 2^31 or more would put a 16-byte boxed number behind that
  // field in every source.
  private readonly lp: number;
  private readonly m: number;
  private readonly nas: number;
  private readonly oid: number;

  /**
   * `attrs` are only read, not kept (see attributes()); `key` must serialise them (with `localPref` in place of
   * attrs.localPref when given, as SourceTable.intern does). Null `attrs`: the inputs come from keyFacts, which
   * the caller has just run on the key's bytes (SourceTable.internKey).
   */
  constructor(
    key: string,
    peer: number,
    kind: SourceKindCode,
    family: Family,
    attrs: PathAttributes | null,
    nextHop: string,
    nextHopLinkLocal: string | undefined,
    localPref: number | undefined = attrs?.localPref,
  ) {
    if (peer > MAX_PEER_INDEX || peer < 0) throw new RangeError(`peer index ${peer} out of range`);
    this.key = key;
    this.hop = hopOf(nextHop, nextHopLinkLocal);
    let flags = kind === SourceKind.LOCAL && nextHop === 'self' ? SourceFlag.NEXT_HOP_SELF : 0;
    if (attrs === null) {
      // No attribute object: the same inputs, read from the key by keyFacts, which the caller ran just before.
      this.bits =
        kind |
        ((flags | factFlags) << FLAGS_SHIFT) |
        (family === 'ipv6-unicast' ? FAMILY_BIT : 0) |
        (factOrigin << ORIGIN_SHIFT) |
        (peer << PEER_SHIFT);
      // internKey passes the LOCAL_PREF it put in the key, or none to keep the key's own.
      this.lp = (localPref ?? (factLp < 0 ? 100 : factLp)) | 0;
      this.m = factMed | 0;
      this.nas = factNas | 0;
      this.oid = factOid | 0;
      this.lens =
        Math.min(factLen, 0xffff) |
        (Math.min(factClusters, 0x3fff) << CLUSTER_SHIFT) |
        (factHasOid ? HAS_ORIGINATOR : 0);
      return;
    }
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
      kind |
      (flags << FLAGS_SHIFT) |
      (family === 'ipv6-unicast' ? FAMILY_BIT : 0) |
      (attrs.origin << ORIGIN_SHIFT) |
      (peer << PEER_SHIFT);
    // RFC 4271 §9.1.2.2 / §5.1.5: a missing LOCAL_PREF counts as the default, 100.
    this.lp = (localPref ?? 100) | 0;
    // RFC 4271 §9.1.2.2 (c): a missing MED counts as 0 (the lowest, most preferred value).
    this.m = (attrs.med ?? 0) | 0;
    let len = 0;
    let nas = 0;
    let nasFound = false;
    const path = attrs.asPath;
    for (let s = 0; s < path.length; s++) {
      const seg = path[s]!;
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
    // -1 (AS_SET first) is also ASN 4294967295, which RFC 7300 reserves: it never names a neighbour AS.
    this.nas = nas | 0;
    const oid = attrs.originatorId === undefined ? undefined : ipv4ToNumber(attrs.originatorId);
    this.oid = (oid ?? 0) | 0;
    const cl = attrs.clusterList?.length ?? 0;
    this.lens =
      Math.min(len, 0xffff) | (Math.min(cl, 0x3fff) << CLUSTER_SHIFT) | (oid === undefined ? 0 : HAS_ORIGINATOR);
  }

  get localPref(): number {
    return this.lp >>> 0;
  }
  get med(): number {
    return this.m >>> 0;
  }
  /** Leftmost AS of the AS_PATH (RFC 4271 §9.1.2.2 (c)); 0 for an empty path, -1 when it starts with an AS_SET. */
  get neighborAs(): number {
    return this.nas === -1 ? -1 : this.nas >>> 0;
  }
  /** ORIGINATOR_ID as a number, or -1 when absent (the peer's router id is used then; RFC 4456 §9). */
  get originatorId(): number {
    return (this.lens & HAS_ORIGINATOR) === 0 ? -1 : this.oid >>> 0;
  }

  /** Next hop text; "self" for a local route to be sent with the session's own address. */
  get nextHop(): string {
    return this.hop.nextHop;
  }
  get nextHopLinkLocal(): string | undefined {
    return this.hop.linkLocal;
  }
  /** Lets a RouteSource stand for a path without Add-Path identifier (see the module comment). */
  get src(): RouteSource {
    return this;
  }
  get pathId(): number {
    return 0;
  }
  /** Index of the peer the routes came from (LOCAL_PEER for originated routes). */
  get peer(): number {
    return this.bits >>> PEER_SHIFT;
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
  get asPathLength(): number {
    return this.lens & 0xffff;
  }
  get clusterListLength(): number {
    return (this.lens >>> CLUSTER_SHIFT) & 0x3fff;
  }

  /** The attributes, decoded from the key: a new object on each call (not for per-prefix use). */
  attributes(): PathAttributes {
    return decodeAttributesKey(this.key);
  }
}

// What RouteSource reads from attributes, as keyFacts found it in a key.
let factOrigin = 0;
let factMed = 0;
let factLen = 0;
let factNas = 0;
let factHasOid = false;
let factOid = 0;
let factClusters = 0;
let factFlags = 0;
/** LOCAL_PREF in the key, -1 when it has none. */
let factLp = -1;

/**
 * Reads the decision inputs of the key b[0, end) into the fact* variables (the same values RouteSource takes from
 * attributes). Bytes rather than the key string: internKey has them at hand, and typed-array reads with a local
 * offset are cheaper than charCodeAt through module-level state; the AS_PATH, the long part, is read inline.
 */
function keyFacts(b: Uint8Array, end: number): void {
  let p = 0;
  factOrigin = b[p++]!;
  factMed = 0;
  factLen = 0;
  factNas = 0;
  factHasOid = false;
  factOid = 0;
  factClusters = 0;
  factFlags = 0;
  factLp = -1;
  let nasFound = false;
  bb = b;
  bp = 1;
  const nseg = bv();
  p = bp;
  for (let s = 0; s < nseg; s++) {
    const type = b[p++]!;
    let n = b[p++]!;
    if (n >= 0x80) {
      bp = p - 1;
      n = bv();
      p = bp;
    }
    if (type === AsPathSegmentType.AS_SEQUENCE) {
      factLen += n;
      if (!nasFound && n > 0) {
        bp = p;
        factNas = bv();
        p = bp;
        nasFound = true;
        n--;
      }
    } else if (type === AsPathSegmentType.AS_SET) {
      factLen += 1;
      if (!nasFound) {
        factNas = -1;
        nasFound = true;
      }
    }
    // Skip n varints: each ends at its first byte below 0x80.
    for (let i = 0; i < n; i++) while (b[p++]! >= 0x80);
  }
  bp = p;
  for (let tag = b[bp++]!; tag !== T.END && bp <= end; tag = b[bp++]!) {
    switch (tag) {
      case T.MED:
        factMed = bv();
        break;
      case T.LOCAL_PREF:
        factLp = bv();
        break;
      case T.ATOMIC_AGGREGATE:
        break;
      case T.AGGREGATOR:
        bp += 4;
        bp += 1 + b[bp]!;
        break;
      case T.COMMUNITIES: {
        const n = bv();
        for (let i = 0; i < n; i++, bp += 4) {
          const c = ((b[bp]! << 24) | (b[bp + 1]! << 16) | (b[bp + 2]! << 8) | b[bp + 3]!) >>> 0;
          if (c === WellKnownCommunity.NO_EXPORT || c === WellKnownCommunity.NO_EXPORT_SUBCONFED) {
            factFlags |= SourceFlag.NO_EXPORT;
          } else if (c === WellKnownCommunity.NO_ADVERTISE) factFlags |= SourceFlag.NO_ADVERTISE;
        }
        break;
      }
      case T.ORIGINATOR_ID: {
        const n = b[bp]!;
        const oid = ipv4ToNumber(latin1(b, bp + 1, bp + 1 + n));
        bp += 1 + n;
        factHasOid = oid !== undefined;
        factOid = oid ?? 0;
        break;
      }
      case T.CLUSTER_LIST: {
        factClusters = (b[bp]! << 8) | b[bp + 1]!;
        bp += 2;
        for (let i = 0; i < factClusters; i++) bp += 1 + b[bp]!;
        break;
      }
      default:
        return; // the rest holds nothing RouteSource reads
    }
  }
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let t = '';
  for (let i = start; i < end; i++) t += String.fromCharCode(b[i]!);
  return t;
}

/** True when the AS_PATH of the key in buf[start, …) holds `a` or `b` (RFC 4271 §9.1.2: a loop). */
export function keyPathHas(buf: Uint8Array, start: number, a: number, b: number): boolean {
  bb = buf;
  bp = start + 1;
  const nseg = bv();
  for (let s = 0; s < nseg; s++) {
    bp++;
    const n = bv();
    for (let i = 0; i < n; i++) {
      const asn = bv();
      if (asn === a || asn === b) return true;
    }
  }
  return false;
}

/**
 * RFC 4456 §8 on the key in buf[start, …): true when its ORIGINATOR_ID is `routerId` or its CLUSTER_LIST holds
 * `clusterId` (both dotted quads, as the key keeps them).
 */
export function keyReflected(buf: Uint8Array, start: number, routerId: string, clusterId: string): boolean {
  bb = buf;
  bp = start + 1;
  const nseg = bv();
  for (let s = 0; s < nseg; s++) {
    bp++;
    const n = bv();
    for (let i = 0; i < n; i++) bv();
  }
  for (let tag = buf[bp++]!; tag !== T.END; tag = buf[bp++]!) {
    switch (tag) {
      case T.MED:
      case T.LOCAL_PREF:
        bv();
        break;
      case T.ATOMIC_AGGREGATE:
        break;
      case T.AGGREGATOR:
        bp += 4;
        bp += 1 + buf[bp]!;
        break;
      case T.COMMUNITIES: {
        const n = bv(); // first: `bp += 4 * bv()` would add to bp as it was before bv() moved it
        bp += 4 * n;
        break;
      }
      case T.ORIGINATOR_ID:
        if (textIs(buf, bp, routerId)) return true;
        bp += 1 + buf[bp]!;
        break;
      case T.CLUSTER_LIST: {
        const n = (buf[bp]! << 8) | buf[bp + 1]!;
        bp += 2;
        for (let i = 0; i < n; i++) {
          if (textIs(buf, bp, clusterId)) return true;
          bp += 1 + buf[bp]!;
        }
        return false;
      }
      default:
        return false; // the tags are in ascending order: no ORIGINATOR_ID or CLUSTER_LIST after these
    }
  }
  return false;
}

/** True when the key text (length byte, characters) at buf[at] is `t`. */
function textIs(buf: Uint8Array, at: number, t: string): boolean {
  if (buf[at] !== t.length) return false;
  for (let i = 0; i < t.length; i++) if (buf[at + 1 + i] !== t.charCodeAt(i)) return false;
  return true;
}

// The key bytes keyPathHas reads, and the offset in them (module-level like kk/kp: no closure per call).
let bb: Uint8Array = new Uint8Array(0);
let bp = 0;

/** A varint (kv's format) from bb at bp. */
function bv(): number {
  let v = 0;
  let shift = 1;
  for (;;) {
    const c = bb[bp++]!;
    v += (c & 0x7f) * shift;
    if (c < 0x80) return v;
    shift *= 128;
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
//   origin u8, segment count v, per segment: type u8, count v, ASNs v each;
//   then optional fields, each a tag byte (the attribute's type code) and its value, in this order:
//   0x04 MED v · 0x05 LOCAL_PREF v · 0x06 ATOMIC_AGGREGATE · 0x07 AGGREGATOR u32 + text ·
//   0x08 COMMUNITIES count v + u32s · 0x09 ORIGINATOR_ID text · 0x0a CLUSTER_LIST u16 count + texts ·
//   0x10 extended communities u16 count + (u8 length + bytes) · 0x20 large communities u16 count + 3 × u32 ·
//   0x23 OTC u32 · 0xff unknown u16 count + (flags u8, code u8, length u16, bytes);
//   then the end tag 0x00. A text is a length byte and its (ASCII) characters.
// v is a base-128 varint (low 7 bits first, high bit set on every byte but the last; the shortest form, so equal
// values give equal bytes): most ASNs take 2 or 3 bytes instead of 4, counts, LOCAL_PREF and most MEDs 1 — a
// typical key is 8–16 bytes shorter, and a V8 string is sized in steps of 8 bytes. Communities stay u32 (their
// high 16 bits are an ASN: as varints they would take 5 bytes). The rarer lists are bounded by the 65535-byte
// attribute length of the wire, so u16 counts are enough.

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

let scratch: Buffer & { latin1Slice(start: number, end: number): string } = Buffer.allocUnsafe(4096) as never;
let pos = 0;

function ensure(n: number): void {
  if (pos + n <= scratch.length) return;
  const next = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + n)) as typeof scratch;
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
  lastKey = null;
  pos = 0;
  writeAttributes(a, localPref);
  return scratch.latin1Slice(0, pos);
}

/**
 * The interning key of a route source: its attributes (as attributesKey) followed by peer index, family and next
 * hops. Built in one piece so that V8 stores it as one flat string (a concatenation would keep a cons-string
 * wrapper alive for every attribute set). Also leaves the key's bytes and hash in the scratch buffer, so that
 * SourceTable.intern called next with this key does not read the string again.
 */
export function sourceKey(
  a: PathAttributes,
  localPref: number | undefined,
  peer: number,
  family: Family,
  nextHop: string,
  nextHopLinkLocal: string | undefined,
): string {
  writeSourceKey(a, localPref, peer, family, nextHop, nextHopLinkLocal);
  const key = scratch.latin1Slice(0, pos);
  lastKey = key;
  lastKeyHash = hashBytes(scratch, pos);
  return key;
}

/** The key sourceKey returned last, and hashString of it. */
let lastKey: string | null = null;
let lastKeyHash = 0;

/** Writes the source key into scratch[0, pos). */
function writeSourceKey(
  a: PathAttributes,
  localPref: number | undefined,
  peer: number,
  family: Family,
  nextHop: string,
  nextHopLinkLocal: string | undefined,
): void {
  lastKey = null;
  pos = 0;
  writeAttributes(a, localPref);
  // `${peer}\x00${4 or 6}${nextHop}\x00${nextHopLinkLocal ?? ''}`, written without building that string.
  const ll = nextHopLinkLocal ?? '';
  ensure(16 + nextHop.length + ll.length);
  const digits = `${peer}`;
  for (let i = 0; i < digits.length; i++) scratch[pos++] = digits.charCodeAt(i);
  scratch[pos++] = 0;
  scratch[pos++] = family === 'ipv4-unicast' ? 0x34 : 0x36;
  for (let i = 0; i < nextHop.length; i++) scratch[pos++] = nextHop.charCodeAt(i);
  scratch[pos++] = 0;
  for (let i = 0; i < ll.length; i++) scratch[pos++] = ll.charCodeAt(i);
}

/** The table's hash of a source: its key's hash mixed with peer and family (see SourceTable.internAttributes). */
function sourceHash(keyHash: number, peer: number, family: Family): number {
  // Never 0 (fmix maps 0 to 1): SourceTable marks an empty bucket with hash 0, so a probe reads the hash array alone.
  return fmix(keyHash ^ Math.imul((peer << 1) | (family === 'ipv4-unicast' ? 0 : 1), 0x9e3779b1), 0);
}

/** True when `key` holds exactly the bytes scratch[0, pos). */
function scratchEquals(key: string): boolean {
  if (key.length !== pos) return false;
  for (let i = 0; i < pos; i++) if (key.charCodeAt(i) !== scratch[i]) return false;
  return true;
}

/** Writes v (a u32) as a base-128 number, low 7 bits first, at p; returns the offset after it. */
function varint(b: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    b[p++] = v | 0x80; // typed array stores keep the low 8 bits
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

function writeAttributes(a: PathAttributes, localPref: number | undefined): void {
  // The fields every route has are written with a local offset into a buffer made large enough up front (this
  // runs once per UPDATE); the rare ones below go through the checked helpers.
  const path = a.asPath;
  const cs = a.communities;
  let need = 32 + (cs === undefined ? 0 : 6 + cs.length * 4);
  for (let s = 0; s < path.length; s++) need += 6 + path[s]!.asns.length * 5;
  ensure(need);
  const b = scratch;
  let p = pos;
  b[p++] = a.origin;
  p = varint(b, p, path.length);
  for (let s = 0; s < path.length; s++) {
    const seg = path[s]!;
    const asns = seg.asns;
    const n = asns.length;
    b[p++] = seg.type;
    p = varint(b, p, n);
    for (let i = 0; i < n; i++) {
      p = varint(b, p, asns[i]! >>> 0);
    }
  }
  const med = a.med;
  if (med !== undefined) {
    b[p++] = T.MED;
    p = varint(b, p, med >>> 0);
  }
  if (localPref !== undefined) {
    b[p++] = T.LOCAL_PREF;
    p = varint(b, p, localPref >>> 0);
  }
  if (a.atomicAggregate) b[p++] = T.ATOMIC_AGGREGATE;
  pos = p;
  if (a.aggregator !== undefined) {
    ensure(16);
    u8(T.AGGREGATOR);
    u32(a.aggregator.asn);
    text(a.aggregator.address);
  }
  if (cs !== undefined) {
    // ensure(need) above counted the communities; the aggregator may have moved the buffer.
    ensure(6 + cs.length * 4);
    const b = scratch;
    let p = pos;
    const n = cs.length;
    b[p++] = T.COMMUNITIES;
    p = varint(b, p, n);
    for (let i = 0; i < n; i++) {
      const v = cs[i]!;
      b[p++] = v >>> 24;
      b[p++] = v >>> 16;
      b[p++] = v >>> 8;
      b[p++] = v;
    }
    pos = p;
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

// The key being read by decodeAttributesKey and the offset in it (decoding is synchronous; module-level state
// instead of closures lets the readers inline).
let kk = '';
let kp = 0;

function kb(): number {
  return kk.charCodeAt(kp++);
}
function kw(): number {
  const p = kp;
  kp = p + 2;
  return (kk.charCodeAt(p) << 8) | kk.charCodeAt(p + 1);
}
function kd(): number {
  const p = kp;
  kp = p + 4;
  return (
    ((kk.charCodeAt(p) << 24) | (kk.charCodeAt(p + 1) << 16) | (kk.charCodeAt(p + 2) << 8) | kk.charCodeAt(p + 3)) >>> 0
  );
}
/** A base-128 number, low 7 bits first, the high bit of each byte saying another follows. */
function kv(): number {
  const k = kk;
  let p = kp;
  let c = k.charCodeAt(p++);
  let v = c & 0x7f;
  if (c >= 0x80) {
    c = k.charCodeAt(p++);
    v |= (c & 0x7f) << 7;
    if (c >= 0x80) {
      c = k.charCodeAt(p++);
      v |= (c & 0x7f) << 14;
      if (c >= 0x80) {
        c = k.charCodeAt(p++);
        v |= (c & 0x7f) << 21;
        // A u32 needs at most 5 bytes; the fifth holds its top 4 bits.
        if (c >= 0x80) v += (k.charCodeAt(p++) & 0x0f) * 0x10000000;
      }
    }
  }
  kp = p;
  return v;
}
function kt(): string {
  const n = kb();
  kp += n;
  return kk.slice(kp - n, kp);
}

/** The inverse of attributesKey (reads up to its end tag; whatever follows is ignored). */
export function decodeAttributesKey(k: string): PathAttributes {
  kk = k;
  kp = 0;
  const b = kb;
  const w = kw;
  const d = kd;
  const t = kt;
  const origin = b() as OriginCode;
  const nseg = kv();
  const asPath: AsPathSegment[] = new Array(nseg);
  for (let s = 0; s < nseg; s++) {
    const type = b() as AsPathSegmentTypeCode;
    const n = kv();
    const asns: number[] = new Array(n);
    for (let i = 0; i < n; i++) asns[i] = kv();
    asPath[s] = { type, asns };
  }
  const a: PathAttributes = { origin, asPath };
  for (let tag = b(); tag !== T.END && kp <= k.length; tag = b()) {
    switch (tag) {
      case T.MED:
        a.med = kv();
        break;
      case T.LOCAL_PREF:
        a.localPref = kv();
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
        const n = kv();
        const cs: number[] = new Array(n);
        for (let i = 0; i < n; i++) cs[i] = d();
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
        throw new Error(`corrupt attribute key: tag ${tag} at ${kp - 1}`);
    }
  }
  return a;
}

// ---------------------------------------------------------------------------------------------------------------

const EMPTY: RouteSource | null = null;

/**
 * A packed array of n nulls (n a power of two). new Array(n) of a large n would make a slow dictionary-mode array,
 * and n pushes would allocate ≈ 3n slots on the way (the array grows by half each time it is full); doubling by
 * concat allocates 2n, and resize() needs only one array of the new size (see there).
 */
function emptySlots(n: number): (RouteSource | null)[] {
  let a: (RouteSource | null)[] = [EMPTY];
  while (a.length < n) a = a.concat(a);
  return a;
}

/**
 * The table of interned route sources: an open-addressing hash table (linear probing, deletion by backward
 * shift, at most 3/4 full) of 32-bit key hashes in an Int32Array beside the sources. A Map<string, RouteSource>
 * of a full table's 500 k sets spent most of its time in cache misses on the key strings of its hash chains;
 * here a probe reads the hash array alone (0 marks an empty bucket) and touches a source only when its hash matches.
 */
export class SourceTable {
  private hashes = new Int32Array(1024);
  private slots: (RouteSource | null)[] = emptySlots(1024);
  private mask = 1023;
  private count = 0;

  /**
   * The RouteSource for these attributes from this peer, creating it when new. `key` is sourceKey(attrs,
   * localPref, peer, family, nextHop, nextHopLinkLocal) (or any other string that identifies the source);
   * `localPref`, when given, replaces attrs.localPref. The returned source's refs are not incremented: the caller
   * counts each path it stores, and calls dropIfUnused once done with the UPDATE.
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
    // `===` compares contents: equal to the last sourceKey, the hash computed there is this key's hash.
    const h = sourceHash(key === lastKey ? lastKeyHash : hashString(key), peer, family);
    const pf = peerFamilyBits(peer, family);
    const hashes = this.hashes;
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    for (let hi = hashes[i]!; hi !== 0; hi = hashes[i]!) {
      if (hi === h) {
        const s = slots[i]!;
        if ((s.bits & PEER_FAMILY_MASK) === pf && s.key === key) return s;
      }
      i = (i + 1) & mask;
    }
    return this.add(i, h, key, peer, kind, family, attrs, nextHop, nextHopLinkLocal, localPref);
  }

  /**
   * The RouteSource for these attributes from this peer, creating it when new, like intern(sourceKey(…), …) but
   * cheaper: the key string is created only for a new source, and holds the attributes alone (peer, family and
   * next hops are compared as the fields they are stored in), 13+ bytes less per source. A source interned
   * this way is not found by intern(sourceKey(…)) nor the reverse: use one or the other for a given peer.
   */
  internAttributes(
    attrs: PathAttributes,
    localPref: number | undefined,
    peer: number,
    kind: SourceKindCode,
    family: Family,
    nextHop: string,
    nextHopLinkLocal: string | undefined,
  ): RouteSource {
    lastKey = null;
    pos = 0;
    writeAttributes(attrs, localPref);
    const h = sourceHash(hashBytes(scratch, pos), peer, family);
    const found = this.lookupScratch(h, peerFamilyBits(peer, family), nextHop, nextHopLinkLocal);
    if (found !== null) return found;
    const i = this.stop;
    const key = scratch.latin1Slice(0, pos);
    return this.add(i, h, key, peer, kind, family, attrs, nextHop, nextHopLinkLocal, localPref);
  }

  /** Where the last lookupScratch stopped: the empty bucket a new source goes to. */
  private stop = 0;

  /**
   * The source with key scratch[0, pos), hash h, peer and family bits pf and these next hops, or null (then `stop`
   * is the empty bucket where it would be). Only the hash array is read until a hash matches (an empty bucket has
   * hash 0; see sourceHash).
   */
  private lookupScratch(
    h: number,
    pf: number,
    nextHop: string,
    nextHopLinkLocal: string | undefined,
  ): RouteSource | null {
    const hashes = this.hashes;
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    for (let hi = hashes[i]!; hi !== 0; hi = hashes[i]!) {
      if (hi === h) {
        const s = slots[i]!;
        if (
          (s.bits & PEER_FAMILY_MASK) === pf &&
          s.nextHop === nextHop &&
          s.nextHopLinkLocal === nextHopLinkLocal &&
          scratchEquals(s.key)
        ) {
          return s;
        }
      }
      i = (i + 1) & mask;
    }
    this.stop = i;
    return null;
  }

  /**
   * internAttributes for attributes given as their key bytes buf[start, end) (as attr-key.ts writes them for a
   * decoded UPDATE), with LOCAL_PREF `localPref` in place of the one at [lpAt, lpEnd) (none when lpAt === lpEnd);
   * lpAt = lpEnd = end and `localPref` undefined keep the key's own (an iBGP route). The key string is made only
   * for a new source.
   */
  internKey(
    buf: Uint8Array,
    start: number,
    end: number,
    lpAt: number,
    lpEnd: number,
    localPref: number | undefined,
    peer: number,
    kind: SourceKindCode,
    family: Family,
    nextHop: string,
    nextHopLinkLocal: string | undefined,
  ): RouteSource {
    lastKey = null;
    pos = 0;
    ensure(end - start + 8);
    const b = scratch;
    let p = 0;
    for (let i = start; i < lpAt; i++) b[p++] = buf[i]!;
    if (localPref !== undefined) {
      b[p++] = T.LOCAL_PREF;
      p = varint(b, p, localPref >>> 0);
    }
    for (let i = lpEnd; i < end; i++) b[p++] = buf[i]!;
    pos = p;
    const h = sourceHash(hashBytes(scratch, pos), peer, family);
    const found = this.lookupScratch(h, peerFamilyBits(peer, family), nextHop, nextHopLinkLocal);
    if (found !== null) return found;
    const i = this.stop;
    const key = scratch.latin1Slice(0, pos);
    keyFacts(scratch, pos);
    return this.add(i, h, key, peer, kind, family, null, nextHop, nextHopLinkLocal, localPref);
  }

  private add(
    i: number,
    h: number,
    key: string,
    peer: number,
    kind: SourceKindCode,
    family: Family,
    attrs: PathAttributes | null,
    nextHop: string,
    nextHopLinkLocal: string | undefined,
    localPref: number | undefined,
  ): RouteSource {
    const src = new RouteSource(key, peer, kind, family, attrs, nextHop, nextHopLinkLocal, localPref);
    this.hashes[i] = h;
    this.slots[i] = src;
    if (++this.count * 4 > this.slots.length * 3) this.resize(this.slots.length * 2);
    return src;
  }

  private resize(capacity: number): void {
    const oldHashes = this.hashes;
    const oldSlots = this.slots;
    const hashes = new Int32Array(capacity);
    // One packed array of exactly the new size (capacity is twice the old one).
    const slots = capacity === oldSlots.length * 2 ? oldSlots.concat(oldSlots).fill(EMPTY) : emptySlots(capacity);
    const mask = capacity - 1;
    for (let j = 0; j < oldSlots.length; j++) {
      const s = oldSlots[j]!;
      if (s === null) continue;
      const h = oldHashes[j]!;
      let i = h & mask;
      while (slots[i] !== null) i = (i + 1) & mask;
      hashes[i] = h;
      slots[i] = s;
    }
    this.hashes = hashes;
    this.slots = slots;
    this.mask = mask;
  }

  /** Removes `src` from the table (backward-shift deletion: later entries of its probe run move up). */
  private remove(src: RouteSource): void {
    const hashes = this.hashes;
    const slots = this.slots;
    const mask = this.mask;
    let i = sourceHash(hashString(src.key), src.peer, src.family) & mask;
    for (let s = slots[i]!; s !== src; s = slots[i]!) {
      if (s === null) return; // not in the table (already removed)
      i = (i + 1) & mask;
    }
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const s = slots[j]!;
      if (s === null) break;
      const home = hashes[j]! & mask;
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        hashes[i] = hashes[j]!;
        slots[i] = s;
        i = j;
      }
    }
    hashes[i] = 0;
    slots[i] = EMPTY;
    this.count--;
  }

  /** Drops one reference; frees the source when it was the last. */
  release(src: RouteSource): void {
    if (--src.refs === 0) this.remove(src);
  }

  /** Frees a source that no path ended up using (e.g. every prefix of the UPDATE was a duplicate). */
  dropIfUnused(src: RouteSource): void {
    if (src.refs === 0) this.remove(src);
  }

  get size(): number {
    return this.count;
  }

  /** Sum of all reference counts (for leak tests). */
  totalRefs(): number {
    let n = 0;
    for (const s of this.slots) if (s !== null) n += s.refs;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The exported attribute block, straight from the key.
//
// Towards an eBGP peer over a 4-octet-AS session, a learned route's attributes change in a fixed way (export.ts:
// our AS prepended, next hop self, MED / LOCAL_PREF / ORIGINATOR_ID / CLUSTER_LIST and confederation segments
// removed, non-transitive extended communities removed). For a full table that export runs once per attribute
// set, and the general path costs three object graphs (decode the key, build the exported PathAttributes, encode
// them). exportedBlockEbgp writes the wire bytes directly from the key instead, the same bytes as
// encodeAttributeBlockView(exportRoute(…).attributes, ctx, nextHop) (src/rib/export-block.test.ts checks it on
// random attributes). Anything rarer — unknown attributes, an AGGREGATOR whose address is not a dotted quad, a
// malformed extended community — returns null, and the caller takes the general path.

const WK = 0x40; // well-known transitive
const OT = 0xc0; // optional transitive
const EXT_LEN = 0x10;
const SEG_MAX = 255;

let out = Buffer.allocUnsafe(4096);
let op = 0;
// The AS_PATH being exported: segment types and counts, and the ASNs (typed arrays reused across calls, so an
// export allocates nothing but its result).
let segType: Uint8Array = new Uint8Array(64);
let segCount: Int32Array = new Int32Array(64);
let asnBuf: Uint32Array = new Uint32Array(1024);

function oEnsure(n: number): void {
  if (op + n <= out.length) return;
  const next = Buffer.allocUnsafe(Math.max(out.length * 2, op + n));
  out.copy(next, 0, 0, op);
  out = next;
}
function oHeader(flags: number, code: number, len: number): void {
  oEnsure(4 + len);
  if (len > 255) {
    out[op++] = flags | EXT_LEN;
    out[op++] = code;
    out[op++] = len >>> 8;
    out[op++] = len & 0xff;
  } else {
    out[op++] = flags;
    out[op++] = code;
    out[op++] = len;
  }
}
function oU32(v: number): void {
  out[op++] = v >>> 24;
  out[op++] = v >>> 16;
  out[op++] = v >>> 8;
  out[op++] = v;
}
/** Copies n characters of the key (from kp) to the output. */
function oCopy(n: number): void {
  const k = kk;
  for (let i = 0; i < n; i++) out[op++] = k.charCodeAt(kp++);
}

/** An optional transitive attribute of n fixed-size values copied from the key (none: no attribute). */
function oList(code: number, n: number, size: number): void {
  if (n === 0) return;
  oHeader(OT, code, n * size);
  oCopy(n * size);
}

/** Dotted-quad text (as AGGREGATOR keeps it) to the output as 4 bytes; false when it is not one. */
function oIPv4(t: string): boolean {
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= t.length; i++) {
    const c = i < t.length ? t.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 255 || parts === 4) return false;
      out[op++] = part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3 && !(digits === 1 && part === 0)) {
      part = part * 10 + (c - 0x30);
      digits++;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/**
 * The attribute block (latin1) of a learned route with attribute key `key` (internAttributes' form) as exported to
 * an eBGP peer of local AS `localAsn` over a session with 4-octet ASNs: NEXT_HOP `nextHop4` when given (IPv4 in the
 * NLRI field), none otherwise (MP_REACH_NLRI carries it). Null when the route is not of the shape handled here.
 */
export function exportedBlockEbgp(key: string, localAsn: number, nextHop4: Uint8Array | null): string | null {
  const n = writeExportedBlockEbgp(key, localAsn, nextHop4);
  return n < 0 ? null : out.toString('latin1', 0, n);
}

/**
 * exportedBlockEbgp without the string: writes the block to the start of exportedBlockBytes() and returns its
 * length, or -1 when the route is not of the shape handled here. The bytes stay until the next call.
 */
export function writeExportedBlockEbgp(key: string, localAsn: number, nextHop4: Uint8Array | null): number {
  kk = key;
  kp = 0;
  op = 0;
  oEnsure(64);
  // ORIGIN
  out[op++] = WK;
  out[op++] = 1;
  out[op++] = 1;
  out[op++] = kb();
  // AS_PATH: confederation segments dropped, then our AS merged into a leading AS_SEQUENCE unless it is full
  // (export.ts prependAs), empty segments skipped and long ones split at 255 (the codec's writeAsPath).
  let nkept = 0;
  let nasn = 0;
  const nseg = kv();
  for (let s = 0; s < nseg; s++) {
    const type = kb();
    const n = kv();
    const keep = type === AsPathSegmentType.AS_SEQUENCE || type === AsPathSegmentType.AS_SET;
    if (keep) {
      if (nkept === segType.length) {
        segType = grown(segType);
        segCount = grown(segCount);
      }
      segType[nkept] = type;
      segCount[nkept++] = n;
      if (nasn + n > asnBuf.length) asnBuf = grown(asnBuf, nasn + n);
    }
    for (let i = 0; i < n; i++) {
      const asn = kv();
      if (keep) asnBuf[nasn++] = asn;
    }
  }
  const merged = nkept > 0 && segType[0] === AsPathSegmentType.AS_SEQUENCE && segCount[0]! < SEG_MAX;
  let plen = merged ? 0 : 6; // a segment of its own for our AS: type, count, 4 bytes
  for (let s = 0; s < nkept; s++) {
    const n = segCount[s]! + (merged && s === 0 ? 1 : 0);
    if (n > 0) plen += 2 * Math.ceil(n / SEG_MAX) + 4 * n;
  }
  oHeader(WK, 2, plen);
  if (!merged) {
    out[op++] = AsPathSegmentType.AS_SEQUENCE;
    out[op++] = 1;
    oU32(localAsn);
  }
  let a = 0;
  for (let s = 0; s < nkept; s++) {
    const own = merged && s === 0;
    const n = segCount[s]! + (own ? 1 : 0);
    for (let i = 0; i < n; i += SEG_MAX) {
      const m = Math.min(SEG_MAX, n - i);
      out[op++] = segType[s]!;
      out[op++] = m;
      for (let j = i; j < i + m; j++) oU32(own && j === 0 ? localAsn : asnBuf[a++]!);
    }
  }
  // NEXT_HOP
  if (nextHop4 !== null) {
    oEnsure(7);
    out[op++] = WK;
    out[op++] = 3;
    out[op++] = 4;
    out.set(nextHop4, op);
    op += 4;
  }
  // The rest in the key's order, which is the type-code order the codec writes them in.
  for (let tag = kb(); tag !== T.END; tag = kb()) {
    switch (tag) {
      case T.MED:
      case T.LOCAL_PREF:
        kv(); // RFC 4271 §5.1.4 / §5.1.5: neither goes to an external peer
        break;
      case T.ATOMIC_AGGREGATE:
        oEnsure(3);
        out[op++] = WK;
        out[op++] = 6;
        out[op++] = 0;
        break;
      case T.AGGREGATOR: {
        const asn = kd();
        const address = kt();
        oEnsure(11);
        out[op++] = OT;
        out[op++] = 7;
        out[op++] = 8;
        oU32(asn);
        if (!oIPv4(address)) return -1;
        break;
      }
      case T.COMMUNITIES:
        oList(8, kv(), 4); // the key holds them as on the wire
        break;
      case T.ORIGINATOR_ID:
        kt(); // RFC 4456 §8: not outside the AS
        break;
      case T.CLUSTER_LIST: {
        const n = kw();
        for (let i = 0; i < n; i++) kt();
        break;
      }
      case T.EXT_COMMUNITIES: {
        // RFC 4360 §6: the non-transitive ones (type bit 0x40) stay inside the AS.
        const n = kw();
        const start = kp;
        let kept = 0;
        for (let i = 0; i < n; i++) {
          const len = kb();
          if (len !== 8) return -1;
          if ((kk.charCodeAt(kp) & 0x40) === 0) kept++;
          kp += len;
        }
        if (kept > 0) {
          oHeader(OT, 16, kept * 8);
          kp = start;
          for (let i = 0; i < n; i++) {
            kp++;
            if ((kk.charCodeAt(kp) & 0x40) === 0) oCopy(8);
            else kp += 8;
          }
        }
        break;
      }
      case T.LARGE_COMMUNITIES:
        oList(32, kw(), 12);
        break;
      case T.OTC:
        oEnsure(7);
        out[op++] = OT;
        out[op++] = 35;
        out[op++] = 4;
        oCopy(4);
        break;
      default:
        return -1; // unknown attributes (and anything else) take the general path
    }
  }
  return op;
}

/** The buffer writeExportedBlockEbgp writes to (it may be replaced by a larger one on any call). */
export function exportedBlockBytes(): Buffer {
  return out;
}
