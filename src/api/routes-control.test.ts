// The write endpoints in process (fastify .inject(), no network) against a real Speaker, a real RIB and a state
// store in a temp file: route injection and withdrawal (validation naming the field, nothing changed on a bad
// batch, injected over config route of the same prefix), neighbours added / changed / deleted / enabled / reset /
// reverted (and the Cease each sends), Adj-RIB-In/Out with paging, the overlay and injected routes surviving a
// restart (a new Speaker on the same store), SIGHUP semantics with an overlay, and the body limit.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Speaker } from '../daemon/speaker.ts';
import { StateStore } from '../daemon/store.ts';
import { announce, config, type FakePeers, fakeSpeaker, GLOBAL_TOML, neighborToml } from '../daemon/testing.ts';
import { CeaseSubcode, decodeMessage, defaultCodecContext, type UpdateMessage } from '../wire/index.ts';
import { buildApi } from './server.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsbgp-control-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `${GLOBAL_TOML}
${neighborToml('192.0.2.2', 65001, 'description = "edge-1"')}
${neighborToml('192.0.2.3', 65000, 'hold_time = 60')}
[[routes]]
prefix = "203.0.113.0/24"
med = 10
`;

let nStore = 0;

interface Rig {
  speaker: Speaker;
  app: FastifyInstance;
  store: StateStore;
  peers: FakePeers;
  storePath: string;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.app.close();
    await r.speaker.shutdown();
    r.store.close();
  }
});

/** A running speaker with its API, on a store file (a fresh one unless `storePath` is given). */
async function rig(toml = BASE, storePath?: string): Promise<Rig> {
  const path = storePath ?? join(dir, `s${++nStore}.db`);
  const store = StateStore.open(path);
  const { speaker, peers } = fakeSpeaker(toml, {
    store,
    shutdownGraceMs: 100,
  });
  await speaker.start();
  const app = buildApi(speaker);
  await app.ready();
  const r = { speaker, app, store, peers, storePath: path };
  rigs.push(r);
  return r;
}

/** Closes a rig's app, speaker and store (a "restart" opens a new rig on the same path). */
async function stop(r: Rig): Promise<void> {
  rigs.splice(rigs.indexOf(r), 1);
  await r.app.close();
  await r.speaker.shutdown();
  r.store.close();
}

async function call(app: FastifyInstance, method: string, url: string, body?: unknown) {
  const res = await app.inject({
    method: method as 'GET',
    url,
    ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.statusCode, body: res.body === '' ? null : res.json() };
}

function establish(r: Rig, address: string) {
  const p = r.peers.latest(address);
  p.up();
  return p;
}

/** Every UPDATE the fake peer pulled, decoded. */
function updates(bytes: Uint8Array[]): UpdateMessage[] {
  const ctx = defaultCodecContext();
  return bytes.map((b) => decodeMessage(b, ctx)).filter((m): m is UpdateMessage => m.type === 'update');
}

describe('POST/DELETE/GET /api/v1/routes', () => {
  it('injects one route: committed, in the Loc-RIB as local, advertised, listed', async () => {
    const r = await rig();
    const edge = establish(r, '192.0.2.2');
    const res = await call(r.app, 'POST', '/api/v1/routes', {
      prefix: '198.51.100.0/24',
      as_path: [65010, 65011],
      communities: ['65000:1', 'NO-EXPORT'.toLowerCase()],
      large_communities: ['65000:2:3'],
      ext_communities: ['rt:65000:9'],
      med: 5,
      origin: 'incomplete',
    });
    assert.deepEqual(res, { status: 200, body: { accepted: 1 } });
    assert.equal(r.store.countRoutes(), 1, 'committed before the answer');
    const rib = await call(r.app, 'GET', '/api/v1/rib/ipv4-unicast?prefix=198.51.100.0/24');
    assert.equal(rib.body.routes[0].from, 'local');
    assert.deepEqual(rib.body.routes[0].as_path, [65010, 65011]);
    assert.deepEqual(rib.body.routes[0].communities, ['65000:1', 'no-export']);
    // no-export keeps it from the eBGP neighbour; the iBGP one would get it.
    const out = await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.2/adj-rib-out/ipv4-unicast');
    assert.deepEqual(
      out.body.routes.map((x: { prefix: string }) => x.prefix),
      ['203.0.113.0/24'],
    );
    assert.ok(updates(edge.pulled).length > 0);
    const list = await call(r.app, 'GET', '/api/v1/routes');
    assert.deepEqual(list.body, {
      total: 1,
      routes: [
        {
          family: 'ipv4-unicast',
          prefix: '198.51.100.0/24',
          next_hop: 'self',
          origin: 'incomplete',
          as_path: [65010, 65011],
          med: 5,
          local_pref: null,
          communities: ['65000:1', 'no-export'],
          large_communities: ['65000:2:3'],
          ext_communities: ['rt:65000:9'],
        },
      ],
      next_cursor: null,
    });
  });

  it('a batch of IPv4 and IPv6 routes reaches an established eBGP neighbour with our AS prepended', async () => {
    const r = await rig();
    const edge = establish(r, '192.0.2.2');
    edge.pulled = [];
    const routes = [];
    for (let i = 0; i < 1000; i++) routes.push({ prefix: `10.1.${i >> 8}.${i & 255}/32`, as_path: [65020] });
    routes.push({ prefix: '2001:db8:aa::/48', next_hop: '2001:db8::99' });
    const res = await call(r.app, 'POST', '/api/v1/routes', { routes });
    assert.deepEqual(res.body, { accepted: 1001 });
    const sent = updates(edge.pulled);
    const prefixes = sent.flatMap((u) => u.announced.flatMap((b) => b.prefixes));
    assert.equal(prefixes.length, 1001);
    const v4 = sent.find((u) => u.announced[0]?.family === 'ipv4-unicast')!;
    assert.deepEqual(v4.attributes?.asPath[0]?.asns, [65000, 65020]);
    assert.equal(v4.announced[0]!.nextHop, '192.0.2.1');
    const v6 = sent.find((u) => u.announced[0]?.family === 'ipv6-unicast')!;
    assert.equal(v6.announced[0]!.nextHop, '2001:db8::99');
    const out6 = await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.2/adj-rib-out/ipv6-unicast');
    assert.equal(out6.body.total, 1);
    assert.equal(out6.body.routes[0].next_hop, '2001:db8::99');
    assert.deepEqual(out6.body.routes[0].as_path, [65000]);
  });

  it('a large batch is validated in slices (the event loop runs in between), then stored and applied at once', async () => {
    const r = await rig();
    const routes = [];
    for (let i = 0; i < 12_000; i++) routes.push({ prefix: `10.2.${i >> 8}.${i & 255}/32` });
    // A bad route at the end: found only after the yields, and still nothing of the batch is applied.
    const bad = [...routes, { prefix: '10.3.0.0/33' }];
    // Queued right after the call: it runs before the answer only if validation yields to the event loop.
    let ranBefore = false;
    const pending = r.speaker.injectRoutes(bad, false).then(
      () => assert.fail('the bad batch was accepted'),
      (err: { field?: string }) => {
        assert.equal(err.field, 'routes[12000].prefix');
        assert.ok(ranBefore, 'the event loop ran while the batch was validated');
      },
    );
    setImmediate(() => {
      ranBefore = true;
    });
    await pending;
    const refused = await call(r.app, 'POST', '/api/v1/routes', { routes: bad });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.field, 'routes[12000].prefix');
    assert.equal((await call(r.app, 'GET', '/api/v1/routes')).body.total, 0);
    const res = await call(r.app, 'POST', '/api/v1/routes', { routes });
    assert.deepEqual(res.body, { accepted: 12_000 });
    assert.equal((await call(r.app, 'GET', '/api/v1/routes')).body.total, 12_000);
  });

  it('a bad route anywhere in a batch is named, and nothing of the batch is stored or applied', async () => {
    const r = await rig();
    await call(r.app, 'POST', '/api/v1/routes', { prefix: '192.0.2.128/25' });
    const routes = [
      { prefix: '10.0.0.0/8' },
      { prefix: '10.1.0.0/16' },
      { prefix: '10.2.0.0/16' },
      { prefix: '10.3.0.0/16', next_hop: '2001:db8::1' },
    ];
    const res = await call(r.app, 'POST', '/api/v1/routes', { routes });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'bad_request');
    assert.equal(res.body.field, 'routes[3].next_hop');
    assert.match(res.body.message, /^routes\[3\]\.next_hop: 2001:db8::1 is not an IPv4 address/);
    assert.equal(r.store.countRoutes(), 1);
    assert.equal(r.speaker.ribSize('ipv4-unicast'), 2, 'the config route and the first injected one only');
  });

  const invalid: [string, unknown, number, string, string][] = [
    ['host bits', { prefix: '10.0.0.1/8' }, 400, 'bad_prefix', 'prefix'],
    ['not a prefix', { prefix: 'banana' }, 400, 'bad_prefix', 'prefix'],
    ['no prefix', { next_hop: 'self' }, 400, 'bad_prefix', 'prefix'],
    ['unknown key', { prefix: '10.0.0.0/8', comunities: [] }, 400, 'bad_request', 'comunities'],
    [
      'bad community',
      { prefix: '10.0.0.0/8', communities: ['65000:1', '70000:1'] },
      400,
      'bad_request',
      'communities[1]',
    ],
    [
      'bad large community',
      { prefix: '10.0.0.0/8', large_communities: ['1:2'] },
      400,
      'bad_request',
      'large_communities[0]',
    ],
    [
      'bad ext community',
      { prefix: '10.0.0.0/8', ext_communities: ['xx:1:2'] },
      400,
      'bad_request',
      'ext_communities[0]',
    ],
    ['bad origin', { prefix: '10.0.0.0/8', origin: 'bgp' }, 400, 'bad_request', 'origin'],
    ['AS 0', { prefix: '10.0.0.0/8', as_path: [65001, 0] }, 400, 'bad_request', 'as_path[1]'],
    ['MED too large', { prefix: '10.0.0.0/8', med: 2 ** 32 }, 400, 'bad_request', 'med'],
    ['local_pref text', { prefix: '10.0.0.0/8', local_pref: '100' }, 400, 'bad_request', 'local_pref'],
    ['bad next hop', { prefix: '10.0.0.0/8', next_hop: 'router-1' }, 400, 'bad_request', 'next_hop'],
    ['routes not an array', { routes: {} }, 400, 'bad_request', 'routes'],
    ['key next to routes', { routes: [], prefix: '10.0.0.0/8' }, 400, 'bad_request', 'prefix'],
    ['a route not an object', { routes: [{ prefix: '10.0.0.0/8' }, 'x'] }, 400, 'bad_request', 'routes[1]'],
    ['body an array', [{ prefix: '10.0.0.0/8' }], 400, 'bad_request', 'body'],
  ];
  for (const [what, body, status, code, field] of invalid) {
    it(`POST /routes rejects ${what}: ${status} ${code} field ${field}`, async () => {
      const r = await rig();
      const res = await call(r.app, 'POST', '/api/v1/routes', body);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body.code, code);
      assert.equal(res.body.field, field);
      assert.equal(r.store.countRoutes(), 0);
    });
  }

  it('re-posting a prefix replaces it; an injected route wins over a config route, which returns when it goes', async () => {
    const r = await rig();
    const med = async () => {
      const x = await call(r.app, 'GET', '/api/v1/rib/ipv4-unicast?prefix=203.0.113.0/24');
      assert.equal(x.body.total, 1, 'the local peer holds one route per prefix');
      return x.body.routes[0].med;
    };
    assert.equal(await med(), 10);
    await call(r.app, 'POST', '/api/v1/routes', { prefix: '203.0.113.0/24', med: 77 });
    assert.equal(await med(), 77);
    await call(r.app, 'POST', '/api/v1/routes', { prefix: '203.0.113.0/24', med: 78 });
    assert.equal(await med(), 78);
    assert.equal(r.store.countRoutes(), 1);
    // A reload that removes the config route leaves the injected one alone, and one that brings it back too.
    r.speaker.reload(config(BASE.slice(0, BASE.indexOf('[[routes]]'))));
    assert.equal(await med(), 78);
    r.speaker.reload(config(BASE));
    assert.equal(await med(), 78);
    const del = await call(r.app, 'DELETE', '/api/v1/routes', { prefix: '203.0.113.0/24' });
    assert.deepEqual(del.body, { withdrawn: 1, not_found: 0 });
    assert.equal(await med(), 10, 'the config route is the local route again');
  });

  it('DELETE takes {prefix}, {prefixes} and {routes}; unknown prefixes are counted, not an error', async () => {
    const r = await rig();
    const edge = establish(r, '192.0.2.2');
    await call(r.app, 'POST', '/api/v1/routes', {
      routes: ['10.0.0.0/8', '10.1.0.0/16', '10.2.0.0/16', '2001:db8:1::/48'].map((prefix) => ({ prefix })),
    });
    edge.pulled = [];
    assert.deepEqual((await call(r.app, 'DELETE', '/api/v1/routes', { prefix: '10.0.0.0/8' })).body, {
      withdrawn: 1,
      not_found: 0,
    });
    assert.deepEqual(
      (await call(r.app, 'DELETE', '/api/v1/routes', { prefixes: ['10.1.0.0/16', '10.9.0.0/16'] })).body,
      { withdrawn: 1, not_found: 1 },
    );
    assert.deepEqual(
      (
        await call(r.app, 'DELETE', '/api/v1/routes', {
          routes: [{ prefix: '10.2.0.0/16' }, { prefix: '2001:db8:1::/48' }],
        })
      ).body,
      { withdrawn: 2, not_found: 0 },
    );
    const withdrawn = updates(edge.pulled).flatMap((u) => u.withdrawn.flatMap((b) => b.prefixes));
    assert.equal(withdrawn.length, 4);
    assert.equal(r.store.countRoutes(), 0);
    const bad = await call(r.app, 'DELETE', '/api/v1/routes', { prefixes: ['10.0.0.0/8', 'x'] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'prefixes[1]');
    const shape = await call(r.app, 'DELETE', '/api/v1/routes', { prefix: '10.0.0.0/8', prefixes: [] });
    assert.equal(shape.status, 400);
  });

  it('GET /routes pages with limit and cursor, and filters by family', async () => {
    const r = await rig();
    const routes = [];
    for (let i = 0; i < 25; i++) routes.push({ prefix: `10.0.${i}.0/24` });
    for (let i = 0; i < 5; i++) routes.push({ prefix: `2001:db8:${i}::/48` });
    await call(r.app, 'POST', '/api/v1/routes', { routes });
    const seen: string[] = [];
    let url = '/api/v1/routes?limit=7';
    for (let i = 0; i < 10; i++) {
      const page = await call(r.app, 'GET', url);
      assert.equal(page.body.total, 30);
      seen.push(...page.body.routes.map((x: { prefix: string }) => x.prefix));
      if (page.body.next_cursor === null) break;
      url = `/api/v1/routes?limit=7&cursor=${page.body.next_cursor}`;
    }
    assert.equal(seen.length, 30);
    assert.equal(new Set(seen).size, 30);
    assert.equal(seen[0], '10.0.0.0/24');
    assert.equal(seen[24], '10.0.24.0/24', 'address order, not text order');
    const v6 = await call(r.app, 'GET', '/api/v1/routes?family=ipv6-unicast');
    assert.equal(v6.body.total, 5);
    assert.equal((await call(r.app, 'GET', '/api/v1/routes?cursor=!!')).body.field, 'cursor');
    assert.equal((await call(r.app, 'GET', '/api/v1/routes?family=ipv5')).body.code, 'bad_family');
  });

  it('a body over [api] body_limit is 413 payload_too_large', async () => {
    const r = await rig(`${BASE.replace('[[neighbors]]', '[api]\nbody_limit = 2048\n\n[[neighbors]]')}`);
    const routes = [];
    for (let i = 0; i < 200; i++) routes.push({ prefix: `10.0.${i}.0/24` });
    const res = await call(r.app, 'POST', '/api/v1/routes', { routes });
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'payload_too_large');
    assert.equal(r.store.countRoutes(), 0);
  });
});

describe('neighbours through the API', () => {
  it('POST /neighbors adds and starts one (201); a second time is 409; bad keys are 400 naming the key', async () => {
    const r = await rig();
    const res = await call(r.app, 'POST', '/api/v1/neighbors', {
      address: '2001:DB8::9',
      asn: 65009,
      description: 'added',
      families: ['ipv6-unicast'],
      hold_time: 30,
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.address, '2001:db8::9');
    assert.equal(res.body.description, 'added');
    assert.deepEqual(res.body.families, ['ipv6-unicast']);
    const p = r.peers.latest('2001:db8::9');
    assert.equal(p.started, 1);
    assert.equal(p.config.holdTime, 30);
    assert.equal((await call(r.app, 'POST', '/api/v1/neighbors', { address: '2001:db8::9', asn: 1 })).status, 409);
    assert.equal(
      (await call(r.app, 'POST', '/api/v1/neighbors', { address: '192.0.2.2', asn: 1 })).body.code,
      'neighbor_exists',
    );
    const cases: [unknown, string][] = [
      [{ address: '192.0.2.50' }, 'asn'],
      [{ address: '192.0.2.50', asn: 65050, hold_tme: 3 }, 'hold_tme'],
      [{ address: '192.0.2.50', asn: 65050, hold_time: 2 }, 'hold_time'],
      [{ address: '192.0.2.50', asn: 65050, families: ['ipv4-unicast', 'l2vpn'] }, 'families[1]'],
      [{ address: '192.0.2.50', asn: 65050, local_address: '2001:db8::1' }, 'local_address'],
      [{ address: '192.0.2.50', asn: 65050, route_reflector_client: true }, 'route_reflector_client'],
      [{ address: 'x', asn: 65050 }, 'address'],
    ];
    for (const [body, field] of cases) {
      const bad = await call(r.app, 'POST', '/api/v1/neighbors', body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.field, field, JSON.stringify(bad.body));
    }
    assert.equal((await call(r.app, 'GET', '/api/v1/neighbors')).body.length, 3, 'nothing added by the bad ones');
  });

  it('PATCH: a description change keeps the session; another key resets it with Cease 6', async () => {
    const r = await rig();
    const edge = establish(r, '192.0.2.2');
    const d = await call(r.app, 'PATCH', '/api/v1/neighbors/192.0.2.2', { description: 'edge-one' });
    assert.equal(d.status, 200);
    assert.equal(d.body.description, 'edge-one');
    assert.equal(d.body.state, 'established');
    assert.equal(r.peers.latest('192.0.2.2'), edge);
    assert.equal(edge.stops.length, 0);
    const h = await call(r.app, 'PATCH', '/api/v1/neighbors/192.0.2.2', { hold_time: 30 });
    assert.equal(h.status, 200);
    assert.deepEqual(edge.stops, [
      { subcode: CeaseSubcode.OTHER_CONFIGURATION_CHANGE, message: 'neighbor configuration changed' },
    ]);
    assert.equal(r.peers.latest('192.0.2.2').config.holdTime, 30);
    assert.equal(
      (await call(r.app, 'PATCH', '/api/v1/neighbors/192.0.2.2', { address: '192.0.2.9' })).body.field,
      'address',
    );
    assert.equal((await call(r.app, 'PATCH', '/api/v1/neighbors/192.0.2.2', { hold_time: 1 })).body.field, 'hold_time');
    assert.equal((await call(r.app, 'PATCH', '/api/v1/neighbors/192.0.2.99', { hold_time: 30 })).status, 404);
  });

  it('DELETE sends Cease 3 (peer de-configured) and withdraws its routes; disable Cease 2; enable starts it again', async () => {
    const r = await rig();
    const edge = establish(r, '192.0.2.2');
    edge.receive(announce(['198.51.100.0/24'], '192.0.2.2', [65001]));
    assert.equal(r.speaker.ribSize('ipv4-unicast'), 2);
    const dis = await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.2/disable');
    assert.equal(dis.body.enabled, false);
    assert.deepEqual(edge.stops, [{ subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, message: 'neighbor disabled' }]);
    assert.equal(r.speaker.ribSize('ipv4-unicast'), 1);
    const en = await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.2/enable');
    assert.equal(en.body.enabled, true);
    const again = r.peers.latest('192.0.2.2');
    assert.notEqual(again, edge);
    assert.equal(again.started, 1);
    again.establish({ localAddress: '192.0.2.1' });
    const del = await call(r.app, 'DELETE', '/api/v1/neighbors/192.0.2.2');
    assert.equal(del.status, 204);
    assert.deepEqual(again.stops, [{ subcode: CeaseSubcode.PEER_DECONFIGURED, message: 'peer de-configured' }]);
    assert.equal((await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.2')).status, 404);
    assert.equal((await call(r.app, 'DELETE', '/api/v1/neighbors/192.0.2.2')).status, 404);
  });

  it('reset: hard sends Cease 4 via the peer, soft-in a ROUTE-REFRESH per family, soft-out re-sends', async () => {
    const r = await rig();
    const disabled = await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.3/disable');
    assert.equal(disabled.status, 200);
    assert.equal((await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.3/reset')).body.code, 'neighbor_disabled');
    const notUp = await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.2/reset', { mode: 'soft-in' });
    assert.equal(notUp.status, 409);
    assert.equal(notUp.body.code, 'neighbor_not_established');
    const edge = establish(r, '192.0.2.2');
    const soft = await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.2/reset', { mode: 'soft-in' });
    assert.deepEqual(soft.body, { ok: true });
    assert.deepEqual(edge.refreshesSent, ['ipv4-unicast', 'ipv6-unicast']);
    edge.pulled = [];
    await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.2/reset', { mode: 'soft-out' });
    const resent = updates(edge.pulled).flatMap((u) => u.announced.flatMap((b) => b.prefixes));
    assert.equal(resent.length, 1, 'the config route went out again');
    const hard = await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.2/reset', { mode: 'hard' });
    assert.equal(hard.status, 200);
    assert.deepEqual(edge.resets, [{ hard: true, message: 'administrative reset' }]);
    assert.equal((await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.2/reset', { mode: 'soft' })).body.field, 'mode');
  });

  it('adj-rib-in and adj-rib-out of one neighbour, paged', async () => {
    const r = await rig();
    const edge = establish(r, '192.0.2.2');
    const prefixes = [];
    for (let i = 0; i < 10; i++) prefixes.push(`198.51.100.${i * 16}/28`);
    edge.receive(announce(prefixes, '192.0.2.2', [65001, 65002], { med: 3 }));
    edge.receive(announce(['203.0.113.0/24'], '192.0.2.2', [65001]));
    const ibgp = establish(r, '192.0.2.3');
    const seen: string[] = [];
    let url = '/api/v1/neighbors/192.0.2.2/adj-rib-in/ipv4-unicast?limit=4';
    for (let i = 0; i < 10; i++) {
      const page = await call(r.app, 'GET', url);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.equal(page.body.total, 11);
      seen.push(...page.body.routes.map((x: { prefix: string }) => x.prefix));
      if (page.body.next_cursor === null) break;
      url = `/api/v1/neighbors/192.0.2.2/adj-rib-in/ipv4-unicast?limit=4&cursor=${page.body.next_cursor}`;
    }
    assert.equal(seen.length, 11);
    const one = await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.2/adj-rib-in/ipv4-unicast?prefix=203.0.113.0/24');
    assert.equal(one.body.routes.length, 1);
    assert.equal(one.body.routes[0].best, false, 'the config route is preferred over the learned one');
    assert.equal(one.body.routes[0].from, '192.0.2.2');
    // Towards the iBGP neighbour: the learned routes with LOCAL_PREF and the next hop unchanged, and ours.
    const out = await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.3/adj-rib-out/ipv4-unicast');
    assert.equal(out.body.total, 11);
    assert.equal(ibgp.state, 'established');
    const learned = out.body.routes.find((x: { prefix: string }) => x.prefix === '198.51.100.0/28');
    assert.equal(learned.next_hop, '192.0.2.2');
    assert.equal(learned.local_pref, 100);
    assert.deepEqual(learned.as_path, [65001, 65002]);
    assert.equal(learned.from, '192.0.2.2');
    const own = out.body.routes.find((x: { prefix: string }) => x.prefix === '203.0.113.0/24');
    assert.equal(own.from, 'local');
    assert.equal(own.next_hop, '192.0.2.1');
    const none = await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.2/adj-rib-out/ipv6-unicast');
    assert.deepEqual(none.body, { total: 0, routes: [], next_cursor: null });
    assert.equal((await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.9/adj-rib-in/ipv4-unicast')).status, 404);
    assert.equal((await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.2/adj-rib-in/ipv9')).body.code, 'bad_family');
  });
});

describe('durable state across a restart', () => {
  it('added, changed and deleted neighbours and injected routes come back; injected routes are in the RIB before start', async () => {
    const a = await rig();
    await call(a.app, 'POST', '/api/v1/neighbors', { address: '192.0.2.9', asn: 65009 });
    await call(a.app, 'PATCH', '/api/v1/neighbors/192.0.2.2', { hold_time: 20 });
    await call(a.app, 'DELETE', '/api/v1/neighbors/192.0.2.3');
    await call(a.app, 'POST', '/api/v1/routes', {
      routes: [{ prefix: '10.0.0.0/8', med: 1 }, { prefix: '2001:db8::/32' }],
    });
    await stop(a);

    // Before start(): the RIB already holds the injected routes (so they go out ahead of End-of-RIB).
    const store = StateStore.open(a.storePath);
    const { speaker: s, peers } = fakeSpeaker(BASE, { store });
    assert.equal(s.ribSize('ipv4-unicast'), 2);
    assert.equal(s.ribSize('ipv6-unicast'), 1);
    assert.deepEqual(
      s.neighbors().map((n) => n.address),
      ['192.0.2.2', '192.0.2.9'],
    );
    assert.equal(peers.latest('192.0.2.2').config.holdTime, 20);
    await s.shutdown();
    store.close();
  });

  it('SIGHUP: a file edit of a key the API changed does not win; edits of other keys apply; revert hands it back', async () => {
    const r = await rig();
    await call(r.app, 'PATCH', '/api/v1/neighbors/192.0.2.3', { hold_time: 45 });
    const edited = BASE.replace('hold_time = 60', 'hold_time = 75\ndescription = "core"');
    r.speaker.reload(config(edited));
    let n = (await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.3')).body;
    assert.equal(r.peers.latest('192.0.2.3').config.holdTime, 45);
    assert.equal(n.description, 'core');
    // null resets one key to the file's value.
    await call(r.app, 'PATCH', '/api/v1/neighbors/192.0.2.3', { hold_time: null });
    assert.equal(r.peers.latest('192.0.2.3').config.holdTime, 75);
    // A deleted file neighbour stays deleted across reloads until reverted.
    await call(r.app, 'DELETE', '/api/v1/neighbors/192.0.2.2');
    r.speaker.reload(config(edited));
    assert.equal((await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.2')).status, 404);
    const rev = await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.2/revert');
    assert.equal(rev.status, 200);
    assert.equal(rev.body.neighbor.description, 'edge-1');
    n = (await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.2')).body;
    assert.equal(n.address, '192.0.2.2');
    assert.equal((await call(r.app, 'POST', '/api/v1/neighbors/192.0.2.2/revert')).body.code, 'overlay_not_found');
    // An API-added neighbour is kept when the file is reloaded, and shadows a file table of the same address.
    await call(r.app, 'POST', '/api/v1/neighbors', { address: '192.0.2.9', asn: 65009, description: 'api' });
    r.speaker.reload(config(`${edited}\n[[neighbors]]\naddress = "192.0.2.9"\nasn = 65999\ndescription = "file"\n`));
    n = (await call(r.app, 'GET', '/api/v1/neighbors/192.0.2.9')).body;
    assert.equal(n.description, 'api');
    assert.equal(n.asn, 65009);
  });
});
