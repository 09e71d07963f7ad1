// The prefix table of one address family: every prefix the RIB knows gets a small integer, its slot, and everything
// kept per prefix is an array indexed by slot — the Loc-RIB entry here, each Adj-RIB-Out and dirty set in rib.ts —
// instead of one JS Map per table keyed by the prefix string. For a full table (≈ 1.2 M prefixes) that means one
// hash lookup per prefix and UPDATE instead of five or six (Loc-RIB get/set, dirty add/delete, Adj-RIB-Out
// get/set), arrays of 8-byte references instead of Map entries, and no Map rehash of a million entries as it grows.
//
// The key → slot index is an open-addressing hash on an Int32Array (linear probing, load ≤ 1/2, backward-shift
// deletion so there are no tombstones), with each slot's 32-bit hash kept so that a probe compares the stored
// hash before it touches the key string.
//
// A slot lives while anything holds it: the Loc-RIB entry (one hold while the prefix has paths), each Adj-RIB-Out
// that holds a route for it, each dirty set it is queued in (rib.ts calls hold/drop). When the last hold goes, the
// key leaves the index and the slot is reused by the next new prefix. Nothing that walks slots (an initial dump,
// a route-refresh re-send, a query cursor) keeps a hold: a slot freed and reused behind such a walk is a prefix
// whose change reached the walkers' dirty sets anyway.

import type { PrefixKey } from '../wire/index.ts';

/** 32-bit FNV-1a over the key's characters (a PrefixKey is latin1: one byte per character), then a final mix. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

const INITIAL_SLOTS = 1024;

export class PrefixTable<E> {
  /** Slot → prefix key (undefined: the slot is free). */
  keys: (PrefixKey | undefined)[] = [];
  /** Slot → Loc-RIB entry (undefined: no path for the prefix). */
  entries: (E | undefined)[] = [];
  /** Slot → number of holds (see the module comment). */
  private holds = new Int32Array(INITIAL_SLOTS);
  /** Slot → hashKey(key). */
  private hashes = new Int32Array(INITIAL_SLOTS);
  /** The open-addressing index: slot + 1, or 0 for an empty bucket. */
  private buckets = new Int32Array(INITIAL_SLOTS * 2);
  private mask = INITIAL_SLOTS * 2 - 1;
  /** Slots in use (keys in the index). */
  private used = 0;
  /** Free slots below `high`, reused last-freed first. */
  private free: number[] = [];
  /** One past the highest slot ever handed out: walks over slots stop here. */
  high = 0;
  /** Number of prefixes with a Loc-RIB entry. */
  size = 0;

  /** Capacity of the slot arrays (typed arrays indexed by slot elsewhere are grown to this). */
  get capacity(): number {
    return this.holds.length;
  }

  /** The slot of `key`, or -1. */
  find(key: PrefixKey): number {
    const h = hashKey(key);
    const buckets = this.buckets;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const b = buckets[i]!;
      if (b === 0) return -1;
      const s = b - 1;
      if (this.hashes[s] === h && this.keys[s] === key) return s;
    }
  }

  /** The slot of `key`, taking a new one (with no holds) when it has none. */
  slot(key: PrefixKey): number {
    const h = hashKey(key);
    let buckets = this.buckets;
    let mask = this.mask;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const b = buckets[i]!;
      if (b === 0) break;
      const s = b - 1;
      if (this.hashes[s] === h && this.keys[s] === key) return s;
    }
    let s: number;
    if (this.free.length > 0) {
      s = this.free.pop()!;
    } else {
      s = this.high++;
      if (s >= this.holds.length) this.growSlots();
      this.keys.push(undefined);
      this.entries.push(undefined);
    }
    this.keys[s] = key;
    this.hashes[s] = h;
    this.holds[s] = 0;
    if (++this.used * 2 > buckets.length) {
      this.rehash(buckets.length * 2);
      buckets = this.buckets;
      mask = this.mask;
      for (i = h & mask; buckets[i] !== 0; i = (i + 1) & mask);
    }
    buckets[i] = s + 1;
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
    const h = this.hashes[s]!;
    const buckets = this.buckets;
    const mask = this.mask;
    let i = h & mask;
    while (buckets[i] !== s + 1) i = (i + 1) & mask;
    // Backward-shift deletion: move later members of the probe run into the hole when their home allows it.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const b = buckets[j]!;
      if (b === 0) break;
      const home = this.hashes[b - 1]! & mask;
      // b stays when its home lies cyclically in (i, j]: the hole is not on its probe path.
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        buckets[i] = b;
        i = j;
      }
    }
    buckets[i] = 0;
    this.keys[s] = undefined;
    this.used--;
    this.free.push(s);
  }

  private growSlots(): void {
    const n = this.holds.length * 2;
    const holds = new Int32Array(n);
    holds.set(this.holds);
    this.holds = holds;
    const hashes = new Int32Array(n);
    hashes.set(this.hashes);
    this.hashes = hashes;
  }

  private rehash(n: number): void {
    const buckets = new Int32Array(n);
    const mask = n - 1;
    for (let s = 0; s < this.high; s++) {
      if (this.keys[s] === undefined) continue;
      let i = this.hashes[s]! & mask;
      while (buckets[i] !== 0) i = (i + 1) & mask;
      buckets[i] = s + 1;
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
      if (e !== undefined) return { done: false, value: [t.keys[s]!, e] };
    }
    return { done: true, value: undefined };
  }
  [Symbol.iterator](): this {
    return this;
  }
}
