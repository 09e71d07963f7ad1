// The speaker's wiring with scripted peers and the real RIB: start order, session events into the RIB, output
// wake-ups, reload semantics (add, remove, change, description-only, enable/disable, routes, global identity),
// detached peers ignored, shutdown Ceases, and incoming TCP connections routed by source address (RFC 4486 Cease 5
// for strangers). Loopback addresses 127.0.50.10-19 belong to this file.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { CeaseSubcode } from '../wire/index.ts';
import type { DaemonConfig } from './config.ts';
import type { Speaker } from './speaker.ts';
import { announce, config, fakeSpeaker, GLOBAL_TOML, neighborToml, withdraw } from './testing.ts';

const BASE = GLOBAL_TOML;
const N1 = neighborToml('192.0.2.2', 65001, 'description = "one"');
const N2 = neighborToml('192.0.2.3', 65002);
const R1 = `
[[routes]]
prefix = "203.0.113.0/24"
`;

function speakerWith(toml: string) {
  const { speaker: s, peers } = fakeSpeaker(toml, { shutdownGraceMs: 1000 });
  return { s, peers };
}

function prefixes(s: Speaker, family: 'ipv4-unicast' | 'ipv6-unicast' = 'ipv4-unicast'): string[] {
  return s.rib(family, {}).routes.map((r) => `${r.prefix} ${r.from}`);
}

describe('speaker: start and session events', () => {
  it('builds each Peer from the config and starts the enabled ones', async () => {
    const { s, peers } = speakerWith(
      `${BASE.replace('listen = []', 'listen = []\nhostname = "rs1"')}${N1}hold_time = 30\nadd_path_receive = true\nlocal_address = "192.0.2.1"\n[[neighbors]]\naddress = "192.0.2.9"\nasn = 65009\nenabled = false\ngraceful_restart = false\n`,
    );
    assert.equal(peers.all.length, 1, 'no Peer for a disabled neighbour');
    const p = peers.latest('192.0.2.2');
    assert.equal(p.started, 0, 'nothing starts before start()');
    await s.start();
    assert.equal(p.started, 1);
    assert.deepEqual(p.config, {
      address: '192.0.2.2',
      port: 179,
      localAddress: '192.0.2.1',
      localAsn: 65000,
      remoteAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 30,
      connectRetryTime: 30,
      passive: false,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      description: 'one',
      addPathReceive: ['ipv4-unicast', 'ipv6-unicast'],
      gracefulRestart: { restartTime: 120, restarting: false },
      hostname: 'rs1',
    });
    assert.equal(s.neighbor('192.0.2.9')?.state, 'idle');
    assert.equal(s.neighbor('192.0.2.9')?.enabled, false);
    await s.shutdown();
  });

  it('config routes are in the RIB before any session, and go out when a peer comes up', async () => {
    const { s, peers } = speakerWith(BASE + N1 + R1);
    assert.deepEqual(prefixes(s), ['203.0.113.0/24 local']);
    await s.start();
    const p = peers.latest('192.0.2.2');
    p.establish({ localAddress: '192.0.2.1' });
    assert.ok(p.wakes >= 1, 'woken after Established');
    assert.ok(p.pulled.length >= 2, 'the route and End-of-RIB were pulled');
    assert.equal(s.neighbor('192.0.2.2')?.advertised['ipv4-unicast'], 1);
    await s.shutdown();
  });

  it('an UPDATE from one peer wakes the others; a session going down withdraws its routes', async () => {
    const { s, peers } = speakerWith(BASE + N1 + N2);
    await s.start();
    const a = peers.latest('192.0.2.2');
    const b = peers.latest('192.0.2.3');
    a.establish();
    b.establish();
    const before = b.pulled.length;
    a.receive(announce(['198.51.100.0/24'], '192.0.2.2', [65001]));
    assert.deepEqual(prefixes(s), ['198.51.100.0/24 192.0.2.2']);
    assert.ok(b.pulled.length > before, 'b pulled the new route');
    assert.equal(s.neighbor('192.0.2.2')?.received['ipv4-unicast'], 1);
    assert.equal(s.neighbor('192.0.2.3')?.advertised['ipv4-unicast'], 1);

    a.receive(withdraw(['198.51.100.0/24']));
    assert.deepEqual(prefixes(s), []);
    a.receive(announce(['198.51.100.0/24'], '192.0.2.2', [65001]));
    a.drop({ message: 'hold timer expired' });
    assert.deepEqual(prefixes(s), [], 'routes of a session that went down are gone');
    assert.equal(s.neighbor('192.0.2.3')?.advertised['ipv4-unicast'], 0, 'and withdrawn from the others');
    const v = s.neighbor('192.0.2.2');
    assert.equal(v?.last_error, 'hold timer expired');
    assert.equal(v?.uptime_s, null);
    await s.shutdown();
  });

  it('a ROUTE-REFRESH request re-sends the Adj-RIB-Out of that family (RFC 2918)', async () => {
    const { s, peers } = speakerWith(BASE + N1 + R1);
    await s.start();
    const p = peers.latest('192.0.2.2');
    p.establish();
    const n = p.pulled.length;
    p.handler.routeRefresh(p, { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
    assert.ok(p.pulled.length > n, 'the route was sent again');
    await s.shutdown();
  });

  it('shutdown sends Cease / administrative shutdown with a message to every peer', async () => {
    const { s, peers } = speakerWith(BASE + N1 + N2);
    await s.start();
    await s.shutdown();
    for (const p of peers.all) {
      assert.deepEqual(p.stops, [{ subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, message: 'tsbgp shutting down' }]);
    }
  });
});

describe('speaker: reload', () => {
  async function started(toml: string) {
    const r = speakerWith(toml);
    await r.s.start();
    return r;
  }
  const reload = (s: Speaker, toml: string) => s.reload(config(toml) as DaemonConfig);

  it('adds a neighbour and starts it, without touching the others', async () => {
    const { s, peers } = await started(BASE + N1);
    const a = peers.latest('192.0.2.2');
    const sum = reload(s, BASE + N1 + N2);
    assert.deepEqual(sum.added, ['192.0.2.3']);
    assert.deepEqual(sum.reset, []);
    assert.equal(peers.latest('192.0.2.3').started, 1);
    assert.equal(peers.latest('192.0.2.2'), a);
    assert.deepEqual(a.stops, []);
    await s.shutdown();
  });

  it('removes a neighbour with Cease / peer de-configured and drops its routes', async () => {
    const { s, peers } = await started(BASE + N1 + N2);
    const b = peers.latest('192.0.2.3');
    b.establish();
    b.receive(announce(['198.51.100.0/24'], '192.0.2.3', [65002]));
    const sum = reload(s, BASE + N1);
    assert.deepEqual(sum.removed, ['192.0.2.3']);
    assert.deepEqual(b.stops, [{ subcode: CeaseSubcode.PEER_DECONFIGURED, message: 'peer de-configured' }]);
    assert.deepEqual(prefixes(s), []);
    assert.equal(s.neighbor('192.0.2.3'), null);
    assert.deepEqual(peers.latest('192.0.2.2').stops, []);
    await s.shutdown();
  });

  it('a session-relevant change resets only that neighbour; a detached peer is ignored afterwards', async () => {
    const { s, peers } = await started(BASE + N1 + N2);
    const a = peers.latest('192.0.2.2');
    const b = peers.latest('192.0.2.3');
    a.establish();
    a.receive(announce(['198.51.100.0/24'], '192.0.2.2', [65001]));
    const sum = reload(s, `${BASE}${N1}hold_time = 30\n${N2}`);
    assert.deepEqual(sum.reset, ['192.0.2.2']);
    assert.deepEqual(a.stops, [
      { subcode: CeaseSubcode.OTHER_CONFIGURATION_CHANGE, message: 'neighbor configuration changed' },
    ]);
    const a2 = peers.latest('192.0.2.2');
    assert.notEqual(a2, a);
    assert.equal(a2.config.holdTime, 30);
    assert.equal(a2.started, 1);
    assert.deepEqual(b.stops, [], 'the other neighbour is untouched');
    assert.deepEqual(prefixes(s), [], 'the old session’s routes are gone at once');

    // Late events from the replaced Peer change nothing.
    a.receive(announce(['192.0.2.128/25'], '192.0.2.2', [65001]));
    a.drop({ message: 'late' });
    assert.deepEqual(prefixes(s), []);
    assert.equal(s.neighbor('192.0.2.2')?.last_error, null);
    a2.establish();
    assert.equal(s.neighbor('192.0.2.2')?.state, 'established');
    await s.shutdown();
  });

  it('a description-only change applies without a reset', async () => {
    const { s, peers } = await started(BASE + N1);
    const a = peers.latest('192.0.2.2');
    a.establish();
    const sum = reload(s, BASE + N1.replace('"one"', '"renamed"'));
    assert.deepEqual(sum.reset, []);
    assert.deepEqual(sum.updated, ['192.0.2.2']);
    assert.deepEqual(a.stops, []);
    assert.equal(peers.all.length, 1);
    assert.equal(s.neighbor('192.0.2.2')?.description, 'renamed');
    assert.equal(s.neighbor('192.0.2.2')?.state, 'established');
    await s.shutdown();
  });

  it('enabled = false stops the session; true again starts a new one', async () => {
    const { s, peers } = await started(BASE + N1);
    const a = peers.latest('192.0.2.2');
    reload(s, `${BASE}${N1}enabled = false\n`);
    assert.deepEqual(a.stops, [{ subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, message: 'neighbor disabled' }]);
    assert.equal(s.neighbor('192.0.2.2')?.state, 'idle');
    assert.equal(s.neighbor('192.0.2.2')?.enabled, false);
    assert.equal(peers.all.length, 1);
    reload(s, BASE + N1);
    assert.equal(peers.all.length, 2);
    assert.equal(peers.latest('192.0.2.2').started, 1);
    await s.shutdown();
  });

  it('[[routes]] are diffed: added, changed and removed routes reach established peers', async () => {
    const { s, peers } = await started(BASE + N1 + R1);
    const a = peers.latest('192.0.2.2');
    a.establish();
    assert.equal(s.neighbor('192.0.2.2')?.advertised['ipv4-unicast'], 1);
    let n = a.pulled.length;
    let sum = reload(s, `${BASE}${N1}${R1}med = 7\n[[routes]]\nprefix = "2001:db8:1::/48"\n`);
    assert.equal(sum.routesOriginated, 2);
    assert.equal(sum.routesWithdrawn, 0);
    assert.equal(s.rib('ipv4-unicast', {}).routes[0]?.med, 7);
    assert.deepEqual(prefixes(s, 'ipv6-unicast'), ['2001:db8:1::/48 local']);
    assert.ok(a.pulled.length > n, 'the changes were pulled');
    assert.equal(s.neighbor('192.0.2.2')?.advertised['ipv6-unicast'], 1);

    n = a.pulled.length;
    sum = reload(s, BASE + N1);
    assert.equal(sum.routesWithdrawn, 2);
    assert.deepEqual(prefixes(s), []);
    assert.deepEqual(prefixes(s, 'ipv6-unicast'), []);
    assert.ok(a.pulled.length > n, 'the withdrawals were pulled');
    assert.equal(s.neighbor('192.0.2.2')?.advertised['ipv4-unicast'], 0);
    assert.deepEqual(a.stops, [], 'route changes never reset a session');

    sum = reload(s, BASE + N1);
    assert.equal(sum.routesOriginated + sum.routesWithdrawn, 0, 'an unchanged file changes nothing');
    await s.shutdown();
  });

  it('a new global ASN resets every session and rebuilds the RIB', async () => {
    const { s, peers } = await started(BASE + N1 + N2 + R1);
    const sum = reload(s, BASE.replace('65000', '65100') + N1 + N2 + R1);
    assert.equal(sum.globalReset, true);
    assert.equal(peers.all.length, 4);
    for (const p of peers.all.slice(0, 2)) assert.equal(p.stops[0]?.subcode, CeaseSubcode.OTHER_CONFIGURATION_CHANGE);
    for (const p of peers.all.slice(2)) assert.equal(p.config.localAsn, 65100);
    assert.deepEqual(prefixes(s), ['203.0.113.0/24 local']);
    await s.shutdown();
  });
});

describe('speaker: incoming connections', () => {
  const port = 20000 + Math.floor(Math.random() * 40000);
  const toml = `
[global]
asn = 65000
router_id = "192.0.2.1"
listen = ["127.0.50.10:${port}"]
[[neighbors]]
address = "127.0.50.11"
asn = 65001
passive = true
[[neighbors]]
address = "127.0.50.13"
asn = 65001
enabled = false
`;

  function connectFrom(localAddress: string): net.Socket {
    return net.connect({ host: '127.0.50.10', port, localAddress });
  }

  /** Everything the server sends until it closes the connection. */
  function readAll(sock: net.Socket): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      sock.on('data', (c) => chunks.push(c));
      sock.on('end', () => resolve(Buffer.concat(chunks)));
      sock.on('error', reject);
    });
  }

  it('a configured neighbour’s connection goes to its Peer; strangers get Cease 5 (RFC 4486)', async () => {
    const { s, peers } = speakerWith(toml);
    const bound = await s.start();
    assert.deepEqual(bound, [`127.0.50.10:${port}`]);
    const p = peers.latest('127.0.50.11');

    const accepted = new Promise<void>((resolve) => {
      const orig = p.acceptConnection.bind(p);
      p.acceptConnection = (sock) => {
        orig(sock);
        resolve();
      };
    });
    const good = connectFrom('127.0.50.11');
    await accepted;
    assert.equal(p.accepted.length, 1);
    assert.equal(p.accepted[0]?.remoteAddress, '127.0.50.11');
    good.destroy();

    for (const stranger of ['127.0.50.12', '127.0.50.13']) {
      const bytes = await readAll(connectFrom(stranger));
      assert.equal(bytes.length, 21, `${stranger}: one NOTIFICATION without data`);
      assert.ok(
        bytes.subarray(0, 16).every((b) => b === 0xff),
        'marker',
      );
      assert.deepEqual([...bytes.subarray(16)], [0, 21, 3, 6, CeaseSubcode.CONNECTION_REJECTED]);
    }
    await s.shutdown();
    // The listener is closed after shutdown.
    await new Promise<void>((resolve) => {
      const c = connectFrom('127.0.50.11');
      c.on('error', (err: NodeJS.ErrnoException) => {
        assert.equal(err.code, 'ECONNREFUSED');
        resolve();
      });
    });
  });

  it('a port already in use is a clear start error', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port + 1, '127.0.50.10', r));
    const { s } = speakerWith(toml.replace(`:${port}"`, `:${port + 1}"`));
    await assert.rejects(s.start(), /cannot listen for BGP on 127\.0\.50\.10:\d+: address already in use/);
    await new Promise<void>((r) => blocker.close(() => r()));
  });
});
