// Path attributes: one table entry per attribute type tsbgp knows ({code, name, flags, decode, encode}, as in
// BIRD's bgp_attr_table), the loop that walks an UPDATE's attribute block, and the encoder of the block.
//
// Decoding follows RFC 7606: each attribute's own error rule (§7) picks treat-as-withdraw or attribute-discard;
// errors that prevent locating the NLRI (MP_REACH/MP_UNREACH problems, §3 j, §5.3) throw a session-reset
// WireError; everything else is collected in the decode state and the strongest action wins (§3 h).
// The walk builds no attribute objects: it validates each attribute and notes where its value is (offsets into
// the message) in the decode state; attr-key.ts then writes the RIB's interning key from those, and PathAttributes
// are made from the key only when somebody asks (DecodedUpdate.attributes in update.ts).
// AS numbers are kept at full 4-octet value: on a 2-octet session the AS_PATH/AGGREGATOR read here are merged
// with AS4_PATH/AS4_AGGREGATOR (finishAttributes, mergedAsPath; RFC 6793 §4.2.3), and the encoder adds them back
// only when needed.
//
// Decoded values never alias the input buffer (RFC 7606 data in errors and the attribute key are copies), so a
// stored route never pins a socket chunk. The decode state's offsets are valid only while the message is.

import { formatIPv4, formatIPv6, parseIPv4 } from './addr.ts';
import { keyEnd, keySlab, keyStart, readAttrKey, writeAttrKey } from './attr-key.ts';
import {
  AS_TRANS,
  AsPathSegmentType,
  type AsPathSegmentTypeCode,
  AttrFlag,
  AttrType,
  ErrorCode,
  type Family,
  familyOf,
  UpdateSubcode,
} from './constants.ts';
import { ErrorAction, type ErrorActionName, strongerAction, WireError } from './errors.ts';
import { copiedCount, copyNlri, decodeNlriExact, exactPathIds, exactPrefixes, WireNlriBlock } from './nlri.ts';
import type {
  AnnouncedBlock,
  AsPathSegment,
  CodecContext,
  NlriBlock,
  PathAttributes,
  UnknownAttribute,
} from './types.ts';
import { Writer } from './writer.ts';

const OPTIONAL = AttrFlag.OPTIONAL;
const TRANSITIVE = AttrFlag.TRANSITIVE;
const PARTIAL = AttrFlag.PARTIAL;
const EXTENDED_LENGTH = AttrFlag.EXTENDED_LENGTH;
/** RFC 7606 §3 (c): only the Optional and Transitive bits are checked against the attribute's definition. */
const FLAG_CHECK_MASK = OPTIONAL | TRANSITIVE;

const WELL_KNOWN = TRANSITIVE; // 0x40
const OPT_NON_TRANSITIVE = OPTIONAL; // 0x80
const OPT_TRANSITIVE = OPTIONAL | TRANSITIVE; // 0xc0

// ---------------------------------------------------------------------------------------------------------------
// Decode state

/**
 * Everything the attribute walk collects from one UPDATE. update.ts keeps one and calls begin() per message
 * (decoding is synchronous; the fields are reset, the error list is new each time as it goes into the result),
 * runs decodeAttributeBlock, parses the NLRI field, calls finishAttributes, then writes the key (attr-key.ts).
 */
export class AttrDecodeState {
  ctx: CodecContext;
  buf: Uint8Array;
  errors: WireError[] = [];
  /** Strongest action among `errors` (attribute-discard when there are none; check errors.length). */
  action: ErrorActionName = ErrorAction.ATTRIBUTE_DISCARD;
  /** Number of attributes in the block (all of them, duplicates and dropped ones included). */
  count = 0;
  /** Offsets of the attribute being decoded, for the NOTIFICATION data (RFC 4271 §6.3). */
  aStart = 0;
  aEnd = 0;
  hasOrigin = false;
  hasAsPath = false;
  /** NEXT_HOP is checked once the NLRI field is known (RFC 4760 §3: ignored when there is no IPv4 NLRI). */
  nextHopStart = -1;
  nextHopEnd = -1;
  // The attributes, as where their values sit in `buf` (offsets; -1: absent) or small numbers: nothing is built
  // while walking, attr-key.ts writes the interning key from these (see there).
  origin = 0;
  /** AS_PATH value [asPathStart, asPathEnd), validated (decodeAsPathAttr). */
  asPathStart = -1;
  asPathEnd = -1;
  med = 0;
  hasMed = false;
  localPref = 0;
  hasLocalPref = false;
  atomicAggregate = false;
  aggregatorAsn = 0;
  /** Offset of AGGREGATOR's 4-byte address, -1 when absent. */
  aggregatorAddress = -1;
  communitiesStart = -1;
  communitiesLen = 0;
  originatorId = -1;
  clusterListStart = -1;
  clusterListLen = 0;
  extCommunitiesStart = -1;
  extCommunitiesLen = 0;
  largeCommunitiesStart = -1;
  largeCommunitiesLen = 0;
  otc = 0;
  hasOtc = false;
  /** Unknown optional transitive attributes: flags (Partial set), code, value offset, length; 4 numbers each. */
  unknown: number[] = [];
  unknownCount = 0;
  /** AS4_PATH value [as4PathStart, as4PathEnd) on a 2-octet session, -1 when absent or discarded. */
  as4PathStart = -1;
  as4PathEnd = -1;
  /** AS4_AGGREGATOR (2-octet session): ASN, and address offset (-1: absent). */
  as4AggregatorAsn = 0;
  as4AggregatorAddress = -1;
  mpReach: AnnouncedBlock | null = null;
  mpUnreach: NlriBlock | null = null;
  /** Family of MP_UNREACH_NLRI when it names one tsbgp carries (for End-of-RIB detection). */
  mpUnreachFamily: Family | null = null;
  /** NLRI entries carried by MP_REACH_NLRI, of any AFI/SAFI (RFC 7606 §5.2 "encodes reachable NLRI"). */
  mpReachEntries = 0;
  /** MP_UNREACH_NLRI was present and empty (End-of-RIB candidate, RFC 4724 §2). */
  mpUnreachEmpty = false;

  constructor(buf: Uint8Array, ctx: CodecContext) {
    this.buf = buf;
    this.ctx = ctx;
  }

  /** Resets the state for the next message (as a new AttrDecodeState(buf, ctx) would be). */
  begin(buf: Uint8Array, ctx: CodecContext): void {
    this.buf = buf;
    this.ctx = ctx;
    this.errors = [];
    this.action = ErrorAction.ATTRIBUTE_DISCARD;
    this.count = 0;
    this.aStart = 0;
    this.aEnd = 0;
    this.hasOrigin = false;
    this.hasAsPath = false;
    this.nextHopStart = -1;
    this.nextHopEnd = -1;
    this.origin = 0;
    this.asPathStart = -1;
    this.asPathEnd = -1;
    this.hasMed = false;
    this.hasLocalPref = false;
    this.atomicAggregate = false;
    this.aggregatorAddress = -1;
    this.communitiesStart = -1;
    this.originatorId = -1;
    this.clusterListStart = -1;
    this.extCommunitiesStart = -1;
    this.largeCommunitiesStart = -1;
    this.hasOtc = false;
    this.unknownCount = 0;
    this.as4PathStart = -1;
    this.as4PathEnd = -1;
    this.as4AggregatorAddress = -1;
    this.mpReach = null;
    this.mpUnreach = null;
    this.mpUnreachFamily = null;
    this.mpReachEntries = 0;
    this.mpUnreachEmpty = false;
  }

  /** The attributes collected so far, as an object (for tests and tools; decodeUpdate does not build it). */
  get attrs(): PathAttributes {
    writeAttrKey(this);
    return readAttrKey(keySlab, keyStart, keyEnd);
  }

  /** The current attribute's bytes (flags, type, length, value), copied, for NOTIFICATION data. */
  attrData(): Uint8Array {
    return this.buf.slice(this.aStart, this.aEnd);
  }

  /** Builds an error about the current attribute. */
  error(action: ErrorActionName, subcode: number, message: string, withData = true): WireError {
    return new WireError(
      message,
      ErrorCode.UPDATE_MESSAGE,
      subcode,
      withData ? this.attrData() : new Uint8Array(0),
      action,
    );
  }

  /** Records a non-fatal error, or throws it when it calls for a session reset. */
  add(e: WireError): void {
    if (e.action === ErrorAction.SESSION_RESET) throw e;
    this.errors.push(e);
    this.action = strongerAction(this.action, e.action); // RFC 7606 §3 (h)
  }
}

/**
 * A fresh attribute object. Every key present from the start keeps one object shape for all decoded attribute
 * sets. The AS_PATH placeholder is shared: the attributes reach a caller only once AS_PATH was decoded.
 */
export function newAttributes(): PathAttributes {
  return {
    origin: 0,
    asPath: NO_AS_PATH,
    med: undefined,
    localPref: undefined,
    atomicAggregate: undefined,
    aggregator: undefined,
    communities: undefined,
    originatorId: undefined,
    clusterList: undefined,
    extCommunities: undefined,
    largeCommunities: undefined,
    otc: undefined,
    unknown: undefined,
  };
}
const NO_AS_PATH: AsPathSegment[] = [];

// ---------------------------------------------------------------------------------------------------------------
// Small readers (no Reader object: the attribute walk is on the hot path and its bounds are checked up front).

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Decodes AS_PATH / AS4_PATH segments in b[start, end) with `asSize`-byte AS numbers.
 * RFC 4271 §4.3 / RFC 7606 §7.2: malformed when a segment type is unknown, a segment is empty, overruns or
 * underruns the attribute; RFC 7607: AS 0 makes it malformed too. Adjacent AS_SEQUENCE (or
 * AS_CONFED_SEQUENCE) segments are joined: a sender splits runs longer than 255, and the path is the same.
 * Returns the segments or a string saying what is wrong.
 */
export function decodeAsPath(b: Uint8Array, start: number, end: number, asSize: 2 | 4): AsPathSegment[] | string {
  // The checks are checkAsPath's (one place for the rules); the building below can then trust the bytes.
  const bad = checkAsPath(b, start, end, asSize);
  if (bad !== null) return bad;
  // Created at the first segment as a one-element literal (most paths have one segment; a pushed-to empty array
  // would get room for 17).
  let segs: AsPathSegment[] | null = null;
  let p = start;
  let prev: AsPathSegment | null = null;
  while (p < end) {
    const type = b[p]!;
    const n = b[p + 1]!;
    p += 2;
    const joins =
      prev !== null &&
      prev.type === type &&
      (type === AsPathSegmentType.AS_SEQUENCE || type === AsPathSegmentType.AS_CONFED_SEQUENCE);
    // Sized up front (a push-grown array of a few ASNs would carry a dozen empty slots).
    const asns: number[] = joins ? prev!.asns : new Array<number>(n);
    let at = joins ? asns.length : 0;
    if (joins) asns.length = at + n;
    for (let i = 0; i < n; i++) {
      asns[at++] = asSize === 4 ? u32(b, p) : u16(b, p);
      p += asSize;
    }
    if (!joins) {
      prev = { type: type as AsPathSegmentTypeCode, asns };
      if (segs === null) segs = [prev];
      else segs.push(prev);
    }
  }
  return segs ?? [];
}

/** decodeAsPath's checks without building anything: null when b[start, end) is a valid path, else what is wrong. */
export function checkAsPath(b: Uint8Array, start: number, end: number, asSize: 2 | 4): string | null {
  let p = start;
  while (p < end) {
    if (p + 2 > end) return 'AS_PATH segment header runs past the attribute';
    const type = b[p]!;
    const n = b[p + 1]!;
    if (type < AsPathSegmentType.AS_SET || type > AsPathSegmentType.AS_CONFED_SET) {
      return `AS_PATH segment type ${type} is not defined`;
    }
    if (n === 0) return 'AS_PATH segment has no AS numbers';
    p += 2;
    if (p + n * asSize > end) return 'AS_PATH segment runs past the attribute';
    for (let i = 0; i < n; i++) {
      const asn = asSize === 4 ? u32(b, p) : u16(b, p);
      if (asn === 0) return 'AS_PATH contains AS 0 (RFC 7607)';
      p += asSize;
    }
  }
  return null;
}

/** True when the (valid) path b[start, end) has a confederation segment. */
function hasConfedSegment(b: Uint8Array, start: number, end: number, asSize: 2 | 4): boolean {
  for (let p = start; p < end; p += 2 + b[p + 1]! * asSize) if (isConfed(b[p]!)) return true;
  return false;
}

/** RFC 4271 §9.1.2.2 a) / RFC 6793 §4.2.3: an AS_SET counts as one, confederation segments not at all. */
export function asPathLength(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) {
    if (s.type === AsPathSegmentType.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === AsPathSegmentType.AS_SET) n += 1;
  }
  return n;
}

function isConfed(type: number): boolean {
  return type === AsPathSegmentType.AS_CONFED_SEQUENCE || type === AsPathSegmentType.AS_CONFED_SET;
}

/**
 * RFC 6793 §4.2.3: rebuilds the 4-octet AS path from the AS_PATH of a 2-octet session and its AS4_PATH.
 * When AS_PATH holds fewer AS numbers than AS4_PATH, AS4_PATH is ignored. Otherwise as many AS numbers (and
 * segments) as needed are taken from the front of AS_PATH, so that the result is as long as AS_PATH, and
 * AS4_PATH is appended; a confederation segment is taken when it leads or follows a taken segment.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const n2 = asPathLength(asPath);
  const n4 = asPathLength(as4Path);
  if (n2 < n4) return asPath.slice();
  let need = n2 - n4;
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    if (isConfed(s.type)) {
      out.push(s);
      continue;
    }
    if (need === 0) break;
    if (s.type === AsPathSegmentType.AS_SET) {
      out.push(s);
      need -= 1;
    } else if (s.asns.length <= need) {
      out.push(s);
      need -= s.asns.length;
    } else {
      out.push({ type: s.type, asns: s.asns.slice(0, need) });
      need = 0;
    }
  }
  for (const s of as4Path) {
    const last = out[out.length - 1];
    if (last && last.type === AsPathSegmentType.AS_SEQUENCE && s.type === AsPathSegmentType.AS_SEQUENCE) {
      out[out.length - 1] = { type: last.type, asns: last.asns.concat(s.asns) };
    } else {
      out.push(s);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The attribute table

type DecodeFn = (st: AttrDecodeState, v: number, len: number) => WireError | null;
type EncodeFn = (w: Writer, a: PathAttributes, ctx: CodecContext, nextHop: Uint8Array | null) => void;

export interface AttrDesc {
  code: number;
  name: string;
  /** The Optional and Transitive bits the attribute is defined with (RFC 4271 §5, and each attribute's RFC). */
  flags: number;
  /** Validates and stores the value at st.buf[v, v + len); returns the error for a malformed value. */
  decode: DecodeFn;
  /** Writes the whole attribute (flags, type, length, value) when `a` carries it. */
  encode: EncodeFn;
  /**
   * Meaningful only inside an AS: received from an external peer it is discarded whatever it holds, before its
   * flags or value are looked at (RFC 7606 §7.5 LOCAL_PREF, §7.9 ORIGINATOR_ID, §7.10 CLUSTER_LIST).
   */
  internalOnly?: boolean;
}

const TAW = ErrorAction.TREAT_AS_WITHDRAW;
const DISCARD = ErrorAction.ATTRIBUTE_DISCARD;
const RESET = ErrorAction.SESSION_RESET;
const S = UpdateSubcode;

/** Writes flags, type and length; the Extended Length bit only when the value needs it (RFC 4271 §4.3). */
function header(w: Writer, flags: number, code: number, len: number): void {
  if (len > 255) {
    w.u8(flags | EXTENDED_LENGTH)
      .u8(code)
      .u16(len);
  } else {
    w.u8(flags & ~EXTENDED_LENGTH)
      .u8(code)
      .u8(len);
  }
}

function ipv4Bytes(text: string, what: string): Uint8Array {
  const b = parseIPv4(text);
  if (!b) throw new Error(`${what} "${text}" is not an IPv4 address`);
  return b;
}

/** Encoded length of segments with `asSize`-byte ASNs, runs longer than 255 split (RFC 4271 §4.3). */
function asPathBytes(segs: readonly AsPathSegment[], asSize: number, skipConfed: boolean): number {
  let len = 0;
  for (const s of segs) {
    if (s.asns.length === 0 || (skipConfed && isConfed(s.type))) continue;
    len += 2 * Math.ceil(s.asns.length / 255) + asSize * s.asns.length;
  }
  return len;
}

function writeAsPath(w: Writer, segs: readonly AsPathSegment[], asSize: number, skipConfed: boolean): void {
  for (const s of segs) {
    if (s.asns.length === 0 || (skipConfed && isConfed(s.type))) continue;
    for (let i = 0; i < s.asns.length; i += 255) {
      const n = Math.min(255, s.asns.length - i);
      w.u8(s.type).u8(n);
      for (let j = i; j < i + n; j++) {
        const asn = s.asns[j]!;
        if (asSize === 4) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn); // RFC 6793 §4.2.2
      }
    }
  }
}

/** RFC 6793 §4.2.2: AS4_PATH is needed towards a 2-octet peer only when an AS number does not fit 2 octets. */
function needsAs4Path(segs: readonly AsPathSegment[]): boolean {
  for (const s of segs) {
    if (isConfed(s.type)) continue; // RFC 6793 §3: confederation segments never go in AS4_PATH
    for (const asn of s.asns) if (asn > 0xffff) return true;
  }
  return false;
}

function noEncode(): void {}

function decodeOrigin(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §7.1
  if (len !== 1) return st.error(TAW, S.ATTRIBUTE_LENGTH_ERROR, `ORIGIN length ${len} is not 1`);
  const o = st.buf[v]!;
  if (o > 2) return st.error(TAW, S.INVALID_ORIGIN_ATTRIBUTE, `ORIGIN value ${o} is not defined`);
  st.origin = o;
  st.hasOrigin = true;
  return null;
}

function decodeAsPathAttr(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §7.2; 2-octet AS numbers until both sides advertised the capability (RFC 6793 §4.2.1).
  const bad = checkAsPath(st.buf, v, v + len, st.ctx.asn4 ? 4 : 2);
  if (bad !== null) return st.error(TAW, S.MALFORMED_AS_PATH, bad, false);
  // RFC 5065 §5.3: confederation segments from a neighbour outside our confederation (tsbgp is in none, so any
  // external peer) make the AS_PATH malformed, which RFC 7606 §7.2 handles as treat-as-withdraw.
  if (st.ctx.ebgp && hasConfedSegment(st.buf, v, v + len, st.ctx.asn4 ? 4 : 2)) {
    return st.error(TAW, S.MALFORMED_AS_PATH, 'AS_PATH confederation segment from an external peer', false);
  }
  st.asPathStart = v;
  st.asPathEnd = v + len;
  st.hasAsPath = true;
  return null;
}

function decodeMed(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §7.4
  if (len !== 4) return st.error(TAW, S.ATTRIBUTE_LENGTH_ERROR, `MULTI_EXIT_DISC length ${len} is not 4`);
  st.med = u32(st.buf, v);
  st.hasMed = true;
  return null;
}

function decodeLocalPref(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §7.5 (from an internal peer; from an external one see AttrDesc.internalOnly)
  if (len !== 4) return st.error(TAW, S.ATTRIBUTE_LENGTH_ERROR, `LOCAL_PREF length ${len} is not 4`);
  st.localPref = u32(st.buf, v);
  st.hasLocalPref = true;
  return null;
}

function decodeAtomicAggregate(st: AttrDecodeState, _v: number, len: number): WireError | null {
  // RFC 7606 §7.6
  if (len !== 0) return st.error(DISCARD, S.ATTRIBUTE_LENGTH_ERROR, `ATOMIC_AGGREGATE length ${len} is not 0`);
  st.atomicAggregate = true;
  return null;
}

function decodeAggregator(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §7.7: 6 bytes on a 2-octet session, 8 with 4-octet AS numbers; RFC 7607: AS 0 is malformed.
  const asSize = st.ctx.asn4 ? 4 : 2;
  if (len !== asSize + 4) {
    return st.error(DISCARD, S.ATTRIBUTE_LENGTH_ERROR, `AGGREGATOR length ${len} is not ${asSize + 4}`);
  }
  const asn = asSize === 4 ? u32(st.buf, v) : u16(st.buf, v);
  if (asn === 0) return st.error(DISCARD, S.OPTIONAL_ATTRIBUTE_ERROR, 'AGGREGATOR carries AS 0 (RFC 7607)');
  st.aggregatorAsn = asn;
  st.aggregatorAddress = v + asSize;
  return null;
}

function decodeCommunities(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §7.8
  if (len === 0 || len % 4 !== 0) {
    return st.error(TAW, S.OPTIONAL_ATTRIBUTE_ERROR, `COMMUNITIES length ${len} is not a positive multiple of 4`);
  }
  st.communitiesStart = v;
  st.communitiesLen = len;
  return null;
}

function decodeOriginatorId(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §7.9
  if (len !== 4) return st.error(TAW, S.ATTRIBUTE_LENGTH_ERROR, `ORIGINATOR_ID length ${len} is not 4`);
  st.originatorId = v;
  return null;
}

function decodeClusterList(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §7.10
  if (len === 0 || len % 4 !== 0) {
    return st.error(TAW, S.ATTRIBUTE_LENGTH_ERROR, `CLUSTER_LIST length ${len} is not a positive multiple of 4`);
  }
  st.clusterListStart = v;
  st.clusterListLen = len;
  return null;
}

/** Next hop lengths RFC 4760 §3 / RFC 2545 §3 / RFC 8950 §3 allow for the unicast families tsbgp carries. */
function nextHopLengthOk(family: Family, len: number): boolean {
  if (family === 'ipv6-unicast') return len === 16 || len === 32;
  return len === 4 || len === 16 || len === 32;
}

function decodeMpReach(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §5.3 (d) and §7.11: a malformed MP_REACH_NLRI hides where the NLRI are, so the session is reset
  // (tsbgp uses session reset where AFI/SAFI disable is also allowed).
  if (len < 5) return st.error(RESET, S.OPTIONAL_ATTRIBUTE_ERROR, `MP_REACH_NLRI length ${len} is less than 5`);
  const b = st.buf;
  const afi = u16(b, v);
  const safi = b[v + 2]!;
  const nhLen = b[v + 3]!;
  const nlriStart = v + 4 + nhLen + 1; // + 1: the reserved byte (formerly the SNPA count), ignored (RFC 4760 §3)
  const end = v + len;
  if (nlriStart > end) {
    return st.error(RESET, S.OPTIONAL_ATTRIBUTE_ERROR, `MP_REACH_NLRI next hop length ${nhLen} overruns the attribute`);
  }
  const family = familyOf(afi, safi);
  if (family === null) {
    // Another AFI/SAFI (e.g. FlowSpec 1/133): lengths are valid, its NLRI are not ours to read (yet).
    st.mpReachEntries += nlriStart < end ? 1 : 0;
    return null;
  }
  if (!nextHopLengthOk(family, nhLen)) {
    return st.error(
      RESET,
      S.OPTIONAL_ATTRIBUTE_ERROR,
      `MP_REACH_NLRI next hop length ${nhLen} is invalid for ${family}`,
    );
  }
  const addPath = st.ctx.addPathRx.has(family);
  const bad = copyNlri(b, nlriStart, end, family === 'ipv4-unicast' ? 32 : 128, addPath);
  if (bad !== null) return st.error(RESET, S.OPTIONAL_ATTRIBUTE_ERROR, `MP_REACH_NLRI: ${bad}`);
  st.mpReachEntries += copiedCount;
  const nh = v + 4;
  cacheNextHop(b, nh, nhLen);
  const block: AnnouncedBlock = new WireNlriBlock(family, lastNhText, addPath);
  // RFC 2545 §3: 32 bytes are a global address followed by a link-local one.
  if (nhLen === 32) block.nextHopLinkLocal = lastLlText;
  st.mpReach = block;
  return null;
}

// Next hop text of the last MP_REACH_NLRI: a peer sends the same next hop in nearly every UPDATE, and
// formatting an IPv6 address costs more than comparing 16 or 32 bytes.
const lastNh = new Uint8Array(32);
let lastNhLen = -1;
let lastNhText = '';
let lastLlText = '';

function cacheNextHop(b: Uint8Array, at: number, len: number): void {
  if (len === lastNhLen) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (b[at + i] !== lastNh[i]) {
        same = false;
        break;
      }
    }
    if (same) return;
  }
  lastNh.set(b.subarray(at, at + len));
  lastNhLen = len;
  lastNhText = len === 4 ? formatIPv4(b, at) : formatIPv6(b, at);
  lastLlText = len === 32 ? formatIPv6(b, at + 16) : '';
}

function decodeMpUnreach(st: AttrDecodeState, v: number, len: number): WireError | null {
  if (len < 3) return st.error(RESET, S.OPTIONAL_ATTRIBUTE_ERROR, `MP_UNREACH_NLRI length ${len} is less than 3`);
  const b = st.buf;
  const family = familyOf(u16(b, v), b[v + 2]!);
  if (family === null) return null;
  const bad = decodeNlriExact(b, v + 3, v + len, family === 'ipv4-unicast' ? 32 : 128, st.ctx.addPathRx.has(family));
  if (bad !== null) return st.error(RESET, S.OPTIONAL_ATTRIBUTE_ERROR, `MP_UNREACH_NLRI: ${bad}`);
  const prefixes = exactPrefixes;
  const pathIds = exactPathIds;
  st.mpUnreachFamily = family;
  st.mpUnreachEmpty = prefixes.length === 0;
  st.mpUnreach = { family, prefixes, pathIds };
  return null;
}

function decodeExtCommunities(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 7606 §7.14; unknown types and sub-types are not errors.
  if (len === 0 || len % 8 !== 0) {
    return st.error(
      TAW,
      S.OPTIONAL_ATTRIBUTE_ERROR,
      `EXTENDED_COMMUNITIES length ${len} is not a positive multiple of 8`,
    );
  }
  st.extCommunitiesStart = v;
  st.extCommunitiesLen = len;
  return null;
}

function decodeAs4Path(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 6793 §6: between two 4-octet speakers AS4_PATH must not appear and is discarded.
  if (st.ctx.asn4) return null;
  const bad = checkAsPath(st.buf, v, v + len, 4);
  // RFC 6793 §6 / RFC 7606: a malformed AS4_PATH is discarded, the UPDATE goes on.
  if (bad !== null) return st.error(DISCARD, S.OPTIONAL_ATTRIBUTE_ERROR, `AS4_PATH: ${bad}`);
  if (hasConfedSegment(st.buf, v, v + len, 4)) {
    // RFC 6793 §3: confederation segments in AS4_PATH are dropped (and logged); the rest is used (as4PathOf).
    st.add(st.error(DISCARD, S.OPTIONAL_ATTRIBUTE_ERROR, 'AS4_PATH confederation segments ignored'));
  }
  st.as4PathStart = v;
  st.as4PathEnd = v + len;
  return null;
}

function decodeAs4Aggregator(st: AttrDecodeState, v: number, len: number): WireError | null {
  if (st.ctx.asn4) return null; // RFC 6793 §6
  if (len !== 8) return st.error(DISCARD, S.OPTIONAL_ATTRIBUTE_ERROR, `AS4_AGGREGATOR length ${len} is not 8`);
  const asn = u32(st.buf, v);
  if (asn === 0) return st.error(DISCARD, S.OPTIONAL_ATTRIBUTE_ERROR, 'AS4_AGGREGATOR carries AS 0 (RFC 7607)');
  st.as4AggregatorAsn = asn;
  st.as4AggregatorAddress = v + 4;
  return null;
}

function decodeLargeCommunities(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 8092 §6
  if (len === 0 || len % 12 !== 0) {
    return st.error(
      TAW,
      S.OPTIONAL_ATTRIBUTE_ERROR,
      `LARGE_COMMUNITIES length ${len} is not a positive multiple of 12`,
    );
  }
  st.largeCommunitiesStart = v;
  st.largeCommunitiesLen = len;
  return null;
}

function decodeOtc(st: AttrDecodeState, v: number, len: number): WireError | null {
  // RFC 9234 §5
  if (len !== 4) return st.error(DISCARD, S.ATTRIBUTE_LENGTH_ERROR, `OTC length ${len} is not 4`);
  st.otc = u32(st.buf, v);
  st.hasOtc = true;
  return null;
}

function encodeU32Attr(w: Writer, flags: number, code: number, v: number): void {
  w.u8(flags).u8(code).u8(4).u32(v);
}

const TABLE_LIST: AttrDesc[] = [
  {
    code: AttrType.ORIGIN,
    name: 'ORIGIN',
    flags: WELL_KNOWN,
    decode: decodeOrigin,
    encode: (w, a) => {
      if (a.origin < 0 || a.origin > 2) throw new Error(`ORIGIN ${a.origin} is not 0, 1 or 2`);
      w.u8(WELL_KNOWN).u8(AttrType.ORIGIN).u8(1).u8(a.origin);
    },
  },
  {
    code: AttrType.AS_PATH,
    name: 'AS_PATH',
    flags: WELL_KNOWN,
    decode: decodeAsPathAttr,
    encode: (w, a, ctx) => {
      const asSize = ctx.asn4 ? 4 : 2;
      header(w, WELL_KNOWN, AttrType.AS_PATH, asPathBytes(a.asPath, asSize, false));
      writeAsPath(w, a.asPath, asSize, false);
    },
  },
  {
    code: AttrType.NEXT_HOP,
    name: 'NEXT_HOP',
    flags: WELL_KNOWN,
    decode: () => null, // checked in finishAttributes, once the NLRI field is known
    encode: (w, _a, _ctx, nh) => {
      if (nh) w.u8(WELL_KNOWN).u8(AttrType.NEXT_HOP).u8(4).bytes(nh);
    },
  },
  {
    code: AttrType.MULTI_EXIT_DISC,
    name: 'MULTI_EXIT_DISC',
    flags: OPT_NON_TRANSITIVE,
    decode: decodeMed,
    encode: (w, a) => {
      if (a.med !== undefined) encodeU32Attr(w, OPT_NON_TRANSITIVE, AttrType.MULTI_EXIT_DISC, a.med);
    },
  },
  {
    code: AttrType.LOCAL_PREF,
    name: 'LOCAL_PREF',
    internalOnly: true,
    flags: WELL_KNOWN,
    decode: decodeLocalPref,
    encode: (w, a) => {
      if (a.localPref !== undefined) encodeU32Attr(w, WELL_KNOWN, AttrType.LOCAL_PREF, a.localPref);
    },
  },
  {
    code: AttrType.ATOMIC_AGGREGATE,
    name: 'ATOMIC_AGGREGATE',
    flags: WELL_KNOWN,
    decode: decodeAtomicAggregate,
    encode: (w, a) => {
      if (a.atomicAggregate) w.u8(WELL_KNOWN).u8(AttrType.ATOMIC_AGGREGATE).u8(0);
    },
  },
  {
    code: AttrType.AGGREGATOR,
    name: 'AGGREGATOR',
    flags: OPT_TRANSITIVE,
    decode: decodeAggregator,
    encode: (w, a, ctx) => {
      if (!a.aggregator) return;
      const addr = ipv4Bytes(a.aggregator.address, 'AGGREGATOR address');
      const asn = a.aggregator.asn;
      if (ctx.asn4) {
        w.u8(OPT_TRANSITIVE).u8(AttrType.AGGREGATOR).u8(8).u32(asn).bytes(addr);
      } else {
        // RFC 6793 §4.2.2: AS_TRANS here, the real AS in AS4_AGGREGATOR.
        w.u8(OPT_TRANSITIVE)
          .u8(AttrType.AGGREGATOR)
          .u8(6)
          .u16(asn > 0xffff ? AS_TRANS : asn)
          .bytes(addr);
      }
    },
  },
  {
    code: AttrType.COMMUNITIES,
    name: 'COMMUNITIES',
    flags: OPT_TRANSITIVE,
    decode: decodeCommunities,
    encode: (w, a) => {
      const c = a.communities;
      if (!c || c.length === 0) return;
      header(w, OPT_TRANSITIVE, AttrType.COMMUNITIES, c.length * 4);
      for (const v of c) w.u32(v);
    },
  },
  {
    code: AttrType.ORIGINATOR_ID,
    name: 'ORIGINATOR_ID',
    internalOnly: true,
    flags: OPT_NON_TRANSITIVE,
    decode: decodeOriginatorId,
    encode: (w, a) => {
      if (a.originatorId === undefined) return;
      w.u8(OPT_NON_TRANSITIVE).u8(AttrType.ORIGINATOR_ID).u8(4).bytes(ipv4Bytes(a.originatorId, 'ORIGINATOR_ID'));
    },
  },
  {
    code: AttrType.CLUSTER_LIST,
    name: 'CLUSTER_LIST',
    internalOnly: true,
    flags: OPT_NON_TRANSITIVE,
    decode: decodeClusterList,
    encode: (w, a) => {
      const c = a.clusterList;
      if (!c || c.length === 0) return;
      header(w, OPT_NON_TRANSITIVE, AttrType.CLUSTER_LIST, c.length * 4);
      for (const id of c) w.bytes(ipv4Bytes(id, 'CLUSTER_LIST entry'));
    },
  },
  {
    code: AttrType.MP_REACH_NLRI,
    name: 'MP_REACH_NLRI',
    flags: OPT_NON_TRANSITIVE,
    decode: decodeMpReach,
    encode: noEncode, // per message, by update.ts
  },
  {
    code: AttrType.MP_UNREACH_NLRI,
    name: 'MP_UNREACH_NLRI',
    flags: OPT_NON_TRANSITIVE,
    decode: decodeMpUnreach,
    encode: noEncode,
  },
  {
    code: AttrType.EXTENDED_COMMUNITIES,
    name: 'EXTENDED_COMMUNITIES',
    flags: OPT_TRANSITIVE,
    decode: decodeExtCommunities,
    encode: (w, a) => {
      const c = a.extCommunities;
      if (!c || c.length === 0) return;
      header(w, OPT_TRANSITIVE, AttrType.EXTENDED_COMMUNITIES, c.length * 8);
      for (const ec of c) {
        if (ec.length !== 8) throw new Error(`extended community of ${ec.length} bytes (must be 8)`);
        w.bytes(ec);
      }
    },
  },
  {
    code: AttrType.AS4_PATH,
    name: 'AS4_PATH',
    flags: OPT_TRANSITIVE,
    decode: decodeAs4Path,
    encode: (w, a, ctx) => {
      if (ctx.asn4 || !needsAs4Path(a.asPath)) return;
      header(w, OPT_TRANSITIVE, AttrType.AS4_PATH, asPathBytes(a.asPath, 4, true));
      writeAsPath(w, a.asPath, 4, true);
    },
  },
  {
    code: AttrType.AS4_AGGREGATOR,
    name: 'AS4_AGGREGATOR',
    flags: OPT_TRANSITIVE,
    decode: decodeAs4Aggregator,
    encode: (w, a, ctx) => {
      if (ctx.asn4 || !a.aggregator || a.aggregator.asn <= 0xffff) return;
      w.u8(OPT_TRANSITIVE)
        .u8(AttrType.AS4_AGGREGATOR)
        .u8(8)
        .u32(a.aggregator.asn)
        .bytes(ipv4Bytes(a.aggregator.address, 'AGGREGATOR address'));
    },
  },
  {
    code: AttrType.LARGE_COMMUNITIES,
    name: 'LARGE_COMMUNITIES',
    flags: OPT_TRANSITIVE,
    decode: decodeLargeCommunities,
    encode: (w, a) => {
      const c = a.largeCommunities;
      if (!c || c.length === 0) return;
      header(w, OPT_TRANSITIVE, AttrType.LARGE_COMMUNITIES, c.length * 12);
      for (const lc of c) w.u32(lc[0]).u32(lc[1]).u32(lc[2]);
    },
  },
  {
    code: AttrType.OTC,
    name: 'OTC',
    flags: OPT_TRANSITIVE,
    decode: decodeOtc,
    encode: (w, a) => {
      if (a.otc !== undefined) encodeU32Attr(w, OPT_TRANSITIVE, AttrType.OTC, a.otc);
    },
  },
];

/** Attribute descriptors by type code (undefined for codes tsbgp does not know). */
export const ATTRIBUTES: readonly (AttrDesc | undefined)[] = (() => {
  const t: (AttrDesc | undefined)[] = new Array(256).fill(undefined);
  for (const d of TABLE_LIST) t[d.code] = d;
  return t;
})();

/** "ORIGIN", "AS_PATH", …, or "attribute 99" for codes tsbgp does not know. */
export function attributeName(code: number): string {
  return ATTRIBUTES[code]?.name ?? `attribute ${code}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The attribute walk

/**
 * Per-code "seen in this UPDATE" marks. A generation number instead of a cleared bitmap: decoding is
 * synchronous, so one module-level array serves every call without being reset.
 */
const seenGen = new Uint32Array(256);
let generation = 0;

/** Walks the path attribute block buf[start, end) (RFC 4271 §4.3), filling `st`. Throws on session reset. */
export function decodeAttributeBlock(st: AttrDecodeState, start: number, end: number): void {
  const b = st.buf;
  generation = (generation + 1) >>> 0;
  if (generation === 0) {
    seenGen.fill(0);
    generation = 1;
  }
  const gen = generation;
  let p = start;
  while (p < end) {
    const aStart = p;
    const flags = b[p]!;
    const hdr = flags & EXTENDED_LENGTH ? 4 : 3;
    if (end - p < hdr) {
      // RFC 7606 §4: too few bytes left for an attribute header. Treat-as-withdraw; Total Attribute Length
      // still locates the NLRI field.
      st.aStart = aStart;
      st.aEnd = end;
      st.add(st.error(TAW, S.MALFORMED_ATTRIBUTE_LIST, 'attribute header runs past the attribute block', false));
      return;
    }
    const code = b[p + 1]!;
    const len = hdr === 4 ? u16(b, p + 2) : b[p + 2]!;
    const v = p + hdr;
    st.count++;
    if (v + len > end) {
      st.aStart = aStart;
      st.aEnd = end;
      // RFC 7606 §4: an attribute overrunning the block is treat-as-withdraw, unless it is MP_REACH_NLRI or
      // MP_UNREACH_NLRI, whose NLRI could then not be parsed (§3 j).
      if (code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI) {
        throw st.error(RESET, S.ATTRIBUTE_LENGTH_ERROR, `${attributeName(code)} overruns the attribute block`, false);
      }
      st.add(st.error(TAW, S.ATTRIBUTE_LENGTH_ERROR, `${attributeName(code)} overruns the attribute block`, false));
      return;
    }
    p = v + len;
    st.aStart = aStart;
    st.aEnd = p;

    // RFC 7606 §3 (g): MP_REACH_NLRI / MP_UNREACH_NLRI twice resets the session; any other repeated
    // attribute keeps its first occurrence.
    if (seenGen[code] === gen) {
      if (code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI) {
        throw st.error(RESET, S.MALFORMED_ATTRIBUTE_LIST, `${attributeName(code)} appears more than once`, false);
      }
      st.add(st.error(DISCARD, S.MALFORMED_ATTRIBUTE_LIST, `repeated ${attributeName(code)} ignored`));
      continue;
    }
    seenGen[code] = gen;

    const desc = ATTRIBUTES[code];
    if (desc === undefined) {
      if ((flags & OPTIONAL) === 0) {
        // RFC 4271 §6.3: an unrecognized well-known attribute (unchanged by RFC 7606).
        throw st.error(RESET, S.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, `unrecognized well-known attribute ${code}`);
      }
      // RFC 4271 §5: unrecognized optional transitive attributes are passed on with Partial set;
      // unrecognized optional non-transitive ones are quietly ignored.
      if (flags & TRANSITIVE) {
        const u = st.unknown;
        const at = 4 * st.unknownCount++;
        u[at] = (flags & (OPTIONAL | TRANSITIVE)) | PARTIAL;
        u[at + 1] = code;
        u[at + 2] = v;
        u[at + 3] = len;
      }
      continue;
    }
    if (code === AttrType.NEXT_HOP) {
      st.nextHopStart = aStart;
      st.nextHopEnd = p;
      continue;
    }
    if (desc.internalOnly && st.ctx.ebgp) {
      st.add(st.error(DISCARD, S.MALFORMED_ATTRIBUTE_LIST, `${desc.name} from an external peer ignored`));
      continue;
    }
    if ((flags ^ desc.flags) & FLAG_CHECK_MASK) {
      // RFC 7606 §3 (c); for MP_REACH/MP_UNREACH §5.3 (c) makes it a session reset.
      const mp = code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI;
      st.add(
        st.error(mp ? RESET : TAW, S.ATTRIBUTE_FLAGS_ERROR, `${desc.name} flags 0x${flags.toString(16)} are wrong`),
      );
      continue;
    }
    const e = desc.decode(st, v, len);
    if (e !== null) st.add(e);
  }
}

/** RFC 4271 §6.3 / RFC 7606 §7.3: the NEXT_HOP of IPv4 NLRI; returns its text, or records the error. */
export function checkNextHop(st: AttrDecodeState): string | null {
  if (st.nextHopStart < 0) {
    st.aStart = st.aEnd = 0;
    st.add(missing(AttrType.NEXT_HOP));
    return null;
  }
  const b = st.buf;
  st.aStart = st.nextHopStart;
  st.aEnd = st.nextHopEnd;
  const flags = b[st.nextHopStart]!;
  const hdr = flags & EXTENDED_LENGTH ? 4 : 3;
  const v = st.nextHopStart + hdr;
  const len = st.nextHopEnd - v;
  if ((flags ^ WELL_KNOWN) & FLAG_CHECK_MASK) {
    st.add(st.error(TAW, S.ATTRIBUTE_FLAGS_ERROR, `NEXT_HOP flags 0x${flags.toString(16)} are wrong`));
    return null;
  }
  if (len !== 4) {
    st.add(st.error(TAW, S.ATTRIBUTE_LENGTH_ERROR, `NEXT_HOP length ${len} is not 4`));
    return null;
  }
  // RFC 4271 §6.3: a next hop that is not a valid host address (0.0.0.0, multicast, class E, broadcast) is
  // semantically incorrect; the route is ignored, the session stays up.
  const first = b[v]!;
  if (first >= 224 || (first === 0 && b[v + 1] === 0 && b[v + 2] === 0 && b[v + 3] === 0)) {
    st.add(st.error(TAW, S.INVALID_NEXT_HOP_ATTRIBUTE, `NEXT_HOP ${formatIPv4(b, v)} is not a host address`));
    return null;
  }
  // A peer sends the same NEXT_HOP in nearly every UPDATE: format it once (and hand out one shared string).
  const word = ((first << 24) | (b[v + 1]! << 16) | (b[v + 2]! << 8) | b[v + 3]!) >>> 0;
  if (word !== lastV4NextHop) {
    lastV4NextHop = word;
    lastV4NextHopText = formatIPv4(b, v);
  }
  return lastV4NextHopText;
}

let lastV4NextHop = -1;
let lastV4NextHopText = '';

/** RFC 7606 §3 (d): a missing well-known mandatory attribute is treat-as-withdraw; data is its type code. */
function missing(code: number): WireError {
  return new WireError(
    `missing well-known attribute ${attributeName(code)}`,
    ErrorCode.UPDATE_MESSAGE,
    S.MISSING_WELL_KNOWN_ATTRIBUTE,
    Uint8Array.of(code),
    TAW,
  );
}

/**
 * Checks that follow the whole walk: mandatory attributes when the UPDATE announces routes (RFC 7606 §3 d;
 * NEXT_HOP is checked by checkNextHop, as RFC 4760 makes it mandatory only with IPv4 NLRI), and the
 * RFC 6793 §4.2.3 reconstruction of 4-octet AS numbers on a 2-octet session.
 */
export function finishAttributes(st: AttrDecodeState, announces: boolean): void {
  if (announces) {
    // Present but malformed was already reported by the attribute's own rule.
    if (seenGen[AttrType.ORIGIN] !== generation) st.add(missing(AttrType.ORIGIN));
    if (seenGen[AttrType.AS_PATH] !== generation) st.add(missing(AttrType.AS_PATH));
  }
  if (!st.ctx.asn4 && st.as4AggregatorAddress >= 0 && st.aggregatorAddress >= 0) {
    if (st.aggregatorAsn !== AS_TRANS) {
      // RFC 6793 §4.2.3: aggregated by a 2-octet speaker after the AS4_* were made; both are stale.
      st.as4PathStart = st.as4PathEnd = -1;
    } else {
      st.aggregatorAsn = st.as4AggregatorAsn;
      st.aggregatorAddress = st.as4AggregatorAddress;
    }
  }
}

/**
 * The AS path of a 2-octet session with its AS4_PATH merged in (RFC 6793 §4.2.3), as segments; null when there is
 * no AS4_PATH to merge (then the AS_PATH bytes are the path). finishAttributes has run.
 */
export function mergedAsPath(st: AttrDecodeState): AsPathSegment[] | null {
  if (st.ctx.asn4 || st.as4PathStart < 0 || st.asPathStart < 0) return null;
  const path = decodeAsPath(st.buf, st.asPathStart, st.asPathEnd, 2) as AsPathSegment[];
  let as4 = decodeAsPath(st.buf, st.as4PathStart, st.as4PathEnd, 4) as AsPathSegment[];
  if (as4.some((s) => isConfed(s.type))) as4 = as4.filter((s) => !isConfed(s.type));
  return mergeAs4Path(path, as4);
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

/** Scratch writer for attribute blocks: encoding is synchronous, so one serves every call. */
const scratch = new Writer(1024);

/**
 * Writes the attribute block into the scratch writer and returns a view of it, valid until the next call.
 * `nextHop` (4 bytes) adds NEXT_HOP for IPv4 NLRI carried in the NLRI field. Attributes go out in ascending
 * type code order, the unknown ones (passed on with their Partial bit) merged in by code.
 */
export function encodeAttributeBlockView(
  attrs: PathAttributes,
  ctx: CodecContext,
  nextHop: Uint8Array | null,
): Uint8Array {
  const w = scratch;
  w.pos = 0;
  const unknown = attrs.unknown;
  if (!unknown || unknown.length === 0) {
    for (const d of TABLE_LIST) d.encode(w, attrs, ctx, nextHop);
    return w.view();
  }
  const sorted = isSortedByCode(unknown) ? unknown : unknown.slice().sort((x, y) => x.code - y.code);
  let u = 0;
  for (const d of TABLE_LIST) {
    while (u < sorted.length && sorted[u]!.code < d.code) writeUnknown(w, sorted[u++]!);
    d.encode(w, attrs, ctx, nextHop);
  }
  while (u < sorted.length) writeUnknown(w, sorted[u++]!);
  return w.view();
}

function isSortedByCode(list: readonly UnknownAttribute[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i - 1]!.code > list[i]!.code) return false;
  return true;
}

function writeUnknown(w: Writer, u: UnknownAttribute): void {
  if (ATTRIBUTES[u.code] !== undefined) return; // a known code cannot be passed on as opaque bytes
  header(w, u.flags & (OPTIONAL | TRANSITIVE | PARTIAL), u.code, u.value.length);
  w.bytes(u.value);
}

/** The path attribute block for `attrs` (no NEXT_HOP, no MP_* attributes), as a new array. */
export function encodeAttributes(attrs: PathAttributes, ctx: CodecContext): Uint8Array {
  return encodeAttributeBlockView(attrs, ctx, null).slice();
}
