// Rib.search (filters, cursor paging while the table changes), Rib.explainSteps, the best-change listener switch.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ipv4ToNumber, parseCommunity } from '../wire/index.ts';
import { CursorError, decodeCursor, encodeCursor } from './query.ts';
import { Rib } from './rib.ts';
import { announce, attrs, key, ribPeer, session, withdraw } from './test-helpers.ts';
import type { BestChange, RouteView } from './types.ts';

const LOCAL_ASN = 65000;

function setup() {
  const rib = new Rib({ localAsn: LOCAL_ASN, routerId: ipv4ToNumber('192.0.2.100')! });
  const peer = (address: string, asn: number, rid = address) => {
    rib.addPeer(ribPeer(address, asn, LOCAL_ASN));
    rib.peerUp(address, session('192.0.2.100', ipv4ToNumber(rid)!));
  };
  return { rib, peer };
}

/** Every page of a search, following next_cursor (bounded). */
function walk(rib: Rib, filter: Parameters<Rib['search']>[1], limit: number, between?: (page: number) => void) {
  const routes: RouteView[] = [];
  const totals: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100_000; page++) {
    const r = rib.search('ipv4-unicast', filter, cursor === undefined ? { limit } : { limit, cursor });
    routes.push(...r.routes);
    totals.push(r.total);
    if (r.next_cursor === null) return { routes, totals, pages: page + 1 };
    cursor = r.next_cursor;
    between?.(page);
  }
  throw new Error('walk did not end');
}

describe('Rib.search', () => {
  it('filters: exact prefix, longer, community (all must match), large community, AS path regex, from', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', 65002);
    rib.applyUpdate(
      '192.0.2.1',
      announce(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '11.0.0.0/8'], '192.0.2.1', attrs([65001, 64999]), null),
    );
    rib.applyUpdate(
      '192.0.2.2',
      announce(
        ['10.1.0.0/16'],
        '192.0.2.2',
        attrs([65002], {
          communities: [parseCommunity('65002:1'), parseCommunity('65002:2')],
          largeCommunities: [[65002, 7, 7]],
        }),
      ),
    );
    rib.originate({ family: 'ipv4-unicast', prefix: key('10.1.2.128/25'), attributes: attrs([]), nextHop: 'self' });
    const s = (filter: Parameters<Rib['search']>[1]) =>
      rib.search('ipv4-unicast', filter, { limit: 100 }).routes.map((r) => `${r.prefix} ${r.from}`);
    const t = (filter: Parameters<Rib['search']>[1]) => rib.search('ipv4-unicast', filter, { limit: 100 }).total;

    assert.deepEqual(s({ prefix: key('10.1.0.0/16') }), ['10.1.0.0/16 192.0.2.2', '10.1.0.0/16 192.0.2.1']);
    assert.deepEqual(s({ prefix: key('10.1.0.0/16'), longer: true }).sort(), [
      '10.1.0.0/16 192.0.2.1',
      '10.1.0.0/16 192.0.2.2',
      '10.1.2.0/24 192.0.2.1',
      '10.1.2.128/25 local',
    ]);
    assert.equal(t({ prefix: key('10.1.0.0/16'), longer: true }), 4);
    assert.deepEqual(s({ prefix: key('10.1.3.0/24'), longer: true }), []);
    assert.deepEqual(s({ communities: [parseCommunity('65002:1'), parseCommunity('65002:2')] }), [
      '10.1.0.0/16 192.0.2.2',
    ]);
    assert.deepEqual(s({ communities: [parseCommunity('65002:1'), parseCommunity('65002:3')] }), []);
    assert.deepEqual(s({ largeCommunities: [[65002, 7, 7]] }), ['10.1.0.0/16 192.0.2.2']);
    assert.deepEqual(s({ asPath: /^65001 / }).length, 4);
    assert.deepEqual(s({ asPath: /(^| )64999$/ }).length, 4);
    assert.deepEqual(s({ asPath: /^$/ }), ['10.1.2.128/25 local']);
    assert.deepEqual(s({ from: 'local' }), ['10.1.2.128/25 local']);
    assert.equal(t({ from: '192.0.2.1' }), 4);
    assert.equal(t({ from: '192.0.2.9' }), 0);
    assert.deepEqual(s({ from: '192.0.2.9' }), []);
    // A filtered path keeps the rank it has among all the prefix's paths.
    const lost = rib.search('ipv4-unicast', { prefix: key('10.1.0.0/16'), from: '192.0.2.1' }, { limit: 10 });
    assert.deepEqual(
      lost.routes.map((r) => [r.best, r.reason]),
      [[false, 'as-path-length']],
    );
    assert.equal(lost.total, 1);
    assert.equal(lost.next_cursor, null);
  });

  it('pages through 50 000 prefixes: every route once, last page says so, total stable', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    const all: string[] = [];
    for (let i = 0; i < 50_000; i++) all.push(`10.${i >> 8}.${i & 255}.0/24`);
    for (let i = 0; i < all.length; i += 1000) {
      rib.applyUpdate('192.0.2.1', announce(all.slice(i, i + 1000), '192.0.2.1', attrs([65001])));
    }
    const w = walk(rib, {}, 1000);
    assert.equal(w.pages, 50);
    assert.equal(w.routes.length, 50_000);
    assert.equal(new Set(w.routes.map((r) => r.prefix)).size, 50_000);
    assert.ok(w.totals.every((x) => x === 50_000));
    // Filtered: every prefix under 10.0.0.0/10 (10.0.x … 10.63.x: 64 × 256 prefixes).
    const f = walk(rib, { prefix: key('10.0.0.0/10'), longer: true }, 700);
    assert.equal(f.routes.length, 64 * 256);
    assert.ok(f.totals.every((x) => x === 64 * 256));
    assert.equal(f.pages, Math.ceil((64 * 256) / 700));
  });

  it('a walk while routes come and go returns every prefix present throughout exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 299 })), { maxLength: 200 }),
        fc.integer({ min: 1, max: 40 }),
        (churn, limit) => {
          const { rib, peer } = setup();
          peer('192.0.2.1', 65001);
          const stable: string[] = [];
          for (let i = 0; i < 200; i++) stable.push(`10.0.${i}.0/24`);
          rib.applyUpdate('192.0.2.1', announce(stable, '192.0.2.1', attrs([65001])));
          let c = 0;
          const w = walk(rib, {}, limit, () => {
            // Between pages: announce or withdraw prefixes of a second range, several per page.
            for (let k = 0; k < 3 && c < churn.length; k++, c++) {
              const [add, n] = churn[c]!;
              const p = `172.${16 + (n >> 8)}.${n & 255}.0/24`;
              rib.applyUpdate('192.0.2.1', add ? announce([p], '192.0.2.1', attrs([65001])) : withdraw([p]));
            }
          });
          const seen = w.routes.map((r) => r.prefix).filter((p) => p.startsWith('10.'));
          assert.equal(seen.length, 200);
          assert.equal(new Set(seen).size, 200);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a cursor whose live iterator was evicted resumes after its prefix, or at its position if it was withdrawn', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    const ps: string[] = [];
    for (let i = 0; i < 30; i++) ps.push(`10.0.${i}.0/24`);
    rib.applyUpdate('192.0.2.1', announce(ps, '192.0.2.1', attrs([65001])));
    const first = rib.search('ipv4-unicast', {}, { limit: 10 });
    const cursor = first.next_cursor!;
    // Evict it: 64 other walks.
    for (let i = 0; i < 70; i++) rib.search('ipv4-unicast', {}, { limit: 1 });
    const again = rib.search('ipv4-unicast', {}, { limit: 10, cursor });
    assert.deepEqual(
      again.routes.map((r) => r.prefix),
      ps.slice(10, 20),
    );
    // The same cursor used twice gives the same page.
    assert.deepEqual(
      rib.search('ipv4-unicast', {}, { limit: 10, cursor }).routes.map((r) => r.prefix),
      ps.slice(10, 20),
    );
    rib.applyUpdate('192.0.2.1', withdraw(['10.0.9.0/24']));
    const after = rib.search('ipv4-unicast', {}, { limit: 10, cursor });
    assert.deepEqual(
      after.routes.map((r) => r.prefix),
      ps.slice(11, 21),
    );
  });

  it('rejects malformed cursors and cursors of the other family', () => {
    const { rib } = setup();
    for (const bad of [
      '',
      'x',
      '!!!',
      Buffer.from('c1.0.1.-.0.IA').toString('base64url'),
      Buffer.from('c2.0.1.-.0.AA').toString('base64url'),
      'a'.repeat(300),
    ]) {
      assert.throws(() => rib.search('ipv4-unicast', {}, { limit: 1, cursor: bad }), CursorError, bad);
    }
    const v6 = encodeCursor({ family: 1, ordinal: 1, total: null, sig: '0', key: key('2001:db8::/32') });
    assert.throws(() => rib.search('ipv4-unicast', {}, { limit: 1, cursor: v6 }), /other family/);
    const c = { family: 0, ordinal: 7, total: 12, sig: 'abc', key: key('192.0.2.0/24') };
    assert.deepEqual(decodeCursor(encodeCursor(c)), c);
  });
});

describe('Rib.explainSteps', () => {
  it('names every step up to the deciding one, with both values', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001, '10.0.0.1');
    peer('192.0.2.2', 65001, '10.0.0.2');
    peer('192.0.2.3', 65003);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001], { med: 10 })));
    rib.applyUpdate('192.0.2.2', announce(['203.0.113.0/24'], '192.0.2.2', attrs([65001], { med: 20 })));
    rib.applyUpdate('192.0.2.3', announce(['203.0.113.0/24'], '192.0.2.3', attrs([65003, 1])));
    const x = rib.explainSteps('ipv4-unicast', key('203.0.113.0/24'))!;
    assert.equal(x.prefix, '203.0.113.0/24');
    assert.equal(x.best, 0);
    assert.deepEqual(
      x.candidates.map((c) => [c.rank, c.from, c.best, c.decided_by, c.lost_to, c.compared_with]),
      [
        [0, '192.0.2.1', true, 'med', null, 1],
        [1, '192.0.2.2', false, 'med', 0, 0],
        [2, '192.0.2.3', false, 'as-path-length', 0, 0],
      ],
    );
    assert.deepEqual(x.candidates[1]!.steps, [
      { step: 'local-pref', value: 100, other: 100, result: 'tie' },
      { step: 'as-path-length', value: 1, other: 1, result: 'tie' },
      { step: 'origin', value: 'igp', other: 'igp', result: 'tie' },
      { step: 'med', value: 20, other: 10, result: 'worse' },
    ]);
    assert.deepEqual(
      x.candidates[2]!.steps.map((s) => [s.step, s.result]),
      [
        ['local-pref', 'tie'],
        ['as-path-length', 'worse'],
      ],
    );
    assert.match(x.candidates[1]!.reason, /^lost to #0 \(from 192\.0\.2\.1\) at step med: MED 20 vs 10/);
    assert.match(x.candidates[0]!.reason, /^best path: preferred over #1 \(from 192\.0\.2\.2\) at step med/);
    assert.equal(rib.explainSteps('ipv4-unicast', key('198.51.100.0/24')), null);
  });

  it('MED between different neighbour ASes is "not-compared"; router id and address steps show addresses', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001, '10.0.0.9');
    peer('192.0.2.2', 65002, '10.0.0.2');
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001], { med: 1 })));
    rib.applyUpdate('192.0.2.2', announce(['203.0.113.0/24'], '192.0.2.2', attrs([65002], { med: 50 })));
    const x = rib.explainSteps('ipv4-unicast', key('203.0.113.0/24'))!;
    assert.equal(x.candidates[0]!.from, '192.0.2.2');
    const steps = x.candidates[1]!.steps;
    assert.deepEqual(steps[3], { step: 'med', value: 1, other: 50, result: 'not-compared' });
    assert.deepEqual(steps[steps.length - 1], {
      step: 'router-id',
      value: '10.0.0.9',
      other: '10.0.0.2',
      result: 'worse',
    });
  });

  it('an only path says so', () => {
    const { rib } = setup();
    rib.originate({ family: 'ipv4-unicast', prefix: key('10.0.0.0/8'), attributes: attrs([]), nextHop: 'self' });
    const x = rib.explainSteps('ipv4-unicast', key('10.0.0.0/8'))!;
    assert.deepEqual(
      x.candidates.map((c) => [c.decided_by, c.reason, c.steps.length, c.from]),
      [['only-path', 'the only path for this prefix', 0, 'local']],
    );
  });
});

describe('Rib best-change listener', () => {
  it('can be switched on and off; reports where the previous best came from', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', 65002);
    rib.applyUpdate('192.0.2.1', announce(['10.0.0.0/8'], '192.0.2.1', attrs([65001, 1])));
    const seen: BestChange[] = [];
    rib.setBestChangeListener((c) => seen.push(c));
    rib.applyUpdate('192.0.2.2', announce(['10.0.0.0/8'], '192.0.2.2', attrs([65002])));
    rib.applyUpdate('192.0.2.2', withdraw(['10.0.0.0/8']));
    rib.applyUpdate('192.0.2.1', withdraw(['10.0.0.0/8']));
    rib.setBestChangeListener(undefined);
    rib.applyUpdate('192.0.2.1', announce(['10.0.0.0/8'], '192.0.2.1', attrs([65001, 1])));
    assert.deepEqual(
      seen.map((c) => [c.best?.from ?? null, c.previousFrom]),
      [
        ['192.0.2.2', '192.0.2.1'],
        ['192.0.2.1', '192.0.2.2'],
        [null, '192.0.2.1'],
      ],
    );
  });
});
