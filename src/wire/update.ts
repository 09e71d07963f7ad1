// UPDATE messages (RFC 4271 §4.3, RFC 4760 for IPv6, RFC 7911 Add-Path, RFC 8950 IPv4 over an IPv6 next hop).
//
//   decodeUpdate(body, ctx)      the message after its 19-byte header → UpdateMessage; throws WireError when the
//                                session must be reset, else reports RFC 7606 soft errors in the result
//   encodeUpdates(batch, ctx)    one attribute set + many prefixes → as few whole UPDATEs as fit
//   encodeSlotUpdates(b, ctx, out)  the same from an encoded attribute block and NLRI bytes (the RIB's prefix
//                                table), appended to `out`: no string per prefix
//   encodeWithdrawals(...)       withdrawals packed the same way
//   encodeEndOfRib(family)       RFC 4724 §2 End-of-RIB marker
//   encodeAttributes(attrs, ctx) the attribute block alone (also the RIB's interning key)
//
// Layout of the body: Withdrawn Routes Length (2), Withdrawn Routes, Total Path Attribute Length (2), Path
// Attributes, NLRI. IPv4 unicast goes in the Withdrawn Routes / NLRI fields with NEXT_HOP; IPv6 (and IPv4 with
// an IPv6 next hop) in MP_REACH_NLRI / MP_UNREACH_NLRI, placed first in the attribute block (RFC 7606 §5.1).

import { parseIPv4, parseIPv6 } from './addr.ts';
import { keyEnd, keyLpAt, keyLpEnd, keySlab, keyStart, readAttrKey, writeAttrKey } from './attr-key.ts';
import {
  AttrDecodeState,
  checkNextHop,
  decodeAttributeBlock,
  encodeAttributeBlockView,
  finishAttributes,
} from './attributes.ts';
import {
  Afi,
  AttrFlag,
  AttrType,
  afiSafiOf,
  ErrorCode,
  type Family,
  HEADER_LENGTH,
  MessageType,
  Safi,
  UpdateSubcode,
} from './constants.ts';
import { ErrorAction, WireError } from './errors.ts';
import {
  blockSize,
  copiedCount,
  copyNlri,
  decodeNlriExact,
  exactPathIds,
  exactPrefixes,
  type NlriSlots,
  nlriFit,
  nlriSize,
  nlriSlotsFit,
  WireNlriBlock,
  writeNlri,
  writeNlriSlots,
} from './nlri.ts';
import type { PrefixKey } from './prefix.ts';
import {
  type AnnouncedBlock,
  type CodecContext,
  defaultCodecContext,
  type NlriBlock,
  type PathAttributes,
  type RouteBatch,
  type UpdateMessage,
} from './types.ts';

export {
  formatCommunity,
  formatExtCommunity,
  formatLargeCommunity,
  parseCommunity,
  parseExtCommunity,
  parseLargeCommunity,
} from './attr-communities.ts';
export { asPathLength, attributeName, encodeAttributes, mergeAs4Path } from './attributes.ts';

function updateError(message: string, subcode: number): WireError {
  return new WireError(message, ErrorCode.UPDATE_MESSAGE, subcode);
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/**
 * The UpdateMessage decodeUpdate returns. `attributes` is made from the attribute key when first read (and kept):
 * the RIB interns the key bytes and never asks for the object. The key (src/rib/intern.ts attributesKey's format,
 * written by attr-key.ts) is attrKeyBuf[attrKeyStart, attrKeyEnd), LOCAL_PREF in it at [attrKeyLpAt,
 * attrKeyLpEnd); attrKeyBuf is null when there are no attributes, or once `attributes` was assigned.
 * Copy one with withNlri (a spread would lose `attributes`, which lives on the prototype).
 */
export class DecodedUpdate implements UpdateMessage {
  readonly type = 'update' as const;
  withdrawn: NlriBlock[];
  announced: AnnouncedBlock[];
  treatAsWithdraw: boolean;
  errors: WireError[];
  // `declare`: no own property unless set, as the object literal decodeUpdate returned before had it.
  declare endOfRib?: Family;
  attrKeyBuf: Uint8Array | null;
  attrKeyStart: number;
  attrKeyEnd: number;
  /** attrKeyLpAt * 8 + the LOCAL_PREF length (0–6): one field instead of two, per message. */
  private attrKeyLp: number;
  #attrs: PathAttributes | null | undefined = undefined;

  constructor(
    withdrawn: NlriBlock[],
    announced: AnnouncedBlock[],
    treatAsWithdraw: boolean,
    errors: WireError[],
    keyBuf: Uint8Array | null,
  ) {
    this.withdrawn = withdrawn;
    this.announced = announced;
    this.treatAsWithdraw = treatAsWithdraw;
    this.errors = errors;
    this.attrKeyBuf = keyBuf;
    this.attrKeyStart = keyBuf === null ? 0 : keyStart;
    this.attrKeyEnd = keyBuf === null ? 0 : keyEnd;
    this.attrKeyLp = keyBuf === null ? 0 : keyLpAt * 8 + (keyLpEnd - keyLpAt);
  }

  get attrKeyLpAt(): number {
    return Math.floor(this.attrKeyLp / 8);
  }

  get attrKeyLpEnd(): number {
    return Math.floor(this.attrKeyLp / 8) + (this.attrKeyLp & 7);
  }

  get attributes(): PathAttributes | null {
    if (this.#attrs === undefined) {
      const kb = this.attrKeyBuf;
      this.#attrs = kb === null ? null : readAttrKey(kb, this.attrKeyStart, this.attrKeyEnd);
    }
    return this.#attrs;
  }

  set attributes(a: PathAttributes | null) {
    this.#attrs = a;
    this.attrKeyBuf = null;
  }

  /** What JSON.stringify gave for the object literal decodeUpdate returned before (no key fields, no slab). */
  toJSON(): object {
    const o: Record<string, unknown> = {
      type: this.type,
      withdrawn: this.withdrawn,
      announced: this.announced,
      attributes: this.attributes,
      treatAsWithdraw: this.treatAsWithdraw,
      errors: this.errors,
    };
    if (this.endOfRib !== undefined) o.endOfRib = this.endOfRib;
    return o;
  }

  /** A copy with other NLRI blocks (attributes, key, errors shared). */
  withNlri(withdrawn: NlriBlock[], announced: AnnouncedBlock[]): DecodedUpdate {
    const c = new DecodedUpdate(withdrawn, announced, this.treatAsWithdraw, this.errors, null);
    c.attrKeyBuf = this.attrKeyBuf;
    c.attrKeyStart = this.attrKeyStart;
    c.attrKeyEnd = this.attrKeyEnd;
    c.attrKeyLp = this.attrKeyLp;
    c.#attrs = this.#attrs;
    if (this.endOfRib !== undefined) c.endOfRib = this.endOfRib;
    return c;
  }
}

/** `msg` with other NLRI blocks: everything else (attributes included) as in `msg`. */
export function withNlri(msg: UpdateMessage, withdrawn: NlriBlock[], announced: AnnouncedBlock[]): UpdateMessage {
  return msg instanceof DecodedUpdate ? msg.withNlri(withdrawn, announced) : { ...msg, withdrawn, announced };
}

/** Reused by every decodeUpdate call (decoding is synchronous; see AttrDecodeState.begin). */
const decodeState = new AttrDecodeState(new Uint8Array(0), defaultCodecContext());

/**
 * Decodes an UPDATE body (the message after its 19-byte header).
 * Throws WireError (action session-reset) for errors RFC 7606 leaves fatal: section lengths that overrun the
 * message (§3 b), NLRI that cannot be parsed (§3 j, §5.3), malformed or repeated MP_REACH/MP_UNREACH, an
 * unrecognized well-known attribute, and attribute errors in an UPDATE that announces nothing (§5.2).
 * Otherwise returns the message; `treatAsWithdraw` and `errors` report the soft errors. `attributes` is
 * non-null exactly when the mandatory attributes were present and nothing called for treat-as-withdraw.
 */
export function decodeUpdate(body: Uint8Array, ctx: CodecContext): UpdateMessage {
  return decodeUpdateAt(body, 0, ctx);
}

/**
 * decodeUpdate of the body at body[base, end) (decodeMessage passes the whole message and 19, the session the
 * buffer a message was received in: no view of the body per message).
 */
export function decodeUpdateAt(
  body: Uint8Array,
  base: number,
  ctx: CodecContext,
  end: number = body.length,
): UpdateMessage {
  const len = end - base;
  if (len < 4) throw updateError(`UPDATE body of ${len} bytes is too short`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST);
  const wlen = (body[base]! << 8) | body[base + 1]!;
  // RFC 7606 §3 (b): lengths that overrun the message are Malformed Attribute List.
  if (4 + wlen > len) {
    throw updateError(`Withdrawn Routes Length ${wlen} overruns the message`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST);
  }
  const alen = (body[base + 2 + wlen]! << 8) | body[base + 3 + wlen]!;
  const aStart = base + 4 + wlen;
  const aEnd = aStart + alen;
  if (aEnd > end) {
    throw updateError(
      `Total Path Attribute Length ${alen} overruns the message`,
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
    );
  }

  const withdrawn: NlriBlock[] = [];
  const v4AddPath = ctx.addPathRx.has('ipv4-unicast');

  // RFC 7606 §3 (i): Withdrawn Routes are checked like the NLRI field.
  if (wlen > 0) {
    const bad = decodeNlriExact(body, base + 2, base + 2 + wlen, 32, v4AddPath);
    if (bad !== null) throw updateError(`Withdrawn Routes: ${bad}`, UpdateSubcode.INVALID_NETWORK_FIELD);
    withdrawn.push({ family: 'ipv4-unicast', prefixes: exactPrefixes, pathIds: exactPathIds });
  }

  const st = decodeState;
  st.begin(body, ctx);
  decodeAttributeBlock(st, aStart, aEnd);

  // NLRI field: RFC 4271 §6.3, Invalid Network Field when it cannot be parsed.
  let nlri: AnnouncedBlock | null = null;
  if (aEnd < end) {
    const bad = copyNlri(body, aEnd, end, 32, v4AddPath);
    if (bad !== null) throw updateError(`NLRI: ${bad}`, UpdateSubcode.INVALID_NETWORK_FIELD);
    if (copiedCount > 0) nlri = new WireNlriBlock('ipv4-unicast', '', v4AddPath);
  }

  const announces = nlri !== null || st.mpReachEntries > 0;
  finishAttributes(st, announces);
  // RFC 4760 §3: NEXT_HOP is needed (and looked at) only when the NLRI field carries prefixes.
  if (nlri !== null) {
    const nh = checkNextHop(st);
    if (nh !== null) nlri.nextHop = nh;
  }
  // Array literals of the exact length: a pushed-to empty array would get room for 17 blocks.
  const mp = st.mpReach !== null && blockSize(st.mpReach) > 0 ? st.mpReach : null;
  const announced: AnnouncedBlock[] = nlri === null ? (mp === null ? [] : [mp]) : mp === null ? [nlri] : [nlri, mp];
  const un = st.mpUnreach;
  if (un !== null && un.prefixes.length > 0) {
    const same = withdrawn.find((w) => w.family === un.family);
    if (same) {
      for (const p of un.prefixes) same.prefixes.push(p);
      if (same.pathIds && un.pathIds) for (const id of un.pathIds) same.pathIds.push(id);
    } else {
      withdrawn.push(un);
    }
  }

  const treatAsWithdraw = st.action === ErrorAction.TREAT_AS_WITHDRAW || st.action === ErrorAction.AFI_SAFI_DISABLE;
  if (treatAsWithdraw && !announces) {
    // RFC 7606 §5.2: attribute errors (other than attribute discard) in an UPDATE that carries attributes but
    // no reachable NLRI cannot be confined to any route: the session is reset.
    const worst = st.errors.find((e) => e.action !== ErrorAction.ATTRIBUTE_DISCARD)!;
    throw new WireError(
      `${worst.message} (in an UPDATE without reachable NLRI, RFC 7606 §5.2)`,
      worst.code,
      worst.subcode,
      worst.data,
      ErrorAction.SESSION_RESET,
    );
  }

  let keyBuf: Uint8Array | null = null;
  if (!treatAsWithdraw && st.hasOrigin && st.hasAsPath) {
    writeAttrKey(st);
    keyBuf = keySlab;
  }
  const msg = new DecodedUpdate(withdrawn, announced, treatAsWithdraw, st.errors, keyBuf);
  // RFC 4724 §2: End-of-RIB is an UPDATE with nothing in it (IPv4 unicast), or one whose only content is an
  // empty MP_UNREACH_NLRI (other families).
  if (len === 4) msg.endOfRib = 'ipv4-unicast';
  else if (wlen === 0 && aEnd === end && st.count === 1 && st.mpUnreachEmpty && st.mpUnreachFamily !== null) {
    msg.endOfRib = st.mpUnreachFamily;
  }
  return msg;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

/** Header + Withdrawn Routes Length + Total Path Attribute Length. */
const EMPTY_UPDATE = HEADER_LENGTH + 4;

// Encoded UPDATEs are carved out of zeroed 64 KiB slabs rather than allocated one by one: a message of more than
// 64 bytes would otherwise get an ArrayBuffer (and an off-heap allocation the GC must track) of its own — half a
// million of them for a full table, per peer. A slab is never written again once carved, so every message stays
// valid; one a caller keeps pins its slab (at most 64 KiB).
const SLAB_SIZE = 64 * 1024;
let slab = new Uint8Array(0);
let slabPos = 0;

function allocMessage(n: number): Uint8Array {
  if (slabPos + n > slab.length) {
    slab = new Uint8Array(Math.max(SLAB_SIZE, n));
    slabPos = 0;
  }
  const buf = slab.subarray(slabPos, slabPos + n);
  slabPos += n;
  return buf;
}

function writeHeader(buf: Uint8Array, total: number): void {
  buf.fill(0xff, 0, 16);
  buf[16] = total >>> 8;
  buf[17] = total & 0xff;
  buf[18] = MessageType.UPDATE;
}

function pathIdsFor(family: Family, ctx: CodecContext, pathIds: readonly number[] | null | undefined, n: number) {
  if (!ctx.addPathTx.has(family)) return null;
  if (!pathIds || pathIds.length !== n) {
    throw new Error(`Add-Path send is negotiated for ${family}: one path id per prefix is required`);
  }
  return pathIds;
}

/** Writes an MP attribute header at `o` for a value of `valueLen` bytes; returns the offset after it. */
function writeMpHeader(buf: Uint8Array, o: number, code: number, valueLen: number): number {
  if (valueLen > 255) {
    buf[o] = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;
    buf[o + 1] = code;
    buf[o + 2] = valueLen >>> 8;
    buf[o + 3] = valueLen & 0xff;
    return o + 4;
  }
  buf[o] = AttrFlag.OPTIONAL;
  buf[o + 1] = code;
  buf[o + 2] = valueLen;
  return o + 3;
}

let lastMpFamily: Family | '' = '';
let lastMpNextHop = '';
let lastMpLinkLocal: string | undefined;
let lastMp: Uint8Array = new Uint8Array(0);

/** The MP_REACH_NLRI next hop field: 4 bytes (IPv4), 16, or 32 with a link-local address (RFC 2545 §3). */
function mpNextHop(family: Family, nextHop: string, linkLocal: string | undefined, ctx: CodecContext): Uint8Array {
  if (family === 'ipv4-unicast' && !ctx.extendedNextHop.has('ipv4-unicast')) {
    throw new Error('an IPv6 next hop for IPv4 routes needs the Extended Next Hop capability (RFC 8950)');
  }
  // One-entry cache: consecutive batches towards a peer nearly always share the next hop.
  if (family === lastMpFamily && nextHop === lastMpNextHop && linkLocal === lastMpLinkLocal) return lastMp;
  let global: Uint8Array | null;
  if (family === 'ipv6-unicast' && !nextHop.includes(':')) {
    // An IPv4 next hop for IPv6 routes is sent IPv4-mapped (RFC 4291 §2.5.5.2, as RFC 4798 §2 does).
    global = parseIPv6(`::ffff:${nextHop}`);
  } else {
    global = parseIPv6(nextHop);
  }
  if (!global) throw new Error(`next hop "${nextHop}" is not a valid address for ${family}`);
  let out = global;
  if (linkLocal !== undefined) {
    const ll = parseIPv6(linkLocal);
    if (!ll) throw new Error(`link-local next hop "${linkLocal}" is not an IPv6 address`);
    out = new Uint8Array(32);
    out.set(global, 0);
    out.set(ll, 16);
  }
  lastMpFamily = family;
  lastMpNextHop = nextHop;
  lastMpLinkLocal = linkLocal;
  lastMp = out;
  return out;
}

/** One-entry cache: consecutive batches towards a peer nearly always share the next hop. */
let lastNextHopText = '';
let lastNextHop: Uint8Array | null = null;

function nextHopV4(text: string): Uint8Array | null {
  if (text !== lastNextHopText) {
    lastNextHopText = text;
    lastNextHop = parseIPv4(text);
  }
  return lastNextHop;
}

/**
 * Encodes announcements of `batch.prefixes` sharing one attribute set, packed into as few UPDATEs (whole
 * messages, header included) as fit in ctx.maxMessageSize. The attribute block is encoded once per call.
 */
export function encodeUpdates(batch: RouteBatch, ctx: CodecContext): Uint8Array[] {
  if (batch.prefixes.length === 0) return [];
  const v4 = batch.family === 'ipv4-unicast' ? nextHopV4(batch.nextHop) : null;
  const block = encodeAttributeBlockView(batch.attributes, ctx, v4);
  const out: Uint8Array[] = [];
  packUpdates(batch, keyList(batch, ctx), ctx, v4, block, 0, block.length, out);
  return out;
}

export type { NlriSlots } from './nlri.ts';

/**
 * Announcements whose prefixes are NLRI bytes picked by slot (NlriSlots, the RIB's prefix table) and whose
 * attribute block is already encoded, block[blockStart, blockEnd): the RIB writes the block straight from its
 * interning key for an eBGP peer, with NEXT_HOP when the family is IPv4 unicast and the next hop an IPv4 address
 * (then in the NLRI field), without it otherwise (MP_REACH_NLRI carries the next hop); the block must have been made
 * for this batch's family and next hop. No string is made per prefix or for the block. One object can be filled
 * again for every call.
 */
export interface SlotBatch extends NlriSlots {
  family: Family;
  nextHop: string;
  nextHopLinkLocal?: string;
  block: Uint8Array;
  blockStart: number;
  blockEnd: number;
  /** The path identifier of every prefix when Add-Path send is negotiated for the family (RFC 7911 §3). */
  pathId: number;
}

/**
 * encodeUpdates for a SlotBatch: the same messages, byte for byte, as encodeUpdates makes of the same prefixes and
 * the attributes the block encodes, appended to `out` rather than returned (no array per call); returns the bytes
 * appended. On an error nothing is appended.
 */
export function encodeSlotUpdates(batch: SlotBatch, ctx: CodecContext, out: Uint8Array[]): number {
  if (batch.count === 0) return 0;
  const v4 = batch.family === 'ipv4-unicast' ? nextHopV4(batch.nextHop) : null;
  const n = out.length;
  try {
    return packUpdates(batch, slotList(batch, ctx), ctx, v4, batch.block, batch.blockStart, batch.blockEnd, out);
  } catch (err) {
    out.length = n;
    throw err;
  }
}

/**
 * The prefixes of one encode call, whichever form they come in: packUpdates asks these per message, not per
 * prefix, so both forms share one packer. One instance of each is pointed at the call's prefixes.
 */
interface NlriList {
  readonly count: number;
  /** nlriFit: how many entries from `from` fit in `budget` bytes; their bytes (nlriSize) are then in `fitBytes`. */
  fit(from: number, budget: number): number;
  readonly fitBytes: number;
  /** writeNlri: writes entries [from, from + count) at `offset`; returns the offset after them. */
  write(buf: Uint8Array, offset: number, from: number, count: number): number;
}

class KeyList implements NlriList {
  prefixes: readonly PrefixKey[] = [];
  pathIds: readonly number[] | null = null;
  get count(): number {
    return this.prefixes.length;
  }
  fitBytes = 0;
  fit(from: number, budget: number): number {
    const count = nlriFit(this.prefixes, from, budget, this.pathIds !== null);
    this.fitBytes = nlriSize(this.prefixes, from, count, this.pathIds !== null);
    return count;
  }
  write(buf: Uint8Array, offset: number, from: number, count: number): number {
    return writeNlri(buf, offset, this.prefixes, this.pathIds, from, count);
  }
}

class SlotList implements NlriList {
  slots: NlriSlots = { keys: new Uint8Array(0), stride: 1, slots: new Int32Array(0), count: 0 };
  pathId: number | null = null;
  get count(): number {
    return this.slots.count;
  }
  fitBytes = 0;
  fit(from: number, budget: number): number {
    return nlriSlotsFit(this.slots, from, budget, this.pathId !== null, this);
  }
  write(buf: Uint8Array, offset: number, from: number, count: number): number {
    return writeNlriSlots(buf, offset, this.slots, this.pathId, from, count);
  }
}

const keys = new KeyList();
const slotted = new SlotList();

function keyList(batch: RouteBatch, ctx: CodecContext): NlriList {
  keys.pathIds = pathIdsFor(batch.family, ctx, batch.pathIds, batch.prefixes.length);
  keys.prefixes = batch.prefixes;
  return keys;
}

function slotList(batch: SlotBatch, ctx: CodecContext): NlriList {
  slotted.slots = batch;
  slotted.pathId = ctx.addPathTx.has(batch.family) ? batch.pathId : null;
  return slotted;
}

const bufferCopy = Buffer.prototype.copy as (
  this: Uint8Array,
  target: Uint8Array,
  targetStart: number,
  sourceStart: number,
  sourceEnd: number,
) => number;

/**
 * Copies src[start, end) to dst at `offset`. Buffer's copy takes any Uint8Array and copies natively without a
 * view: `dst.set(src.subarray(…))` would leave a view per message as garbage, and a byte loop is slower.
 */
function copyBytes(dst: Uint8Array, offset: number, src: Uint8Array, start: number, end: number): void {
  bufferCopy.call(src, dst, offset, start, end);
}

/**
 * Packs the prefixes with the encoded attribute block, block[bs, be), into whole UPDATEs appended to `out`;
 * returns their bytes.
 */
function packUpdates(
  batch: { family: Family; nextHop: string; nextHopLinkLocal?: string | undefined },
  prefixes: NlriList,
  ctx: CodecContext,
  v4: Uint8Array | null,
  block: Uint8Array,
  bs: number,
  be: number,
  out: Uint8Array[],
): number {
  const n = prefixes.count;
  const blockLength = be - bs;
  const max = ctx.maxMessageSize;
  let bytes = 0;

  if (v4 !== null) {
    // IPv4 unicast in the NLRI field, next hop in NEXT_HOP (RFC 4271 §4.3).
    const fixed = EMPTY_UPDATE + blockLength;
    for (let i = 0; i < n; ) {
      const count = prefixes.fit(i, max - fixed);
      if (count === 0) throw new Error(`attributes (${blockLength} bytes) leave no room for NLRI in ${max} bytes`);
      const total = fixed + prefixes.fitBytes;
      const buf = allocMessage(total);
      writeHeader(buf, total);
      // Withdrawn Routes Length stays 0.
      buf[21] = blockLength >>> 8;
      buf[22] = blockLength & 0xff;
      copyBytes(buf, EMPTY_UPDATE, block, bs, be);
      prefixes.write(buf, fixed, i, count);
      out.push(buf);
      bytes += total;
      i += count;
    }
    return bytes;
  }

  // MP_REACH_NLRI (RFC 4760 §3): IPv6, or IPv4 with an IPv6 next hop (RFC 8950 §3).
  // Not afiSafiOf: that makes an object per call, and this runs per batch.
  const afi = batch.family === 'ipv4-unicast' ? Afi.IPV4 : Afi.IPV6;
  const safi = Safi.UNICAST;
  const nh = mpNextHop(batch.family, batch.nextHop, batch.nextHopLinkLocal, ctx);
  const mpFixed = 5 + nh.length; // AFI, SAFI, next hop length, next hop, reserved
  // Room for NLRI assuming a 4-byte MP attribute header; a short one is used when the value fits 255 bytes.
  const budget = max - EMPTY_UPDATE - 4 - mpFixed - blockLength;
  for (let i = 0; i < n; ) {
    const count = prefixes.fit(i, budget);
    if (count === 0) throw new Error(`attributes (${blockLength} bytes) leave no room for NLRI in ${max} bytes`);
    const valueLen = mpFixed + prefixes.fitBytes;
    const mpLen = (valueLen > 255 ? 4 : 3) + valueLen;
    const alen = mpLen + blockLength;
    const total = EMPTY_UPDATE + alen;
    const buf = allocMessage(total);
    writeHeader(buf, total);
    buf[21] = alen >>> 8;
    buf[22] = alen & 0xff;
    let o = writeMpHeader(buf, EMPTY_UPDATE, AttrType.MP_REACH_NLRI, valueLen);
    buf[o] = afi >>> 8;
    buf[o + 1] = afi & 0xff;
    buf[o + 2] = safi;
    buf[o + 3] = nh.length;
    buf.set(nh, o + 4);
    o += 4 + nh.length;
    buf[o++] = 0; // reserved
    o = prefixes.write(buf, o, i, count);
    copyBytes(buf, o, block, bs, be);
    out.push(buf);
    bytes += total;
    i += count;
  }
  return bytes;
}

/**
 * Encodes withdrawals of `prefixes`, packed into as few UPDATEs as fit: IPv4 unicast in the Withdrawn Routes
 * field, IPv6 in MP_UNREACH_NLRI. `pathIds` is required when Add-Path send is negotiated for the family.
 */
export function encodeWithdrawals(
  family: Family,
  prefixes: PrefixKey[],
  pathIds: number[] | null,
  ctx: CodecContext,
): Uint8Array[] {
  const n = prefixes.length;
  if (n === 0) return [];
  const ids = pathIdsFor(family, ctx, pathIds, n);
  const addPath = ids !== null;
  const max = ctx.maxMessageSize;
  const out: Uint8Array[] = [];
  if (family === 'ipv4-unicast') {
    for (let i = 0; i < n; ) {
      const count = nlriFit(prefixes, i, max - EMPTY_UPDATE, addPath);
      const wlen = nlriSize(prefixes, i, count, addPath);
      const total = EMPTY_UPDATE + wlen;
      const buf = allocMessage(total);
      writeHeader(buf, total);
      buf[19] = wlen >>> 8;
      buf[20] = wlen & 0xff;
      writeNlri(buf, 21, prefixes, ids, i, count);
      // Total Path Attribute Length (the last two bytes) stays 0.
      out.push(buf);
      i += count;
    }
    return out;
  }
  const { afi, safi } = afiSafiOf(family);
  const budget = max - EMPTY_UPDATE - 4 - 3;
  for (let i = 0; i < n; ) {
    const count = nlriFit(prefixes, i, budget, addPath);
    const valueLen = 3 + nlriSize(prefixes, i, count, addPath);
    const alen = (valueLen > 255 ? 4 : 3) + valueLen;
    const total = EMPTY_UPDATE + alen;
    const buf = allocMessage(total);
    writeHeader(buf, total);
    buf[21] = alen >>> 8;
    buf[22] = alen & 0xff;
    const o = writeMpHeader(buf, EMPTY_UPDATE, AttrType.MP_UNREACH_NLRI, valueLen);
    buf[o] = afi >>> 8;
    buf[o + 1] = afi & 0xff;
    buf[o + 2] = safi;
    writeNlri(buf, o + 3, prefixes, ids, i, count);
    out.push(buf);
    i += count;
  }
  return out;
}

/** RFC 4724 §2: an empty UPDATE for IPv4 unicast; an UPDATE with only an empty MP_UNREACH_NLRI otherwise. */
export function encodeEndOfRib(family: Family): Uint8Array {
  if (family === 'ipv4-unicast') {
    const buf = new Uint8Array(EMPTY_UPDATE);
    writeHeader(buf, EMPTY_UPDATE);
    return buf;
  }
  const { afi, safi } = afiSafiOf(family);
  const total = EMPTY_UPDATE + 6;
  const buf = new Uint8Array(total);
  writeHeader(buf, total);
  buf[22] = 6;
  buf.set([AttrFlag.OPTIONAL, AttrType.MP_UNREACH_NLRI, 3, afi >>> 8, afi & 0xff, safi], EMPTY_UPDATE);
  return buf;
}
