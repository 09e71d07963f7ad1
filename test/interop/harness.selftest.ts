// Self-test of the interop harness: real daemons peered with each other (no tsbgp involved), to show that each harness
// module configures, drives and reads its daemon correctly. Not part of the suite (the name does not match *.test.ts);
// run by hand inside the test namespace:
//   bash scripts/netns.sh node_modules/.bin/node --test --test-reporter=spec test/interop/harness.selftest.ts
// Set SELFTEST=bird-gobgp (etc.) to run one pairing.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Bird } from './harness/bird.ts';
import { GoBgp } from './harness/gobgp.ts';
import type { PeerDaemon, Route } from './harness/types.ts';
import { requireTestNetns, waitFor } from './harness/util.ts';

const only = process.env.SELFTEST;
const want = (name: string) => !only || only.split(',').includes(name);

async function routeOf(d: PeerDaemon, prefix: string): Promise<Route | undefined> {
  const fam = prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
  return (await d.routes(fam)).find((r) => r.prefix === prefix);
}

function waitRoute(d: PeerDaemon, prefix: string, timeoutMs = 15_000) {
  return waitFor(() => routeOf(d, prefix), { timeoutMs, what: `${d.name} to receive ${prefix}` });
}

function waitGone(d: PeerDaemon, prefix: string, timeoutMs = 15_000) {
  return waitFor(async () => (await routeOf(d, prefix)) === undefined, {
    timeoutMs,
    what: `${d.name} to drop ${prefix}`,
  });
}

describe('bird <-> gobgp', { skip: !want('bird-gobgp') }, () => {
  let bird: Bird;
  let gobgp: GoBgp;
  before(async () => {
    requireTestNetns();
    bird = new Bird({
      asn: 65012,
      router_id: '198.51.100.12',
      address4: '198.51.100.12',
      address6: '2001:db8::12',
      neighbors: [
        { address: '198.51.100.32', asn: 65032 },
        { address: '2001:db8::32', asn: 65032 },
      ],
      routes: [{ prefix: '203.0.113.0/24', med: 10, communities: ['65012:100'], large_communities: ['65012:1:1'] }],
    });
    gobgp = new GoBgp({
      asn: 65032,
      router_id: '198.51.100.32',
      address4: '198.51.100.32',
      address6: '2001:db8::32',
      neighbors: [
        { address: '198.51.100.12', asn: 65012 },
        { address: '2001:db8::12', asn: 65012 },
      ],
      routes: [{ prefix: '192.0.2.0/24', med: 5, communities: ['65032:7'], large_communities: ['65032:2:3'] }],
    });
    await Promise.all([bird.start(), gobgp.start()]);
  });
  after(async () => {
    await Promise.all([bird?.stop(), gobgp?.stop()]);
  });

  it('establishes over IPv4 and IPv6', async () => {
    await bird.waitEstablished('198.51.100.32');
    await bird.waitEstablished('2001:db8::32');
    await gobgp.waitEstablished('198.51.100.12');
    await gobgp.waitEstablished('2001:db8::12');
  });

  it('carries routes both ways with attributes', async () => {
    const atGo = await waitRoute(gobgp, '203.0.113.0/24');
    assert.deepEqual(atGo.as_path, [65012]);
    assert.equal(atGo.med, 10);
    assert.deepEqual(atGo.communities, ['65012:100']);
    assert.deepEqual(atGo.large_communities, ['65012:1:1']);
    assert.equal(atGo.next_hop, '198.51.100.12');
    const atBird = await waitRoute(bird, '192.0.2.0/24');
    assert.deepEqual(atBird.as_path, [65032]);
    assert.equal(atBird.med, 5);
    assert.deepEqual(atBird.communities, ['65032:7']);
    assert.deepEqual(atBird.large_communities, ['65032:2:3']);
  });

  it('carries IPv6 routes', async () => {
    await bird.announce({ prefix: '2001:db8:1000::/48', med: 20 });
    await gobgp.announce({ prefix: '2001:db8:2000::/48', communities: ['65032:8'] });
    const atGo = await waitRoute(gobgp, '2001:db8:1000::/48');
    assert.equal(atGo.med, 20);
    const atBird = await waitRoute(bird, '2001:db8:2000::/48');
    assert.deepEqual(atBird.communities, ['65032:8']);
  });

  it('withdraws both ways', async () => {
    await bird.withdraw('2001:db8:1000::/48');
    await gobgp.withdraw('2001:db8:2000::/48');
    await waitGone(gobgp, '2001:db8:1000::/48');
    await waitGone(bird, '2001:db8:2000::/48');
  });

  it('route refresh', async () => {
    const before = (await gobgp.counters('198.51.100.12')).updatesReceived;
    await gobgp.requestRefresh('198.51.100.12');
    await waitFor(async () => (await gobgp.counters('198.51.100.12')).updatesReceived > before, {
      what: 'updates after refresh',
    });
    const b2 = (await bird.counters('198.51.100.32')).updatesReceived;
    await bird.requestRefresh('198.51.100.32');
    await waitFor(async () => (await bird.counters('198.51.100.32')).updatesReceived > b2, {
      what: 'bird updates after refresh',
    });
  });

  it('restart re-establishes', async () => {
    await gobgp.restart();
    await gobgp.waitEstablished('198.51.100.12');
    await waitRoute(gobgp, '203.0.113.0/24');
    await waitRoute(bird, '192.0.2.0/24');
    await bird.restart();
    await bird.waitEstablished('198.51.100.32');
    await waitRoute(bird, '192.0.2.0/24');
  });

  it('hold timer expiry when frozen', async () => {
    gobgp.freeze();
    try {
      await waitFor(async () => (await bird.neighborState('198.51.100.32')) !== 'established', {
        timeoutMs: 20_000,
        what: 'bird to drop the frozen gobgp',
      });
      const err = await bird.lastError('198.51.100.32');
      assert.match(err, /hold timer/i);
    } finally {
      gobgp.thaw();
    }
    await bird.waitEstablished('198.51.100.32');
    const gerr = await gobgp.lastError('198.51.100.12');
    console.log('gobgp last error after thaw:', gerr);
  });
});
