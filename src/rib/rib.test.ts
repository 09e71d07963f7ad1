import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AsPathSegmentType, AttrFlag, type Family, ipv4ToNumber, WellKnownCommunity } from '../wire/index.ts';
import { Rib, type RibOptions } from './rib.ts';
import { announce, attrs, key, RecordingEncoder, ribPeer, type Sent, session, withdraw } from './test-helpers.ts';
import type { BestChange, RibPeer } from './types.ts';

const LOCAL_ASN = 65000;
const RID = ipv4ToNumber('10.0.0.1')!;

/** A RIB with a recording encoder, and helpers to bring peers up and read what they are sent. */
function setup(opts: Partial<RibOptions> = {}) {
  const enc = new RecordingEncoder();
  const rib = new Rib({ localAsn: LOCAL_ASN, routerId: RID, encoder: enc, ...opts });
  const drain = (id: string, maxBytes = 1 << 20): Sent[] => {
    const out: Sent[] = [];
    for (let i = 0; i < 10_000; i++) {
      const m = rib.pull(id, maxBytes);
      if (m.length === 0) return out;
      out.push(...enc.decode(m));
    }
    throw new Error('pull never ran dry');
  };
  /** Adds an eBGP (asn ≠ 65000) or iBGP peer whose id is its address, brings it up and drains its initial dump. */
  const peer = (
    address: string,
    asn: number,
    extra: Partial<RibPeer> & { localAddress?: string; families?: Family[]; rid?: string } = {},
  ): Sent[] => {
    const { families, rid, ...rest } = extra;
    rib.addPeer(ribPeer(address, asn, LOCAL_ASN, rest));
    rib.peerUp(address, session(extra.localAddress ?? '192.0.2.100', ipv4ToNumber(rid ?? address) ?? 1, families));
    return drain(address);
  };
  return { rib, enc, drain, peer };
}

const updates = (s: Sent[]) => s.filter((m) => m.type === 'update');
const withdrawals = (s: Sent[]) => s.filter((m) => m.type === 'withdraw');
const announced = (s: Sent[]) => updates(s).flatMap((m) => m.prefixes);
const withdrawn = (s: Sent[]) => withdrawals(s).flatMap((m) => m.prefixes);
const flatPath = (m: Sent) => (m.type === 'update' ? m.attributes.asPath.flatMap((s) => s.asns) : []);

describe('import', () => {
  it('drops routes whose AS_PATH holds our ASN, and the route they replace', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, 7])));
    assert.equal(rib.size('ipv4-unicast'), 1);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, 65000, 7])));
    assert.equal(rib.size('ipv4-unicast'), 0);
    assert.deepEqual(rib.counts('192.0.2.1').received, { 'ipv4-unicast': 0, 'ipv6-unicast': 0 });
    assert.deepEqual(rib.internStats(), { sources: 0, refs: 0 });
  });

  it('checks the ASN used towards the peer too (local-as), in AS_SETs as well', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001, { localAsn: 64999 });
    const inSet = {
      origin: 0 as const,
      asPath: [
        { type: AsPathSegmentType.AS_SEQUENCE, asns: [65001] },
        { type: AsPathSegmentType.AS_SET, asns: [64999, 5] },
      ],
    };
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', inSet));
    assert.equal(rib.size('ipv4-unicast'), 0);
  });

  it('drops iBGP routes carrying our router id as ORIGINATOR_ID or our cluster id in CLUSTER_LIST (RFC 4456 §8)', () => {
    const { rib, peer } = setup({ clusterId: ipv4ToNumber('10.9.9.9')! });
    peer('192.0.2.1', LOCAL_ASN);
    peer('192.0.2.2', 65001);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.9', attrs([], { originatorId: '10.0.0.1' })));
    rib.applyUpdate(
      '192.0.2.1',
      announce(
        ['203.0.114.0/24'],
        '192.0.2.9',
        attrs([], { originatorId: '1.1.1.1', clusterList: ['1.2.3.4', '10.9.9.9'] }),
      ),
    );
    assert.equal(rib.size('ipv4-unicast'), 0);
    // Not applied to eBGP peers.
    rib.applyUpdate(
      '192.0.2.2',
      announce(['203.0.113.0/24'], '192.0.2.2', attrs([65001], { originatorId: '10.0.0.1' })),
    );
    assert.equal(rib.size('ipv4-unicast'), 1);
    // A CLUSTER_LIST without our cluster id is fine.
    rib.applyUpdate('192.0.2.1', announce(['203.0.115.0/24'], '192.0.2.9', attrs([], { clusterList: ['10.0.0.1'] })));
    assert.equal(rib.size('ipv4-unicast'), 2);
  });

  it('gives eBGP routes LOCAL_PREF 100 whatever they carry, keeps iBGP LOCAL_PREF', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', LOCAL_ASN);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001], { localPref: 500 })));
    rib.applyUpdate('192.0.2.2', announce(['203.0.113.0/24'], '192.0.2.2', attrs([65001, 1], { localPref: 150 })));
    const q = rib.query('ipv4-unicast', { prefix: '203.0.113.0/24' });
    assert.deepEqual(
      q.routes.map((r) => [r.from, r.local_pref, r.best, r.reason]),
      [
        ['192.0.2.2', 150, true, 'local-pref'],
        ['192.0.2.1', 100, false, 'local-pref'],
      ],
    );
  });

  it('treat-as-withdraw removes the announced prefixes', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24', '203.0.114.0/24'], '192.0.2.1', attrs([65001])));
    const bad = announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, 2]));
    bad.treatAsWithdraw = true;
    rib.applyUpdate('192.0.2.1', bad);
    assert.equal(rib.size('ipv4-unicast'), 1);
    assert.equal(rib.query('ipv4-unicast', { prefix: '203.0.114.0/24' }).total, 1);
  });

  it('stores Add-Path paths of one peer side by side, by path id', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24', '203.0.113.0/24'], '192.0.2.1', attrs([65001]), [1, 2]));
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, 5]), [3]));
    assert.equal(rib.pathsIn('ipv4-unicast'), 3);
    assert.deepEqual(rib.counts('192.0.2.1').received['ipv4-unicast'], 3);
    rib.applyUpdate('192.0.2.1', withdraw(['203.0.113.0/24'], [1]));
    assert.equal(rib.pathsIn('ipv4-unicast'), 2);
    assert.equal(rib.explain('ipv4-unicast', '203.0.113.0/24')[1]?.reason, 'as-path-length');
    rib.peerDown('192.0.2.1');
    assert.equal(rib.pathsIn('ipv4-unicast'), 0);
    assert.deepEqual(rib.internStats(), { sources: 0, refs: 0 });
  });
});

describe('interning', () => {
  it('shares one source per (peer, attributes, next hop) and counts its references', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    const a = attrs([65001], { communities: [1, 2] });
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24', '203.0.114.0/24'], '192.0.2.1', a));
    rib.applyUpdate('192.0.2.1', announce(['203.0.115.0/24'], '192.0.2.1', attrs([65001], { communities: [1, 2] })));
    assert.deepEqual(rib.internStats(), { sources: 1, refs: 3 });
    rib.applyUpdate('192.0.2.1', announce(['203.0.115.0/24'], '192.0.2.1', a)); // the same route again
    assert.deepEqual(rib.internStats(), { sources: 1, refs: 3 });
    rib.applyUpdate('192.0.2.1', announce(['203.0.116.0/24'], '192.0.2.2', a)); // another next hop
    assert.deepEqual(rib.internStats(), { sources: 2, refs: 4 });
    rib.applyUpdate('192.0.2.1', withdraw(['203.0.113.0/24', '203.0.114.0/24', '203.0.115.0/24', '203.0.116.0/24']));
    assert.deepEqual(rib.internStats(), { sources: 0, refs: 0 });
  });

  it('copies extended communities and unknown attribute values (no view into a receive buffer is kept)', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    const chunk = new Uint8Array([0, 2, 0xfd, 0xe8, 0, 0, 0, 1, 9, 9]);
    const a = attrs([65001], {
      extCommunities: [chunk.subarray(0, 8)],
      unknown: [{ flags: 0xc0, code: 99, value: chunk.subarray(8) }],
    });
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', a));
    chunk.fill(0);
    const r = rib.query('ipv4-unicast', { prefix: '203.0.113.0/24' }).routes[0]!;
    assert.deepEqual(r.ext_communities, ['rt:65000:1']);
  });

  it('property: every reference is released once all routes are gone and all peers pulled', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            peer: fc.integer({ min: 1, max: 3 }),
            prefix: fc.integer({ min: 0, max: 7 }),
            path: fc.integer({ min: 0, max: 3 }),
            withdraw: fc.boolean(),
            pull: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        (ops) => {
          const { rib, peer, drain } = setup();
          for (let p = 1; p <= 3; p++) peer(`192.0.2.${p}`, 65000 + p);
          for (const op of ops) {
            const id = `192.0.2.${op.peer}`;
            const pfx = `203.0.113.${op.prefix * 8}/29`;
            if (op.withdraw) rib.applyUpdate(id, withdraw([pfx]));
            else rib.applyUpdate(id, announce([pfx], id, attrs([65000 + op.peer, ...Array(op.path).fill(9)])));
            if (op.pull) drain(`192.0.2.${1 + (op.prefix % 3)}`);
          }
          for (let p = 1; p <= 3; p++) rib.peerDown(`192.0.2.${p}`);
          assert.equal(rib.size('ipv4-unicast'), 0);
          assert.deepEqual(rib.internStats(), { sources: 0, refs: 0 });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('propagation', () => {
  it('sends the best path to every peer but the one it came from, and follows changes', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001, { localAddress: '192.0.2.101' });
    peer('192.0.2.2', 65002, { localAddress: '192.0.2.102' });
    peer('192.0.2.3', 65003, { localAddress: '192.0.2.103' });
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, 9])));
    assert.deepEqual(drain('192.0.2.1'), []);
    const toB = drain('192.0.2.2');
    assert.deepEqual(announced(toB), ['203.0.113.0/24']);
    assert.deepEqual(flatPath(toB[0]!), [65000, 65001, 9]);
    assert.equal(toB[0]?.type === 'update' && toB[0].nextHop, '192.0.2.102');
    assert.deepEqual(announced(drain('192.0.2.3')), ['203.0.113.0/24']);

    // A shorter path from B wins: B is told to forget ours, A and C get B's.
    rib.applyUpdate('192.0.2.2', announce(['203.0.113.0/24'], '192.0.2.2', attrs([65002])));
    assert.deepEqual(withdrawn(drain('192.0.2.2')), ['203.0.113.0/24']);
    const toA = drain('192.0.2.1');
    assert.deepEqual(flatPath(toA[0]!), [65000, 65002]);
    assert.deepEqual(flatPath(drain('192.0.2.3')[0]!), [65000, 65002]);

    // B withdraws: back to A's path.
    rib.applyUpdate('192.0.2.2', withdraw(['203.0.113.0/24']));
    assert.deepEqual(withdrawn(drain('192.0.2.1')), ['203.0.113.0/24']);
    assert.deepEqual(flatPath(drain('192.0.2.2')[0]!), [65000, 65001, 9]);
    assert.deepEqual(flatPath(drain('192.0.2.3')[0]!), [65000, 65001, 9]);

    // A withdraws: gone everywhere it was advertised.
    rib.applyUpdate('192.0.2.1', withdraw(['203.0.113.0/24']));
    assert.deepEqual(drain('192.0.2.1'), []);
    assert.deepEqual(withdrawn(drain('192.0.2.2')), ['203.0.113.0/24']);
    assert.deepEqual(withdrawn(drain('192.0.2.3')), ['203.0.113.0/24']);
    assert.deepEqual(rib.internStats(), { sources: 0, refs: 0 });
  });

  it("peerDown withdraws the peer's routes everywhere and falls back to other paths", () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', 65002);
    peer('192.0.2.3', 65003);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24', '203.0.114.0/24'], '192.0.2.1', attrs([65001])));
    rib.applyUpdate('192.0.2.2', announce(['203.0.114.0/24'], '192.0.2.2', attrs([65002, 5])));
    drain('192.0.2.1');
    drain('192.0.2.2');
    assert.deepEqual(announced(drain('192.0.2.3')).sort(), ['203.0.113.0/24', '203.0.114.0/24']);
    rib.peerDown('192.0.2.1');
    assert.equal(rib.hasPending('192.0.2.1'), false);
    assert.deepEqual(rib.pull('192.0.2.1', 4096), []);
    const toC = drain('192.0.2.3');
    assert.deepEqual(withdrawn(toC), ['203.0.113.0/24']);
    assert.deepEqual(announced(toC), ['203.0.114.0/24']);
    assert.deepEqual(flatPath(updates(toC)[0]!), [65000, 65002, 5]);
    // B had been sent both of A's routes; now one is gone and the other is B's own.
    assert.deepEqual(withdrawn(drain('192.0.2.2')).sort(), ['203.0.113.0/24', '203.0.114.0/24']);
    assert.deepEqual(rib.counts('192.0.2.1'), { received: {}, advertised: {} });
    assert.equal(rib.size('ipv4-unicast'), 1);
    rib.removePeer('192.0.2.2');
    assert.deepEqual(withdrawn(drain('192.0.2.3')), ['203.0.114.0/24']);
    assert.deepEqual(rib.internStats(), { sources: 0, refs: 0 });
  });

  it('a removed peer can be added again under the same id, as a different peer', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.3', 65003);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001])));
    rib.removePeer('192.0.2.1');
    // Re-added as an iBGP peer before C pulled the withdrawal: its sources must not mix with the old ones.
    peer('192.0.2.1', LOCAL_ASN);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001])));
    // As an iBGP route it keeps its (absent) LOCAL_PREF; the old eBGP source had 100.
    assert.equal(rib.query('ipv4-unicast', { prefix: '203.0.113.0/24' }).routes[0]?.local_pref, null);
    const toC = drain('192.0.2.3');
    assert.deepEqual(announced(toC), ['203.0.113.0/24']);
    assert.deepEqual(flatPath(toC[0]!), [65000, 65001]);
    assert.throws(() => rib.applyUpdate('192.0.2.9', withdraw(['203.0.113.0/24'])), /unknown peer/);
    rib.removePeer('192.0.2.1');
    drain('192.0.2.3');
    assert.deepEqual(rib.internStats(), { sources: 0, refs: 0 });
  });

  it('coalesces churn: one UPDATE for five changes, nothing when a prefix ends where it began', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.3', 65003);
    for (let med = 1; med <= 5; med++) {
      rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, med])));
    }
    const toC = drain('192.0.2.3');
    assert.equal(toC.length, 1);
    assert.deepEqual(flatPath(toC[0]!), [65000, 65001, 5]);
    // Change and change back before the pull.
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, 6])));
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, 5])));
    assert.equal(rib.hasPending('192.0.2.3'), true);
    assert.deepEqual(drain('192.0.2.3'), []);
    // Announce and withdraw a new prefix before the pull: nothing to withdraw, since it never went out.
    rib.applyUpdate('192.0.2.1', announce(['203.0.114.0/24'], '192.0.2.1', attrs([65001])));
    rib.applyUpdate('192.0.2.1', withdraw(['203.0.114.0/24']));
    assert.deepEqual(drain('192.0.2.3'), []);
    assert.deepEqual(rib.counts('192.0.2.3').advertised, { 'ipv4-unicast': 1, 'ipv6-unicast': 0 });
  });

  it('packs prefixes that share an exported attribute set into one batch', () => {
    const { rib, enc, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', 65001); // a second session into the same AS
    peer('192.0.2.3', 65003);
    const prefixes = Array.from({ length: 100 }, (_, i) => `10.${i}.0.0/16`);
    rib.applyUpdate('192.0.2.1', announce(prefixes, '192.0.2.1', attrs([65001, 7])));
    // Same attributes, other peer and next hop: another source, but the same attributes towards C.
    rib.applyUpdate('192.0.2.2', announce(['198.51.100.0/24'], '192.0.2.2', attrs([65001, 7])));
    const calls = enc.calls;
    const toC = drain('192.0.2.3');
    assert.equal(enc.calls - calls, 1);
    assert.equal(toC.length, 1);
    assert.equal(announced(toC).length, 101);
  });

  it('initial dump: the whole table in several pulls of about maxBytes, then End-of-RIB per family', () => {
    const enc = new RecordingEncoder();
    const rib2 = new Rib({ localAsn: LOCAL_ASN, routerId: RID, encoder: enc });
    rib2.addPeer(ribPeer('192.0.2.1', 65001, LOCAL_ASN));
    rib2.peerUp('192.0.2.1', session('192.0.2.100', 1));
    for (let i = 0; i < 1000; i++) {
      rib2.applyUpdate('192.0.2.1', announce([`10.${i >> 8}.${i & 255}.0/24`], '192.0.2.1', attrs([65001, i % 50])));
    }
    for (let i = 0; i < 100; i++) {
      rib2.applyUpdate('192.0.2.1', announce([`2001:db8:${i.toString(16)}::/48`], '2001:db8::1', attrs([65001])));
    }
    rib2.addPeer(ribPeer('192.0.2.3', 65003, LOCAL_ASN));
    rib2.peerUp('192.0.2.3', session('192.0.2.100', 3));
    assert.equal(rib2.hasPending('192.0.2.3'), true);
    const all: Sent[] = [];
    let pulls = 0;
    for (;;) {
      const m = rib2.pull('192.0.2.3', 1000);
      if (m.length === 0) break;
      pulls++;
      const bytes = m.reduce((n, x) => n + x.length, 0);
      assert.ok(bytes < 1000 + 200, `pull returned ${bytes} bytes`);
      all.push(...enc.decode(m));
    }
    assert.ok(pulls > 10);
    assert.equal(rib2.hasPending('192.0.2.3'), false);
    const eors = all.map((m, i) => [m, i] as const).filter(([m]) => m.type === 'eor');
    assert.deepEqual(eors.map(([m]) => m.type === 'eor' && m.family).sort(), ['ipv4-unicast', 'ipv6-unicast']);
    for (const [eor, at] of eors) {
      const fam = eor.type === 'eor' ? eor.family : '';
      assert.ok(
        all.slice(at + 1).every((m) => m.type === 'eor' || m.family !== fam),
        'EoR after the family',
      );
    }
    const v4 = new Set(
      all.filter((m) => m.type === 'update' && m.family === 'ipv4-unicast').flatMap((m) => announced([m])),
    );
    assert.equal(v4.size, 1000);
    assert.equal(announced(all).length, 1100);
    // A later change goes out, but no second End-of-RIB.
    rib2.applyUpdate('192.0.2.1', withdraw(['10.0.0.0/24']));
    assert.deepEqual(
      enc.decode(rib2.pull('192.0.2.3', 4096)).map((m) => m.type),
      ['withdraw'],
    );
  });

  it('an empty table still gets End-of-RIB, only for negotiated families, and only negotiated families flow', () => {
    const { rib, peer, drain } = setup();
    const first = peer('192.0.2.3', 65003, { families: ['ipv4-unicast'] });
    assert.deepEqual(first, [{ type: 'eor', family: 'ipv4-unicast' }]);
    peer('192.0.2.1', 65001);
    rib.applyUpdate('192.0.2.1', announce(['2001:db8::/32'], '2001:db8::1', attrs([65001])));
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001])));
    assert.deepEqual(announced(drain('192.0.2.3')), ['203.0.113.0/24']);
    assert.deepEqual(rib.counts('192.0.2.3').advertised, { 'ipv4-unicast': 1 });
  });

  it('refreshOut sends the Adj-RIB-Out of the family again', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.3', 65003);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24', '203.0.114.0/24'], '192.0.2.1', attrs([65001])));
    rib.applyUpdate('192.0.2.1', announce(['2001:db8::/32'], '2001:db8::1', attrs([65001])));
    assert.equal(announced(drain('192.0.2.3')).length, 3);
    assert.deepEqual(drain('192.0.2.3'), []);
    rib.refreshOut('192.0.2.3', 'ipv4-unicast');
    const again = drain('192.0.2.3');
    assert.deepEqual(announced(again).sort(), ['203.0.113.0/24', '203.0.114.0/24']);
    assert.ok(again.every((m) => m.type === 'update'));
  });

  it('calls onPending once per transition from idle, and onBestChange with the new best or null', () => {
    const pending: string[] = [];
    const changes: BestChange[] = [];
    const { rib, peer, drain } = setup({ onPending: (id) => pending.push(id), onBestChange: (c) => changes.push(c) });
    peer('192.0.2.1', 65001);
    peer('192.0.2.3', 65003);
    pending.length = 0;
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24', '203.0.114.0/24'], '192.0.2.1', attrs([65001])));
    rib.applyUpdate('192.0.2.1', announce(['203.0.115.0/24'], '192.0.2.1', attrs([65001])));
    assert.deepEqual(pending, ['192.0.2.3']);
    drain('192.0.2.3');
    rib.applyUpdate('192.0.2.1', withdraw(['203.0.115.0/24']));
    assert.deepEqual(pending, ['192.0.2.3', '192.0.2.3']);
    assert.equal(changes.length, 4);
    assert.equal(changes[0]?.best?.prefix, '203.0.113.0/24');
    assert.equal(changes[0]?.best?.reason, 'only-path');
    assert.deepEqual(changes[3], {
      family: 'ipv4-unicast',
      prefix: key('203.0.115.0/24'),
      best: null,
      previousFrom: '192.0.2.1',
    });
  });
});

describe('export transformations', () => {
  function one(s: Sent[]) {
    const u = updates(s);
    assert.equal(u.length, 1, `expected one update, got ${JSON.stringify(s)}`);
    const m = u[0]!;
    assert.ok(m.type === 'update');
    return m;
  }

  it('towards eBGP: prepend, next hop self, no LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST or learned MED', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.2', LOCAL_ASN);
    peer('192.0.2.3', 65003, { localAddress: '198.51.100.1' });
    rib.applyUpdate(
      '192.0.2.2',
      announce(
        ['203.0.113.0/24'],
        '192.0.2.50',
        attrs([65010], {
          localPref: 120,
          med: 30,
          originatorId: '1.1.1.1',
          clusterList: ['2.2.2.2'],
          communities: [0x00010002],
          largeCommunities: [[1, 2, 3]],
          otc: 65010,
          atomicAggregate: true,
          aggregator: { asn: 65010, address: '192.0.2.50' },
        }),
      ),
    );
    const m = one(drain('192.0.2.3'));
    assert.equal(m.nextHop, '198.51.100.1');
    assert.deepEqual(m.attributes, {
      origin: 0,
      asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65000, 65010] }],
      communities: [0x00010002],
      largeCommunities: [[1, 2, 3]],
      otc: 65010,
      atomicAggregate: true,
      aggregator: { asn: 65010, address: '192.0.2.50' },
    });
  });

  it('towards eBGP: a full AS_SEQUENCE, an AS_SET or confederation segments in front get a new segment', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.3', 65003);
    const full = Array.from({ length: 255 }, (_, i) => (i === 0 ? 65001 : 100 + i));
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs(full)));
    const m = one(drain('192.0.2.3'));
    assert.deepEqual(
      m.attributes.asPath.map((s) => [s.type, s.asns.length]),
      [
        [AsPathSegmentType.AS_SEQUENCE, 1],
        [AsPathSegmentType.AS_SEQUENCE, 255],
      ],
    );
    rib.applyUpdate(
      '192.0.2.1',
      announce(['203.0.114.0/24'], '192.0.2.1', {
        origin: 0,
        asPath: [
          { type: AsPathSegmentType.AS_CONFED_SEQUENCE, asns: [64512] },
          { type: AsPathSegmentType.AS_SET, asns: [65001, 65002] },
        ],
      }),
    );
    assert.deepEqual(one(drain('192.0.2.3')).attributes.asPath, [
      { type: AsPathSegmentType.AS_SEQUENCE, asns: [65000] },
      { type: AsPathSegmentType.AS_SET, asns: [65001, 65002] },
    ]);
  });

  it('towards iBGP: next hop, AS_PATH and MED kept, LOCAL_PREF always present', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', LOCAL_ASN);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001], { med: 7 })));
    const m = one(drain('192.0.2.2'));
    assert.equal(m.nextHop, '192.0.2.1');
    assert.deepEqual(m.attributes, { origin: 0, asPath: attrs([65001]).asPath, med: 7, localPref: 100 });
  });

  it('local routes: LOCAL_PREF 100, own MED kept towards eBGP, next hop self resolved per peer', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.2', LOCAL_ASN, { localAddress: '192.0.2.200' });
    peer('192.0.2.3', 65003, { localAddress: '198.51.100.1' });
    rib.originate({
      family: 'ipv4-unicast',
      prefix: key('203.0.113.0/24'),
      attributes: attrs([], { med: 5 }),
      nextHop: 'self',
    });
    rib.originate({
      family: 'ipv4-unicast',
      prefix: key('203.0.114.0/24'),
      attributes: attrs([]),
      nextHop: '192.0.2.99',
    });
    const toE = updates(drain('192.0.2.3'));
    assert.deepEqual(
      toE.map(
        (m) => m.type === 'update' && [m.prefixes, m.nextHop, m.attributes.med, m.attributes.localPref, flatPath(m)],
      ),
      [
        [['203.0.113.0/24'], '198.51.100.1', 5, undefined, [65000]],
        [['203.0.114.0/24'], '192.0.2.99', undefined, undefined, [65000]],
      ],
    );
    const toI = updates(drain('192.0.2.2'));
    assert.deepEqual(
      toI.map((m) => m.type === 'update' && [m.prefixes, m.nextHop, m.attributes.localPref, flatPath(m)]),
      [
        [['203.0.113.0/24'], '192.0.2.200', 100, []],
        [['203.0.114.0/24'], '192.0.2.99', 100, []],
      ],
    );
    assert.equal(rib.query('ipv4-unicast', { prefix: '203.0.113.0/24' }).routes[0]?.from, 'local');
    rib.withdrawLocal('ipv4-unicast', key('203.0.113.0/24'));
    assert.deepEqual(withdrawn(drain('192.0.2.3')), ['203.0.113.0/24']);
  });

  it('next hop self per family: IPv4-mapped for IPv6 over IPv4, configured next hops, RFC 8950', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.3', 65003, { localAddress: '198.51.100.1' });
    peer('192.0.2.4', 65004, { localAddress: '198.51.100.1', nextHopIpv6: '2001:db8::64' });
    peer('2001:db8::5', 65005, { localAddress: '2001:db8::1', rid: '5.5.5.5' });
    peer('2001:db8::6', 65006, { localAddress: '2001:db8::1', rid: '6.6.6.6', nextHopIpv4: '198.51.100.6' });
    rib.addPeer(ribPeer('2001:db8::7', 65007, LOCAL_ASN));
    rib.peerUp('2001:db8::7', session('2001:db8::1', 7, undefined, { extendedNextHop: new Set(['ipv4-unicast']) }));
    drain('2001:db8::7');
    rib.applyUpdate('192.0.2.1', announce(['2001:db8:1::/48'], '2001:db8::99', attrs([65001])));
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001])));
    const nh = (id: string) =>
      updates(drain(id))
        .map((m) => m.type === 'update' && `${m.prefixes[0]} via ${m.nextHop}`)
        .sort();
    assert.deepEqual(nh('192.0.2.3'), ['2001:db8:1::/48 via ::ffff:198.51.100.1', '203.0.113.0/24 via 198.51.100.1']);
    assert.deepEqual(nh('192.0.2.4'), ['2001:db8:1::/48 via 2001:db8::64', '203.0.113.0/24 via 198.51.100.1']);
    // No IPv4 next hop of its own over an IPv6 session: the IPv4 route is not sent.
    assert.deepEqual(nh('2001:db8::5'), ['2001:db8:1::/48 via 2001:db8::1']);
    assert.deepEqual(nh('2001:db8::6'), ['2001:db8:1::/48 via 2001:db8::1', '203.0.113.0/24 via 198.51.100.6']);
    assert.deepEqual(nh('2001:db8::7'), ['2001:db8:1::/48 via 2001:db8::1', '203.0.113.0/24 via 2001:db8::1']);
  });

  it('non-transitive extended communities stay inside the AS; unknown attributes pass only if transitive, Partial set', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', LOCAL_ASN);
    peer('192.0.2.3', 65003);
    const transitive = new Uint8Array([0, 2, 0xfd, 0xe8, 0, 0, 0, 1]);
    const nonTransitive = new Uint8Array([0x40, 4, 0, 0, 0, 0, 0, 1]);
    rib.applyUpdate(
      '192.0.2.1',
      announce(
        ['203.0.113.0/24'],
        '192.0.2.1',
        attrs([65001], {
          extCommunities: [transitive, nonTransitive],
          unknown: [
            { flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, code: 99, value: new Uint8Array([1]) },
            { flags: AttrFlag.OPTIONAL, code: 98, value: new Uint8Array([2]) },
          ],
        }),
      ),
    );
    const e = one(drain('192.0.2.3')).attributes;
    assert.deepEqual(e.extCommunities, [transitive]);
    assert.deepEqual(e.unknown, [
      { flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE | AttrFlag.PARTIAL, code: 99, value: new Uint8Array([1]) },
    ]);
    const i = one(drain('192.0.2.2')).attributes;
    assert.deepEqual(i.extCommunities, [transitive, nonTransitive]);
    assert.equal(i.unknown?.length, 1);
  });

  it('NO_EXPORT and NO_EXPORT_SUBCONFED stop at eBGP, NO_ADVERTISE goes nowhere', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', LOCAL_ASN);
    peer('192.0.2.3', 65003);
    const c = (n: number) => attrs([65001], { communities: [0x00010001, n] });
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', c(WellKnownCommunity.NO_EXPORT)));
    rib.applyUpdate('192.0.2.1', announce(['203.0.114.0/24'], '192.0.2.1', c(WellKnownCommunity.NO_EXPORT_SUBCONFED)));
    rib.applyUpdate('192.0.2.1', announce(['203.0.115.0/24'], '192.0.2.1', c(WellKnownCommunity.NO_ADVERTISE)));
    rib.applyUpdate('192.0.2.1', announce(['203.0.116.0/24'], '192.0.2.1', c(WellKnownCommunity.NO_PEER)));
    assert.deepEqual(announced(drain('192.0.2.3')), ['203.0.116.0/24']);
    assert.deepEqual(announced(drain('192.0.2.2')).sort(), ['203.0.113.0/24', '203.0.114.0/24', '203.0.116.0/24']);
    // The best path gaining NO_EXPORT withdraws it from eBGP peers.
    rib.applyUpdate('192.0.2.1', announce(['203.0.116.0/24'], '192.0.2.1', c(WellKnownCommunity.NO_EXPORT)));
    assert.deepEqual(withdrawn(drain('192.0.2.3')), ['203.0.116.0/24']);
  });

  it('still sends a route to an eBGP peer whose ASN is in the path (the receiver drops it)', () => {
    const { rib, peer, drain } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.3', 65003);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, 65003])));
    assert.deepEqual(flatPath(updates(drain('192.0.2.3'))[0]!), [65000, 65001, 65003]);
  });
});

describe('route reflection (RFC 4456 §6)', () => {
  function reflector() {
    const s = setup({ clusterId: ipv4ToNumber('10.255.0.1')! });
    s.peer('192.0.2.11', LOCAL_ASN); // non-clients
    s.peer('192.0.2.12', LOCAL_ASN);
    s.peer('192.0.2.21', LOCAL_ASN, { routeReflectorClient: true }); // clients
    s.peer('192.0.2.22', LOCAL_ASN, { routeReflectorClient: true });
    s.peer('192.0.2.3', 65003);
    return s;
  }
  const ALL = ['192.0.2.11', '192.0.2.12', '192.0.2.21', '192.0.2.22', '192.0.2.3'];

  function receivers(s: ReturnType<typeof setup>): Map<string, Sent> {
    const got = new Map<string, Sent>();
    for (const id of ALL) {
      const u = updates(s.drain(id));
      if (u.length > 0) got.set(id, u[0]!);
    }
    return got;
  }

  it('from a non-client: to clients and eBGP only', () => {
    const s = reflector();
    s.rib.applyUpdate('192.0.2.11', announce(['203.0.113.0/24'], '192.0.2.50', attrs([65010], { localPref: 150 })));
    const got = receivers(s);
    assert.deepEqual([...got.keys()], ['192.0.2.21', '192.0.2.22', '192.0.2.3']);
    const m = got.get('192.0.2.21')!;
    assert.ok(m.type === 'update');
    assert.equal(m.nextHop, '192.0.2.50');
    assert.equal(m.attributes.localPref, 150);
    assert.equal(m.attributes.originatorId, '192.0.2.11');
    assert.deepEqual(m.attributes.clusterList, ['10.255.0.1']);
    const e = got.get('192.0.2.3')!;
    assert.ok(e.type === 'update' && e.attributes.originatorId === undefined && e.attributes.clusterList === undefined);
  });

  it('from a client: to every other peer, keeping an ORIGINATOR_ID and prepending to CLUSTER_LIST', () => {
    const s = reflector();
    s.rib.applyUpdate(
      '192.0.2.21',
      announce(['203.0.113.0/24'], '192.0.2.60', attrs([], { originatorId: '9.9.9.9', clusterList: ['10.1.1.1'] })),
    );
    const got = receivers(s);
    assert.deepEqual([...got.keys()], ['192.0.2.11', '192.0.2.12', '192.0.2.22', '192.0.2.3']);
    const m = got.get('192.0.2.12')!;
    assert.ok(m.type === 'update');
    assert.equal(m.attributes.originatorId, '9.9.9.9');
    assert.deepEqual(m.attributes.clusterList, ['10.255.0.1', '10.1.1.1']);
  });

  it('without clients, iBGP routes go to eBGP peers only; eBGP routes go to everybody', () => {
    const s = setup();
    s.peer('192.0.2.11', LOCAL_ASN);
    s.peer('192.0.2.12', LOCAL_ASN);
    s.peer('192.0.2.3', 65003);
    s.rib.applyUpdate('192.0.2.11', announce(['203.0.113.0/24'], '192.0.2.50', attrs([65010])));
    assert.deepEqual(s.drain('192.0.2.12'), []);
    assert.equal(updates(s.drain('192.0.2.3')).length, 1);
    s.rib.applyUpdate('192.0.2.3', announce(['203.0.114.0/24'], '192.0.2.3', attrs([65003])));
    assert.deepEqual(announced(s.drain('192.0.2.11')), ['203.0.114.0/24']);
    assert.deepEqual(announced(s.drain('192.0.2.12')), ['203.0.114.0/24']);
  });
});

describe('reading', () => {
  it('query: exact prefix, every path best first; pages in table order with after', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', 65002);
    for (let i = 0; i < 25; i++) {
      rib.applyUpdate('192.0.2.1', announce([`10.0.${i}.0/24`], '192.0.2.1', attrs([65001, 1])));
    }
    rib.applyUpdate('192.0.2.2', announce(['10.0.3.0/24'], '192.0.2.2', attrs([65002], { med: 5 })));
    const q = rib.query('ipv4-unicast', { prefix: '10.0.3.0/24' });
    assert.equal(q.total, 2);
    assert.deepEqual(
      q.routes.map((r) => [r.prefix, r.from, r.best, r.reason, r.as_path, r.med, r.next_hop, r.origin]),
      [
        ['10.0.3.0/24', '192.0.2.2', true, 'as-path-length', [65002], 5, '192.0.2.2', 'igp'],
        ['10.0.3.0/24', '192.0.2.1', false, 'as-path-length', [65001, 1], null, '192.0.2.1', 'igp'],
      ],
    );
    assert.deepEqual(rib.query('ipv4-unicast', { prefix: '10.9.0.0/24' }), { total: 0, routes: [] });
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = rib.query('ipv4-unicast', { limit: 10, ...(after === undefined ? {} : { after }) });
      assert.equal(r.total, 26);
      if (r.routes.length === 0) break;
      seen.push(...r.routes.map((x) => `${x.prefix} ${x.from}`));
      after = r.routes[r.routes.length - 1]!.prefix;
    }
    assert.equal(seen.length, 26);
    assert.equal(new Set(seen).size, 26);
    // A page asked for again (cursor cache miss) gives the same routes.
    const p2a = rib.query('ipv4-unicast', { limit: 5, after: '10.0.4.0/24' }).routes.map((r) => r.prefix);
    const p2b = rib.query('ipv4-unicast', { limit: 5, after: '10.0.4.0/24' }).routes.map((r) => r.prefix);
    assert.deepEqual(p2a, p2b);
    assert.deepEqual(p2a, ['10.0.5.0/24', '10.0.6.0/24', '10.0.7.0/24', '10.0.8.0/24', '10.0.9.0/24']);
  });

  it('explain lists the candidates with the step that ranked each and what it lost to', () => {
    const { rib, peer } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', 65001);
    peer('192.0.2.3', 65003);
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001], { med: 10 })));
    rib.applyUpdate('192.0.2.2', announce(['203.0.113.0/24'], '192.0.2.2', attrs([65001], { med: 20 })));
    rib.applyUpdate('192.0.2.3', announce(['203.0.113.0/24'], '192.0.2.3', attrs([65003, 1])));
    const x = rib.explain('ipv4-unicast', '203.0.113.0/24');
    assert.deepEqual(
      x.map((r) => [r.from, r.best, r.reason, r.lost_to]),
      [
        ['192.0.2.1', true, 'med', null],
        ['192.0.2.2', false, 'med', 0],
        ['192.0.2.3', false, 'as-path-length', 0],
      ],
    );
    assert.deepEqual(rib.explain('ipv4-unicast', '198.51.100.0/24'), []);
  });

  it('property: the best path does not depend on the order routes arrive or leave in', () => {
    const spec = fc.record({
      lp: fc.constantFrom(100, 200),
      hops: fc.integer({ min: 0, max: 2 }),
      origin: fc.constantFrom(0, 2),
      med: fc.option(fc.constantFrom(0, 10), { nil: undefined }),
      nas: fc.constantFrom(1, 2),
    });
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 6, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        (specs, order, drop) => {
          const run = (seq: number[], dropFirst: boolean) => {
            const { rib } = setup();
            // Peers 1-3 eBGP, 4-6 iBGP (LOCAL_PREF only counts for those).
            for (let p = 1; p <= 6; p++) {
              rib.addPeer(ribPeer(`192.0.2.${p}`, p <= 3 ? 65000 + p : LOCAL_ASN, LOCAL_ASN));
              rib.peerUp(`192.0.2.${p}`, session('192.0.2.100', 100 - p));
            }
            const send = (p: number) => {
              const s = specs[p - 1]!;
              const path = [64600 + s.nas, ...Array(s.hops).fill(7)];
              rib.applyUpdate(
                `192.0.2.${p}`,
                announce(
                  ['203.0.113.0/24'],
                  `192.0.2.${p}`,
                  attrs(path, { localPref: s.lp, origin: s.origin as 0, med: s.med }),
                ),
              );
            };
            if (dropFirst) for (let p = 1; p <= 6; p++) send(p);
            for (const p of seq) send(p);
            for (let p = 1; p <= 6; p++) if (drop[p - 1]) rib.applyUpdate(`192.0.2.${p}`, withdraw(['203.0.113.0/24']));
            return rib.query('ipv4-unicast', { prefix: '203.0.113.0/24' }).routes.map((r) => r.from);
          };
          const forward = [1, 2, 3, 4, 5, 6];
          const shuffled = [...forward].sort((a, b) => order[a - 1]! - order[b - 1]! || a - b);
          const a = run(forward, false);
          const b = run(shuffled, false);
          const c = run(shuffled.reverse(), true);
          assert.deepEqual(b, a);
          assert.deepEqual(c, a);
        },
      ),
      { numRuns: 200 },
    );
  });
});
