// The prefix table of one address family: every prefix the RIB knows gets a small integer, its slot, and everything
// kept per prefix is an array indexed by slot — the Loc-RIB entry here, each Adj-RIB-Out and dirty set in rib.ts —
// instead of one JS Map per table keyed by the prefix string. For a full table (≈ 1.2 M prefixes) that means one
// hash lookup per prefix and UPDATE instead of five or six (Loc-RIB get/set, dirty add/delete, Adj-RIB-Out
// get/set), arrays of 8-byte references instead of Map entries, and no Map rehash of a million entries as it grows.
//
// The key → slot index is an open-addressing hash on an Int32Array (linear probing, load ≤ 1/2, backward-shift
// deletion so there are no tombstones). Each bucket is two words, the slot and the key's 32-bit hash, side by side:
// a probe compares the hash in the cache line it has already loaded, and touches the key's bytes only on a match
// (a full table is mostly new prefixes, whose probes would otherwise miss the cache once per bucket passed). Keys are not kept as strings: each slot's NLRI bytes (length byte, then the
// prefix's significant bytes) sit at a fixed stride in one byte array, and key(s) makes the string when it is
// needed (an UPDATE being encoded, an API page). A million retained strings would be a million objects for the
// garbage collector to copy out of the young generation and to mark ever after.
//
// A slot lives while anything holds it: the Loc-RIB entry (one hold while the prefix has paths), each Adj-RIB-Out
// that holds a route for it, each dirty set it is queued in (rib.ts calls hold/drop). When the last hold goes, the
// key leaves the index and the slot is reused by the next new prefix. Nothing that walks slots (an initial dump,
// a route-refresh re-send, a query cursor) keeps a hold: a slot freed and reused behind such a walk is a prefix
// whose change reached the walkers' dirty sets anyway.

import type { PrefixKey } from '../wire/index.ts';
import { grown } from './grow.ts';
import { hashRange, hashString } from './hash.ts';

const INITIAL_SLOTS = 1024;

/** The length byte of a free slot (no prefix is longer than 128 bits). */
const FREE = 255;

export class PrefixTable<E> {
  /** Bytes per slot in keyBytes: 1 + the family's address length. */
  private readonly stride: number;
  /** Slot → the key's characters (see the module comment); a free slot has FREE as its length byte. */
  private keyBytes: Buffer;
  /** Slot → Loc-RIB entry (undefined: no path for the prefix); as long as the slot arrays (see growSlots). */
  entries: (E | undefined)[] = new Array(INITIAL_SLOTS).fill(undefined);
  /** Slot → number of holds (see the module comment). */
  private holds: Int32Array = new Int32Array(INITIAL_SLOTS);
  /** The open-addressing index: bucket i is [2i] slot + 1 (0: empty) and [2i + 1] that slot's hash. */
  private buckets = new Int32Array(INITIAL_SLOTS * 4);
  /** Number of buckets − 1. */
  private mask = INITIAL_SLOTS * 2 - 1;
  /** Slots in use (keys in the index). */
  private used = 0;
  /** Free slots below `high`, reused last-freed first. */
  private free: number[] = [];
  /** One past the highest slot ever handed out: walks over slots stop here. */
  high = 0;
  /** Number of prefixes with a Loc-RIB entry. */
  size = 0;

  /** `addressBytes`: 4 for IPv4, 16 for IPv6 (the longest key is one length byte plus that). */
  constructor(addressBytes: number) {
    this.stride = 1 + addressBytes;
    this.keyBytes = Buffer.alloc(INITIAL_SLOTS * this.stride, FREE);
  }

  /** The key of a slot in use. */
  key(s: number): PrefixKey {
    const kb = this.keyBytes;
    const o = s * this.stride;
    const len = kb[o]!;
    switch ((len + 7) >> 3) {
      case 0:
        return String.fromCharCode(len);
      case 1:
        return String.fromCharCode(len, kb[o + 1]!);
      case 2:
        return String.fromCharCode(len, kb[o + 1]!, kb[o + 2]!);
      case 3:
        return String.fromCharCode(len, kb[o + 1]!, kb[o + 2]!, kb[o + 3]!);
      case 4:
        return String.fromCharCode(len, kb[o + 1]!, kb[o + 2]!, kb[o + 3]!, kb[o + 4]!);
      default:
        return kb.toString('latin1', o, o + 1 + ((len + 7) >> 3));
    }
  }

  /**
   * The key bytes of every slot, slot s at s * keyStride (a length byte, then the prefix's significant bytes: the
   * NLRI encoding, wire/nlri.ts NlriSlots), for encoding without key strings. Replaced when the table grows: read
   * it again after any slot().
   */
  get keyBytesView(): Uint8Array {
    return this.keyBytes;
  }

  get keyStride(): number {
    return this.stride;
  }

  /** The length of the key of a slot in use (1 + the prefix's significant bytes). */
  keyLength(s: number): number {
    return 1 + ((this.keyBytes[s * this.stride]! + 7) >> 3);
  }

  /** Whether slot `s` holds `key`. */
  private holdsKey(s: number, key: PrefixKey): boolean {
    const kb = this.keyBytes;
    const o = s * this.stride;
    const n = key.length;
    if (kb[o] !== key.charCodeAt(0) || n !== 1 + ((kb[o]! + 7) >> 3)) return false;
    for (let i = 1; i < n; i++) if (kb[o + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /** Capacity of the slot arrays (typed arrays indexed by slot elsewhere are grown to this). */
  get capacity(): number {
    return this.holds.length;
  }

  /** The slot of `key`, or -1. */
  find(key: PrefixKey): number {
    const h = hashString(key);
    const buckets = this.buckets;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const b = buckets[2 * i]!;
      if (b === 0) return -1;
      if (buckets[2 * i + 1] === h && this.holdsKey(b - 1, key)) return b - 1;
    }
  }

  /** The slot of `key`, taking a new one (with no holds) when it has none. */
  slot(key: PrefixKey): number {
    if (key.length > this.stride || key.length === 0 || key.charCodeAt(0) >= FREE) {
      throw new Error(`prefix key of ${key.length} bytes does not fit a table of ${this.stride}-byte keys`);
    }
    const h = hashString(key);
    const buckets = this.buckets;
    const mask = this.mask;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const b = buckets[2 * i]!;
      if (b === 0) break;
      if (buckets[2 * i + 1] === h && this.holdsKey(b - 1, key)) return b - 1;
    }
    const s = this.take(i, h);
    const o = s * this.stride;
    for (let j = 0; j < key.length; j++) this.keyBytes[o + j] = key.charCodeAt(j);
    return s;
  }

  /**
   * slot() of the key whose bytes are buf[at, at + n) (a canonical key as the wire carries it: its length byte,
   * then the prefix's significant bytes with the host bits cleared), without making the key's string.
   */
  slotAt(buf: Uint8Array, at: number, n: number): number {
    if (n > this.stride || n === 0 || buf[at]! >= FREE) {
      throw new Error(`prefix key of ${n} bytes does not fit a table of ${this.stride}-byte keys`);
    }
    const h = hashRange(buf, at, n);
    const buckets = this.buckets;
    const mask = this.mask;
    const kb = this.keyBytes;
    const stride = this.stride;
    let i = h & mask;
    probe: for (; ; i = (i + 1) & mask) {
      const b = buckets[2 * i]!;
      if (b === 0) break;
      if (buckets[2 * i + 1] !== h) continue;
      const o = (b - 1) * stride;
      // The length byte decides the key's length: equal first bytes mean equal lengths.
      for (let j = 0; j < n; j++) if (kb[o + j] !== buf[at + j]) continue probe;
      return b - 1;
    }
    const s = this.take(i, h);
    const o = s * stride;
    for (let j = 0; j < n; j++) this.keyBytes[o + j] = buf[at + j]!;
    return s;
  }

  /** A new slot for a key of hash `h` not in the index, whose probe ended at empty bucket `i`; the caller writes
   * the key's bytes. */
  private take(i: number, h: number): number {
    let s: number;
    if (this.free.length > 0) {
      s = this.free.pop()!;
    } else {
      s = this.high++;
      if (s >= this.holds.length) this.growSlots();
    }
    this.holds[s] = 0;
    let buckets = this.buckets;
    let mask = this.mask;
    if (++this.used * 2 > mask + 1) {
      this.rehash((mask + 1) * 2);
      buckets = this.buckets;
      mask = this.mask;
      for (i = h & mask; buckets[2 * i] !== 0; i = (i + 1) & mask);
    }
    buckets[2 * i] = s + 1;
    buckets[2 * i + 1] = h;
    return s;
  }

  hold(s: number): void {
    this.holds[s]!++;
  }

  /** Drops one hold; the slot is freed with its last. */
  drop(s: number): void {
    if (--this.holds[s]! === 0) this.release(s);
  }

  /** Frees a slot taken by slot() that nothing came to hold (e.g. a withdrawal of an unknown prefix). */
  dropIfUnused(s: number): void {
    if (this.holds[s] === 0) this.release(s);
  }

  /** Sets the Loc-RIB entry of a slot, holding it while there is one. */
  setEntry(s: number, e: E): void {
    if (this.entries[s] === undefined) {
      this.holds[s]!++;
      this.size++;
    }
    this.entries[s] = e;
  }

  /** Clears the Loc-RIB entry of a slot (the slot may be freed). */
  clearEntry(s: number): void {
    if (this.entries[s] === undefined) return;
    this.entries[s] = undefined;
    this.size--;
    this.drop(s);
  }

  /** The Loc-RIB entry of `key`, if any. */
  get(key: PrefixKey): E | undefined {
    const s = this.find(key);
    return s < 0 ? undefined : this.entries[s];
  }

  /** Slots in use (prefixes known anywhere in the RIB, with or without a Loc-RIB entry). */
  get slotsInUse(): number {
    return this.used;
  }

  /**
   * A live iterator over [key, entry] of the slots with a Loc-RIB entry, in slot order from `from`; `position`
   * says where it is (the next slot it looks at), to resume it or count what it has consumed.
   */
  walk(from = 0): EntryWalk<E> {
    return new EntryWalk(this, from);
  }

  private release(s: number): void {
    // The hash of the slot's key (hashString of the key is hashRange of its bytes), to find its bucket.
    const o = s * this.stride;
    const h = hashRange(this.keyBytes, o, 1 + ((this.keyBytes[o]! + 7) >> 3));
    const buckets = this.buckets;
    const mask = this.mask;
    let i = h & mask;
    while (buckets[2 * i] !== s + 1) i = (i + 1) & mask;
    // Backward-shift deletion: move later members of the probe run into the hole when their home allows it.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const b = buckets[2 * j]!;
      if (b === 0) break;
      const bh = buckets[2 * j + 1]!;
      const home = bh & mask;
      // b stays when its home lies cyclically in (i, j]: the hole is not on its probe path.
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        buckets[2 * i] = b;
        buckets[2 * i + 1] = bh;
        i = j;
      }
    }
    buckets[2 * i] = 0;
    this.keyBytes[s * this.stride] = FREE;
    this.used--;
    this.free.push(s);
  }

  private growSlots(): void {
    const n = this.holds.length * 2;
    this.holds = grown(this.holds);
    // One new array of twice the length: grown by push, a million entries would be copied some forty times.
    const old = this.entries;
    const entries: (E | undefined)[] = new Array(n).fill(undefined);
    for (let i = 0; i < old.length; i++) entries[i] = old[i];
    this.entries = entries;
    const kb = Buffer.alloc(n * this.stride, FREE);
    this.keyBytes.copy(kb);
    this.keyBytes = kb;
  }

  /** Whether slot `s` is in use (holds a key). */
  inUse(s: number): boolean {
    return s < this.high && this.keyBytes[s * this.stride] !== FREE;
  }

  /** Rebuilds the index with `n` buckets. */
  private rehash(n: number): void {
    const old = this.buckets;
    const buckets = new Int32Array(2 * n);
    const mask = n - 1;
    for (let j = 0; j < old.length; j += 2) {
      const b = old[j]!;
      if (b === 0) continue;
      const h = old[j + 1]!;
      let i = h & mask;
      while (buckets[2 * i] !== 0) i = (i + 1) & mask;
      buckets[2 * i] = b;
      buckets[2 * i + 1] = h;
    }
    this.buckets = buckets;
    this.mask = mask;
  }
}

/** See PrefixTable.walk. */
export class EntryWalk<E> implements Iterator<[PrefixKey, E]> {
  private readonly t: PrefixTable<E>;
  position: number;
  constructor(t: PrefixTable<E>, from: number) {
    this.t = t;
    this.position = from;
  }
  next(): IteratorResult<[PrefixKey, E]> {
    const t = this.t;
    while (this.position < t.high) {
      const s = this.position++;
      const e = t.entries[s];
      if (e !== undefined) return { done: false, value: [t.key(s), e] };
    }
    return { done: true, value: undefined };
  }
  [Symbol.iterator](): this {
    return this;
  }
}
