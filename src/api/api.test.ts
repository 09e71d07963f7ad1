// The HTTP API in process (fastify.inject, no network) against a real Speaker and a real RIB: config routes
// originated, and a neighbour driven to Established by a scripted peer that announces routes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { announce, type FakePeer, fakeSpeaker, GLOBAL_TOML, neighborToml } from '../daemon/testing.ts';
import { VERSION } from '../daemon/version.ts';
import { API_ERRORS } from './errors.ts';
import { buildApi } from './server.ts';

const TOML = `${GLOBAL_TOML}
${neighborToml('192.0.2.2', 65001, 'description = "edge-1"')}
${neighborToml('2001:db8::2', 65000, 'families = ["ipv6-unicast"]', 'enabled = false')}
[[routes]]
prefix = "203.0.113.0/24"
communities = ["65000:100"]
large_communities = ["65000:1:1"]
ext_communities = ["rt:65000:1"]
med = 10
as_path = [65010]

[[routes]]
prefix = "2001:db8:100::/48"
next_hop = "2001:db8::99"
origin = "egp"
`;

describe('API (in process)', () => {
  let app: FastifyInstance;
  let edge: FakePeer;

  before(async () => {
    const { speaker, peers } = fakeSpeaker(TOML);
    await speaker.start();
    edge = peers.latest('192.0.2.2');
    edge.up();
    edge.receive(
      announce(['198.51.100.0/24', '203.0.113.0/24'], '192.0.2.2', [65001, 65002], {
        med: 5,
        communities: [(65001 << 16) | 7],
      }),
    );
    app = buildApi(speaker);
    await app.ready();
  });
  after(async () => {
    await app.close();
  });

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json(), type: res.headers['content-type'] };
  };

  it('GET /api/v1/health', async () => {
    const r = await get('/api/v1/health');
    assert.equal(r.status, 200);
    assert.match(String(r.type), /^application\/json/);
    assert.equal(r.body.status, 'ok');
    assert.equal(r.body.version, VERSION);
    assert.equal(typeof r.body.uptime_s, 'number');
  });

  it('GET /api/v1/neighbors lists every neighbour with state and counts', async () => {
    const r = await get('/api/v1/neighbors');
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 2);
    const [a, b] = r.body;
    assert.equal(a.address, '192.0.2.2');
    assert.equal(a.asn, 65001);
    assert.equal(a.description, 'edge-1');
    assert.equal(a.state, 'established');
    assert.equal(a.enabled, true);
    assert.equal(typeof a.uptime_s, 'number');
    assert.deepEqual(a.families, ['ipv4-unicast', 'ipv6-unicast']);
    assert.deepEqual(a.received, { 'ipv4-unicast': 2, 'ipv6-unicast': 0 });
    assert.equal(a.last_error, null);
    assert.equal(a.session.local_address, '192.0.2.1');
    assert.equal(a.session.remote_router_id, '192.0.2.2');
    assert.deepEqual(Object.keys(a.advertised).sort(), ['ipv4-unicast', 'ipv6-unicast']);

    assert.equal(b.address, '2001:db8::2');
    assert.equal(b.state, 'idle');
    assert.equal(b.enabled, false);
    assert.equal(b.uptime_s, null);
    assert.equal(b.description, null);
    assert.equal(b.session, null);
  });

  it('GET /api/v1/neighbors/:address, IPv6 in any spelling', async () => {
    const r = await get('/api/v1/neighbors/2001:DB8:0:0::2');
    assert.equal(r.status, 200);
    assert.equal(r.body.address, '2001:db8::2');
    const v4 = await get('/api/v1/neighbors/192.0.2.2');
    assert.equal(v4.body.state, 'established');
  });

  it('unknown neighbour → 404 neighbor_not_found', async () => {
    const r = await get('/api/v1/neighbors/192.0.2.99');
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'neighbor_not_found');
    assert.match(r.body.message, /192\.0\.2\.99/);
  });

  it('malformed neighbour address → 400 bad_address', async () => {
    const r = await get('/api/v1/neighbors/not-an-ip');
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'bad_address');
    assert.equal(r.body.field, 'address');
  });

  it('GET /api/v1/rib/ipv4-unicast: originated and learned paths, best marked', async () => {
    const r = await get('/api/v1/rib/ipv4-unicast');
    assert.equal(r.status, 200);
    assert.equal(r.body.total, 3);
    const byKey = new Map(r.body.routes.map((x: { prefix: string; from: string }) => [`${x.prefix} ${x.from}`, x]));
    assert.deepEqual(byKey.get('203.0.113.0/24 local'), {
      prefix: '203.0.113.0/24',
      best: true,
      from: 'local',
      next_hop: 'self',
      origin: 'igp',
      as_path: [65010],
      med: 10,
      local_pref: 100,
      communities: ['65000:100'],
      large_communities: ['65000:1:1'],
      ext_communities: ['rt:65000:1'],
      reason: (byKey.get('203.0.113.0/24 local') as { reason: string }).reason,
    });
    const learned = byKey.get('198.51.100.0/24 192.0.2.2') as Record<string, unknown>;
    assert.equal(learned.best, true);
    assert.equal(learned.next_hop, '192.0.2.2');
    assert.deepEqual(learned.as_path, [65001, 65002]);
    assert.equal(learned.med, 5);
    assert.deepEqual(learned.communities, ['65001:7']);
    const loser = byKey.get('203.0.113.0/24 192.0.2.2') as Record<string, unknown>;
    assert.equal(loser.best, false, 'the longer AS path loses to the local one');
  });

  it('GET /api/v1/rib/ipv6-unicast', async () => {
    const r = await get('/api/v1/rib/ipv6-unicast');
    assert.equal(r.status, 200);
    assert.equal(r.body.total, 1);
    assert.equal(r.body.routes[0].prefix, '2001:db8:100::/48');
    assert.equal(r.body.routes[0].next_hop, '2001:db8::99');
    assert.equal(r.body.routes[0].origin, 'egp');
  });

  it('?prefix= selects one prefix; an absent one gives total 0', async () => {
    const r = await get('/api/v1/rib/ipv4-unicast?prefix=203.0.113.0/24');
    assert.equal(r.status, 200);
    assert.equal(r.body.total, 2);
    assert.ok(r.body.routes.every((x: { prefix: string }) => x.prefix === '203.0.113.0/24'));
    assert.equal(r.body.routes[0].best, true);
    const none = await get('/api/v1/rib/ipv4-unicast?prefix=192.0.2.0/24');
    assert.deepEqual(none.body, { total: 0, routes: [], next_cursor: null });
  });

  it('?limit= and ?cursor= page through the table', async () => {
    const first = await get('/api/v1/rib/ipv4-unicast?limit=1');
    assert.equal(first.body.total, 3);
    assert.ok(first.body.routes.length >= 1);
    const next = await get(`/api/v1/rib/ipv4-unicast?limit=10&cursor=${first.body.next_cursor}`);
    assert.equal(next.body.next_cursor, null);
    const seen = [...first.body.routes, ...next.body.routes].map(
      (x: { prefix: string; from: string }) => `${x.prefix} ${x.from}`,
    );
    assert.equal(new Set(seen).size, 3);
  });

  const badRequests: [string, number, string, string | undefined][] = [
    ['/api/v1/rib/ipv4-flowspec', 400, 'bad_family', 'family'],
    ['/api/v1/rib/ipv4-unicast?prefix=203.0.113.1/24', 400, 'bad_prefix', 'prefix'],
    ['/api/v1/rib/ipv4-unicast?prefix=banana', 400, 'bad_prefix', 'prefix'],
    ['/api/v1/rib/ipv4-unicast?prefix=2001:db8::/32', 400, 'bad_prefix', 'prefix'],
    ['/api/v1/rib/ipv4-unicast?prefix=1.0.0.0/8&prefix=2.0.0.0/8', 400, 'bad_request', 'prefix'],
    ['/api/v1/rib/ipv4-unicast?limit=0', 400, 'bad_request', 'limit'],
    ['/api/v1/rib/ipv4-unicast?prefx=1.0.0.0/8', 400, 'bad_request', 'prefx'],
    ['/api/v1/neighbors?verbose=1', 400, 'bad_request', 'verbose'],
    ['/api/v1/nothing', 404, 'not_found', undefined],
  ];
  for (const [url, status, code, field] of badRequests) {
    it(`${url} → ${status} ${code}`, async () => {
      const r = await get(url);
      assert.equal(r.status, status);
      assert.equal(r.body.code, code);
      assert.equal(r.body.field, field);
      assert.equal(typeof r.body.message, 'string');
    });
  }

  it('every error code is documented in docs/api.md with its status', () => {
    const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    for (const [code, status] of Object.entries(API_ERRORS)) {
      assert.match(
        doc,
        new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`),
        `${code} (${status}) missing from docs/api.md`,
      );
    }
  });
});
