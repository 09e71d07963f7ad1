// The RIB: Adj-RIB-In of every peer, the Loc-RIB with the decision process, and an Adj-RIB-Out per peer with the
// pull-based UPDATE generator. Everything runs on the daemon's single serial control path; nothing here is async.
//
// Layout, chosen for a full table (≈ 1.2 M prefixes per peer) — see intern.ts for attribute sets:
//   - Every prefix has a slot in its family's PrefixTable (prefix-table.ts): per-prefix state is kept in arrays
//     indexed by slot, so one hash lookup per prefix serves the Loc-RIB, the dirty sets and every Adj-RIB-Out.
//   - The table's entries are the Loc-RIB *and* every peer's Adj-RIB-In: an Entry is the single
//     path of the prefix, or an array of its paths with the best one at index 0. A path is its interned
//     RouteSource (no object per path without Add-Path), so one peer's full table costs one Map entry per prefix.
//     The per-peer Adj-RIB-In is the set of paths whose source.peer is that peer; a per-peer count is kept, and
//     dropping a peer's routes scans the family's table once (no second per-peer map of 1.2 M entries). That
//     scan runs in slices (at most SWEEP_SLICE_MS / SWEEP_SLICE_ENTRIES each, then setImmediate), like BIRD's
//     table pruning: the peer's index is retired at once — the neighbour continues under a fresh index, so a new
//     session's routes are never mistaken for the old ones — and the old paths leave the Loc-RIB slice by slice.
//   - Per established peer and family (OutState): `adj`, slot → RouteSource last sent (what was last sent: the
//     exported form is a function of the source and the session, so the source identifies it); a dirty set of slots
//     whose best path changed since the last pull (a bitmap plus a FIFO queue, so churn coalesces); the slot
//     position of the initial dump over the Loc-RIB (no copy of the keys), and one over `adj` for a route-refresh
//     re-send.
//   - pull() turns dirty prefixes and cursor positions into announcements grouped by exported attribute set, and
//     withdrawals of what was advertised and no longer is, up to about maxBytes of encoded UPDATEs.
//   - Update groups (UpdateGroup below): once a peer's initial dump is out, peers with identical export share one
//     Adj-RIB-Out and one log of encoded UPDATEs that each reads at its own pace (twenty receivers: one encoding,
//     one Adj-RIB-Out instead of twenty).
//
// Local routes (originate) belong to peer index 0 ("local") and enter the decision process like learned ones
// (step "local-over-learned" comes after LOCAL_PREF, AS_PATH length, ORIGIN and MED; see decision.ts).

import {
  type CodecContext,
  DecodedUpdate,
  FAMILIES,
  type Family,
  formatPrefix,
  numberToIPv4,
  type PathAttributes,
  type PrefixKey,
  parseIP,
  parseIPv4,
  parsePrefix,
  prefixContains,
  type RouteBatch,
  type SlotBatch,
  type UpdateMessage,
  WireNlriBlock,
} from '../wire/index.ts';
import {
  addressSortKey,
  type BestReasonName,
  comparePaths,
  type DecisionPeer,
  rankPaths,
  selectBest,
  stepReason,
} from './decision.ts';
import { type UpdateEncoder, wireEncoder } from './encoder.ts';
import { type ExplainedRouteView, type ExplainResult, explainRanking } from './explain.ts';
import {
  canExport,
  type ExportedRoute,
  type ExportPeer,
  exportRoute,
  type LocalExport,
  localTargets,
} from './export.ts';
import { grown } from './grow.ts';
import { fmix, hashBytes } from './hash.ts';
import {
  attributesKey,
  exportedBlockBytes,
  keyPathHas,
  keyReflected,
  LOCAL_PEER,
  MAX_PEER_INDEX,
  makePath,
  type Path,
  type RouteSource,
  SourceKind,
  type SourceKindCode,
  SourceTable,
  sourceKey,
  writeExportedBlockEbgp,
} from './intern.ts';
import { type EntryWalk, PrefixTable } from './prefix-table.ts';
import {
  CursorError,
  type DecodedCursor,
  decodeCursor,
  encodeCursor,
  filterSignature,
  fromIndexOf,
  hasPathFilter,
  PathMatcher,
  type RibFilter,
  type RibPage,
  type RibSearchResult,
} from './query.ts';
import type { BestChange, LocalRoute, RibCounts, RibPeer, RibPeerSession, RouteView } from './types.ts';
import { exportedRouteView, routeView } from './view.ts';

export interface RibOptions {
  localAsn: number;
  /** Our BGP Identifier as an unsigned 32-bit number. */
  routerId: number;
  /** Route-reflection CLUSTER_ID (RFC 4456 §7); defaults to the router id. */
  clusterId?: number;
  onBestChange?: (c: BestChange) => void;
  /**
   * Called when a peer that had nothing to send gets something (once per transition), so the daemon can make its
   * session start pulling. Called synchronously from the RIB operation that caused it.
   */
  onPending?: (peerId: string) => void;
  /**
   * Called after each slice of background work (a down peer's paths being swept out of the Loc-RIB), so the
   * daemon can wake the peers that were signalled (onPending) during it.
   */
  onBackground?: () => void;
  /** Runs background slices (default setImmediate). */
  schedule?: (fn: () => void) => void;
  /** The UPDATE encoder; the wire codec's by default (tests substitute a recorder). */
  encoder?: UpdateEncoder;
  /** Share one Adj-RIB-Out and one encoded stream between peers with identical export (default true). */
  updateGroups?: boolean;
  /** A group member further behind than this in the group's log leaves the group (default GROUP_LAG_BYTES). */
  groupLagBytes?: number;
}

export interface RibQueryOptions {
  /** Exact prefix ("192.0.2.0/24"). */
  prefix?: string;
  /** Maximum number of routes returned (default 1000). A prefix's paths are never split across pages. */
  limit?: number;
  /** Continue after this prefix (the last prefix of the previous page), in table order. */
  after?: string;
}

export interface ExplainedRoute extends RouteView {
  reason: BestReasonName;
  /** Index (in the returned list) of the path this one lost to; null for the best path. */
  lost_to: number | null;
}

type Entry = Path | Path[];

/** One page of a neighbour's Adj-RIB-In or Adj-RIB-Out. */
export interface AdjRibQuery {
  /** Only this exact prefix. */
  prefix?: PrefixKey;
  /** At least one prefix, then prefixes while fewer than `limit` routes are out. */
  limit: number;
  /** Continue after this prefix (the `last` of the previous page). */
  after?: PrefixKey;
}

export interface AdjRibPage {
  total: number;
  routes: RouteView[];
  /** The last prefix returned when more follow; null on the last page. */
  last: PrefixKey | null;
}

/** A search() walk to resume: the live table iterator, and the next matching prefix it already looked at. */
interface SearchCursor {
  table: PrefixTable<Entry>;
  iter: Iterator<[PrefixKey, Entry]>;
  /** The first matching prefix of the next page (found while looking ahead), or null. */
  pending: PrefixKey | null;
  /** Table entries consumed by the iterator so far. */
  consumed: number;
}

/** A background sweep yields after this long or this many table entries, whichever comes first. */
const SWEEP_SLICE_MS = 5;
const SWEEP_SLICE_ENTRIES = 50_000;

/** How many search cursors keep their live iterator (one per client paging at the same time, roughly). */
const SEARCH_CURSORS = 64;

/** A concatenation as one flat string (a Map key kept for the source's lifetime; see intern.ts sourceKey). */
function flatString(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

function famIndex(f: Family): number {
  return f === 'ipv4-unicast' ? 0 : 1;
}

const EMPTY_BYTES = new Uint8Array(0);

const FAMILY_BY_INDEX: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

class OutState {
  readonly family: Family;
  /** What was last sent, per prefix slot (RFC 4271 §3.2 Adj-RIB-Out); each entry holds its slot. */
  adj: (RouteSource | undefined)[] = [];
  /** Number of defined entries of `adj`. */
  adjSize = 0;
  /** Slots whose best path changed since they were last looked at: a bitmap, and the same slots in FIFO order in
   * a ring (dirtySize of them from dirtyHead; each holds its slot until it is taken). The ring only grows: it is
   * filled and emptied once per pull, and an array made anew each time would be garbage as often. */
  dirtyBits = new Int32Array(0);
  private ring = new Int32Array(1024);
  private dirtyHead = 0;
  dirtySize = 0;
  /** Initial dump: the next Loc-RIB slot to look at, or -1. */
  dump = -1;
  /** Route-refresh re-send: the next `adj` slot to send again, or -1. */
  resend = -1;
  /** End-of-RIB (RFC 4724 §2) goes out once the initial dump is finished. */
  eorPending = false;
  constructor(family: Family) {
    this.family = family;
  }

  /**
   * Makes room in `adj` for slot `s`, to the prefix table's capacity at once: grown an element at a time by push,
   * a full table's array is copied into a new one some forty times on its way to a million entries.
   */
  growAdj(s: number, capacity: number): void {
    const old = this.adj;
    const next: (RouteSource | undefined)[] = new Array(Math.max(s + 1, capacity, 2 * old.length));
    for (let i = 0; i < old.length; i++) next[i] = old[i];
    next.fill(undefined, old.length);
    this.adj = next;
  }

  adjAt(s: number): RouteSource | undefined {
    return s < this.adj.length ? this.adj[s] : undefined;
  }

  /** Queues slot `s` unless it is queued already; true when it was not. */
  mark(s: number): boolean {
    const w = s >>> 5;
    if (w >= this.dirtyBits.length) this.dirtyBits = grown(this.dirtyBits, Math.max(w + 1, 1024));
    const bit = 1 << (s & 31);
    if ((this.dirtyBits[w]! & bit) !== 0) return false;
    this.dirtyBits[w]! |= bit;
    let ring = this.ring;
    if (this.dirtySize === ring.length) {
      // Full: unroll into one twice as long, oldest first.
      const next = new Int32Array(ring.length * 2);
      next.set(ring.subarray(this.dirtyHead));
      next.set(ring.subarray(0, this.dirtyHead), ring.length - this.dirtyHead);
      this.ring = ring = next;
      this.dirtyHead = 0;
    }
    ring[(this.dirtyHead + this.dirtySize) & (ring.length - 1)] = s;
    this.dirtySize++;
    return true;
  }

  /** The queued slots, oldest first. */
  queued(): number[] {
    const out: number[] = new Array(this.dirtySize);
    const mask = this.ring.length - 1;
    for (let i = 0; i < this.dirtySize; i++) out[i] = this.ring[(this.dirtyHead + i) & mask]!;
    return out;
  }

  /** The oldest queued slot, unmarked (the caller drops its hold), or -1. */
  take(): number {
    if (this.dirtySize === 0) return -1;
    const ring = this.ring;
    const s = ring[this.dirtyHead]!;
    this.dirtyHead = (this.dirtyHead + 1) & (ring.length - 1);
    this.dirtySize--;
    this.dirtyBits[s >>> 5]! &= ~(1 << (s & 31));
    return s;
  }
}

class PeerState implements DecisionPeer, ExportPeer {
  readonly idx: number;
  /** The neighbour's definition (to start it again under a fresh index, see Rib.peerDown). */
  readonly def: RibPeer;
  /** A retired index of a neighbour that went down: its paths are being swept out; nothing new comes from it. */
  retired = false;
  readonly id: string;
  readonly address: string;
  readonly asn: number;
  readonly localAsn: number;
  readonly ibgp: boolean;
  readonly routeReflectorClient: boolean;
  readonly kind: SourceKindCode;
  readonly addressKey: string;
  readonly nextHopIpv4: string | undefined;
  readonly nextHopIpv6: string | undefined;
  routerId: number;
  localAddress: string;
  selfIpv4: string | null = null;
  selfIpv6: string | null = null;
  established = false;
  codec: CodecContext | null = null;
  families: Family[] = [];
  readonly out: (OutState | null)[] = [null, null];
  /** Adj-RIB-In size per family index. */
  readonly received = [0, 0];
  /** onPending was called and the peer has not drained its output since. */
  signalled = false;
  /** Family index the next pull starts with (round robin, so one family cannot starve the other). */
  nextFamily = 0;
  /** The update group the peer reads its output from (its own `out` is then empty), or null. */
  group: UpdateGroup | null = null;
  /** Position in the group's log of the next chunk this peer sends (absolute, see UpdateGroup.start). */
  offset = 0;
  /** Encoded UPDATEs still to send before anything of its own: the unread part of a group's log it left. */
  backlog: Uint8Array[] | null = null;

  constructor(idx: number, p: RibPeer, kind: SourceKindCode) {
    this.idx = idx;
    this.def = p;
    this.id = p.id;
    this.address = p.address;
    this.asn = p.asn;
    this.localAsn = p.localAsn;
    this.ibgp = p.ibgp;
    this.routeReflectorClient = p.routeReflectorClient;
    this.kind = kind;
    this.addressKey = addressSortKey(parseIP(p.address));
    this.nextHopIpv4 = p.nextHopIpv4;
    this.nextHopIpv6 = p.nextHopIpv6;
    this.routerId = p.routerId;
    this.localAddress = p.localAddress;
  }
}

/**
 * An update group: established peers whose export is identical (same families, codec parameters, export policy
 * inputs and next hop self; no routes of their own in the Loc-RIB, so split horizon never tells them apart; no
 * local routes restricted to listed peers). One Adj-RIB-Out (the representative's `out`, a PeerState that is no
 * peer, index -1) and one log of encoded UPDATEs, which each member sends at its own pace from its own offset;
 * chunks every member has sent are dropped. A peer joins once its own initial dump is out and nothing is pending
 * for it (then its Adj-RIB-Out equals the export of every best path, as the group's does for every prefix not in
 * the group's dirty set, so only while that set is empty).
 * A member leaves (takes a copy of the group's Adj-RIB-Out and dirty set, and its unread chunks as backlog) when
 * it sends us a route, asks for a route refresh, or falls more than GROUP_LAG_BYTES behind.
 */
class UpdateGroup {
  readonly key: string;
  readonly rep: PeerState;
  readonly members: PeerState[] = [];
  /** Encoded UPDATEs not yet sent by every member; chunks[i] has absolute position start + i. */
  chunks: Uint8Array[] = [];
  /** Bytes before chunks[i] since the group began (parallel to chunks), to measure a member's lag. */
  cum: number[] = [];
  start = 0;
  totalBytes = 0;
  constructor(key: string, rep: PeerState) {
    this.key = key;
    this.rep = rep;
  }
  get end(): number {
    return this.start + this.chunks.length;
  }
  append(m: Uint8Array): void {
    this.chunks.push(m);
    this.cum.push(this.totalBytes);
    this.totalBytes += m.length;
  }
  /** Bytes of the log a member at `offset` has not sent yet. */
  unread(offset: number): number {
    const i = offset - this.start;
    return i >= this.chunks.length ? 0 : this.totalBytes - this.cum[i]!;
  }
  /** Drops the chunks every member has sent (in batches, as splice is linear). */
  trim(): void {
    let min = this.end;
    for (const m of this.members) if (m.offset < min) min = m.offset;
    const k = min - this.start;
    if (k <= 0 || (k < 256 && k < this.chunks.length)) return;
    if (k === this.chunks.length) {
      this.chunks = [];
      this.cum = [];
    } else {
      this.chunks.splice(0, k);
      this.cum.splice(0, k);
    }
    this.start = min;
  }
}

/** A member further behind than this in its group's log leaves the group (the rest go on without waiting). */
const GROUP_LAG_BYTES = 32 * 1024 * 1024;

/** The identity of a peer's export: peers with the same key receive the same UPDATEs. */
function groupKey(p: PeerState): string {
  const c = p.codec!;
  const sets = (x: ReadonlySet<Family>): string => [...x].sort().join(',');
  return [
    p.families.join(','),
    c.asn4,
    sets(c.addPathTx),
    c.maxMessageSize,
    sets(c.extendedNextHop),
    p.ibgp,
    p.routeReflectorClient,
    p.kind,
    p.localAsn,
    p.selfIpv4,
    p.selfIpv6,
  ].join('|');
}

/**
 * Announcements (grouped by source) and withdrawals of one family, gathered during one pull. Announcements are
 * kept as prefix slots chained per source in typed arrays (no array per source growing by push, no key string
 * until the batch is built, each list then made at its exact length); an announced slot is held by the
 * Adj-RIB-Out entry just set, so it still names its prefix at flush time.
 *
 * Everything is reused from pull to pull: a JS Map from source to index, cleared every pull, would grow its table
 * again in every pull (garbage for each new source of a full table). Sources are found through an open-addressing
 * index of their own instead, and for direct export (Rib.flush) the exported attribute blocks are grouped by their
 * bytes the same way, each distinct block kept once in a byte arena.
 */
class Collector {
  /** Sources announced in this pull ([0, sourceCount)), in order of first announcement. */
  readonly sources: (RouteSource | undefined)[] = [];
  sourceCount = 0;
  /** Source index: j + 1 of the source whose sourceHash lands there (linear probing), 0 for none; load ≤ 1/2. */
  private buckets: Int32Array = new Int32Array(512);
  /** Per source: its hash and bucket (to clear the index), prefix count, chain ends, next source of its group. */
  private hashes: Int32Array = new Int32Array(256);
  private bucketOf: Int32Array = new Int32Array(256);
  private counts: Int32Array = new Int32Array(256);
  private firsts: Int32Array = new Int32Array(256);
  private lasts: Int32Array = new Int32Array(256);
  private nextInGroup: Int32Array = new Int32Array(256);
  /** Announced slots in order, and each one's successor in its source's chain (-1 at the end). */
  private slots: Int32Array = new Int32Array(4096);
  private nexts: Int32Array = new Int32Array(4096);
  private n = 0;
  /** The last source announced and its index: a table's prefixes of one UPDATE sit in consecutive slots, so most
   * announcements skip the index. */
  private lastSrc: RouteSource | null = null;
  private lastIdx = -1;
  withdrawn: PrefixKey[] = [];
  estimate = 0;
  perPrefix = 0;

  /** Direct-export groups ([0, groupCount)) in order of first appearance: block bytes in `arena`, member sources
   * chained through nextInGroup, and the index of blocks (g + 1 by hashBytes of the block, linear probing). */
  groupCount = 0;
  arena: Uint8Array = new Uint8Array(65536);
  private arenaUsed = 0;
  private gStart: Int32Array = new Int32Array(256);
  private gLength: Int32Array = new Int32Array(256);
  private gHash: Int32Array = new Int32Array(256);
  private gBucket: Int32Array = new Int32Array(256);
  private gFirst: Int32Array = new Int32Array(256);
  private gLast: Int32Array = new Int32Array(256);
  private gCount: Int32Array = new Int32Array(256);
  private gBuckets: Int32Array = new Int32Array(512);

  reset(addPath: boolean): void {
    for (let j = 0; j < this.sourceCount; j++) {
      this.buckets[this.bucketOf[j]!] = 0;
      this.sources[j] = undefined;
    }
    for (let g = 0; g < this.groupCount; g++) this.gBuckets[this.gBucket[g]!] = 0;
    this.sourceCount = 0;
    this.groupCount = 0;
    this.arenaUsed = 0;
    this.n = 0;
    this.lastSrc = null;
    if (this.withdrawn.length > 0) this.withdrawn = [];
    this.estimate = 0;
    this.perPrefix = addPath ? 4 : 0;
  }

  /** The index of `src` in this pull, adding it when it is new. */
  private indexOf(src: RouteSource): number {
    const h = sourceHash(src);
    const buckets = this.buckets;
    const mask = buckets.length - 1;
    let i = h & mask;
    for (let b = buckets[i]!; b !== 0; i = (i + 1) & mask, b = buckets[i]!) {
      if (this.sources[b - 1] === src) return b - 1;
    }
    const j = this.sourceCount++;
    if (j === this.counts.length) {
      this.hashes = grown(this.hashes);
      this.bucketOf = grown(this.bucketOf);
      this.counts = grown(this.counts);
      this.firsts = grown(this.firsts);
      this.lasts = grown(this.lasts);
      this.nextInGroup = grown(this.nextInGroup);
    }
    if (j < this.sources.length) this.sources[j] = src;
    else this.sources.push(src);
    this.hashes[j] = h;
    this.counts[j] = 0;
    this.firsts[j] = -1;
    this.estimate += estimateAttributes(src);
    if (2 * (j + 1) > buckets.length) {
      this.rehashSources(buckets.length * 2);
    } else {
      buckets[i] = j + 1;
      this.bucketOf[j] = i;
    }
    return j;
  }

  private rehashSources(size: number): void {
    const buckets = new Int32Array(size);
    const mask = size - 1;
    for (let j = 0; j < this.sourceCount; j++) {
      let i = this.hashes[j]! & mask;
      while (buckets[i] !== 0) i = (i + 1) & mask;
      buckets[i] = j + 1;
      this.bucketOf[j] = i;
    }
    this.buckets = buckets;
  }

  /** `keyLength`: the prefix key's length (its share of the pull budget). */
  announce(src: RouteSource, slot: number, keyLength: number): void {
    let j = this.lastIdx;
    if (src !== this.lastSrc) {
      j = this.indexOf(src);
      this.lastSrc = src;
      this.lastIdx = j;
    }
    const i = this.n++;
    if (i === this.slots.length) {
      this.slots = grown(this.slots);
      this.nexts = grown(this.nexts);
    }
    this.slots[i] = slot;
    this.nexts[i] = -1;
    if (this.firsts[j] === -1) this.firsts[j] = i;
    else this.nexts[this.lasts[j]!] = i;
    this.lasts[j] = i;
    this.counts[j]!++;
    this.estimate += keyLength + this.perPrefix;
  }

  /** The prefixes announced with the `j`th source, in the order they were announced. */
  prefixesOf(j: number, table: PrefixTable<Entry>): PrefixKey[] {
    const out: PrefixKey[] = new Array(this.counts[j]!);
    let k = 0;
    for (let i = this.firsts[j]!; i !== -1; i = this.nexts[i]!) out[k++] = table.key(this.slots[i]!);
    return out;
  }

  withdraw(key: PrefixKey): void {
    if (this.withdrawn.length === 0) this.estimate += 30;
    this.withdrawn.push(key);
    this.estimate += key.length + this.perPrefix;
  }

  /** Puts the `j`th source in the direct-export group of the exported block b[0, len), a new one if none has it. */
  group(j: number, b: Buffer, len: number): void {
    const h = hashBytes(b, len);
    const gBuckets = this.gBuckets;
    const mask = gBuckets.length - 1;
    let i = h & mask;
    for (let x = gBuckets[i]!; x !== 0; i = (i + 1) & mask, x = gBuckets[i]!) {
      const g = x - 1;
      if (this.gHash[g] === h && this.gLength[g] === len && this.sameBlock(g, b, len)) {
        this.nextInGroup[this.gLast[g]!] = j;
        this.nextInGroup[j] = -1;
        this.gLast[g] = j;
        this.gCount[g]! += this.counts[j]!;
        return;
      }
    }
    const g = this.groupCount++;
    if (g === this.gStart.length) {
      this.gStart = grown(this.gStart);
      this.gLength = grown(this.gLength);
      this.gHash = grown(this.gHash);
      this.gBucket = grown(this.gBucket);
      this.gFirst = grown(this.gFirst);
      this.gLast = grown(this.gLast);
      this.gCount = grown(this.gCount);
    }
    if (this.arenaUsed + len > this.arena.length) this.arena = grown(this.arena, this.arenaUsed + len);
    const a = this.arena;
    const start = this.arenaUsed;
    b.copy(a, start, 0, len); // natively: faster than a byte loop, and no view to copy from
    this.arenaUsed += len;
    this.gStart[g] = start;
    this.gLength[g] = len;
    this.gHash[g] = h;
    this.gFirst[g] = j;
    this.gLast[g] = j;
    this.gCount[g] = this.counts[j]!;
    this.nextInGroup[j] = -1;
    if (2 * (g + 1) > gBuckets.length) {
      this.rehashGroups(gBuckets.length * 2);
    } else {
      gBuckets[i] = g + 1;
      this.gBucket[g] = i;
    }
  }

  private sameBlock(g: number, b: Uint8Array, len: number): boolean {
    const a = this.arena;
    const start = this.gStart[g]!;
    for (let k = 0; k < len; k++) if (a[start + k] !== b[k]) return false;
    return true;
  }

  private rehashGroups(size: number): void {
    const buckets = new Int32Array(size);
    const mask = size - 1;
    for (let g = 0; g < this.groupCount; g++) {
      let i = this.gHash[g]! & mask;
      while (buckets[i] !== 0) i = (i + 1) & mask;
      buckets[i] = g + 1;
      this.gBucket[g] = i;
    }
    this.gBuckets = buckets;
  }

  /**
   * Points `batch` at the `g`th direct-export group: its block in the arena, and its prefix slots (its sources'
   * chains, in source order: the order the prefixes were announced in, source by source) in batch.slots.
   */
  fillGroup(g: number, batch: SlotBatch): void {
    const count = this.gCount[g]!;
    if (batch.slots.length < count) batch.slots = new Int32Array(Math.max(count, 2 * batch.slots.length));
    const out = batch.slots;
    let k = 0;
    for (let j = this.gFirst[g]!; j !== -1; j = this.nextInGroup[j]!) {
      for (let i = this.firsts[j]!; i !== -1; i = this.nexts[i]!) out[k++] = this.slots[i]!;
    }
    batch.count = count;
    batch.block = this.arena;
    batch.blockStart = this.gStart[g]!;
    batch.blockEnd = this.gStart[g]! + this.gLength[g]!;
  }
}

/**
 * The Collector's hash of a source: its identity is what is looked up, so this only spreads sources over the index.
 * Sixteen characters of the interning key, spread over it, and its length: cheaper than hashing the whole key, and
 * sources of one pull differ nearly always in their AS_PATH or communities, which those samples catch.
 */
function sourceHash(src: RouteSource): number {
  const k = src.key;
  const n = k.length;
  const step = (n >> 4) + 1;
  let h = n;
  for (let i = 0; i < n; i += step) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  return fmix(h, n);
}

/** Rough encoded size of an UPDATE header plus the attributes of `src` (for the pull budget): header and
 * section lengths, ORIGIN, NEXT_HOP (MP_REACH for IPv6), the AS_PATH with our AS at 4 octets per ASN, and the key
 * for the rest (it stores numbers in fewer bytes than the wire, so this errs on the large side only a little). */
function estimateAttributes(src: RouteSource): number {
  return 40 + 4 * (src.asPathLength + 1) + src.key.length + (src.family === 'ipv6-unicast' ? 24 : 0);
}

/**
 * Interning keys of local routes remembered by attributes object (and family and next hop), for Rib.originate of many
 * routes that share a few attribute objects. The objects must not change while the cache is in use.
 */
export class OriginateKeys {
  private readonly byAttributes = new Map<PathAttributes, { family: Family; nextHop: string; key: string }[]>();

  key(a: PathAttributes, localPref: number, family: Family, nextHop: string): string {
    let list = this.byAttributes.get(a);
    if (list === undefined) {
      list = [];
      this.byAttributes.set(a, list);
    }
    for (const e of list) if (e.family === family && e.nextHop === nextHop) return e.key;
    const key = sourceKey(a, localPref, LOCAL_PEER, family, nextHop, undefined);
    list.push({ family, nextHop, key });
    return key;
  }
}

export class Rib {
  private readonly localAsn: number;
  private readonly routerId: number;
  private readonly routerIdText: string;
  private readonly clusterIdText: string;
  private readonly clusterId: number;
  /** Mutable (setBestChangeListener): views are built per change only while someone listens. */
  private onBestChange: ((c: BestChange) => void) | undefined;
  private readonly onPending: ((peerId: string) => void) | undefined;
  private readonly encoder: UpdateEncoder;
  private readonly sources = new SourceTable();
  private readonly tables: PrefixTable<Entry>[] = [new PrefixTable(4), new PrefixTable(16)];
  private readonly pathCount = [0, 0];
  /** Peers by index; index 0 is "local". Holes are reused. */
  private readonly peers: (PeerState | undefined)[] = [];
  private readonly byId = new Map<string, PeerState>();
  private readonly established: PeerState[] = [];
  private readonly collector = new Collector();
  private lastSelfText = '';
  private lastSelfBytes: Uint8Array | null = null;
  /** The direct-export batch handed to the encoder, filled again for each group (see flush). */
  private readonly slotBatch: SlotBatch = {
    family: 'ipv4-unicast',
    nextHop: '',
    block: EMPTY_BYTES,
    blockStart: 0,
    blockEnd: 0,
    keys: EMPTY_BYTES,
    stride: 1,
    slots: new Int32Array(1024),
    count: 0,
    pathId: 1,
  };
  private queryCursor: { family: Family; lastKey: PrefixKey; iter: Iterator<[PrefixKey, Entry]> } | null = null;
  /** Export restrictions of local sources that have any (LocalRoute.targets / prependToEbgp); null until one does. */
  private localExports: WeakMap<RouteSource, LocalExport> | null = null;
  /** The live iterator of the last adjRibIn/adjRibOut page, to continue from (adjPage). */
  private adjCursor: { tag: string; lastKey: PrefixKey; iter: Iterator<PrefixKey>; pending: PrefixKey | null } | null =
    null;
  /** Live iterators of recent search() cursors (query.ts), oldest first; at most SEARCH_CURSORS. */
  private readonly searchCursors = new Map<string, SearchCursor>();
  /** Retired peers' paths still to remove, one table walk per (peer, family), in order. */
  private readonly sweeps: { peer: PeerState; f: number; iter: EntryWalk<Entry> }[] = [];
  private sweepScheduled = false;
  private readonly onBackground: (() => void) | undefined;
  private readonly schedule: (fn: () => void) => void;
  /** The same groups as a list (walked once per best-path change: no iterator per prefix). */
  private readonly groupList: UpdateGroup[] = [];
  /** Update groups by groupKey; empty when disabled. */
  private readonly groups = new Map<string, UpdateGroup>();
  private updateGroups: boolean;
  private readonly groupLagBytes: number;

  constructor(opts: RibOptions) {
    this.localAsn = opts.localAsn;
    this.routerId = opts.routerId >>> 0;
    this.routerIdText = numberToIPv4(this.routerId);
    this.clusterId = (opts.clusterId ?? opts.routerId) >>> 0;
    this.clusterIdText = numberToIPv4(this.clusterId);
    this.onBestChange = opts.onBestChange;
    this.onPending = opts.onPending;
    this.onBackground = opts.onBackground;
    this.schedule = opts.schedule ?? setImmediate;
    this.encoder = opts.encoder ?? wireEncoder;
    this.updateGroups = opts.updateGroups ?? true;
    this.groupLagBytes = opts.groupLagBytes ?? GROUP_LAG_BYTES;
    const local = new PeerState(
      LOCAL_PEER,
      {
        id: 'local',
        address: 'local',
        asn: opts.localAsn,
        localAsn: opts.localAsn,
        routerId: this.routerId,
        ibgp: false,
        routeReflectorClient: false,
        localAddress: '',
      },
      SourceKind.LOCAL,
    );
    this.peers.push(local);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Peers

  addPeer(p: RibPeer): void {
    if (this.byId.has(p.id) || p.id === 'local') throw new Error(`peer ${p.id} already exists`);
    // Indexes are not reused (an Adj-RIB-Out may still hold a removed peer's sources until it is pulled) until
    // MAX_PEER_INDEX of them have been handed out (newIndex).
    const idx = this.newIndex();
    const peer = new PeerState(idx, p, p.ibgp ? SourceKind.IBGP : SourceKind.EBGP);
    this.peers[idx] = peer;
    this.byId.set(p.id, peer);
  }

  /**
   * A peer index never used before — or, once MAX_PEER_INDEX indexes have been handed out (a neighbour gets a fresh
   * one each time a session with routes goes down, so after millions of flaps), the lowest free one: its old
   * paths have all been swept from the Loc-RIB by then; only an Adj-RIB-Out entry not yet pulled may still name it.
   */
  private newIndex(): number {
    if (this.peers.length <= MAX_PEER_INDEX) return this.peers.length;
    for (let i = LOCAL_PEER + 1; i < this.peers.length; i++) if (this.peers[i] === undefined) return i;
    throw new Error(`more than ${MAX_PEER_INDEX} neighbours at once`);
  }

  /** Removes a peer, withdrawing everything learned from it. */
  removePeer(id: string): void {
    if (!this.byId.has(id)) return;
    this.peerDown(id);
    const peer = this.byId.get(id)!;
    this.byId.delete(id);
    this.peers[peer.idx] = undefined;
  }

  /** The peer reached Established: queue the initial export of the Loc-RIB, then End-of-RIB per family. */
  peerUp(id: string, s: RibPeerSession & { localAddress: string; routerId: number }): void {
    const peer = this.peer(id);
    if (peer.established) this.dropOut(peer);
    peer.localAddress = s.localAddress;
    peer.routerId = s.routerId >>> 0;
    peer.codec = s.codec;
    peer.families = FAMILIES.filter((f) => s.families.includes(f));
    // Next hop self per family. A session over IPv6 has no IPv4 next hop of its own unless the peer negotiated
    // RFC 8950 extended next hop; a session over IPv4 sends IPv6 routes with the IPv4-mapped address.
    let local = s.localAddress;
    if (local.startsWith('::ffff:') && local.includes('.')) local = local.slice(7);
    const v6 = local.includes(':');
    let self4: string | null = null;
    let self6: string | null = null;
    if (local !== '') {
      self4 = !v6 || s.codec.extendedNextHop.has('ipv4-unicast') ? local : null;
      self6 = v6 ? local : `::ffff:${local}`;
    }
    peer.selfIpv4 = peer.nextHopIpv4 ?? self4;
    peer.selfIpv6 = peer.nextHopIpv6 ?? self6;
    for (const f of peer.families) {
      const st = new OutState(f);
      st.dump = 0;
      st.eorPending = true;
      peer.out[famIndex(f)] = st;
    }
    peer.established = true;
    this.established.push(peer);
    this.signal(peer);
  }

  /**
   * The session left Established: its Adj-RIB-Out is dropped and its paths leave the Loc-RIB. A small Adj-RIB-In
   * goes at once; a large one is swept in slices from the event loop (`sweeping` says whether any is left; the
   * neighbour's own counts and Adj-RIB-In read as empty at once).
   */
  peerDown(id: string): void {
    const peer = this.peer(id);
    if (peer.established) this.dropOut(peer);
    if (peer.received[0] === 0 && peer.received[1] === 0) return;
    // Retire the index: the old paths keep it until swept; the neighbour continues under a fresh one.
    const fresh = new PeerState(this.newIndex(), peer.def, peer.kind);
    fresh.routerId = peer.routerId;
    fresh.localAddress = peer.localAddress;
    this.peers[fresh.idx] = fresh;
    this.byId.set(id, fresh);
    peer.retired = true;
    for (let f = 0; f < 2; f++) {
      if (peer.received[f]! > 0) this.sweeps.push({ peer, f, iter: this.tables[f]!.walk() });
    }
    // The first slice runs now (a small table is done at once); the rest from the event loop.
    if (!this.sweepSlice()) this.scheduleSweep();
  }

  /** Whether retired peers' paths are still being swept out of the Loc-RIB. */
  get sweeping(): boolean {
    return this.sweeps.length > 0;
  }

  private scheduleSweep(): void {
    if (this.sweepScheduled) return;
    this.sweepScheduled = true;
    this.schedule(() => {
      this.sweepScheduled = false;
      const done = this.sweepSlice();
      if (!done) this.scheduleSweep();
      this.onBackground?.();
    });
  }

  /** Removes retired paths for at most one slice; true when no sweep is left. */
  private sweepSlice(): boolean {
    const deadline = performance.now() + SWEEP_SLICE_MS;
    let n = 0;
    while (this.sweeps.length > 0) {
      const job = this.sweeps[0]!;
      const { peer, f } = job;
      while (peer.received[f]! > 0) {
        const r = job.iter.next();
        if (r.done) break;
        const key = r.value[0];
        const cur = r.value[1];
        if (!Array.isArray(cur)) {
          if (cur.src.peer === peer.idx) this.withdrawPath(peer, f, key, cur.pathId);
        } else {
          // Several paths of this peer may be here (Add-Path).
          const ids: number[] = [];
          for (const p of cur) if (p.src.peer === peer.idx) ids.push(p.pathId);
          for (const id of ids) this.withdrawPath(peer, f, key, id);
        }
        if (++n >= SWEEP_SLICE_ENTRIES || ((n & 255) === 0 && performance.now() >= deadline)) return false;
      }
      this.sweeps.shift();
      // Once every family of a retired peer is swept, its index is free (an Adj-RIB-Out may still hold its
      // sources until pulled: lookups fall back to the local peer, as for a removed peer).
      if (!this.sweeps.some((j) => j.peer === peer)) this.peers[peer.idx] = undefined;
    }
    return true;
  }

  private dropOut(peer: PeerState): void {
    const g = peer.group;
    if (g !== null) {
      peer.group = null;
      g.members.splice(g.members.indexOf(peer), 1);
      if (g.members.length === 0) this.dissolve(g);
      else g.trim();
    }
    peer.backlog = null;
    for (let f = 0; f < 2; f++) {
      const st = peer.out[f];
      if (st === null || st === undefined) continue;
      this.clearOut(f, st);
      peer.out[f] = null;
    }
    peer.established = false;
    peer.signalled = false;
    peer.codec = null;
    peer.families = [];
    const i = this.established.indexOf(peer);
    if (i >= 0) this.established.splice(i, 1);
  }

  /** The Adj-RIB-Out state a peer's output comes from: its own, or its update group's. */
  private outOf(peer: PeerState, f: number): OutState | null | undefined {
    return peer.group === null ? peer.out[f] : peer.group.rep.out[f];
  }

  private peer(id: string): PeerState {
    const p = this.byId.get(id);
    if (p === undefined) throw new Error(`unknown peer ${id}`);
    return p;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Input

  applyUpdate(id: string, msg: UpdateMessage): void {
    const peer = this.peer(id);
    // A peer with routes of its own must not get them back (split horizon): it leaves its update group.
    if (peer.group !== null && msg.announced.length > 0) this.leaveGroup(peer);
    for (const b of msg.withdrawn) {
      const f = famIndex(b.family);
      for (let i = 0; i < b.prefixes.length; i++) this.withdrawPath(peer, f, b.prefixes[i]!, b.pathIds?.[i] ?? 0);
    }
    if (msg.announced.length === 0) return;
    // A decoded UPDATE: interned from the key bytes the decoder wrote, no attribute object.
    if (msg instanceof DecodedUpdate && msg.attrKeyBuf !== null && !msg.treatAsWithdraw) {
      this.applyKeyed(peer, msg, msg.attrKeyBuf);
      return;
    }
    const attrs = msg.attributes;
    // RFC 7606 treat-as-withdraw, and routes that fail the import checks: whatever the peer had sent before for
    // these prefixes is gone, and the new route is not stored (RFC 4271 §9.1.2: excluded from the decision).
    if (msg.treatAsWithdraw || attrs === null || !this.importable(peer, attrs)) {
      for (const b of msg.announced) {
        const f = famIndex(b.family);
        for (let i = 0; i < b.prefixes.length; i++) this.withdrawPath(peer, f, b.prefixes[i]!, b.pathIds?.[i] ?? 0);
      }
      return;
    }
    // RFC 4271 §5.1.5 / RFC 7606 §7.5: LOCAL_PREF from an eBGP peer is ignored; the route gets the default.
    const localPref = peer.ibgp ? attrs.localPref : 100;
    for (const b of msg.announced) {
      const f = famIndex(b.family);
      // The key string is made only for a new attribute set (intern.ts).
      const src = this.sources.internAttributes(
        attrs,
        localPref,
        peer.idx,
        peer.kind,
        b.family,
        b.nextHop,
        b.nextHopLinkLocal,
      );
      for (let i = 0; i < b.prefixes.length; i++) {
        this.announcePath(peer, f, b.prefixes[i]!, b.pathIds?.[i] ?? 0, src);
      }
      this.sources.dropIfUnused(src);
    }
  }

  /** applyUpdate's announcements given the attribute key of a decoded UPDATE. */
  private applyKeyed(peer: PeerState, msg: DecodedUpdate, kb: Uint8Array): void {
    // importable's checks, on the key: RFC 4271 §9.1.2 (our own AS in the AS_PATH: a loop), RFC 4456 §8.
    if (
      keyPathHas(kb, msg.attrKeyStart, this.localAsn, peer.localAsn) ||
      (peer.ibgp && keyReflected(kb, msg.attrKeyStart, this.routerIdText, this.clusterIdText))
    ) {
      for (const b of msg.announced) {
        const f = famIndex(b.family);
        for (let i = 0; i < b.prefixes.length; i++) this.withdrawPath(peer, f, b.prefixes[i]!, b.pathIds?.[i] ?? 0);
      }
      return;
    }
    for (const b of msg.announced) {
      const f = famIndex(b.family);
      // RFC 4271 §5.1.5 / RFC 7606 §7.5: LOCAL_PREF from an eBGP peer is ignored; the route gets the default. An
      // iBGP route keeps its own (the key as decoded).
      const ibgp = peer.ibgp;
      const src = this.sources.internKey(
        kb,
        msg.attrKeyStart,
        msg.attrKeyEnd,
        ibgp ? msg.attrKeyEnd : msg.attrKeyLpAt,
        ibgp ? msg.attrKeyEnd : msg.attrKeyLpEnd,
        ibgp ? undefined : 100,
        peer.idx,
        peer.kind,
        b.family,
        b.nextHop,
        b.nextHopLinkLocal,
      );
      if (b instanceof WireNlriBlock && !b.decoded) {
        // The prefixes as the decoder copied them (canonical key bytes, each after its path id with Add-Path):
        // straight into the prefix table, no string per prefix.
        const table = this.tables[f]!;
        const raw = b.raw;
        const end = b.rawEnd;
        const addPath = b.addPath;
        for (let p = b.rawStart; p < end; ) {
          let id = 0;
          if (addPath) {
            id = ((raw[p]! << 24) | (raw[p + 1]! << 16) | (raw[p + 2]! << 8) | raw[p + 3]!) >>> 0;
            p += 4;
          }
          const n = 1 + ((raw[p]! + 7) >> 3);
          this.announceSlot(peer, f, table.slotAt(raw, p, n), id, src);
          p += n;
        }
      } else {
        for (let i = 0; i < b.prefixes.length; i++) {
          this.announcePath(peer, f, b.prefixes[i]!, b.pathIds?.[i] ?? 0, src);
        }
      }
      this.sources.dropIfUnused(src);
    }
  }

  /** Import checks on the attributes of one UPDATE. */
  private importable(peer: PeerState, a: PathAttributes): boolean {
    // RFC 4271 §9.1.2: a route whose AS_PATH holds our own AS is a loop.
    for (const seg of a.asPath) {
      for (const asn of seg.asns) if (asn === this.localAsn || asn === peer.localAsn) return false;
    }
    if (peer.ibgp) {
      // RFC 4456 §8: our own route reflected back to us, or a route that went round the cluster.
      if (a.originatorId !== undefined && a.originatorId === this.routerIdText) return false;
      if (a.clusterList?.includes(this.clusterIdText)) return false;
    }
    return true;
  }

  /**
   * Adds or replaces the local route for a prefix (peer "local"; LOCAL_PREF 100 unless set). `keys`, when many
   * routes share attribute objects (a batch of injected routes), saves serialising the same attributes per route.
   */
  originate(r: LocalRoute, keys?: OriginateKeys): void {
    const local = this.peers[LOCAL_PEER]!;
    const a = r.attributes;
    const localPref = a.localPref ?? 100;
    let key =
      keys === undefined
        ? sourceKey(a, localPref, LOCAL_PEER, r.family, r.nextHop, undefined)
        : keys.key(a, localPref, r.family, r.nextHop);
    const prepend = r.prependToEbgp ?? 0;
    const restricted = r.targets !== undefined || prepend > 0;
    if (restricted) {
      // The restrictions are part of the source's identity: the same attributes for other peers are another source.
      const targets = r.targets === undefined ? '*' : [...new Set(r.targets)].sort().join(',');
      key = flatString(`${key}\x00T${targets}\x00P${prepend}`);
    }
    const src = this.sources.intern(key, LOCAL_PEER, SourceKind.LOCAL, r.family, a, r.nextHop, undefined, localPref);
    if (r.targets !== undefined && this.updateGroups) {
      // Export now depends on the peer's id: no more update groups (rare: ExaBGP-style targeted routes).
      this.updateGroups = false;
      for (const g of [...this.groups.values()]) for (const m of [...g.members]) this.leaveGroup(m);
    }
    if (restricted) {
      // A WeakMap: the entry goes with the source once the SourceTable drops it; routes without restrictions
      // (nearly all) are never looked up (localExports stays null until the first restricted route).
      this.localExports ??= new WeakMap();
      this.localExports.set(src, {
        targets: r.targets === undefined ? null : new Set(r.targets),
        prependToEbgp: prepend,
      });
    }
    this.announcePath(local, famIndex(r.family), r.prefix, 0, src);
    this.sources.dropIfUnused(src);
  }

  /** The export restrictions of a source (local routes with targets or a prepend), if any. */
  private localExportOf(src: RouteSource): LocalExport | undefined {
    return this.localExports === null || src.peer !== LOCAL_PEER ? undefined : this.localExports.get(src);
  }

  withdrawLocal(family: Family, prefix: PrefixKey): void {
    this.withdrawPath(this.peers[LOCAL_PEER]!, famIndex(family), prefix, 0);
  }

  private announcePath(peer: PeerState, f: number, key: PrefixKey, pathId: number, src: RouteSource): void {
    this.announceSlot(peer, f, this.tables[f]!.slot(key), pathId, src);
  }

  /** announcePath of the prefix in slot `s` (taken by slot() or slotAt(), held or not yet). */
  private announceSlot(peer: PeerState, f: number, s: number, pathId: number, src: RouteSource): void {
    const table = this.tables[f]!;
    const cur = table.entries[s];
    const path = makePath(src, pathId);
    if (cur === undefined) {
      table.setEntry(s, path);
      src.refs++;
      peer.received[f]!++;
      this.pathCount[f]!++;
      this.bestChanged(f, s, undefined, path);
      return;
    }
    if (!Array.isArray(cur)) {
      if (cur.src.peer === peer.idx && cur.pathId === pathId) {
        if (cur.src === src) return; // the same route again
        table.entries[s] = path;
        src.refs++;
        this.sources.release(cur.src);
        this.bestChanged(f, s, cur, path);
        return;
      }
      src.refs++;
      peer.received[f]!++;
      this.pathCount[f]!++;
      if (comparePaths(path, cur, this.peers) < 0) {
        table.entries[s] = [path, cur];
        this.bestChanged(f, s, cur, path);
      } else {
        table.entries[s] = [cur, path];
      }
      return;
    }
    const oldBest = cur[0]!;
    let i = 0;
    while (i < cur.length && !(cur[i]!.src.peer === peer.idx && cur[i]!.pathId === pathId)) i++;
    if (i < cur.length) {
      const old = cur[i]!;
      if (old.src === src) return;
      cur[i] = path;
      this.sources.release(old.src);
    } else {
      cur.push(path);
      peer.received[f]!++;
      this.pathCount[f]!++;
    }
    src.refs++;
    this.reselect(f, s, cur, oldBest);
  }

  private withdrawPath(peer: PeerState, f: number, key: PrefixKey, pathId: number): void {
    const table = this.tables[f]!;
    const s = table.find(key);
    if (s < 0) return;
    const cur = table.entries[s];
    if (cur === undefined) return;
    if (!Array.isArray(cur)) {
      if (cur.src.peer !== peer.idx || cur.pathId !== pathId) return;
      // Marked dirty before the entry goes, so that the dirty holds keep the slot (and its key) for the withdrawal.
      this.bestChanged(f, s, cur, undefined);
      table.clearEntry(s);
      this.removed(peer, f, cur);
      return;
    }
    let i = 0;
    while (i < cur.length && !(cur[i]!.src.peer === peer.idx && cur[i]!.pathId === pathId)) i++;
    if (i === cur.length) return;
    const old = cur[i]!;
    const oldBest = cur[0]!;
    if (cur.length === 2) {
      const remaining = cur[1 - i]!;
      table.entries[s] = remaining;
      this.removed(peer, f, old);
      if (i === 0) this.bestChanged(f, s, old, remaining);
      return;
    }
    cur[i] = cur[cur.length - 1]!;
    cur.pop();
    this.removed(peer, f, old);
    if (i === 0) this.reselect(f, s, cur, oldBest);
  }

  private removed(peer: PeerState, f: number, path: Path): void {
    peer.received[f]!--;
    this.pathCount[f]!--;
    this.sources.release(path.src);
  }

  /** Re-runs the decision over a multi-path entry, moves the winner to index 0, reports a change. */
  private reselect(f: number, s: number, paths: Path[], oldBest: Path): void {
    const b = selectBest(paths, this.peers);
    if (b !== 0) {
      const t = paths[0]!;
      paths[0] = paths[b]!;
      paths[b] = t;
    }
    this.bestChanged(f, s, oldBest, paths[0]);
  }

  /** A prefix's best path may have changed: mark it dirty for the peers that may need an UPDATE. */
  private bestChanged(f: number, s: number, oldBest: Path | undefined, newBest: Path | undefined): void {
    const os = oldBest?.src;
    const ns = newBest?.src;
    if (os === ns) return;
    const table = this.tables[f]!;
    const est = this.established;
    for (let i = 0; i < est.length; i++) {
      const p = est[i]!;
      const st = p.out[f];
      if (st === null || st === undefined) continue;
      // Neither the old nor the new best goes to this peer (split horizon, iBGP rules, communities): nothing to
      // tell it. Sound because a prefix is either dirty or its Adj-RIB-Out entry is the export of the best path
      // as of its last change; with twenty iBGP senders this keeps 20 dirty sets (and pulls) empty.
      if ((os === undefined || !this.exportable(os, p)) && (ns === undefined || !this.exportable(ns, p))) continue;
      if (st.mark(s)) table.hold(s);
      if (!p.signalled) this.signal(p);
    }
    const groups = this.groupList;
    if (groups.length > 0) {
      for (let i = 0; i < groups.length; i++) {
        const g = groups[i]!;
        const st = g.rep.out[f];
        if (st === null || st === undefined) continue;
        const r = g.rep;
        if ((os === undefined || !this.exportable(os, r)) && (ns === undefined || !this.exportable(ns, r))) continue;
        if (st.mark(s)) table.hold(s);
        const ms = g.members;
        for (let k = 0; k < ms.length; k++) if (!ms[k]!.signalled) this.signal(ms[k]!);
      }
    }
    if (this.onBestChange !== undefined) {
      const family = FAMILY_BY_INDEX[f]!;
      const key = table.key(s);
      let best: RouteView | null = null;
      if (newBest !== undefined) {
        const cur = table.entries[s]!;
        let reason: string = stepReason(0);
        if (Array.isArray(cur)) {
          const rest = cur.slice(1);
          reason = stepReason(comparePaths(newBest, rest[selectBest(rest, this.peers)]!, this.peers));
        }
        best = routeView(family, key, newBest, true, this.peers[ns!.peer]?.address ?? '', reason);
      }
      const previousFrom = os === undefined ? null : (this.peers[os.peer]?.address ?? null);
      this.onBestChange({ family, prefix: key, best, previousFrom });
    }
  }

  /** Whether `s` (a best path) is advertised to `to`: the export rules plus a local route's targets. */
  private exportable(s: RouteSource, to: PeerState): boolean {
    const from = this.peers[s.peer];
    // A source whose peer is gone: assume it was sent (the sync at pull time decides).
    if (from === undefined) return true;
    if (!canExport(s, from, to)) return false;
    const x = this.localExportOf(s);
    return x === undefined || localTargets(x, to.id);
  }

  private signal(p: PeerState): void {
    p.signalled = true;
    this.onPending?.(p.id);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Output

  hasPending(id: string): boolean {
    const peer = this.byId.get(id);
    if (peer === undefined || !peer.established) return false;
    if (peer.backlog !== null) return true;
    const g = peer.group;
    if (g !== null) return peer.offset < g.end || this.groupPending(g);
    for (const st of peer.out) {
      if (st === null || st === undefined) continue;
      if (st.dirtySize > 0 || st.dump >= 0 || st.resend >= 0 || st.eorPending) return true;
    }
    return false;
  }

  /** Route refresh received (RFC 2918): send the whole Adj-RIB-Out of the family again. */
  refreshOut(id: string, family: Family): void {
    const peer = this.peer(id);
    if (peer.group !== null) this.leaveGroup(peer);
    const st = peer.out[famIndex(family)];
    if (!peer.established || st === null || st === undefined) return;
    st.resend = 0;
    if (!peer.signalled) this.signal(peer);
  }

  /**
   * The peer's OutputSource: encoded UPDATEs (withdrawals, announcements grouped by exported attribute set, and
   * End-of-RIB after the initial dump) of about maxBytes in total; [] when nothing is pending.
   */
  pull(id: string, maxBytes: number): Uint8Array[] {
    const peer = this.byId.get(id);
    if (peer === undefined || !peer.established || peer.codec === null) return [];
    if (peer.group !== null) return this.pullGrouped(peer, maxBytes);
    const out: Uint8Array[] = [];
    let bytes = 0;
    const backlog = peer.backlog;
    if (backlog !== null) {
      let i = 0;
      while (i < backlog.length && bytes < maxBytes) {
        const m = backlog[i++]!;
        out.push(m);
        bytes += m.length;
      }
      if (i === backlog.length) peer.backlog = null;
      else backlog.splice(0, i);
    }
    if (peer.backlog === null) bytes += this.produce(peer, maxBytes - bytes, out);
    const pending = this.hasPending(id);
    if (out.length === 0 || !pending) peer.signalled = false;
    if (!pending && this.updateGroups) this.joinGroup(peer);
    return out;
  }

  /** Syncs and encodes up to about `budget` bytes of the peer's own output (both families, round robin). */
  private produce(peer: PeerState, budget: number, out: Uint8Array[]): number {
    const ctx = peer.codec!;
    let bytes = 0;
    const first = peer.nextFamily;
    peer.nextFamily = 1 - first;
    for (let n = 0; n < 2 && bytes < budget; n++) {
      const f = (first + n) & 1;
      const st = peer.out[f];
      if (st === null || st === undefined) continue;
      bytes += this.pullFamily(peer, f, st, ctx, budget - bytes, out);
    }
    return bytes;
  }

  private groupPending(g: UpdateGroup): boolean {
    for (const st of g.rep.out) if (st !== null && st !== undefined && st.dirtySize > 0) return true;
    return false;
  }

  /** A member's pull: the group's log from its offset, extending the log when it is at the end. */
  private pullGrouped(peer: PeerState, maxBytes: number): Uint8Array[] {
    const g = peer.group!;
    const out: Uint8Array[] = [];
    let bytes = 0;
    while (bytes < maxBytes) {
      if (peer.offset === g.end) {
        if (!this.groupPending(g)) break;
        if (g.members.length === 1) {
          // The only member, at the end of the log: what is made goes straight to it, and only what it leaves for
          // its next pull (the messages after maxBytes is reached, as reading them from the log would leave them)
          // goes to the log. The log would only have held them until this member read them.
          let i = out.length;
          this.produce(g.rep, maxBytes - bytes, out);
          for (; i < out.length && bytes < maxBytes; i++) bytes += out[i]!.length;
          if (i < out.length) {
            for (let k = i; k < out.length; k++) g.append(out[k]!);
            out.length = i;
          }
          continue;
        }
        // Members too far behind leave rather than hold the log (and memory) for everyone.
        if (this.laggards(g, peer)) {
          for (const m of [...g.members]) if (m !== peer && g.unread(m.offset) > this.groupLagBytes) this.leaveGroup(m);
        }
        const made: Uint8Array[] = [];
        this.produce(g.rep, maxBytes - bytes, made);
        for (const m of made) g.append(m);
        continue;
      }
      const m = g.chunks[peer.offset - g.start]!;
      peer.offset++;
      out.push(m);
      bytes += m.length;
    }
    g.trim();
    if (out.length === 0 || !this.hasPending(peer.id)) peer.signalled = false;
    return out;
  }

  /** Whether a member of `g` other than `peer` is too far behind (see pullGrouped). */
  private laggards(g: UpdateGroup, peer: PeerState): boolean {
    for (const m of g.members) if (m !== peer && g.unread(m.offset) > this.groupLagBytes) return true;
    return false;
  }

  /** Puts a peer whose own output is all sent into the update group of its export key (a new one if none). */
  private joinGroup(peer: PeerState): void {
    if (peer.received[0] !== 0 || peer.received[1] !== 0 || peer.families.length === 0 || peer.codec === null) return;
    const key = groupKey(peer);
    const g = this.groups.get(key);
    if (g === undefined) {
      // The first member's Adj-RIB-Out becomes the group's.
      const rep = new PeerState(-1, { ...peer.def, id: `\x00group:${key}` }, peer.kind);
      rep.codec = peer.codec;
      rep.families = peer.families;
      rep.selfIpv4 = peer.selfIpv4;
      rep.selfIpv6 = peer.selfIpv6;
      rep.localAddress = peer.localAddress;
      rep.routerId = peer.routerId;
      rep.established = true;
      for (let f = 0; f < 2; f++) {
        rep.out[f] = peer.out[f] ?? null;
        peer.out[f] = null;
      }
      const ng = new UpdateGroup(key, rep);
      ng.members.push(peer);
      peer.group = ng;
      peer.offset = ng.end;
      this.groups.set(key, ng);
      this.groupList.push(ng);
      return;
    }
    // Only while the group has nothing pending: a prefix dirty in the group may be one its Adj-RIB-Out does not
    // hold yet while the newcomer's does, and a withdrawal before the group sends it would never reach the newcomer.
    // The peer stays on its own and tries again the next time its output is drained.
    if (this.groupPending(g)) return;
    for (let f = 0; f < 2; f++) {
      const st = peer.out[f];
      if (st === null || st === undefined) continue;
      this.clearOut(f, st);
      peer.out[f] = null;
    }
    g.members.push(peer);
    peer.group = g;
    peer.offset = g.end;
  }

  /**
   * A member leaves its group: its Adj-RIB-Out becomes a copy of the group's (what it holds once it has sent its
   * unread chunks, which become its backlog), with the group's dirty prefixes still to look at. The last member
   * takes the group's state itself.
   */
  private leaveGroup(peer: PeerState): void {
    const g = peer.group!;
    peer.group = null;
    g.members.splice(g.members.indexOf(peer), 1);
    const unread = g.chunks.slice(peer.offset - g.start);
    peer.backlog = unread.length > 0 ? unread : null;
    if (g.members.length === 0) {
      for (let f = 0; f < 2; f++) {
        peer.out[f] = g.rep.out[f] ?? null;
        g.rep.out[f] = null;
      }
      this.deleteGroup(g);
    } else {
      for (let f = 0; f < 2; f++) {
        const gs = g.rep.out[f];
        if (gs === null || gs === undefined) continue;
        const st = new OutState(gs.family);
        const table = this.tables[f]!;
        const adj = gs.adj.slice();
        for (let s = 0; s < adj.length; s++) {
          const src = adj[s];
          if (src === undefined) continue;
          src.refs++;
          table.hold(s);
        }
        st.adj = adj;
        st.adjSize = gs.adjSize;
        for (const s of gs.queued()) if (st.mark(s)) table.hold(s);
        peer.out[f] = st;
      }
      g.trim();
    }
    if (this.hasPending(peer.id) && !peer.signalled) this.signal(peer);
  }

  private deleteGroup(g: UpdateGroup): void {
    this.groups.delete(g.key);
    this.groupList.splice(this.groupList.indexOf(g), 1);
  }

  /** Drops a group with no members left, releasing its Adj-RIB-Out. */
  private dissolve(g: UpdateGroup): void {
    for (let f = 0; f < 2; f++) {
      const st = g.rep.out[f];
      if (st === null || st === undefined) continue;
      this.clearOut(f, st);
      g.rep.out[f] = null;
    }
    this.deleteGroup(g);
  }

  /** Releases everything an Adj-RIB-Out state holds: its sources and slots, and its dirty slots. */
  private clearOut(f: number, st: OutState): void {
    const table = this.tables[f]!;
    const adj = st.adj;
    for (let s = 0; s < adj.length; s++) {
      const src = adj[s];
      if (src === undefined) continue;
      adj[s] = undefined;
      this.sources.release(src);
      table.drop(s);
    }
    st.adjSize = 0;
    for (let s = st.take(); s >= 0; s = st.take()) table.drop(s);
    st.dump = -1;
    st.resend = -1;
  }

  private pullFamily(
    peer: PeerState,
    f: number,
    st: OutState,
    ctx: CodecContext,
    budget: number,
    out: Uint8Array[],
  ): number {
    const family = st.family;
    const addPath = ctx.addPathTx.has(family);
    const col = this.collector;
    col.reset(addPath);
    const table = this.tables[f]!;
    while (st.dirtySize > 0 && col.estimate < budget) {
      const s = st.take();
      this.sync(peer, st, table, s, col);
      table.drop(s);
    }
    // Route-refresh re-send, then the initial dump: slot walks, live (a slot reused behind them is dirty anyway).
    while (st.resend >= 0 && col.estimate < budget) {
      if (st.resend >= st.adj.length) {
        st.resend = -1;
        break;
      }
      const s = st.resend++;
      const src = st.adj[s];
      if (src !== undefined) col.announce(src, s, table.keyLength(s));
    }
    while (st.dump >= 0 && col.estimate < budget) {
      if (st.dump >= table.high) {
        st.dump = -1;
        break;
      }
      const s = st.dump++;
      if (table.entries[s] !== undefined) this.sync(peer, st, table, s, col);
    }
    let bytes = this.flush(peer, family, table, ctx, addPath, out);
    if (st.dump < 0 && st.eorPending) {
      const eor = this.encoder.encodeEndOfRib(family);
      out.push(eor);
      bytes += eor.length;
      st.eorPending = false;
    }
    return bytes;
  }

  /** Brings one prefix of the peer's Adj-RIB-Out in line with the Loc-RIB. */
  private sync(peer: PeerState, st: OutState, table: PrefixTable<Entry>, s: number, col: Collector): void {
    const cur = table.entries[s];
    let src: RouteSource | undefined;
    if (cur !== undefined) {
      const best = (Array.isArray(cur) ? cur[0]! : cur).src;
      if (this.exportable(best, peer)) src = best;
    }
    const adj = st.adj;
    const old = st.adjAt(s);
    if (src === old) return;
    if (src === undefined) {
      adj[s] = undefined;
      st.adjSize--;
      this.sources.release(old!);
      // The key before the drop (the slot may be freed by it).
      col.withdraw(table.key(s));
      table.drop(s);
      return;
    }
    if (old === undefined) {
      if (adj.length <= s) st.growAdj(s, table.capacity);
      st.adj[s] = src;
      st.adjSize++;
      table.hold(s);
    } else {
      adj[s] = src;
      this.sources.release(old);
    }
    src.refs++;
    col.announce(src, s, table.keyLength(s));
  }

  /** parseIPv4(text), remembered for the next call (every pull towards a peer asks for its own address). */
  private selfIpv4Bytes(text: string): Uint8Array | null {
    if (text !== this.lastSelfText) {
      this.lastSelfText = text;
      this.lastSelfBytes = parseIPv4(text);
    }
    return this.lastSelfBytes;
  }

  /** Encodes what the collector gathered; returns the bytes produced. */
  private flush(
    peer: PeerState,
    family: Family,
    table: PrefixTable<Entry>,
    ctx: CodecContext,
    addPath: boolean,
    out: Uint8Array[],
  ): number {
    const col = this.collector;
    let bytes = 0;
    if (col.withdrawn.length > 0) {
      // Add-Path send is not supported yet (best path only); should it be negotiated, path id 1 names our path.
      const ids = addPath ? col.withdrawn.map(() => 1) : null;
      for (const m of this.encoder.encodeWithdrawals(family, col.withdrawn, ids, ctx)) {
        out.push(m);
        bytes += m.length;
      }
    }
    if (col.sourceCount === 0) return bytes;
    // Sources whose exported form is identical (e.g. two iBGP paths that differ only in LOCAL_PREF, towards an
    // eBGP peer) share one batch.
    let batches: Map<string, RouteBatch> | null = null;
    // Learned routes towards an eBGP peer over a 4-octet-AS session: the exported attribute block is written
    // straight from the interning key (intern.ts writeExportedBlockEbgp; -1 for the rare shapes it leaves to
    // exportRoute), sources are grouped by those bytes (Collector.group), and each group's prefixes are encoded
    // from the prefix table's key bytes. The next hop is ours (export.ts).
    const self = family === 'ipv4-unicast' ? peer.selfIpv4 : peer.selfIpv6;
    const direct = this.encoder.encodeSlotUpdates !== undefined && !peer.ibgp && ctx.asn4 && self !== null;
    const v4 = direct && family === 'ipv4-unicast' ? this.selfIpv4Bytes(self!) : null;
    for (let j = 0; j < col.sourceCount; j++) {
      const src = col.sources[j]!;
      if (direct && src.kind !== SourceKind.LOCAL) {
        const n = writeExportedBlockEbgp(src.key, peer.localAsn, v4);
        if (n >= 0) {
          col.group(j, exportedBlockBytes(), n);
          continue;
        }
      }
      const prefixes = col.prefixesOf(j, table);
      const from = this.peers[src.peer] ?? this.peers[LOCAL_PEER]!;
      const e = exportRoute(src, from, peer, this.clusterIdText, this.localExportOf(src));
      const k = `${e.nextHop}\x00${attributesKey(e.attributes)}`;
      batches ??= new Map();
      const b = batches.get(k);
      if (b === undefined) {
        batches.set(k, { family, attributes: e.attributes, nextHop: e.nextHop, prefixes });
      } else {
        for (let i = 0; i < prefixes.length; i++) b.prefixes.push(prefixes[i]!);
      }
    }
    if (col.groupCount > 0) {
      // An IPv4 block holds NEXT_HOP; MP_REACH_NLRI's next hop (the same for the whole pull) is outside it.
      const batch = this.slotBatch;
      batch.family = family;
      batch.nextHop = self!;
      batch.keys = table.keyBytesView;
      batch.stride = table.keyStride;
      // Add-Path send is not supported yet (best path only); should it be negotiated, path id 1 names our path.
      batch.pathId = 1;
      for (let g = 0; g < col.groupCount; g++) {
        col.fillGroup(g, batch);
        bytes += this.encoder.encodeSlotUpdates!(batch, ctx, out);
      }
      batch.block = EMPTY_BYTES;
      batch.keys = EMPTY_BYTES;
    }
    if (batches !== null) {
      for (const b of batches.values()) {
        if (addPath) b.pathIds = b.prefixes.map(() => 1);
        for (const m of this.encoder.encodeUpdates(b, ctx)) {
          out.push(m);
          bytes += m.length;
        }
      }
    }
    col.reset(addPath);
    return bytes;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Per-neighbour Adj-RIB-In and Adj-RIB-Out (GET /api/v1/neighbors/{address}/adj-rib-in|adj-rib-out/{family}).

  /**
   * Paths accepted from peer `id` (its Adj-RIB-In after the import checks: a looped or treat-as-withdraw route is
   * not kept), in Loc-RIB table order; `best` says whether the path is the Loc-RIB's best. `total` counts the
   * peer's paths in the family (or of the one prefix). `last` is set when more may follow: pass it as `after`.
   */
  adjRibIn(id: string, family: Family, q: AdjRibQuery): AdjRibPage {
    const peer = this.peer(id);
    const f = famIndex(family);
    const table = this.tables[f]!;
    const emit = (key: PrefixKey, out: RouteView[]): void => {
      const cur = table.get(key);
      if (cur === undefined) return;
      if (!Array.isArray(cur)) {
        if (cur.src.peer === peer.idx) out.push(this.view(family, key, cur, true, stepReason(0)));
        return;
      }
      for (const r of rankPaths(cur, this.peers).map((r, i) => ({ ...r, best: i === 0 }))) {
        if (r.path.src.peer === peer.idx) out.push(this.view(family, key, r.path, r.best, r.reason));
      }
    };
    if (q.prefix !== undefined) {
      const routes: RouteView[] = [];
      emit(q.prefix, routes);
      return { total: routes.length, routes, last: null };
    }
    const has = (key: PrefixKey): boolean => {
      const cur = table.get(key);
      if (cur === undefined) return false;
      if (!Array.isArray(cur)) return cur.src.peer === peer.idx;
      for (const p of cur) if (p.src.peer === peer.idx) return true;
      return false;
    };
    const page = this.adjPage(`in|${id}|${f}`, () => keysOf(table.walk()), has, emit, q);
    return { total: peer.received[f]!, routes: page.routes, last: page.last };
  }

  /**
   * What was last advertised to peer `id` (its Adj-RIB-Out), as sent: the exported attributes and next hop.
   * Empty while the session is not established or the family was not negotiated.
   */
  adjRibOut(id: string, family: Family, q: AdjRibQuery): AdjRibPage {
    const peer = this.peer(id);
    const st = this.outOf(peer, famIndex(family));
    if (st === null || st === undefined) return { total: 0, routes: [], last: null };
    const table = this.tables[famIndex(family)]!;
    const exported = new Map<RouteSource, ExportedRoute>();
    const emit = (key: PrefixKey, out: RouteView[]): void => {
      const slot = table.find(key);
      const src = slot < 0 ? undefined : st.adjAt(slot);
      if (src === undefined) return;
      const from = this.peers[src.peer] ?? this.peers[LOCAL_PEER]!;
      let e = exported.get(src);
      if (e === undefined) {
        e = exportRoute(src, from, peer, this.clusterIdText, this.localExportOf(src));
        exported.set(src, e);
      }
      out.push(exportedRouteView(family, key, e, src.peer === LOCAL_PEER ? 'local' : from.address));
    };
    if (q.prefix !== undefined) {
      const routes: RouteView[] = [];
      emit(q.prefix, routes);
      return { total: routes.length, routes, last: null };
    }
    const page = this.adjPage(
      `out|${id}|${st.family}`,
      () => adjKeys(table, st),
      () => true,
      emit,
      q,
    );
    return { total: st.adjSize, routes: page.routes, last: page.last };
  }

  /**
   * One page over a live key iterator: prefixes for which `has` is true are emitted until `limit` routes are out
   * (a prefix's paths are never split), then one more matching prefix is looked up so `last` is null exactly when
   * nothing follows. The iterator is kept for the next page (keyed by `tag` and the last prefix), so paging through
   * a million routes is linear; a page asked out of order rescans from the start to `after`.
   */
  private adjPage(
    tag: string,
    keys: () => Iterator<PrefixKey>,
    has: (key: PrefixKey) => boolean,
    emit: (key: PrefixKey, out: RouteView[]) => void,
    q: AdjRibQuery,
  ): { routes: RouteView[]; last: PrefixKey | null } {
    const routes: RouteView[] = [];
    let iter: Iterator<PrefixKey>;
    let pending: PrefixKey | null = null;
    const c = this.adjCursor;
    this.adjCursor = null;
    if (q.after !== undefined) {
      if (c !== null && c.tag === tag && c.lastKey === q.after) {
        iter = c.iter;
        pending = c.pending;
      } else {
        iter = keys();
        for (;;) {
          const r = iter.next();
          if (r.done) return { routes, last: null };
          if (r.value === q.after) break;
        }
      }
    } else {
      iter = keys();
    }
    let last: PrefixKey | null = null;
    for (;;) {
      let key: PrefixKey;
      if (pending !== null) {
        key = pending;
        pending = null;
      } else {
        const r = iter.next();
        if (r.done) return { routes, last: null };
        key = r.value;
        if (!has(key)) continue;
      }
      if (routes.length >= q.limit && last !== null) {
        this.adjCursor = { tag, lastKey: last, iter, pending: key };
        return { routes, last };
      }
      emit(key, routes);
      last = key;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Reading

  counts(id: string): RibCounts {
    const peer = this.peer(id);
    const c: RibCounts = { received: {}, advertised: {} };
    for (let f = 0; f < 2; f++) {
      const family = FAMILY_BY_INDEX[f]!;
      const negotiated = peer.families.includes(family);
      if (negotiated || peer.received[f]! > 0) c.received[family] = peer.received[f]!;
      const st = this.outOf(peer, f);
      if (st !== null && st !== undefined) c.advertised[family] = st.adjSize;
    }
    return c;
  }

  /** Number of prefixes in the Loc-RIB. */
  size(family: Family): number {
    return this.tables[famIndex(family)]!.size;
  }

  /** Number of paths (all peers) in the family. */
  pathsIn(family: Family): number {
    return this.pathCount[famIndex(family)]!;
  }

  /** Update groups and the peers in them (for tests and metrics). */
  groupStats(): { groups: number; members: number } {
    let members = 0;
    for (const g of this.groups.values()) members += g.members.length;
    return { groups: this.groups.size, members };
  }

  /** Distinct interned attribute sets, and the sum of their reference counts (for tests and metrics). */
  internStats(): { sources: number; refs: number } {
    return { sources: this.sources.size, refs: this.sources.totalRefs() };
  }

  /**
   * Every path, best first per prefix, in table order (prefix-slot order; stable between pages). `total` counts the
   * paths of the whole family, or of the one prefix asked for.
   */
  query(family: Family, opts: RibQueryOptions = {}): { total: number; routes: RouteView[] } {
    const f = famIndex(family);
    const table = this.tables[f]!;
    if (opts.prefix !== undefined) {
      const p = parsePrefix(opts.prefix, false);
      const cur = p.family === family ? table.get(p.key) : undefined;
      if (cur === undefined) return { total: 0, routes: [] };
      const routes = this.viewsOf(family, p.key, cur);
      return { total: routes.length, routes };
    }
    const limit = opts.limit ?? 1000;
    let iter: Iterator<[PrefixKey, Entry]>;
    const routes: RouteView[] = [];
    if (opts.after !== undefined) {
      const after = parsePrefix(opts.after, false);
      const qc = this.queryCursor;
      if (qc !== null && qc.family === family && qc.lastKey === after.key) {
        iter = qc.iter;
      } else {
        iter = table.walk();
        let found = false;
        for (;;) {
          const r = iter.next();
          if (r.done) break;
          if (r.value[0] === after.key) {
            found = true;
            break;
          }
        }
        if (!found) return { total: this.pathCount[f]!, routes };
      }
    } else {
      iter = table.walk();
    }
    this.queryCursor = null;
    let last: PrefixKey | undefined;
    while (routes.length < limit) {
      const r = iter.next();
      if (r.done) {
        last = undefined;
        break;
      }
      for (const v of this.viewsOf(family, r.value[0], r.value[1])) routes.push(v);
      last = r.value[0];
    }
    if (last !== undefined) this.queryCursor = { family, lastKey: last, iter };
    return { total: this.pathCount[f]!, routes };
  }

  private viewsOf(family: Family, key: PrefixKey, cur: Entry): RouteView[] {
    if (!Array.isArray(cur)) return [this.view(family, key, cur, true, stepReason(0))];
    return rankPaths(cur, this.peers).map((r, i) => this.view(family, key, r.path, i === 0, r.reason));
  }

  private view(family: Family, key: PrefixKey, path: Path, best: boolean, reason: string): RouteView {
    return routeView(family, key, path, best, this.peers[path.src.peer]?.address ?? '', reason);
  }

  /** The candidate paths of a prefix, best first, each with the decision step that ranked it; [] if none. */
  explain(family: Family, prefix: string): ExplainedRoute[] {
    const p = parsePrefix(prefix, false);
    if (p.family !== family) return [];
    const cur = this.tables[famIndex(family)]!.get(p.key);
    if (cur === undefined) return [];
    const ranked = rankPaths(Array.isArray(cur) ? cur : [cur], this.peers);
    return ranked.map((r, i) => ({
      ...this.view(family, p.key, r.path, i === 0, r.reason),
      reason: r.reason,
      lost_to: r.lostTo === null ? null : ranked.findIndex((q) => q.path === r.lostTo),
    }));
  }

  // -------------------------------------------------------------------------------------------------------------
  // API queries (issue 3): filtered, paged search; step-by-step explain; watchers; output queue depth.

  /** Sets or clears the best-change listener. While none is set, a best-path change builds no RouteView. */
  setBestChangeListener(fn: ((c: BestChange) => void) | undefined): void {
    this.onBestChange = fn;
  }

  /** Prefixes waiting to be sent to the peer: changed best paths, plus what the initial dump has not reached yet. */
  outQueue(id: string): number {
    const peer = this.byId.get(id);
    if (peer === undefined || !peer.established) return 0;
    let n = 0;
    for (let f = 0; f < 2; f++) {
      const st = this.outOf(peer, f);
      if (st === null || st === undefined) continue;
      n += st.dirtySize;
      if (st.dump >= 0) n += Math.max(0, this.tables[f]!.size - st.adjSize);
    }
    return n;
  }

  private peerIndexByAddress(address: string): number | undefined {
    for (const p of this.peers) {
      if (p !== undefined && p.idx !== LOCAL_PEER && !p.retired && p.address === address) return p.idx;
    }
    return undefined;
  }

  /**
   * Paths of the family that pass `filter`, best first per prefix, in table order, one page at a time (query.ts
   * explains the cursor). Throws CursorError for a cursor that is malformed or of the other family.
   */
  search(family: Family, filter: RibFilter, page: RibPage): RibSearchResult {
    const f = famIndex(family);
    const table = this.tables[f]!;
    const fromIndex = fromIndexOf(filter.from, (a) => this.peerIndexByAddress(a));
    const matcher = hasPathFilter(filter) ? new PathMatcher(filter, fromIndex) : null;
    const outer = filter.longer === true ? filter.prefix : undefined;
    if (filter.prefix !== undefined && outer === undefined) {
      const cur = table.get(filter.prefix);
      const routes: RouteView[] = [];
      if (cur !== undefined) this.pushMatching(routes, family, filter.prefix, cur, matcher);
      return { total: routes.length, routes, next_cursor: null };
    }
    const sig = filterSignature(filter, fromIndex);
    let decoded: DecodedCursor | null = null;
    if (page.cursor !== undefined) {
      decoded = decodeCursor(page.cursor);
      if (decoded.family !== f) throw new CursorError('the cursor belongs to the other family');
    }
    const onlyFrom = fromIndex !== null && matcher !== null && !hasAttributeFilter(filter);
    let total: number;
    let carried = true;
    if (outer === undefined && matcher === null) {
      total = this.pathCount[f]!;
      carried = false;
    } else if (outer === undefined && onlyFrom) {
      total = fromIndex! < 0 ? 0 : (this.peers[fromIndex!]?.received[f] ?? 0);
      carried = false;
    } else if (decoded !== null && decoded.total !== null && decoded.sig === sig) {
      total = decoded.total;
    } else {
      total = this.countMatching(table, outer, matcher);
    }

    let st: SearchCursor;
    const cached = page.cursor === undefined ? undefined : this.searchCursors.get(page.cursor);
    if (decoded === null) {
      st = { table, iter: table.walk(), pending: null, consumed: 0 };
    } else if (cached !== undefined && cached.table === table) {
      this.searchCursors.delete(page.cursor!);
      st = cached;
    } else {
      st = this.seek(table, decoded);
    }
    const routes: RouteView[] = [];
    let lastKey: PrefixKey | null = null;
    let lastOrdinal = decoded?.ordinal ?? 0;
    if (st.pending !== null) {
      const key = st.pending;
      st.pending = null;
      const cur = table.get(key);
      if (cur !== undefined && this.pushMatching(routes, family, key, cur, matcher) > 0) {
        lastKey = key;
        lastOrdinal = st.consumed;
      }
    }
    let done = false;
    while (routes.length < page.limit) {
      const r = st.iter.next();
      if (r.done) {
        done = true;
        break;
      }
      st.consumed++;
      const key = r.value[0];
      if (outer !== undefined && !prefixContains(outer, key)) continue;
      if (this.pushMatching(routes, family, key, r.value[1], matcher) > 0) {
        lastKey = key;
        lastOrdinal = st.consumed;
      }
    }
    // Look ahead to the next matching prefix, so the last page says so (next_cursor null) instead of an empty page.
    let next: string | null = null;
    if (!done && lastKey !== null) {
      for (;;) {
        const r = st.iter.next();
        if (r.done) break;
        st.consumed++;
        const key = r.value[0];
        if (outer !== undefined && !prefixContains(outer, key)) continue;
        if (this.anyMatch(r.value[1], matcher)) {
          st.pending = key;
          break;
        }
      }
      if (st.pending !== null) {
        next = encodeCursor({ family: f, ordinal: lastOrdinal, total: carried ? total : null, sig, key: lastKey });
        this.searchCursors.set(next, st);
        if (this.searchCursors.size > SEARCH_CURSORS) {
          this.searchCursors.delete(this.searchCursors.keys().next().value!);
        }
      }
    }
    return { total, routes, next_cursor: next };
  }

  /** Resumes a cursor whose live iterator is gone: after its prefix, or at its ordinal if the prefix was withdrawn. */
  private seek(table: PrefixTable<Entry>, d: DecodedCursor): SearchCursor {
    const iter = table.walk();
    let consumed = 0;
    for (;;) {
      const r = iter.next();
      if (r.done) break;
      consumed++;
      if (r.value[0] === d.key) return { table, iter, pending: null, consumed };
    }
    const again = table.walk();
    let n = 0;
    while (n < d.ordinal && !again.next().done) n++;
    return { table, iter: again, pending: null, consumed: n };
  }

  private anyMatch(cur: Entry, matcher: PathMatcher | null): boolean {
    if (matcher === null) return true;
    if (!Array.isArray(cur)) return matcher.matches(cur.src);
    for (const p of cur) if (matcher.matches(p.src)) return true;
    return false;
  }

  /** Appends the views of the prefix's paths that pass `matcher` (ranked over all its paths); returns how many. */
  private pushMatching(
    out: RouteView[],
    family: Family,
    key: PrefixKey,
    cur: Entry,
    matcher: PathMatcher | null,
  ): number {
    if (!this.anyMatch(cur, matcher)) return 0;
    if (!Array.isArray(cur)) {
      out.push(this.view(family, key, cur, true, stepReason(0)));
      return 1;
    }
    let n = 0;
    const ranked = rankPaths(cur, this.peers);
    for (let i = 0; i < ranked.length; i++) {
      const r = ranked[i]!;
      if (matcher !== null && !matcher.matches(r.path.src)) continue;
      out.push(this.view(family, key, r.path, i === 0, r.reason));
      n++;
    }
    return n;
  }

  private countMatching(table: PrefixTable<Entry>, outer: PrefixKey | undefined, matcher: PathMatcher | null): number {
    let n = 0;
    for (const [key, cur] of table.walk()) {
      if (outer !== undefined && !prefixContains(outer, key)) continue;
      if (!Array.isArray(cur)) {
        if (matcher === null || matcher.matches(cur.src)) n++;
      } else {
        for (const p of cur) if (matcher === null || matcher.matches(p.src)) n++;
      }
    }
    return n;
  }

  /**
   * Every candidate path of a prefix, best first, each with the decision step that ranked it, the path it lost
   * to, and the step-by-step comparison (explain.ts); null when the prefix is not in the Loc-RIB.
   */
  explainSteps(family: Family, key: PrefixKey): ExplainResult | null {
    const cur = this.tables[famIndex(family)]!.get(key);
    if (cur === undefined) return null;
    const ranked = rankPaths(Array.isArray(cur) ? cur : [cur], this.peers);
    const text = { address: (i: number) => this.peers[i]?.address ?? '' };
    const candidates = explainRanking(ranked, this.peers, text).map(
      (c): ExplainedRouteView => ({
        ...this.view(family, key, c.path, c.rank === 0, c.decidedBy),
        rank: c.rank,
        decided_by: c.decidedBy,
        reason: c.sentence,
        lost_to: c.lostTo,
        compared_with: c.against,
        steps: c.steps,
      }),
    );
    return { prefix: formatPrefix(family, key), best: 0, candidates };
  }
}

/** The keys of a Loc-RIB walk. */
function* keysOf(w: Iterator<[PrefixKey, Entry]>): Generator<PrefixKey> {
  for (let r = w.next(); !r.done; r = w.next()) yield r.value[0];
}

/** The keys of an Adj-RIB-Out, in slot order (live). */
function* adjKeys(table: PrefixTable<Entry>, st: OutState): Generator<PrefixKey> {
  for (let s = 0; s < st.adj.length; s++) if (st.adj[s] !== undefined) yield table.key(s);
}

function hasAttributeFilter(f: RibFilter): boolean {
  return (f.communities?.length ?? 0) > 0 || (f.largeCommunities?.length ?? 0) > 0 || f.asPath !== undefined;
}
