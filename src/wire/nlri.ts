// NLRI fields: the prefix lists of an UPDATE (Withdrawn Routes, NLRI, and the NLRI inside MP_REACH_NLRI /
// MP_UNREACH_NLRI). Each entry is a length in bits followed by the fewest bytes that hold it (RFC 4271 §4.3),
// preceded by a 4-byte Path Identifier when Add-Path is in use for the family (RFC 7911 §3).
//
// Decoding (decodeNlriExact, copyNlri) returns an error description instead of throwing, so that each caller can
// pick the NOTIFICATION its section calls for (RFC 4271 §6.3: Invalid Network Field for the NLRI field, RFC 4760
// §7: Optional Attribute Error inside MP_*). No per-prefix object is created besides the key string.

import type { Family } from './constants.ts';
import { type PrefixKey, readPrefixKey } from './prefix.ts';
import type { AnnouncedBlock } from './types.ts';

/**
 * What is wrong with the NLRI entry at buf[p] (its path id first when `addPath`), or null. RFC 7606 §5.3: a prefix
 * length above the family's maximum, or an entry that runs past the end of the field.
 */
function entryError(
  buf: Uint8Array,
  p: number,
  start: number,
  end: number,
  maxBits: number,
  addPath: boolean,
): string | null {
  if (addPath) {
    if (p + 5 > end) return `NLRI path identifier at offset ${p - start} runs past the end of the field`;
    p += 4;
  }
  const bits = buf[p]!;
  if (bits > maxBits) return `NLRI prefix length ${bits} exceeds ${maxBits}`;
  if (p + 1 + ((bits + 7) >> 3) > end) return `NLRI prefix of length ${bits} runs past the end of the field`;
  return null;
}

// Scratch of decodeNlriExact: decoding is synchronous, so one pair serves every call.
const keyScratch: PrefixKey[] = [];
const idScratch: number[] = [];

/** The arrays the last successful decodeNlriExact made (new arrays, owned by the caller). */
export let exactPrefixes: PrefixKey[] = [];
export let exactPathIds: number[] | null = null;

/**
 * Decodes the NLRI entries in buf[start, end) into new arrays of exactly the entry count, left in exactPrefixes /
 * exactPathIds (path ids when `addPath`); returns null, or what is wrong (entryError). An array grown by push gets room for 17 entries at its first push, and an UPDATE of a full table
 * carries 2 or 3 prefixes: the pushes go to a reused scratch array, the result is an exact copy of it.
 */
export function decodeNlriExact(
  buf: Uint8Array,
  start: number,
  end: number,
  maxBits: number,
  addPath: boolean,
): string | null {
  const keys = keyScratch;
  const ids = idScratch;
  let n = 0;
  let p = start;
  while (p < end) {
    const bad = entryError(buf, p, start, end, maxBits, addPath);
    if (bad !== null) return bad;
    if (addPath) {
      ids[n] = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
      p += 4;
    }
    const bits = buf[p]!;
    const len = (bits + 7) >> 3;
    keys[n++] = readPrefixKey(buf, p + 1, bits);
    p += 1 + len;
  }
  exactPrefixes = keys.slice(0, n);
  exactPathIds = addPath ? ids.slice(0, n) : null;
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Announced NLRI kept as bytes. A full table's UPDATE carries two or three prefixes, and the RIB stores a prefix as
// the bytes of its key (src/rib/prefix-table.ts): decoding each into a string first, in an array per block, is
// garbage the RIB never reads. The decoder checks the field as decodeNlriExact does, copies its entries (host bits
// cleared: canonical keys, in wire order) into a slab, and the block makes its `prefixes` only when asked.

const NLRI_SLAB = 64 * 1024;
let nlriSlab = new Uint8Array(NLRI_SLAB);
let nlriPos = 0;

/** What the last successful copyNlri made: a block's raw fields. */
export let copiedBuf: Uint8Array = nlriSlab;
export let copiedStart = 0;
export let copiedEnd = 0;
export let copiedCount = 0;

/**
 * Checks the NLRI entries in buf[start, end) as decodeNlriExact does (same errors) and copies them, host bits
 * cleared, into a slab: the copy is at copiedBuf[copiedStart, copiedEnd), copiedCount entries. Null on success.
 */
export function copyNlri(
  buf: Uint8Array,
  start: number,
  end: number,
  maxBits: number,
  addPath: boolean,
): string | null {
  const len = end - start;
  if (nlriPos + len > nlriSlab.length) {
    // A slab is never written again once carved: a block kept by its holder stays valid.
    nlriSlab = new Uint8Array(Math.max(NLRI_SLAB, len));
    nlriPos = 0;
  }
  const out = nlriSlab;
  let o = nlriPos;
  let n = 0;
  let p = start;
  while (p < end) {
    const bad = entryError(buf, p, start, end, maxBits, addPath);
    if (bad !== null) return bad;
    if (addPath) {
      out[o++] = buf[p]!;
      out[o++] = buf[p + 1]!;
      out[o++] = buf[p + 2]!;
      out[o++] = buf[p + 3]!;
      p += 4;
    }
    const bits = buf[p]!;
    const bytes = (bits + 7) >> 3;
    out[o++] = bits;
    for (let i = 1; i < bytes; i++) out[o++] = buf[p + i]!;
    // RFC 4271 §4.3: trailing bits are irrelevant; the key has them cleared (as readPrefixKey does).
    if (bytes > 0) out[o++] = buf[p + bytes]! & (0xff << ((8 - (bits & 7)) & 7)) & 0xff;
    p += 1 + bytes;
    n++;
  }
  copiedBuf = out;
  copiedStart = nlriPos;
  copiedEnd = o;
  copiedCount = n;
  nlriPos = o;
  return null;
}

/**
 * An announced block whose prefixes are kept as the bytes copyNlri made (raw[rawStart, rawEnd): each entry its
 * path id when `addPath`, then its canonical key bytes). `prefixes` and `pathIds` are made on first read and kept;
 * the RIB reads the bytes instead while `decoded` is false. JSON.stringify gives what it gave for the plain block.
 */
export class WireNlriBlock implements AnnouncedBlock {
  family: Family;
  nextHop: string;
  // `declare`: no own property unless set, as on the plain block.
  declare nextHopLinkLocal?: string;
  // Private: not shown by util.inspect nor compared by assert.deepEqual (the slab is 64 KiB).
  readonly #raw: Uint8Array;
  readonly #rawStart: number;
  readonly #rawEnd: number;
  readonly #count: number;
  readonly #addPath: boolean;
  #prefixes: PrefixKey[] | null = null;
  #pathIds: number[] | null = null;

  constructor(family: Family, nextHop: string, addPath: boolean) {
    this.family = family;
    this.nextHop = nextHop;
    this.#raw = copiedBuf;
    this.#rawStart = copiedStart;
    this.#rawEnd = copiedEnd;
    this.#count = copiedCount;
    this.#addPath = addPath;
  }

  get raw(): Uint8Array {
    return this.#raw;
  }
  get rawStart(): number {
    return this.#rawStart;
  }
  get rawEnd(): number {
    return this.#rawEnd;
  }
  /** Number of entries. */
  get count(): number {
    return this.#count;
  }
  get addPath(): boolean {
    return this.#addPath;
  }

  /** Whether `prefixes` has been made (or set): from then on it, not the bytes, is the block's content. */
  get decoded(): boolean {
    return this.#prefixes !== null;
  }

  get prefixes(): PrefixKey[] {
    if (this.#prefixes === null) this.decode();
    return this.#prefixes!;
  }

  set prefixes(v: PrefixKey[]) {
    if (this.#prefixes === null) this.decode();
    this.#prefixes = v;
  }

  get pathIds(): number[] | null {
    if (this.#prefixes === null) this.decode();
    return this.#pathIds;
  }

  set pathIds(v: number[] | null) {
    if (this.#prefixes === null) this.decode();
    this.#pathIds = v;
  }

  private decode(): void {
    // The bytes were checked when copied; 128 admits every family's keys (they are canonical already).
    decodeNlriExact(this.#raw, this.#rawStart, this.#rawEnd, 128, this.#addPath);
    this.#prefixes = exactPrefixes;
    this.#pathIds = exactPathIds;
  }

  toJSON(): object {
    const o: Record<string, unknown> = {
      family: this.family,
      prefixes: this.prefixes,
      pathIds: this.pathIds,
      nextHop: this.nextHop,
    };
    if (this.nextHopLinkLocal !== undefined) o.nextHopLinkLocal = this.nextHopLinkLocal;
    return o;
  }
}

/** The number of prefixes in a block, without making its prefix strings. */
export function blockSize(b: AnnouncedBlock): number {
  return b instanceof WireNlriBlock && !b.decoded ? b.count : b.prefixes.length;
}

/** Bytes that `count` entries starting at `from` take on the wire (path ids included when `addPath`). */
export function nlriSize(prefixes: readonly PrefixKey[], from: number, count: number, addPath: boolean): number {
  let size = addPath ? 4 * count : 0;
  for (let i = from; i < from + count; i++) size += prefixes[i]!.length;
  return size;
}

/**
 * How many entries, starting at `from`, fit in `budget` bytes. Stops at the first one that does not fit
 * (entries are packed in the order given).
 */
export function nlriFit(prefixes: readonly PrefixKey[], from: number, budget: number, addPath: boolean): number {
  const extra = addPath ? 4 : 0;
  let used = 0;
  let i = from;
  for (; i < prefixes.length; i++) {
    const size = prefixes[i]!.length + extra;
    if (used + size > budget) break;
    used += size;
  }
  return i - from;
}

/** Writes entries [from, from + count) at `offset` (each preceded by its path id when `pathIds` is given). */
export function writeNlri(
  buf: Uint8Array,
  offset: number,
  prefixes: readonly PrefixKey[],
  pathIds: readonly number[] | null,
  from: number,
  count: number,
): number {
  let p = offset;
  for (let i = from; i < from + count; i++) {
    if (pathIds !== null) {
      const id = pathIds[i]!;
      buf[p] = id >>> 24;
      buf[p + 1] = (id >>> 16) & 0xff;
      buf[p + 2] = (id >>> 8) & 0xff;
      buf[p + 3] = id & 0xff;
      p += 4;
    }
    const key = prefixes[i]!;
    for (let j = 0; j < key.length; j++) buf[p + j] = key.charCodeAt(j);
    p += key.length;
  }
  return p;
}

/**
 * Prefixes given as NLRI bytes rather than PrefixKeys (the RIB's prefix table keeps its keys this way): prefix i,
 * for i in [0, count), is the entry at keys[slots[i] * stride] — a length byte in bits, then the fewest bytes that
 * hold the prefix, exactly a PrefixKey's characters. Encoding from them makes no string per prefix.
 */
export interface NlriSlots {
  keys: Uint8Array;
  stride: number;
  slots: Int32Array;
  count: number;
}

/** Bytes of the entry at offset `o` of `keys`: the length byte and the prefix's bytes. */
function entrySize(keys: Uint8Array, o: number): number {
  return 1 + ((keys[o]! + 7) >> 3);
}

/** nlriFit for NlriSlots; the entries' bytes (nlriSize of them, summed on the way) are left in `fit.fitBytes`. */
export function nlriSlotsFit(
  n: NlriSlots,
  from: number,
  budget: number,
  addPath: boolean,
  fit: { fitBytes: number },
): number {
  const { keys, stride, slots, count } = n;
  const extra = addPath ? 4 : 0;
  let used = 0;
  let i = from;
  for (; i < count; i++) {
    const size = entrySize(keys, slots[i]! * stride) + extra;
    if (used + size > budget) break;
    used += size;
  }
  fit.fitBytes = used;
  return i - from;
}

/** writeNlri for NlriSlots: every entry preceded by `pathId` when it is not null. */
export function writeNlriSlots(
  buf: Uint8Array,
  offset: number,
  n: NlriSlots,
  pathId: number | null,
  from: number,
  count: number,
): number {
  const { keys, stride, slots } = n;
  let p = offset;
  for (let i = from; i < from + count; i++) {
    if (pathId !== null) {
      buf[p] = pathId >>> 24;
      buf[p + 1] = (pathId >>> 16) & 0xff;
      buf[p + 2] = (pathId >>> 8) & 0xff;
      buf[p + 3] = pathId & 0xff;
      p += 4;
    }
    const o = slots[i]! * stride;
    const end = o + entrySize(keys, o);
    for (let j = o; j < end; j++) buf[p++] = keys[j]!;
  }
  return p;
}
