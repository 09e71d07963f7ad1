import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AsPathSegmentType, type PathAttributes, parseIP } from '../wire/index.ts';
import {
  addressSortKey,
  BestReason,
  comparePaths,
  type DecisionPeer,
  rankPaths,
  selectBest,
  stepReason,
} from './decision.ts';
import { IdPath, type Path, RouteSource, SourceKind, type SourceKindCode } from './intern.ts';
import { attrs } from './test-helpers.ts';

// Peer 0 is local; peers 1..9 have router id 10+i and address 192.0.2.i unless overridden.
function peers(over: Record<number, Partial<DecisionPeer>> = {}): DecisionPeer[] {
  const out: DecisionPeer[] = [{ routerId: 1, addressKey: '' }];
  for (let i = 1; i < 10; i++) {
    out.push({ routerId: 10 + i, addressKey: addressSortKey(parseIP(`192.0.2.${i}`)), ...over[i] });
  }
  return out;
}

function path(peer: number, kind: SourceKindCode, a: PathAttributes): RouteSource {
  return new RouteSource(`k${peer}`, peer, kind, 'ipv4-unicast', a, '192.0.2.254', undefined);
}

const E = SourceKind.EBGP;
const I = SourceKind.IBGP;
const L = SourceKind.LOCAL;

/** Asserts that `winner` beats `loser` at `reason`, whichever order they are given in. */
function decides(winner: Path, loser: Path, reason: string, ps: DecisionPeer[] = peers()): void {
  const r = comparePaths(winner, loser, ps);
  assert.ok(r < 0, `expected the first path to win, got ${r}`);
  assert.equal(stepReason(r), reason);
  const back = comparePaths(loser, winner, ps);
  assert.equal(back, -r);
  assert.equal(selectBest([loser, winner], ps), 1);
  assert.equal(selectBest([winner, loser], ps), 0);
}

describe('decision process steps', () => {
  it('1: highest LOCAL_PREF wins, before AS_PATH length', () => {
    decides(path(1, I, attrs([1, 2, 3], { localPref: 200 })), path(2, I, attrs([1], { localPref: 100 })), 'local-pref');
  });

  it('1: a missing LOCAL_PREF counts as 100', () => {
    decides(path(1, I, attrs([1, 2], { localPref: 101 })), path(2, I, attrs([1])), 'local-pref');
    decides(path(1, I, attrs([1])), path(2, I, attrs([1], { localPref: 99 })), 'local-pref');
  });

  it('2: shortest AS_PATH wins, before ORIGIN', () => {
    decides(path(1, E, attrs([1, 2], { origin: 2 })), path(2, E, attrs([3, 4, 5], { origin: 0 })), 'as-path-length');
  });

  it('2: an AS_SET counts as one, confederation segments as zero', () => {
    const withSet: PathAttributes = {
      origin: 0,
      asPath: [
        { type: AsPathSegmentType.AS_SEQUENCE, asns: [1] },
        { type: AsPathSegmentType.AS_SET, asns: [7, 8, 9, 10] },
      ],
    };
    decides(path(1, E, withSet), path(2, E, attrs([1, 2, 3])), 'as-path-length');
    const withConfed: PathAttributes = {
      origin: 0,
      asPath: [
        { type: AsPathSegmentType.AS_CONFED_SEQUENCE, asns: [64512, 64513, 64514] },
        { type: AsPathSegmentType.AS_SEQUENCE, asns: [1, 2] },
      ],
    };
    decides(path(1, I, withConfed), path(2, I, attrs([1, 2, 3])), 'as-path-length');
  });

  it('3: lowest ORIGIN wins, before MED', () => {
    decides(path(1, E, attrs([1], { origin: 0, med: 50 })), path(2, E, attrs([1], { origin: 1, med: 0 })), 'origin');
    decides(path(1, E, attrs([1], { origin: 1 })), path(2, E, attrs([1], { origin: 2 })), 'origin');
  });

  it('4: lowest MED wins between paths from the same neighbour AS; a missing MED counts as 0', () => {
    decides(path(2, E, attrs([1, 5], { med: 10 })), path(1, E, attrs([1, 6], { med: 20 })), 'med');
    decides(path(2, E, attrs([1, 5])), path(1, E, attrs([1, 6], { med: 1 })), 'med');
  });

  it('4: MED is not compared between different neighbour ASes', () => {
    // Peer 1 has the lower router id; with MED ignored, it wins despite its higher MED.
    decides(path(1, E, attrs([1], { med: 500 })), path(2, E, attrs([2], { med: 0 })), 'router-id');
  });

  it('4: MED is compared after confederation segments, on the first AS_SEQUENCE AS', () => {
    const conf = (sub: number, med: number): PathAttributes => ({
      origin: 0,
      med,
      asPath: [
        { type: AsPathSegmentType.AS_CONFED_SEQUENCE, asns: [sub] },
        { type: AsPathSegmentType.AS_SEQUENCE, asns: [7] },
      ],
    });
    decides(path(2, I, conf(64513, 1)), path(1, I, conf(64512, 2)), 'med');
  });

  it('5: a local route beats a learned one only once LOCAL_PREF, AS_PATH, ORIGIN and MED tie', () => {
    decides(path(0, L, attrs([65001])), path(1, E, attrs([65001])), 'local-over-learned');
    decides(path(1, I, attrs([], { localPref: 200 })), path(0, L, attrs([], { localPref: 100 })), 'local-pref');
    decides(path(1, E, attrs([65001])), path(0, L, attrs([65001, 65001])), 'as-path-length');
  });

  it('6: eBGP over iBGP', () => {
    // The iBGP peer (1) has the lower router id, so only this step can make the eBGP path win.
    decides(path(2, E, attrs([1])), path(1, I, attrs([1])), 'ebgp-over-ibgp');
  });

  it('7: lowest router id, with ORIGINATOR_ID standing in for it', () => {
    decides(path(1, E, attrs([1])), path(2, E, attrs([2])), 'router-id');
    // Peer 2's route carries ORIGINATOR_ID 0.0.0.5, lower than peer 1's router id 11.
    decides(path(2, I, attrs([1], { originatorId: '0.0.0.5' })), path(1, I, attrs([1])), 'router-id');
  });

  it('8: shortest CLUSTER_LIST', () => {
    decides(
      path(2, I, attrs([1], { originatorId: '10.0.0.1', clusterList: ['1.1.1.1'] })),
      path(1, I, attrs([1], { originatorId: '10.0.0.1', clusterList: ['1.1.1.1', '2.2.2.2'] })),
      'cluster-list-length',
    );
  });

  it('9: lowest neighbour address when router ids are equal', () => {
    const ps = peers({ 1: { routerId: 7 }, 2: { routerId: 7 } });
    decides(path(1, E, attrs([1])), path(2, E, attrs([1])), 'neighbor-address', ps);
    // IPv4 sorts before IPv6 global addresses (IPv4-mapped form), and address order holds within IPv6.
    const ps6 = peers({
      1: { routerId: 7, addressKey: addressSortKey(parseIP('2001:db8::2')) },
      2: { routerId: 7, addressKey: addressSortKey(parseIP('2001:db8::10')) },
      3: { routerId: 7 },
    });
    decides(path(1, E, attrs([1])), path(2, E, attrs([1])), 'neighbor-address', ps6);
    decides(path(3, E, attrs([1])), path(1, E, attrs([1])), 'neighbor-address', ps6);
  });

  it('10: lowest path id between two paths of one peer (Add-Path)', () => {
    const s = path(1, E, attrs([1]));
    decides(new IdPath(s, 1), new IdPath(s, 2), 'path-id');
    assert.equal(comparePaths(s, s, peers()), 0);
  });
});

/** Reference: best of each neighbour-AS group by pairwise comparison, then the best of the winners. */
function referenceBest(paths: Path[], ps: DecisionPeer[]): Path {
  const winners = new Map<number, Path>();
  for (const p of paths) {
    const w = winners.get(p.src.neighborAs);
    if (w === undefined || comparePaths(p, w, ps) < 0) winners.set(p.src.neighborAs, p);
  }
  let best: Path | undefined;
  for (const w of winners.values()) if (best === undefined || comparePaths(w, best, ps) < 0) best = w;
  return best!;
}

describe('deterministic MED', () => {
  // The classic intransitive triple: A (AS 1, MED 10, rid 13) beats B (AS 1, MED 20, rid 11) on MED; B beats C
  // (AS 2, rid 12) on router id; C beats A on router id. Deterministic-med: group AS 1 → A; A vs C → C.
  const A = path(3, E, attrs([1], { med: 10 }));
  const B = path(1, E, attrs([1], { med: 20 }));
  const C = path(2, E, attrs([2]));

  it('picks the same best for every arrival order', () => {
    const orders = [
      [A, B, C],
      [A, C, B],
      [B, A, C],
      [B, C, A],
      [C, A, B],
      [C, B, A],
    ];
    for (const o of orders) assert.equal(o[selectBest(o, peers())], C);
  });

  it('explains: B lost to A on MED inside its group, A lost to C on router id', () => {
    const ranked = rankPaths([A, B, C], peers());
    assert.deepEqual(
      ranked.map((r) => [r.path, r.reason, r.lostTo]),
      [
        [C, BestReason.ROUTER_ID, null],
        [A, BestReason.ROUTER_ID, C],
        [B, BestReason.MED, A],
      ],
    );
  });

  it('a single path is the best for "only-path"', () => {
    assert.deepEqual(rankPaths([A], peers())[0]?.reason, 'only-path');
  });

  it('property: the best path does not depend on the order of the paths', () => {
    const pathArb = fc.record({
      localPref: fc.constantFrom(100, 200),
      asPath: fc.array(fc.constantFrom(1, 2, 3), { minLength: 1, maxLength: 3 }),
      origin: fc.constantFrom(0, 1, 2),
      med: fc.option(fc.constantFrom(0, 5, 10), { nil: undefined }),
      kind: fc.constantFrom<SourceKindCode>(E, I),
      originatorId: fc.option(fc.constantFrom('0.0.0.3', '0.0.0.12'), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(pathArb, { minLength: 1, maxLength: 24 }).chain((specs) =>
          fc.tuple(
            fc.constant(specs),
            fc.shuffledSubarray(
              specs.map((_, i) => i),
              { minLength: specs.length },
            ),
          ),
        ),
        ([specs, perm]) => {
          const ps: DecisionPeer[] = [{ routerId: 1, addressKey: '' }];
          for (let i = 1; i <= specs.length; i++) {
            ps.push({ routerId: 10 + (i % 4), addressKey: addressSortKey(parseIP(`192.0.2.${i}`)) });
          }
          const paths = specs.map((s, i) =>
            path(
              i + 1,
              s.kind,
              attrs(s.asPath, {
                localPref: s.localPref,
                origin: s.origin as 0,
                med: s.med,
                originatorId: s.originatorId,
              }),
            ),
          );
          const shuffled = perm.map((i) => paths[i]!);
          assert.equal(shuffled[selectBest(shuffled, ps)], paths[selectBest(paths, ps)]);
          assert.equal(paths[selectBest(paths, ps)], referenceBest(paths, ps));
          // The winner of the ranking is the selected best, and rankPaths is order independent too.
          const r1 = rankPaths(paths, ps).map((r) => r.path);
          const r2 = rankPaths(shuffled, ps).map((r) => r.path);
          assert.deepEqual(r1, r2);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('uses the same rule for many paths (Map-based grouping above 16 paths)', () => {
    const ps: DecisionPeer[] = [{ routerId: 1, addressKey: '' }];
    const paths: RouteSource[] = [];
    for (let i = 1; i <= 40; i++) {
      ps.push({ routerId: 1000 - i, addressKey: addressSortKey(parseIP(`198.51.100.${i}`)) });
      paths.push(path(i, E, attrs([i % 5], { med: i % 7 })));
    }
    const best = paths[selectBest(paths, ps)];
    const rev = paths.slice().reverse();
    assert.equal(rev[selectBest(rev, ps)], best);
    assert.equal(best, referenceBest(paths, ps));
  });
});
