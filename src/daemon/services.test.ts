// [[services]] wired into the speaker, with scripted check results on a manual clock and scripted peers: a healthy
// service's prefixes reach the RIB and the peers, a degraded one is prepended towards eBGP only, drain (with RFC 8326
// graceful shutdown first) and undrain, priority against API-injected and config routes, reload (removed, changed,
// a global identity change) and the views the API serves.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scriptedProbe } from '../health/testing.ts';
import { ManualTimer } from '../health/timer.ts';
import { formatCommunity } from '../wire/attr-communities.ts';
import { parsePrefix } from '../wire/index.ts';
import type { Speaker } from './speaker.ts';
import { config, fakeSpeaker, GLOBAL_TOML, neighborToml } from './testing.ts';

const BASE = `${GLOBAL_TOML}
${neighborToml('192.0.2.2', 65001)}
${neighborToml('192.0.2.3', 65000)}`;

const WEB = `
[[services]]
name = "web"
prefixes = ["198.51.100.10/32", "2001:db8::10/128"]
interval = 1
fast_interval = 1
rise = 2
fall = 2
damping = false
[[services.checks]]
type = "tcp"
target = "127.0.0.1:1"
[services.warning]
as_path_prepend = 2
communities = ["65000:666"]
[services.drained]
action = "graceful-shutdown"
grace = 5
`;

function setup(toml: string) {
  const timer = new ManualTimer();
  const probes = new Map<string, ReturnType<typeof scriptedProbe>>();
  const probe = (name: string) => {
    let p = probes.get(name);
    if (!p) {
      p = scriptedProbe('ok');
      probes.set(name, p);
    }
    return p;
  };
  const { speaker: s, peers } = fakeSpeaker(toml, {
    shutdownGraceMs: 100,
    serviceDeps: (c) => ({ timer, probe: probe(c.name).probe, fileExists: async () => false }),
  });
  return { s, peers, timer, probe };
}

/** What one neighbour was last sent for a prefix (its Adj-RIB-Out), or undefined. */
function sent(s: Speaker, neighbor: string, prefix: string) {
  const { family, key } = parsePrefix(prefix, true);
  return s.adjRibOut(neighbor, family, key, { limit: 10 }).routes[0];
}

function local(s: Speaker, prefix: string) {
  const { family } = parsePrefix(prefix, true);
  return s.rib(family, { prefix: parsePrefix(prefix, true).key }).routes.find((r) => r.from === 'local');
}

async function up(toml: string) {
  const t = setup(toml);
  await t.s.start();
  t.peers.latest('192.0.2.2').establish({ localAddress: '192.0.2.1' });
  t.peers.latest('192.0.2.3').establish({ localAddress: '192.0.2.1' });
  return t;
}

describe('services in the speaker', () => {
  it('announced after `rise` passing checks, to eBGP and iBGP; withdrawn after `fall` failures', async () => {
    const { s, timer, probe } = await up(BASE + WEB);
    await timer.advance(0);
    assert.equal(local(s, '198.51.100.10/32'), undefined, 'one pass of two: rising');
    assert.equal(s.services()[0]?.state, 'rising');
    await timer.advance(1000);
    assert.equal(s.services()[0]?.state, 'up');
    assert.equal(local(s, '198.51.100.10/32')?.next_hop, 'self');
    assert.ok(local(s, '2001:db8::10/128'));
    assert.deepEqual(sent(s, '192.0.2.2', '198.51.100.10/32')?.as_path, [65000]);
    assert.deepEqual(sent(s, '192.0.2.3', '198.51.100.10/32')?.as_path, []);
    probe('web').set('failed', 'ECONNREFUSED');
    await timer.advance(1000);
    assert.equal(s.services()[0]?.state, 'falling');
    assert.ok(sent(s, '192.0.2.2', '198.51.100.10/32'), 'still announced after one failure');
    await timer.advance(1000);
    assert.equal(s.services()[0]?.state, 'down');
    assert.equal(local(s, '198.51.100.10/32'), undefined);
    assert.equal(sent(s, '192.0.2.2', '198.51.100.10/32'), undefined);
    const v = s.service('web')!;
    assert.equal(v.last_check?.status, 'failed');
    assert.equal(v.last_check?.detail, 'ECONNREFUSED');
    assert.deepEqual(
      v.history.map((h) => `${h.from}>${h.to}`),
      ['init>rising', 'rising>up', 'up>falling', 'falling>down'],
    );
    await s.shutdown();
  });

  it('warning: MED and community added, our AS prepended towards eBGP only', async () => {
    const { s, timer, probe } = await up(BASE + WEB);
    probe('web').set('warning', 'exit 1 (WARNING)');
    await timer.advance(1000);
    assert.equal(s.services()[0]?.state, 'warning');
    const e = sent(s, '192.0.2.2', '198.51.100.10/32')!;
    assert.deepEqual(e.as_path, [65000, 65000, 65000]);
    assert.equal(e.med, 500);
    assert.deepEqual(e.communities, ['65000:666']);
    const i = sent(s, '192.0.2.3', '198.51.100.10/32')!;
    assert.deepEqual(i.as_path, [], 'an iBGP neighbour never sees our own AS');
    assert.equal(i.med, 500);
    assert.equal(s.services()[0]?.announcement?.as_path_prepend, 2);
    await s.shutdown();
  });

  it('drain through the API: graceful-shutdown community first, withdrawn after the grace; undrain', async () => {
    const { s, timer } = await up(BASE + WEB);
    await timer.advance(1000);
    assert.ok(sent(s, '192.0.2.2', '198.51.100.10/32'));
    const d = s.drainService('web')!;
    assert.equal(d.state, 'drained');
    assert.deepEqual(d.drained.api, true);
    assert.deepEqual(sent(s, '192.0.2.2', '198.51.100.10/32')?.communities, [formatCommunity(0xffff0000)]);
    await timer.advance(5000);
    assert.equal(sent(s, '192.0.2.2', '198.51.100.10/32'), undefined, 'withdrawn after the grace period');
    s.undrainService('web');
    assert.deepEqual(sent(s, '192.0.2.2', '198.51.100.10/32')?.communities, []);
    assert.equal(s.drainService('nope'), null);
    await s.shutdown();
  });

  it('priority: an API route wins over the service, the service over a config route', async () => {
    const CFG = `
[[routes]]
prefix = "198.51.100.10/32"
med = 7
`;
    const { s, timer, probe } = await up(BASE + WEB + CFG);
    assert.equal(local(s, '198.51.100.10/32')?.med, 7, 'config route while the service is not up');
    await timer.advance(1000);
    assert.equal(local(s, '198.51.100.10/32')?.med, null, "the service's route");
    await s.injectRoutes([{ prefix: '198.51.100.10/32', med: 99 }], true);
    assert.equal(local(s, '198.51.100.10/32')?.med, 99);
    assert.deepEqual(s.services()[0]?.overridden, [{ prefix: '198.51.100.10/32', by: 'api' }]);
    probe('web').set('failed');
    await timer.advance(2000);
    assert.equal(local(s, '198.51.100.10/32')?.med, 99, 'the service withdrew behind the API route');
    s.withdrawRoutes(['198.51.100.10/32'], () => 'prefix');
    assert.equal(local(s, '198.51.100.10/32')?.med, 7, 'the config route comes back');
    await s.shutdown();
  });

  it('reload: a removed service is withdrawn, a changed one restarts, a global change keeps the routes', async () => {
    const { s, timer } = await up(BASE + WEB);
    await timer.advance(1000);
    assert.ok(local(s, '198.51.100.10/32'));
    // A global identity change rebuilds the RIB: the service's routes are replayed into it.
    const r0 = s.reload(config((BASE + WEB).replace('router_id = "192.0.2.1"', 'router_id = "192.0.2.9"')));
    assert.equal(r0.globalReset, true);
    assert.ok(local(s, '198.51.100.10/32'), 'replayed into the new RIB');
    const r1 = s.reload(config(BASE + WEB.replace('rise = 2', 'rise = 3')));
    assert.deepEqual(r1.services, { added: [], removed: [], changed: ['web'] });
    assert.equal(local(s, '198.51.100.10/32'), undefined, 'a changed service starts again from init');
    await timer.advance(1000);
    assert.equal(local(s, '198.51.100.10/32'), undefined, 'two passes of three (at +0 and +1 s)');
    await timer.advance(1000);
    assert.ok(local(s, '198.51.100.10/32'));
    const r2 = s.reload(config(BASE));
    assert.deepEqual(r2.services, { added: [], removed: ['web'], changed: [] });
    assert.equal(local(s, '198.51.100.10/32'), undefined);
    assert.deepEqual(s.services(), []);
    await s.shutdown();
  });
});
