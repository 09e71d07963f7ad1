// Local routes with export restrictions (LocalRoute.targets, prependToEbgp): sent only to the listed peers, with the
// extra prepend towards eBGP peers only; the restrictions are part of the source (same attributes, other targets →
// another source), and a route without any is exported exactly as before.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipv4ToNumber } from '../wire/index.ts';
import { Rib } from './rib.ts';
import { attrs, key, RecordingEncoder, ribPeer, type Sent, session } from './test-helpers.ts';
import type { LocalRoute } from './types.ts';

const LOCAL_ASN = 65000;

function setup() {
  const enc = new RecordingEncoder();
  const rib = new Rib({ localAsn: LOCAL_ASN, routerId: ipv4ToNumber('10.0.0.1')!, encoder: enc });
  const drain = (id: string): Sent[] => {
    const out: Sent[] = [];
    for (let i = 0; i < 1000; i++) {
      const m = rib.pull(id, 1 << 20);
      if (m.length === 0) return out;
      out.push(...enc.decode(m));
    }
    throw new Error('pull never ran dry');
  };
  const peer = (address: string, asn: number) => {
    rib.addPeer(ribPeer(address, asn, LOCAL_ASN));
    rib.peerUp(address, session('192.0.2.100', ipv4ToNumber(address)!, ['ipv4-unicast']));
    return drain(address);
  };
  return { rib, drain, peer };
}

const route = (prefix: string, extra: Partial<LocalRoute> = {}): LocalRoute => ({
  family: 'ipv4-unicast',
  prefix: key(prefix),
  attributes: attrs([], { med: 10 }),
  nextHop: 'self',
  ...extra,
});

/** Prefix → flat AS path of what a peer was sent (updates only). */
function paths(s: Sent[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const m of s) {
    if (m.type !== 'update') continue;
    for (const p of m.prefixes) out[p] = m.attributes.asPath.flatMap((seg) => seg.asns);
  }
  return out;
}
const announcedOf = (s: Sent[]) => s.flatMap((m) => (m.type === 'update' ? m.prefixes : []));
const withdrawn = (s: Sent[]) => s.flatMap((m) => (m.type === 'withdraw' ? m.prefixes : []));

describe('local routes with export restrictions', () => {
  it('targets: only the listed peers get the route, present and later ones', () => {
    const { rib, drain, peer } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', 65002);
    rib.originate(route('203.0.113.0/24', { targets: ['192.0.2.2', '192.0.2.9'] }));
    rib.originate(route('203.0.114.0/24'));
    assert.deepEqual(Object.keys(paths(drain('192.0.2.1'))), ['203.0.114.0/24']);
    assert.deepEqual(Object.keys(paths(drain('192.0.2.2'))).sort(), ['203.0.113.0/24', '203.0.114.0/24']);
    // A listed peer that comes up later gets it in its initial dump; an unlisted one does not.
    assert.deepEqual(Object.keys(paths(peer('192.0.2.9', 65009))).sort(), ['203.0.113.0/24', '203.0.114.0/24']);
    assert.deepEqual(Object.keys(paths(peer('192.0.2.7', 65007))), ['203.0.114.0/24']);
  });

  it('changing the targets re-sends or withdraws per peer; dropping them sends to everybody', () => {
    const { rib, drain, peer } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.2', 65002);
    rib.originate(route('203.0.113.0/24', { targets: ['192.0.2.1'] }));
    assert.deepEqual(Object.keys(paths(drain('192.0.2.1'))), ['203.0.113.0/24']);
    assert.deepEqual(drain('192.0.2.2'), []);
    rib.originate(route('203.0.113.0/24', { targets: ['192.0.2.2'] }));
    assert.deepEqual(withdrawn(drain('192.0.2.1')), ['203.0.113.0/24']);
    assert.deepEqual(Object.keys(paths(drain('192.0.2.2'))), ['203.0.113.0/24']);
    rib.originate(route('203.0.113.0/24'));
    assert.deepEqual(Object.keys(paths(drain('192.0.2.1'))), ['203.0.113.0/24']);
    // Another source with the same exported form: sent again (the Adj-RIB-Out tracks sources), harmlessly.
    assert.deepEqual(Object.keys(paths(drain('192.0.2.2'))), ['203.0.113.0/24']);
    rib.originate(route('203.0.113.0/24', { targets: [] }));
    assert.deepEqual(withdrawn(drain('192.0.2.1')), ['203.0.113.0/24']);
    assert.deepEqual(withdrawn(drain('192.0.2.2')), ['203.0.113.0/24']);
  });

  it('prependToEbgp: extra copies of our AS towards eBGP only; iBGP peers see the path unchanged', () => {
    const { rib, drain, peer } = setup();
    peer('192.0.2.1', 65001);
    peer('192.0.2.5', LOCAL_ASN);
    rib.originate(route('203.0.113.0/24', { prependToEbgp: 2 }));
    assert.deepEqual(paths(drain('192.0.2.1')), { '203.0.113.0/24': [65000, 65000, 65000] });
    assert.deepEqual(paths(drain('192.0.2.5')), { '203.0.113.0/24': [] });
    // Back to no prepend: the eBGP peer gets the shorter path, the iBGP peer the same route again (a new source).
    rib.originate(route('203.0.113.0/24'));
    assert.deepEqual(paths(drain('192.0.2.1')), { '203.0.113.0/24': [65000] });
    // Adj-RIB-Out shows what was sent.
    rib.originate(route('203.0.113.0/24', { prependToEbgp: 1, targets: ['192.0.2.1'] }));
    drain('192.0.2.1');
    const out = rib.adjRibOut('192.0.2.1', 'ipv4-unicast', { limit: 10 });
    assert.deepEqual(out.routes[0]?.as_path, [65000, 65000]);
    assert.deepEqual(withdrawn(drain('192.0.2.5')), ['203.0.113.0/24']);
  });

  it('a route without restrictions and one with them are distinct sources, each counted and released', () => {
    const { rib, drain, peer } = setup();
    peer('192.0.2.1', 65001);
    rib.originate(route('203.0.113.0/24'));
    rib.originate(route('203.0.114.0/24', { targets: ['192.0.2.1'] }));
    const s = drain('192.0.2.1').filter((m) => m.type === 'update');
    assert.equal(s.length, 1, 'two sources with the same exported form share one batch');
    assert.deepEqual(announcedOf(s).sort(), ['203.0.113.0/24', '203.0.114.0/24']);
    rib.withdrawLocal('ipv4-unicast', key('203.0.113.0/24'));
    rib.withdrawLocal('ipv4-unicast', key('203.0.114.0/24'));
    assert.deepEqual(withdrawn(drain('192.0.2.1')).sort(), ['203.0.113.0/24', '203.0.114.0/24']);
    assert.equal(rib.size('ipv4-unicast'), 0);
  });
});
