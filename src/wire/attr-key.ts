// The attribute key, written straight from a decoded UPDATE: the bytes of the RIB's interning key (attributesKey
// in src/rib/intern.ts, format described there) for the attributes the walk in attributes.ts validated, without the
// PathAttributes object graph in between. A full table is ≈ 500 000 UPDATEs, nearly each with an attribute set of
// its own; their decoded objects (attribute object, AS_PATH segments and arrays, community arrays) were most of the
// garbage of the input path. The RIB hashes the bytes and makes a string only for a new set; everybody else
// (API, ExaBGP bridge, tests) gets PathAttributes made from the bytes when asked (readAttrKey, equal to what the
// object-building decoder gave: src/wire/attr-key.test.ts checks both against the previous decoder).
//
// Keys are written into 64 KiB slabs that are never written again once carved (as encoded UPDATEs are): a
// message's key stays valid as long as the message, and a kept message pins at most its slab.

import { type AttrDecodeState, mergedAsPath, newAttributes } from './attributes.ts';
import { AsPathSegmentType, type AsPathSegmentTypeCode, type OriginCode } from './constants.ts';
import type { AsPathSegment, PathAttributes, UnknownAttribute } from './types.ts';

// The key's tags: the attribute's type code (src/rib/intern.ts T, which must agree; the tests compare the keys).
const T_END = 0x00;
const T_MED = 0x04;
const T_LOCAL_PREF = 0x05;
const T_ATOMIC_AGGREGATE = 0x06;
const T_AGGREGATOR = 0x07;
const T_COMMUNITIES = 0x08;
const T_ORIGINATOR_ID = 0x09;
const T_CLUSTER_LIST = 0x0a;
const T_EXT_COMMUNITIES = 0x10;
const T_LARGE_COMMUNITIES = 0x20;
const T_OTC = 0x23;
const T_UNKNOWN = 0xff;

const SLAB_SIZE = 64 * 1024;
let slab = new Uint8Array(0);
let slabPos = 0;

/** Where writeAttrKey left the key: keySlab[keyStart, keyEnd); LOCAL_PREF (tag and value) at [keyLpAt, keyLpEnd). */
export let keySlab: Uint8Array = slab;
export let keyStart = 0;
export let keyEnd = 0;
/** Where LOCAL_PREF is (or would go: keyLpAt === keyLpEnd when the key has none). */
export let keyLpAt = 0;
export let keyLpEnd = 0;

function varint(b: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    b[p++] = v | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** A text (length byte, characters) of the dotted quad of in[at, at + 4), written at p; returns the offset after. */
function dottedQuad(out: Uint8Array, p: number, src: Uint8Array, at: number): number {
  const lenAt = p++;
  for (let i = 0; i < 4; i++) {
    if (i > 0) out[p++] = 0x2e;
    const v = src[at + i]!;
    if (v >= 100) out[p++] = 0x30 + ((v / 100) | 0);
    if (v >= 10) out[p++] = 0x30 + (((v / 10) | 0) % 10);
    out[p++] = 0x30 + (v % 10);
  }
  out[lenAt] = p - lenAt - 1;
  return p;
}

/** Copies src[at, at + n) to out at p (a loop: the lists are short, and subarray() would allocate a view). */
function copy(out: Uint8Array, p: number, src: Uint8Array, at: number, n: number): number {
  for (let i = 0; i < n; i++) out[p + i] = src[at + i]!;
  return p + n;
}

function isSequence(type: number): boolean {
  return type === AsPathSegmentType.AS_SEQUENCE || type === AsPathSegmentType.AS_CONFED_SEQUENCE;
}

/** Writes the AS path b[start, end) (valid, `asSize`-byte ASNs) at p, adjacent sequences joined as decodeAsPath does. */
function writeWirePath(out: Uint8Array, p: number, b: Uint8Array, start: number, end: number, asSize: number): number {
  let nseg = 0;
  let prev = -1;
  for (let q = start; q < end; q += 2 + b[q + 1]! * asSize) {
    const type = b[q]!;
    if (!(type === prev && isSequence(type))) nseg++;
    prev = type;
  }
  p = varint(out, p, nseg);
  let q = start;
  while (q < end) {
    const type = b[q]!;
    // The run of segments of this type that decodeAsPath joins into one.
    let n = b[q + 1]!;
    let r = q + 2 + n * asSize;
    if (isSequence(type)) {
      while (r < end && b[r] === type) {
        n += b[r + 1]!;
        r += 2 + b[r + 1]! * asSize;
      }
    }
    out[p++] = type;
    p = varint(out, p, n);
    for (let s = q; s < r; ) {
      const m = b[s + 1]!;
      s += 2;
      for (let i = 0; i < m; i++, s += asSize) p = varint(out, p, asSize === 4 ? u32(b, s) : u16(b, s));
    }
    q = r;
  }
  return p;
}

function writeSegments(out: Uint8Array, p: number, segs: readonly AsPathSegment[]): number {
  p = varint(out, p, segs.length);
  for (const seg of segs) {
    out[p++] = seg.type;
    p = varint(out, p, seg.asns.length);
    for (const asn of seg.asns) p = varint(out, p, asn >>> 0);
  }
  return p;
}

/**
 * Writes the key of the attributes in `st` (after finishAttributes; the caller knows ORIGIN and AS_PATH are there)
 * and leaves it in keySlab[keyStart, keyEnd).
 */
export function writeAttrKey(st: AttrDecodeState): void {
  const b = st.buf;
  const merged = mergedAsPath(st);
  // An upper bound (a write past the slab would be dropped silently). Fixed part: ORIGIN 1, segment count 3, MED 6,
  // LOCAL_PREF 6, ATOMIC_AGGREGATE 1, AGGREGATOR 21, ORIGINATOR_ID 17, OTC 5, the tags and counts of the lists 16,
  // END 1: 77, rounded up. ASNs grow from 2 or 4 bytes to at most 3 or 5 (segment headers likewise), a cluster id
  // from 4 bytes to 16 of text, an extended community from 8 to 9: 4 × their attribute bytes covers them.
  let need = 128 + 4 * (st.asPathEnd - st.asPathStart);
  if (merged !== null) for (const s of merged) need += 6 + 5 * s.asns.length;
  need += 4 * (st.clusterListLen + st.extCommunitiesLen) + st.communitiesLen + st.largeCommunitiesLen;
  for (let i = 0; i < st.unknownCount; i++) need += 6 + st.unknown[4 * i + 3]!;
  if (slabPos + need > slab.length) {
    slab = new Uint8Array(Math.max(SLAB_SIZE, need));
    slabPos = 0;
  }
  const out = slab;
  let p = slabPos;
  keySlab = out;
  keyStart = p;
  out[p++] = st.origin;
  if (merged !== null) p = writeSegments(out, p, merged);
  else p = writeWirePath(out, p, b, st.asPathStart, st.asPathEnd, st.ctx.asn4 ? 4 : 2);
  if (st.hasMed) {
    out[p++] = T_MED;
    p = varint(out, p, st.med);
  }
  keyLpAt = p;
  if (st.hasLocalPref) {
    out[p++] = T_LOCAL_PREF;
    p = varint(out, p, st.localPref);
  }
  keyLpEnd = p;
  if (st.atomicAggregate) out[p++] = T_ATOMIC_AGGREGATE;
  if (st.aggregatorAddress >= 0) {
    const asn = st.aggregatorAsn;
    out[p++] = T_AGGREGATOR;
    out[p++] = asn >>> 24;
    out[p++] = asn >>> 16;
    out[p++] = asn >>> 8;
    out[p++] = asn;
    p = dottedQuad(out, p, b, st.aggregatorAddress);
  }
  if (st.communitiesStart >= 0) {
    out[p++] = T_COMMUNITIES;
    p = varint(out, p, st.communitiesLen >> 2);
    p = copy(out, p, b, st.communitiesStart, st.communitiesLen);
  }
  if (st.originatorId >= 0) {
    out[p++] = T_ORIGINATOR_ID;
    p = dottedQuad(out, p, b, st.originatorId);
  }
  if (st.clusterListStart >= 0) {
    const n = st.clusterListLen >> 2;
    out[p++] = T_CLUSTER_LIST;
    out[p++] = n >>> 8;
    out[p++] = n;
    for (let i = 0; i < n; i++) p = dottedQuad(out, p, b, st.clusterListStart + 4 * i);
  }
  if (st.extCommunitiesStart >= 0) {
    const n = st.extCommunitiesLen >> 3;
    out[p++] = T_EXT_COMMUNITIES;
    out[p++] = n >>> 8;
    out[p++] = n;
    for (let i = 0; i < n; i++) {
      const at = st.extCommunitiesStart + 8 * i;
      out[p++] = 8;
      p = copy(out, p, b, at, 8);
    }
  }
  if (st.largeCommunitiesStart >= 0) {
    const n = st.largeCommunitiesLen / 12;
    out[p++] = T_LARGE_COMMUNITIES;
    out[p++] = n >>> 8;
    out[p++] = n;
    p = copy(out, p, b, st.largeCommunitiesStart, st.largeCommunitiesLen);
  }
  if (st.hasOtc) {
    const v = st.otc;
    out[p++] = T_OTC;
    out[p++] = v >>> 24;
    out[p++] = v >>> 16;
    out[p++] = v >>> 8;
    out[p++] = v;
  }
  if (st.unknownCount > 0) {
    const n = st.unknownCount;
    out[p++] = T_UNKNOWN;
    out[p++] = n >>> 8;
    out[p++] = n;
    const u = st.unknown;
    for (let i = 0; i < n; i++) {
      const at = u[4 * i + 2]!;
      const len = u[4 * i + 3]!;
      out[p++] = u[4 * i]!;
      out[p++] = u[4 * i + 1]!;
      out[p++] = len >>> 8;
      out[p++] = len;
      p = copy(out, p, b, at, len);
    }
  }
  out[p++] = T_END;
  keyEnd = p;
  slabPos = p;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a key back

let rb: Uint8Array = slab;
let rp = 0;

function rv(): number {
  let v = 0;
  let shift = 1;
  for (;;) {
    const c = rb[rp++]!;
    v += (c & 0x7f) * shift;
    if (c < 0x80) return v;
    shift *= 128;
  }
}
function rw(): number {
  const v = u16(rb, rp);
  rp += 2;
  return v;
}
function rd(): number {
  const v = u32(rb, rp);
  rp += 4;
  return v;
}
function rt(): string {
  const n = rb[rp++]!;
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rb[rp + i]!);
  rp += n;
  return s;
}

/**
 * The PathAttributes of the key buf[start, end): the object the object-building decoder made (same fields in the
 * same order, the absent ones undefined). The result shares nothing with `buf`.
 */
export function readAttrKey(buf: Uint8Array, start: number, end: number): PathAttributes {
  rb = buf;
  rp = start;
  const a = newAttributes();
  a.origin = rb[rp++]! as OriginCode;
  const nseg = rv();
  const asPath: AsPathSegment[] = new Array(nseg);
  for (let s = 0; s < nseg; s++) {
    const type = rb[rp++]! as AsPathSegmentTypeCode;
    const n = rv();
    const asns: number[] = new Array(n);
    for (let i = 0; i < n; i++) asns[i] = rv();
    asPath[s] = { type, asns };
  }
  a.asPath = asPath;
  for (let tag = rb[rp++]!; tag !== T_END && rp <= end; tag = rb[rp++]!) {
    switch (tag) {
      case T_MED:
        a.med = rv();
        break;
      case T_LOCAL_PREF:
        a.localPref = rv();
        break;
      case T_ATOMIC_AGGREGATE:
        a.atomicAggregate = true;
        break;
      case T_AGGREGATOR: {
        const asn = rd();
        a.aggregator = { asn, address: rt() };
        break;
      }
      case T_COMMUNITIES: {
        const n = rv();
        const cs: number[] = new Array(n);
        for (let i = 0; i < n; i++) cs[i] = rd();
        a.communities = cs;
        break;
      }
      case T_ORIGINATOR_ID:
        a.originatorId = rt();
        break;
      case T_CLUSTER_LIST: {
        const n = rw();
        const cl: string[] = new Array(n);
        for (let i = 0; i < n; i++) cl[i] = rt();
        a.clusterList = cl;
        break;
      }
      case T_EXT_COMMUNITIES: {
        const n = rw();
        // One copy of all of them; each community is a view into it (as the object-building decoder made them).
        const copy = new Uint8Array(8 * n);
        const ecs: Uint8Array[] = new Array(n);
        for (let i = 0; i < n; i++) {
          rp++; // length byte, 8 as written by writeAttrKey
          copy.set(rb.subarray(rp, rp + 8), 8 * i);
          rp += 8;
          ecs[i] = copy.subarray(8 * i, 8 * i + 8);
        }
        a.extCommunities = ecs;
        break;
      }
      case T_LARGE_COMMUNITIES: {
        const n = rw();
        const lcs: [number, number, number][] = new Array(n);
        for (let i = 0; i < n; i++) lcs[i] = [rd(), rd(), rd()];
        a.largeCommunities = lcs;
        break;
      }
      case T_OTC:
        a.otc = rd();
        break;
      case T_UNKNOWN: {
        const n = rw();
        const us: UnknownAttribute[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const flags = rb[rp++]!;
          const code = rb[rp++]!;
          const len = rw();
          us[i] = { flags, code, value: rb.slice(rp, rp + len) };
          rp += len;
        }
        a.unknown = us;
        break;
      }
      default:
        throw new Error(`corrupt attribute key: tag ${tag} at ${rp - 1 - start}`);
    }
  }
  return a;
}
