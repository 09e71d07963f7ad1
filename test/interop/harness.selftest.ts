// Self-test of the interop harness: real daemons peered with each other (no tsbgp involved), to show that each harness
// module configures, drives and reads its daemon correctly. Not part of the suite (the name does not match *.test.ts);
// run by hand inside the test namespace:
//   bash scripts/netns.sh node_modules/.bin/node --test --test-reporter=spec test/interop/harness.selftest.ts
// SELFTEST=bird-gobgp,frr-openbgpd (etc.) runs only those pairings.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Bird } from './harness/bird.ts';
import { ExaBgp } from './harness/exabgp.ts';
import { Frr } from './harness/frr.ts';
import { GoBgp } from './harness/gobgp.ts';
import { OpenBgpd } from './harness/openbgpd.ts';
import { Capture } from './harness/tshark.ts';
import type { PeerDaemon, PeerOptions, Route } from './harness/types.ts';
import { requireTestNetns, waitFor } from './harness/util.ts';

const only = process.env.SELFTEST;
const want = (name: string) => !only || only.split(',').includes(name);

type Ctor = new (opts: PeerOptions) => PeerDaemon;

async function routeOf(d: PeerDaemon, prefix: string, from?: string): Promise<Route | undefined> {
  const fam = prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
  const all = (await d.routes(fam)).filter((r) => r.prefix === prefix);
  return from ? all.find((r) => r.next_hop === from) : all[0];
}

function waitRoute(d: PeerDaemon, prefix: string, timeoutMs = 20_000) {
  return waitFor(() => routeOf(d, prefix), { timeoutMs, what: `${d.name} to receive ${prefix}` });
}

function waitGone(d: PeerDaemon, prefix: string, timeoutMs = 20_000) {
  return waitFor(async () => (await routeOf(d, prefix)) === undefined, {
    timeoutMs,
    what: `${d.name} to drop ${prefix}`,
  });
}

interface Side {
  ctor: Ctor;
  octet: number;
}

function options(me: Side, peer: Side, peerAsn = 65000 + peer.octet): PeerOptions {
  return {
    asn: 65000 + me.octet,
    router_id: `198.51.100.${me.octet}`,
    address4: `198.51.100.${me.octet}`,
    address6: `2001:db8::${me.octet}`,
    neighbors: [
      { address: `198.51.100.${peer.octet}`, asn: peerAsn },
      { address: `2001:db8::${peer.octet}`, asn: peerAsn },
    ],
  };
}

/** Everything the tsbgp tests need from a harness, exercised between two real daemons A and B. */
function pair(
  name: string,
  aSide: Side,
  bSide: Side,
  known: { noRefreshAnswer?: string; noNotificationReport?: string } = {},
) {
  describe(name, { skip: !want(name) }, () => {
    let a: PeerDaemon;
    let b: PeerDaemon;
    let capture: Capture;
    const a4 = `198.51.100.${aSide.octet}`;
    const b4 = `198.51.100.${bSide.octet}`;
    const a6 = `2001:db8::${aSide.octet}`;
    const b6 = `2001:db8::${bSide.octet}`;

    before(async () => {
      requireTestNetns();
      capture = await Capture.start(name, [a4, b4, a6, b6]);
      a = new aSide.ctor({
        ...options(aSide, bSide),
        routes: [
          {
            prefix: '203.0.113.0/24',
            med: 10,
            communities: [`${65000 + aSide.octet}:100`],
            large_communities: ['4200000000:1:1'],
          },
          { prefix: '2001:db8:1000::/48', med: 20, communities: ['65001:666'] },
        ],
      });
      b = new bSide.ctor({
        ...options(bSide, aSide),
        routes: [{ prefix: '192.0.2.0/24', med: 5, communities: ['65000:7'], large_communities: ['65000:2:3'] }],
      });
      await Promise.all([a.start(), b.start()]);
    });

    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await capture?.stop();
    });

    it('establishes over IPv4 and IPv6 transport', async () => {
      await a.waitEstablished(b4);
      await a.waitEstablished(b6);
      await b.waitEstablished(a4);
      await b.waitEstablished(a6);
    });

    it('carries routes both ways with their attributes, both families on both sessions', async () => {
      const atB = await waitFor(
        async () =>
          (await b.routes('ipv4-unicast')).filter((r) => r.prefix === '203.0.113.0/24').length === 2 &&
          (await b.routes('ipv4-unicast')),
        { what: 'both sessions to carry 203.0.113.0/24' },
      );
      for (const r of atB.filter((x) => x.prefix === '203.0.113.0/24')) {
        assert.deepEqual(r.as_path, [65000 + aSide.octet]);
        assert.equal(r.med, 10);
        assert.equal(r.next_hop, a4);
        assert.deepEqual(r.communities, [`${65000 + aSide.octet}:100`]);
        assert.deepEqual(r.large_communities, ['4200000000:1:1']);
      }
      const six = await waitFor(
        async () => {
          const rs = (await b.routes('ipv6-unicast')).filter((r) => r.prefix === '2001:db8:1000::/48');
          return rs.length === 2 && rs;
        },
        { what: 'both sessions to carry 2001:db8:1000::/48' },
      );
      for (const r of six) {
        assert.equal(r.next_hop, a6);
        assert.equal(r.med, 20);
        assert.deepEqual(r.communities, ['65001:666']);
      }
      const atA = await waitRoute(a, '192.0.2.0/24');
      assert.deepEqual(atA.as_path, [65000 + bSide.octet]);
      assert.equal(atA.med, 5);
      assert.equal(atA.next_hop, b4);
      assert.deepEqual(atA.communities, ['65000:7']);
      assert.deepEqual(atA.large_communities, ['65000:2:3']);
    });

    it('announces and withdraws at run time', async () => {
      await b.announce({ prefix: '2001:db8:2000::/48', med: 6, communities: ['65000:8'] });
      const r = await waitRoute(a, '2001:db8:2000::/48');
      assert.equal(r.next_hop, b6);
      assert.deepEqual(r.communities, ['65000:8']);
      await b.withdraw('2001:db8:2000::/48');
      await a.withdraw('203.0.113.0/24');
      await waitGone(a, '2001:db8:2000::/48');
      await waitGone(b, '203.0.113.0/24');
      await a.announce({ prefix: '203.0.113.0/24', med: 11 });
      assert.equal((await waitRoute(b, '203.0.113.0/24')).med, 11);
    });

    it('route refresh: A asks, B answers', { skip: known.noRefreshAnswer }, async () => {
      const before = (await a.counters(b4)).updatesReceived;
      try {
        await a.requestRefresh(b4);
      } catch (err) {
        if (err instanceof Error && /not supported/.test(err.message)) return;
        throw err;
      }
      await waitFor(async () => (await a.counters(b4)).updatesReceived > before, {
        what: `${a.name} to count updates after its route refresh`,
      });
    });

    it('restart of B re-establishes', async () => {
      await b.restart();
      await a.waitEstablished(b4, 40_000);
      await b.waitEstablished(a4, 40_000);
      await waitRoute(a, '192.0.2.0/24');
      await waitRoute(b, '203.0.113.0/24');
    });

    it('hold timer: A drops a frozen B', async () => {
      b.freeze();
      try {
        await waitFor(async () => (await a.neighborState(b4)) !== 'established', {
          timeoutMs: 25_000,
          what: `${a.name} to drop the frozen ${b.name}`,
        });
        const err = await waitFor(async () => (await a.lastError(b4)) || undefined, { what: 'a last error' });
        console.log(`${a.name} last error after hold timer: ${err}`);
        assert.match(err, /hold/i);
      } finally {
        b.thaw();
      }
      await a.waitEstablished(b4, 40_000);
    });

    it('wrong peer AS: B reports the NOTIFICATION A sends', { skip: known.noNotificationReport }, async () => {
      await a.stop();
      const wrong = new aSide.ctor({ ...options(aSide, bSide, 64999), hold_time: 9 });
      a = wrong;
      await wrong.start();
      const err = await waitFor(
        async () => {
          const e = await b.lastError(a4);
          return /bad peer|2\/2|\(2,2\)|code 2 |peer as|AS unacceptable/i.test(e) && e;
        },
        {
          timeoutMs: 30_000,
          what: `${b.name} to report a Bad Peer AS notification`,
        },
      );
      console.log(`${b.name} reports: ${err}`);
      console.log(`${a.name} reports: ${await wrong.lastError(b4)}`);
    });

    it('tshark finds BGP and nothing malformed', async () => {
      await Promise.all([a.stop(), b.stop()]);
      await capture.stop();
      const s = await capture.summary();
      console.log(name, 'capture:', JSON.stringify(s.messages));
      assert.equal(s.malformed, '');
      assert.ok((s.messages.UPDATE ?? 0) > 0);
    });
  });
}

pair(
  'bird-gobgp',
  { ctor: Bird, octet: 12 },
  { ctor: GoBgp, octet: 32 },
  {
    noNotificationReport:
      'GoBGP logs a NOTIFICATION received in OpenConfirm only as an invalid message, without its codes',
  },
);
pair('gobgp-bird', { ctor: GoBgp, octet: 32 }, { ctor: Bird, octet: 12 });
pair(
  'frr-openbgpd',
  { ctor: Frr, octet: 22 },
  { ctor: OpenBgpd, octet: 42 },
  {
    noRefreshAnswer:
      'OpenBGPD logs "route refresh: AID IPv4 unicast not negotiated" for FRR\'s requests and ignores them',
  },
);
pair('openbgpd-frr', { ctor: OpenBgpd, octet: 42 }, { ctor: Frr, octet: 22 });
pair('exabgp-bird', { ctor: ExaBgp, octet: 52 }, { ctor: Bird, octet: 12 });
pair(
  'bird-exabgp',
  { ctor: Bird, octet: 12 },
  { ctor: ExaBgp, octet: 52 },
  {
    noRefreshAnswer: 'BIRD counts no new updates from ExaBGP after its ROUTE-REFRESH',
  },
);
pair('frr-bird', { ctor: Frr, octet: 22 }, { ctor: Bird, octet: 12 });
