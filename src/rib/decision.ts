// The BGP decision process (RFC 4271 §9.1.2.2 plus common practice): which of a prefix's paths is best, and
// why. Each step is a compareBy… function returning <0 when the first path is better, >0 when the second is, 0 on
// a tie; comparePaths chains them and returns ±(step code), so the caller learns both the winner and the step that
// decided without any allocation. Steps, in order:
//
//   (0) next hop reachability: not checked (tsbgp installs no FIB; every next hop counts as reachable)
//   1 highest LOCAL_PREF (absent = 100; eBGP-learned routes always have 100, set at import)
//   2 shortest AS_PATH (an AS_SET counts 1, confederation segments 0)
//   3 lowest ORIGIN (IGP < EGP < INCOMPLETE)
//   4 lowest MED, only between paths from the same neighbour AS (leftmost AS of the AS_PATH; absent MED = 0)
//   5 local over learned — routes this speaker originates beat learned ones here, and only here: a learned route
//     with a higher LOCAL_PREF or a shorter AS_PATH still wins (local routes have an empty AS_PATH, so in practice
//     they win unless an iBGP route carries a higher LOCAL_PREF)
//   6 eBGP over iBGP
//   7 lowest ORIGINATOR_ID, or the peer's router id when absent (RFC 4456 §9)
//   8 shortest CLUSTER_LIST (RFC 4456 §9)
//   9 lowest neighbour address
//  10 lowest Add-Path path identifier (two paths from one peer; keeps the order total)
//
// MED makes the pairwise comparison intransitive (A beats B on MED, B beats C on router id, C beats A on router
// id when C's neighbour AS differs from A's), so the result of a linear scan would depend on arrival order.
// selectBest therefore works like "deterministic-med": it first picks the winner within each neighbour-AS group
// (where MED always applies, so the order is total), then compares the group winners (where MED never applies,
// so the order is again total). The best path is thus a function of the set of paths alone.

import type { Path } from './intern.ts';
import { SourceKind } from './intern.ts';

export const BestReason = {
  ONLY_PATH: 'only-path',
  LOCAL_PREF: 'local-pref',
  AS_PATH_LENGTH: 'as-path-length',
  ORIGIN: 'origin',
  MED: 'med',
  LOCAL_OVER_LEARNED: 'local-over-learned',
  EBGP_OVER_IBGP: 'ebgp-over-ibgp',
  ROUTER_ID: 'router-id',
  CLUSTER_LIST_LENGTH: 'cluster-list-length',
  NEIGHBOR_ADDRESS: 'neighbor-address',
  PATH_ID: 'path-id',
} as const;
export type BestReasonName = (typeof BestReason)[keyof typeof BestReason];

/** Step codes returned (with a sign) by comparePaths; the index into STEP_REASONS. */
export const Step = {
  LOCAL_PREF: 1,
  AS_PATH_LENGTH: 2,
  ORIGIN: 3,
  MED: 4,
  LOCAL_OVER_LEARNED: 5,
  EBGP_OVER_IBGP: 6,
  ROUTER_ID: 7,
  CLUSTER_LIST_LENGTH: 8,
  NEIGHBOR_ADDRESS: 9,
  PATH_ID: 10,
} as const;

const STEP_REASONS: readonly BestReasonName[] = [
  BestReason.ONLY_PATH,
  BestReason.LOCAL_PREF,
  BestReason.AS_PATH_LENGTH,
  BestReason.ORIGIN,
  BestReason.MED,
  BestReason.LOCAL_OVER_LEARNED,
  BestReason.EBGP_OVER_IBGP,
  BestReason.ROUTER_ID,
  BestReason.CLUSTER_LIST_LENGTH,
  BestReason.NEIGHBOR_ADDRESS,
  BestReason.PATH_ID,
];

/** The reason named by a comparePaths result (its absolute value); 0 → "only-path". */
export function stepReason(result: number): BestReasonName {
  return STEP_REASONS[Math.abs(result)] ?? BestReason.ONLY_PATH;
}

/** What the decision process needs to know about a peer, by peer index. */
export interface DecisionPeer {
  /** BGP Identifier as an unsigned 32-bit number. */
  routerId: number;
  /** The peer address in a form that sorts in address order (see addressSortKey). */
  addressKey: string;
}

/** IPv4 addresses as their IPv4-mapped IPv6 form, so that every address key has 16 bytes. */
export function addressSortKey(bytes: Uint8Array | null): string {
  if (bytes === null) return '';
  let s = bytes.length === 4 ? '\0\0\0\0\0\0\0\0\0\0\xff\xff' : '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

type P = Path['src'];
/** Peers by index (holes for removed peers). */
export type Peers = readonly (DecisionPeer | undefined)[];

// RFC 4271 §9.1.2.1: the degree of preference is LOCAL_PREF for iBGP-learned routes; higher wins.
export function compareByLocalPref(a: P, b: P): number {
  return a.localPref === b.localPref ? 0 : a.localPref > b.localPref ? -1 : 1;
}

// RFC 4271 §9.1.2.2 (a).
export function compareByAsPathLength(a: P, b: P): number {
  return a.asPathLength === b.asPathLength ? 0 : a.asPathLength < b.asPathLength ? -1 : 1;
}

// RFC 4271 §9.1.2.2 (b).
export function compareByOrigin(a: P, b: P): number {
  return a.origin === b.origin ? 0 : a.origin < b.origin ? -1 : 1;
}

// RFC 4271 §9.1.2.2 (c): MED is compared only between routes learned from the same neighbouring AS.
export function compareByMed(a: P, b: P): number {
  if (a.neighborAs !== b.neighborAs || a.med === b.med) return 0;
  return a.med < b.med ? -1 : 1;
}

// RFC 4271 §9.1.2.2 (d): eBGP-learned over iBGP-learned; locally originated routes before both.
export function compareByLocalOrigination(a: P, b: P): number {
  const al = a.kind === SourceKind.LOCAL;
  const bl = b.kind === SourceKind.LOCAL;
  return al === bl ? 0 : al ? -1 : 1;
}

export function compareByPeerType(a: P, b: P): number {
  return a.kind === b.kind ? 0 : a.kind < b.kind ? -1 : 1;
}

// RFC 4271 §9.1.2.2 (f) with RFC 4456 §9: ORIGINATOR_ID stands in for the BGP Identifier when present.
export function compareByRouterId(a: P, b: P, peers: Peers): number {
  const ra = a.originatorId >= 0 ? a.originatorId : (peers[a.peer]?.routerId ?? 0);
  const rb = b.originatorId >= 0 ? b.originatorId : (peers[b.peer]?.routerId ?? 0);
  return ra === rb ? 0 : ra < rb ? -1 : 1;
}

// RFC 4456 §9: shorter CLUSTER_LIST wins.
export function compareByClusterListLength(a: P, b: P): number {
  return a.clusterListLength === b.clusterListLength ? 0 : a.clusterListLength < b.clusterListLength ? -1 : 1;
}

// RFC 4271 §9.1.2.2 (g).
export function compareByNeighborAddress(a: P, b: P, peers: Peers): number {
  const ka = peers[a.peer]?.addressKey ?? '';
  const kb = peers[b.peer]?.addressKey ?? '';
  return ka === kb ? 0 : ka < kb ? -1 : 1;
}

/**
 * Compares two paths of one prefix. Returns a negative number when `a` is better, positive when `b` is, 0 when
 * they are the same path; the absolute value is the Step that decided (see stepReason).
 */
export function comparePaths(a: Path, b: Path, peers: Peers): number {
  const x = a.src;
  const y = b.src;
  let r = compareByLocalPref(x, y);
  if (r !== 0) return r * Step.LOCAL_PREF;
  r = compareByAsPathLength(x, y);
  if (r !== 0) return r * Step.AS_PATH_LENGTH;
  r = compareByOrigin(x, y);
  if (r !== 0) return r * Step.ORIGIN;
  r = compareByMed(x, y);
  if (r !== 0) return r * Step.MED;
  r = compareByLocalOrigination(x, y);
  if (r !== 0) return r * Step.LOCAL_OVER_LEARNED;
  r = compareByPeerType(x, y);
  if (r !== 0) return r * Step.EBGP_OVER_IBGP;
  r = compareByRouterId(x, y, peers);
  if (r !== 0) return r * Step.ROUTER_ID;
  r = compareByClusterListLength(x, y);
  if (r !== 0) return r * Step.CLUSTER_LIST_LENGTH;
  r = compareByNeighborAddress(x, y, peers);
  if (r !== 0) return r * Step.NEIGHBOR_ADDRESS;
  if (a.pathId !== b.pathId) return (a.pathId < b.pathId ? -1 : 1) * Step.PATH_ID;
  return 0;
}

// Scratch space for selectBest's groups (the RIB runs on one serial path, so sharing it is safe).
const groupAs: number[] = [];
const groupWinner: number[] = [];
const groupIndex = new Map<number, number>();

/** Index of the best of `paths` (deterministic-med; see the module comment). `paths` must not be empty. */
export function selectBest(paths: readonly Path[], peers: Peers): number {
  const n = paths.length;
  if (n <= 1) return 0;
  if (n === 2) return comparePaths(paths[1]!, paths[0]!, peers) < 0 ? 1 : 0;
  let groups = 0;
  // A linear search of the groups is fastest for the usual handful of paths; a Map keeps a route server's
  // hundreds of paths per prefix linear.
  const useMap = n > 16;
  if (useMap) groupIndex.clear();
  for (let i = 0; i < n; i++) {
    const nas = paths[i]!.src.neighborAs;
    let g: number;
    if (useMap) {
      g = groupIndex.get(nas) ?? groups;
      if (g === groups) groupIndex.set(nas, g);
    } else {
      g = 0;
      while (g < groups && groupAs[g] !== nas) g++;
    }
    if (g === groups) {
      groupAs[g] = nas;
      groupWinner[g] = i;
      groups++;
    } else if (comparePaths(paths[i]!, paths[groupWinner[g]!]!, peers) < 0) {
      groupWinner[g] = i;
    }
  }
  let best = groupWinner[0]!;
  for (let g = 1; g < groups; g++) {
    const w = groupWinner[g]!;
    if (comparePaths(paths[w]!, paths[best]!, peers) < 0) best = w;
  }
  return best;
}

export interface RankedPath {
  path: Path;
  /** For the best path, the step by which it beat the runner-up; for the others, the step by which they lost. */
  reason: BestReasonName;
  /** The path it lost to: the best path, or the winner of its own neighbour-AS group (deterministic-med). */
  lostTo: Path | null;
}

/**
 * All paths of a prefix ranked best first (repeated selection, so the order is also arrival-order independent),
 * each with the step that ranked it. For the API and explain; O(n²), not for hot paths.
 */
export function rankPaths(paths: readonly Path[], peers: Peers): RankedPath[] {
  const rest = paths.slice();
  const order: Path[] = [];
  while (rest.length > 0) {
    const i = selectBest(rest, peers);
    order.push(rest[i]!);
    rest.splice(i, 1);
  }
  const best = order[0]!;
  const out: RankedPath[] = [];
  if (order.length === 1) return [{ path: best, reason: BestReason.ONLY_PATH, lostTo: null }];
  out.push({ path: best, reason: stepReason(comparePaths(best, order[1]!, peers)), lostTo: null });
  for (let k = 1; k < order.length; k++) {
    const p = order[k]!;
    const direct = comparePaths(best, p, peers);
    if (direct < 0) {
      out.push({ path: p, reason: stepReason(direct), lostTo: best });
      continue;
    }
    // p beats the best path head to head: it lost inside its own neighbour-AS group, on MED or later.
    let winner = p;
    for (const q of paths) {
      if (q.src.neighborAs === p.src.neighborAs && comparePaths(q, winner, peers) < 0) winner = q;
    }
    out.push({ path: p, reason: stepReason(comparePaths(winner, p, peers)), lostTo: winner });
  }
  return out;
}
