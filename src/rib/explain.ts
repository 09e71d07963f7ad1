// The best-path decision explained step by step, for `GET /api/v1/rib/{family}/explain`.
//
// decision.ts ranks a prefix's paths and names the step that ranked each (rankPaths). This module replays the
// comparison of each path against the one it was ranked against — the runner-up for the best path, the path it
// lost to for the others — one step at a time in the order of comparePaths, recording both values and the outcome
// of every step up to the deciding one, and writes the sentence the API shows. Not for hot paths.

import { numberToIPv4 } from '../wire/index.ts';
import {
  BestReason,
  type BestReasonName,
  compareByAsPathLength,
  compareByClusterListLength,
  compareByLocalOrigination,
  compareByLocalPref,
  compareByMed,
  compareByNeighborAddress,
  compareByOrigin,
  compareByPeerType,
  compareByRouterId,
  type Peers,
  type RankedPath,
} from './decision.ts';
import { type Path, type RouteSource, SourceKind } from './intern.ts';
import type { RouteView } from './types.ts';

/** The steps of the decision process in the order comparePaths applies them, with the rule of each. */
export const DECISION_STEPS: readonly { step: BestReasonName; rule: string }[] = [
  { step: BestReason.LOCAL_PREF, rule: 'highest LOCAL_PREF wins (absent: 100)' },
  { step: BestReason.AS_PATH_LENGTH, rule: 'shortest AS_PATH wins (an AS_SET counts as 1)' },
  { step: BestReason.ORIGIN, rule: 'lowest ORIGIN wins (igp < egp < incomplete)' },
  { step: BestReason.MED, rule: 'lowest MED wins, only between paths from the same neighbour AS (absent: 0)' },
  { step: BestReason.LOCAL_OVER_LEARNED, rule: 'a route this speaker originates wins over a learned one' },
  { step: BestReason.EBGP_OVER_IBGP, rule: 'an eBGP-learned path wins over an iBGP-learned one' },
  { step: BestReason.ROUTER_ID, rule: 'lowest ORIGINATOR_ID, else the neighbour router id, wins' },
  { step: BestReason.CLUSTER_LIST_LENGTH, rule: 'shortest CLUSTER_LIST wins' },
  { step: BestReason.NEIGHBOR_ADDRESS, rule: 'lowest neighbour address wins' },
  { step: BestReason.PATH_ID, rule: 'lowest Add-Path path identifier wins' },
];

const LABELS: Record<BestReasonName, string> = {
  'only-path': 'only path',
  'local-pref': 'LOCAL_PREF',
  'as-path-length': 'AS_PATH length',
  origin: 'ORIGIN',
  med: 'MED',
  'local-over-learned': 'origination',
  'ebgp-over-ibgp': 'peer type',
  'router-id': 'router id',
  'cluster-list-length': 'CLUSTER_LIST length',
  'neighbor-address': 'neighbour address',
  'path-id': 'path id',
};

export type StepResult = 'better' | 'worse' | 'tie' | 'not-compared';

/** One step of the comparison of a path against the path it was ranked against. */
export interface StepComparison {
  step: BestReasonName;
  /** This path's value at the step. */
  value: string | number;
  /** The other path's value. */
  other: string | number;
  /** How this path fared; `not-compared`: MED between paths from different neighbour ASes. */
  result: StepResult;
}

export interface PeerText {
  /** Neighbour address text, or "local". */
  address(peerIndex: number): string;
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;
const KINDS = ['local', 'ebgp', 'ibgp'] as const;

function valueAt(step: BestReasonName, path: Path, peers: Peers, text: PeerText): string | number {
  const s: RouteSource = path.src;
  switch (step) {
    case 'local-pref':
      return s.localPref;
    case 'as-path-length':
      return s.asPathLength;
    case 'origin':
      return ORIGINS[s.origin] ?? 'incomplete';
    case 'med':
      return s.med;
    case 'local-over-learned':
      return s.kind === SourceKind.LOCAL ? 'local' : 'learned';
    case 'ebgp-over-ibgp':
      return KINDS[s.kind] ?? 'ibgp';
    case 'router-id':
      return numberToIPv4(s.originatorId >= 0 ? s.originatorId : (peers[s.peer]?.routerId ?? 0));
    case 'cluster-list-length':
      return s.clusterListLength;
    case 'neighbor-address':
      return text.address(s.peer);
    case 'path-id':
      return path.pathId;
    default:
      return '';
  }
}

function compareAt(step: BestReasonName, a: Path, b: Path, peers: Peers): number {
  const x = a.src;
  const y = b.src;
  switch (step) {
    case 'local-pref':
      return compareByLocalPref(x, y);
    case 'as-path-length':
      return compareByAsPathLength(x, y);
    case 'origin':
      return compareByOrigin(x, y);
    case 'med':
      return compareByMed(x, y);
    case 'local-over-learned':
      return compareByLocalOrigination(x, y);
    case 'ebgp-over-ibgp':
      return compareByPeerType(x, y);
    case 'router-id':
      return compareByRouterId(x, y, peers);
    case 'cluster-list-length':
      return compareByClusterListLength(x, y);
    case 'neighbor-address':
      return compareByNeighborAddress(x, y, peers);
    case 'path-id':
      return a.pathId === b.pathId ? 0 : a.pathId < b.pathId ? -1 : 1;
    default:
      return 0;
  }
}

/** The steps of `a` against `b`, up to and including the first that tells them apart. */
export function compareSteps(a: Path, b: Path, peers: Peers, text: PeerText): StepComparison[] {
  const out: StepComparison[] = [];
  for (const { step } of DECISION_STEPS) {
    const r = compareAt(step, a, b, peers);
    let result: StepResult = r < 0 ? 'better' : r > 0 ? 'worse' : 'tie';
    // RFC 4271 §9.1.2.2 (c): MED is skipped, not tied, when the neighbour ASes differ.
    if (step === 'med' && a.src.neighborAs !== b.src.neighborAs) result = 'not-compared';
    out.push({ step, value: valueAt(step, a, peers, text), other: valueAt(step, b, peers, text), result });
    if (r !== 0) break;
  }
  return out;
}

export interface ExplainedCandidate {
  path: Path;
  /** 0 for the best path. */
  rank: number;
  /** The step that ranked the path (the best path: the step by which it beat the runner-up). */
  decidedBy: BestReasonName;
  /** Rank of the path it lost to; null for the best path. */
  lostTo: number | null;
  /** Rank of the path it was compared with in `steps` (the runner-up for the best path); null for an only path. */
  against: number | null;
  steps: StepComparison[];
  /** One sentence for people. */
  sentence: string;
}

function describe(c: StepComparison): string {
  const rule = DECISION_STEPS.find((s) => s.step === c.step)?.rule ?? '';
  return `${LABELS[c.step]} ${c.value} vs ${c.other} (${rule})`;
}

/** Explains the ranking rankPaths produced (best first). */
export function explainRanking(ranked: readonly RankedPath[], peers: Peers, text: PeerText): ExplainedCandidate[] {
  const rankOf = new Map<Path, number>();
  for (let i = 0; i < ranked.length; i++) rankOf.set(ranked[i]!.path, i);
  const from = (i: number) => text.address(ranked[i]!.path.src.peer);
  return ranked.map((r, i): ExplainedCandidate => {
    if (ranked.length === 1) {
      return {
        path: r.path,
        rank: 0,
        decidedBy: r.reason,
        lostTo: null,
        against: null,
        steps: [],
        sentence: 'the only path for this prefix',
      };
    }
    const against = i === 0 ? 1 : (rankOf.get(r.lostTo!) ?? 0);
    const steps = compareSteps(r.path, ranked[against]!.path, peers, text);
    const deciding = steps[steps.length - 1]!;
    const sentence =
      i === 0
        ? `best path: preferred over #${against} (from ${from(against)}) at step ${r.reason}: ${describe(deciding)}`
        : `lost to #${against} (from ${from(against)}) at step ${r.reason}: ${describe(deciding)}`;
    return { path: r.path, rank: i, decidedBy: r.reason, lostTo: i === 0 ? null : against, against, steps, sentence };
  });
}

/** One candidate as `GET /rib/{family}/explain` shows it: the RouteView plus how it was ranked. */
export interface ExplainedRouteView extends RouteView {
  rank: number;
  /** Step name (decision.ts BestReason) that ranked the path. */
  decided_by: BestReasonName;
  /** A sentence for people: what it was compared with, at which step, and the two values. */
  reason: string;
  /** Rank of the path it lost to; null for the best path. */
  lost_to: number | null;
  /** Rank of the path `steps` compares it with (the runner-up for the best path); null for an only path. */
  compared_with: number | null;
  steps: StepComparison[];
}

export interface ExplainResult {
  prefix: string;
  /** Index of the best path in `candidates` (always 0: candidates are ranked best first). */
  best: number;
  candidates: ExplainedRouteView[];
}
