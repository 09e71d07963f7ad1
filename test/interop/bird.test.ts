// Interop with BIRD 2: the common scenario (harness/suite.ts), then iBGP — LOCAL_PREF carried, next hop kept, no AS
// prepended — with a second BIRD in tsbgp's own AS next to an eBGP one.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Bird } from './harness/bird.ts';
import { interopSuite, waitPeerRoute } from './harness/suite.ts';
import { TsbgpProcess, tsbgpConfig } from './harness/tsbgp.ts';
import { requireTestNetns } from './harness/util.ts';

interopSuite({
  name: 'bird',
  peer: (opts) => new Bird(opts),
  octet: 11,
  badPeerAs: /Received: Bad peer AS/i,
  cease: /Received: .*(shut ?down|cease)/i,
});

describe('tsbgp <-> bird over iBGP', () => {
  // tsbgp .13 (AS 65013); BIRD eBGP .14 (AS 65014); BIRD iBGP .15 (AS 65013).
  const t4 = '198.51.100.13';
  const e4 = '198.51.100.14';
  const i4 = '198.51.100.15';
  let tsbgp: TsbgpProcess;
  let ebgp: Bird;
  let ibgp: Bird;

  before(async () => {
    requireTestNetns();
    ebgp = new Bird({
      asn: 65014,
      router_id: e4,
      address4: e4,
      address6: '2001:db8::14',
      neighbors: [{ address: t4, asn: 65013, families: ['ipv4-unicast'] }],
      routes: [{ prefix: '192.0.2.0/24', med: 5 }],
    });
    ibgp = new Bird({
      asn: 65013,
      router_id: i4,
      address4: i4,
      address6: '2001:db8::15',
      neighbors: [{ address: t4, asn: 65013, families: ['ipv4-unicast'] }],
      routes: [{ prefix: '198.18.0.0/24', local_pref: 300, communities: ['65013:3'] }],
    });
    tsbgp = new TsbgpProcess(
      tsbgpConfig({
        asn: 65013,
        address4: t4,
        address6: '2001:db8::13',
        neighbors: [
          { address: e4, asn: 65014, families: ['ipv4-unicast'] },
          { address: i4, asn: 65013, families: ['ipv4-unicast'] },
        ],
        routes: [{ prefix: '203.0.113.0/24', local_pref: 200, med: 10 }],
      }),
    );
    await Promise.all([ebgp.start(), ibgp.start(), tsbgp.start()]);
  });

  after(async () => {
    await Promise.all([tsbgp?.stop(), ebgp?.stop(), ibgp?.stop()]);
  });

  it('establishes the eBGP and the iBGP session', async () => {
    await tsbgp.waitEstablished(e4);
    await tsbgp.waitEstablished(i4);
    await ibgp.waitEstablished(t4);
  });

  it("the iBGP peer gets tsbgp's own route with its LOCAL_PREF and tsbgp as next hop, no AS prepended", async () => {
    const r = await waitPeerRoute(ibgp, '203.0.113.0/24', t4);
    assert.equal(r.local_pref, 200, JSON.stringify(r));
    assert.deepEqual(r.as_path, []);
    assert.equal(r.next_hop, t4);
    assert.equal(r.med, 10);
  });

  it("the iBGP peer gets the eBGP peer's route with the next hop kept and LOCAL_PREF 100", async () => {
    const r = await waitPeerRoute(ibgp, '192.0.2.0/24', t4);
    assert.deepEqual(r.as_path, [65014], JSON.stringify(r));
    assert.equal(r.next_hop, e4, 'RFC 4271 §5.1.3: the next hop is not changed towards an internal peer');
    assert.equal(r.local_pref, 100);
  });

  it("tsbgp takes the iBGP peer's LOCAL_PREF and passes the route to eBGP with its own AS and next hop", async () => {
    const r = await tsbgp.waitRoute('198.18.0.0/24', i4);
    assert.equal(r.local_pref, 300, JSON.stringify(r));
    assert.deepEqual(r.as_path, []);
    assert.equal(r.next_hop, i4);
    assert.deepEqual(r.communities, ['65013:3']);
    const atE = await waitPeerRoute(ebgp, '198.18.0.0/24', t4);
    assert.deepEqual(atE.as_path, [65013], JSON.stringify(atE));
    assert.equal(atE.next_hop, t4);
    assert.deepEqual(atE.communities, ['65013:3']);
  });
});
