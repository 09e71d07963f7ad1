// The observe half of the API in process (fastify.inject, no network), against a real Speaker and RIB: Loc-RIB
// filters and cursor paging through a 50 000-route table, explain, health, metrics (parsed), bearer tokens with
// roles, and the OpenAPI document against docs/api.md and the registered routes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { isLoopback } from '../daemon/config.ts';
import { announce, type FakePeer, fakeSpeaker, GLOBAL_TOML, neighborToml } from '../daemon/testing.ts';
import { VERSION } from '../daemon/version.ts';
import { parseCommunity } from '../wire/index.ts';
import { parseTokens, TokenStore } from './auth.ts';
import { API_ERRORS } from './errors.ts';
import { OPENAPI } from './openapi.ts';
import { buildApi, registeredRoutes } from './server.ts';

const TOML = `${GLOBAL_TOML}
${neighborToml('192.0.2.2', 65001)}
${neighborToml('192.0.2.3', 65003)}
${neighborToml('192.0.2.4', 65004, 'enabled = false')}
[[routes]]
prefix = "203.0.113.0/24"
communities = ["65000:100"]
`;

const TABLE = 50_000;
const READ = 'r'.repeat(20);
const WRITE = 'w'.repeat(20);

function v4(i: number): string {
  return `10.${i >> 8}.${i & 255}.0/24`;
}

interface Page {
  total: number;
  routes: { prefix: string; from: string; best: boolean; reason: string; as_path: number[] }[];
  next_cursor: string | null;
}

describe('observe API (in process)', () => {
  let app: FastifyInstance;
  let secured: FastifyInstance;
  let a: FakePeer;
  let b: FakePeer;

  before(async () => {
    const { speaker, peers } = fakeSpeaker(TOML);
    await speaker.start();
    a = peers.latest('192.0.2.2');
    b = peers.latest('192.0.2.3');
    a.up();
    b.up();
    // A's full table: 50 000 prefixes in UPDATEs of 1000; B overlaps the first 300 with a shorter path + community.
    for (let i = 0; i < TABLE; i += 1000) {
      const ps: string[] = [];
      for (let j = i; j < i + 1000; j++) ps.push(v4(j));
      a.receive(announce(ps, '192.0.2.2', [65001, 65010, 65020]));
    }
    const overlap: string[] = [];
    for (let j = 0; j < 300; j++) overlap.push(v4(j));
    b.receive(
      announce(overlap, '192.0.2.3', [65003], {
        communities: [parseCommunity('65003:1'), parseCommunity('65003:2')],
        largeCommunities: [[65003, 0, 7]],
      }),
    );
    app = buildApi(speaker);
    secured = buildApi(speaker, {
      tokens: TokenStore.fromText(`# test tokens\nread ${READ}\nwrite ${WRITE}  # ops\n`),
    });
    await app.ready();
    await secured.ready();
  });
  after(async () => {
    await app.close();
    await secured.close();
  });

  const get = async (url: string, target = app, headers: Record<string, string> = {}) => {
    const res = await target.inject({ method: 'GET', url, headers });
    return { status: res.statusCode, body: res.headers['content-type']?.includes('json') ? res.json() : res.body, res };
  };

  describe('GET /rib/{family} filters and paging', () => {
    it('pages through 50 300 paths with next_cursor: every path once, total stable, last page null', async () => {
      const seen = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      for (; pages < 100; pages++) {
        const q: string = cursor === null ? '?limit=5000' : `?limit=5000&cursor=${cursor}`;
        const r = await get(`/api/v1/rib/ipv4-unicast${q}`);
        assert.equal(r.status, 200);
        const body = r.body as Page;
        assert.equal(body.total, TABLE + 300 + 1);
        for (const x of body.routes) seen.add(`${x.prefix} ${x.from}`);
        cursor = body.next_cursor;
        if (cursor === null) break;
        assert.match(cursor, /^[A-Za-z0-9_-]+$/);
      }
      assert.equal(seen.size, TABLE + 300 + 1);
      assert.ok(pages >= 10 && pages <= 11, `pages ${pages}`);
    });

    it("default limit is 1000; a prefix's paths are never split", async () => {
      const r = await get('/api/v1/rib/ipv4-unicast');
      const body = r.body as Page;
      assert.ok(body.routes.length >= 1000 && body.routes.length <= 1001);
      assert.notEqual(body.next_cursor, null);
      const last = body.routes.at(-1)!.prefix;
      const next = (await get(`/api/v1/rib/ipv4-unicast?cursor=${body.next_cursor}`)).body as Page;
      assert.notEqual(next.routes[0]!.prefix, last);
    });

    it('prefix + longer, community (all must match), large_community, as_path, from', async () => {
      const longer = (await get('/api/v1/rib/ipv4-unicast?prefix=10.0.0.0/16&longer=true&limit=100000')).body as Page;
      assert.equal(longer.total, 256 + 256);
      assert.equal(longer.routes.length, 512);
      assert.ok(longer.routes.every((x) => x.prefix.startsWith('10.0.')));
      const bare = (await get('/api/v1/rib/ipv4-unicast?prefix=10.0.0.0/16&longer')).body as Page;
      assert.equal(bare.total, 512);

      const both = (await get('/api/v1/rib/ipv4-unicast?community=65003:1&community=65003:2&limit=100000'))
        .body as Page;
      assert.equal(both.total, 300);
      assert.ok(both.routes.every((x) => x.from === '192.0.2.3' && x.best));
      const none = (await get('/api/v1/rib/ipv4-unicast?community=65003:1&community=65003:3')).body as Page;
      assert.deepEqual(none, { total: 0, routes: [], next_cursor: null });
      const large = (await get('/api/v1/rib/ipv4-unicast?large_community=65003:0:7&limit=10')).body as Page;
      assert.equal(large.total, 300);
      assert.equal(large.routes.length, 10);

      const re = (await get(`/api/v1/rib/ipv4-unicast?as_path=${encodeURIComponent('^65001 .* 65020$')}&limit=1`))
        .body as Page;
      assert.equal(re.total, TABLE);
      const losers = (await get('/api/v1/rib/ipv4-unicast?from=192.0.2.2&prefix=10.0.1.0/24')).body as Page;
      assert.deepEqual(
        losers.routes.map((x) => [x.from, x.best, x.reason]),
        [['192.0.2.2', false, 'as-path-length']],
      );
      const local = (await get('/api/v1/rib/ipv4-unicast?from=local')).body as Page;
      assert.deepEqual(
        local.routes.map((x) => x.prefix),
        ['203.0.113.0/24'],
      );
      assert.equal((await get('/api/v1/rib/ipv4-unicast?from=192.0.2.2&limit=1')).body.total, TABLE);
    });

    it("a filtered walk follows its cursor to the end with the first page's total", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 50; i++) {
        const q: string = cursor === null ? '' : `&cursor=${cursor}`;
        const body = (await get(`/api/v1/rib/ipv4-unicast?community=65003:1&limit=64${q}`)).body as Page;
        assert.equal(body.total, 300);
        seen.push(...body.routes.map((x) => x.prefix));
        cursor = body.next_cursor;
        if (cursor === null) break;
      }
      assert.equal(seen.length, 300);
      assert.equal(new Set(seen).size, 300);
    });

    const bad: [string, string, string][] = [
      ['?as_path=(', 'bad_request', 'as_path'],
      [`?as_path=${'a'.repeat(300)}`, 'bad_request', 'as_path'],
      ['?community=65536:1', 'bad_request', 'community'],
      ['?large_community=1:2', 'bad_request', 'large_community'],
      ['?from=nobody', 'bad_address', 'from'],
      ['?longer=true', 'bad_request', 'longer'],
      ['?prefix=10.0.0.0/8&longer=maybe', 'bad_request', 'longer'],
      ['?limit=100001', 'bad_request', 'limit'],
      ['?cursor=garbage!', 'bad_request', 'cursor'],
      ['?after=10.0.0.0/24', 'bad_request', 'after'],
      ['?as_path=a&as_path=b', 'bad_request', 'as_path'],
    ];
    for (const [q, code, field] of bad) {
      it(`${q.slice(0, 40)} → 400 ${code} (${field})`, async () => {
        const r = await get(`/api/v1/rib/ipv4-unicast${q}`);
        assert.equal(r.status, 400);
        assert.equal(r.body.code, code);
        assert.equal(r.body.field, field);
      });
    }

    it('a cursor of one family is refused by the other', async () => {
      const c = ((await get('/api/v1/rib/ipv4-unicast?limit=1')).body as Page).next_cursor!;
      const r = await get(`/api/v1/rib/ipv6-unicast?cursor=${c}`);
      assert.equal(r.status, 400);
      assert.equal(r.body.field, 'cursor');
    });
  });

  describe('GET /rib/{family}/explain', () => {
    it('every candidate ranked, with the deciding step, a sentence and the steps compared', async () => {
      const r = await get('/api/v1/rib/ipv4-unicast/explain?prefix=10.0.5.0/24');
      assert.equal(r.status, 200);
      assert.equal(r.body.prefix, '10.0.5.0/24');
      assert.equal(r.body.best, 0);
      const [best, loser] = r.body.candidates;
      assert.equal(best.from, '192.0.2.3');
      assert.equal(best.best, true);
      assert.equal(best.rank, 0);
      assert.equal(best.decided_by, 'as-path-length');
      assert.match(best.reason, /^best path: preferred over #1 \(from 192\.0\.2\.2\) at step as-path-length/);
      assert.equal(loser.rank, 1);
      assert.equal(loser.lost_to, 0);
      assert.deepEqual(loser.steps, [
        { step: 'local-pref', value: 100, other: 100, result: 'tie' },
        { step: 'as-path-length', value: 3, other: 1, result: 'worse' },
      ]);
    });

    it('unknown prefix → 404 prefix_not_found; missing prefix → 400', async () => {
      const r = await get('/api/v1/rib/ipv4-unicast/explain?prefix=198.51.100.0/24');
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'prefix_not_found');
      const m = await get('/api/v1/rib/ipv4-unicast/explain');
      assert.equal(m.status, 400);
      assert.equal(m.body.field, 'prefix');
    });
  });

  describe('health and metrics', () => {
    it('GET /health: neighbours, event-loop delay, Loc-RIB sizes', async () => {
      const r = await get('/api/v1/health');
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'ok');
      assert.equal(r.body.version, VERSION);
      assert.deepEqual(r.body.neighbors, { configured: 3, established: 2 });
      assert.equal(typeof r.body.event_loop_delay_ms.p99, 'number');
      assert.ok(r.body.event_loop_delay_ms.max >= r.body.event_loop_delay_ms.p99 || r.body.event_loop_delay_ms.max > 0);
      assert.deepEqual(r.body.loc_rib, { 'ipv4-unicast': TABLE + 1, 'ipv6-unicast': 0 });
    });

    it('GET /metrics: Prometheus text that parses, with the BGP metrics and process metrics', async () => {
      const r = await get('/metrics');
      assert.equal(r.status, 200);
      assert.match(String(r.res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const m = parseProm(r.body as string);
      const v = (name: string, labels: Record<string, string> = {}) => {
        const s = m.samples.find(
          (x) => x.name === name && Object.entries(labels).every(([k, val]) => x.labels[k] === val),
        );
        assert.ok(s, `${name} ${JSON.stringify(labels)} missing`);
        return s.value;
      };
      assert.equal(v('bgp_peer_state', { peer: '192.0.2.2', session_state: 'established', admin_state: 'up' }), 6);
      assert.equal(v('bgp_peer_state', { peer: '192.0.2.4', session_state: 'idle', admin_state: 'down' }), 1);
      assert.equal(v('bgp_routes_received', { peer: '192.0.2.2', route_family: 'ipv4-unicast' }), TABLE);
      assert.equal(v('bgp_routes_accepted', { peer: '192.0.2.3', route_family: 'ipv4-unicast' }), 300);
      assert.equal(v('bgp_routes_received', { peer: '192.0.2.3', route_family: 'ipv6-unicast' }), 0);
      assert.equal(typeof v('bgp_routes_advertised', { peer: '192.0.2.2', route_family: 'ipv4-unicast' }), 'number');
      assert.equal(v('bgp_rib_routes', { route_family: 'ipv4-unicast' }), TABLE + 1);
      assert.ok(v('bgp_peer_uptime_seconds', { peer: '192.0.2.2' }) >= 0);
      assert.equal(v('bgp_peer_flop_count', { peer: '192.0.2.2' }), 0);
      for (const dir of ['received', 'sent']) {
        for (const kind of ['open', 'update', 'notification', 'keepalive', 'refresh']) {
          assert.equal(v(`bgp_${dir}_${kind}_total`, { peer: '192.0.2.2' }), 0, 'fake peers count no messages');
          assert.equal(m.types.get(`bgp_${dir}_${kind}_total`), 'counter');
        }
      }
      assert.equal(typeof v('bgp_peer_out_queue_count', { peer: '192.0.2.2' }), 'number');
      assert.equal(v('bgp_peer_out_queue_bytes', { peer: '192.0.2.2' }), 0);
      assert.ok(v('process_resident_memory_bytes') > 0);
      assert.ok(v('nodejs_eventloop_lag_seconds') >= 0);
      assert.ok(v('tsbgp_event_loop_delay_max_seconds') >= 0);
      assert.equal(m.types.get('bgp_peer_state'), 'gauge');
    });
  });

  describe('bearer tokens', () => {
    it('no token → 401 with a Bearer challenge; unknown token → 401', async () => {
      const r = await get('/api/v1/health', secured);
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'unauthorized');
      assert.match(String(r.res.headers['www-authenticate']), /^Bearer/);
      const bad = await get('/api/v1/neighbors', secured, { authorization: `Bearer ${'x'.repeat(20)}` });
      assert.equal(bad.status, 401);
      const basic = await get('/api/v1/neighbors', secured, { authorization: `Basic ${READ}` });
      assert.equal(basic.status, 401);
      const metrics = await get('/metrics', secured);
      assert.equal(metrics.status, 401);
    });

    it('a read token reads; writing with it → 403 forbidden; a write token may do both', async () => {
      const r = await get('/api/v1/neighbors', secured, { authorization: `Bearer ${READ}` });
      assert.equal(r.status, 200);
      assert.equal((await get('/metrics', secured, { authorization: `bearer ${READ}` })).status, 200);
      for (const [method, url] of [
        ['POST', '/api/v1/routes'],
        ['DELETE', '/api/v1/neighbors/192.0.2.2'],
        ['POST', '/api/v1/neighbors/192.0.2.2/reset'],
      ] as const) {
        const w = await secured.inject({ method, url, headers: { authorization: `Bearer ${READ}` }, payload: {} });
        assert.equal(w.statusCode, 403, `${method} ${url}`);
        assert.equal(w.json().code, 'forbidden');
      }
      const ok = await get('/api/v1/rib/ipv4-unicast?limit=1', secured, { authorization: `Bearer ${WRITE}` });
      assert.equal(ok.status, 200);
      // The write token passes the role check: whatever answers now is the endpoint itself, not 401/403.
      const w = await secured.inject({
        method: 'POST',
        url: '/api/v1/neighbors/192.0.2.2/reset',
        headers: { authorization: `Bearer ${WRITE}` },
        payload: { mode: 'sideways' },
      });
      assert.ok(![401, 403].includes(w.statusCode), String(w.statusCode));
    });

    it('token file syntax: roles, comments, short or duplicate tokens rejected with line numbers', () => {
      assert.equal(parseTokens(`read ${READ}\n\n# c\nwrite ${WRITE}\n`, 't').size, 2);
      assert.throws(() => parseTokens(`admin ${READ}`, 't'), /t:1: unknown role "admin"/);
      assert.throws(() => parseTokens('read short', 't'), /t:1: a token must be at least 16/);
      assert.throws(() => parseTokens(`read ${READ}\nwrite ${READ}`, 't'), /t:2: this token is already listed/);
      assert.throws(() => parseTokens(`read ${READ} extra`, 't'), /t:1: expected "<role> <token>"/);
      assert.throws(() => parseTokens('# nothing\n', 't'), /no tokens/);
    });

    it('loopback addresses', () => {
      for (const h of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(h), h);
      for (const h of ['0.0.0.0', '::', '192.0.2.1', '2001:db8::1', '128.0.0.1']) assert.ok(!isLoopback(h), h);
    });
  });

  describe('OpenAPI document', () => {
    const methods = ['get', 'post', 'put', 'patch', 'delete'];
    const openapiOps = () => {
      const out: string[] = [];
      for (const [path, ops] of Object.entries(OPENAPI.paths)) {
        for (const m of Object.keys(ops)) if (methods.includes(m)) out.push(`${m.toUpperCase()} ${path}`);
      }
      return out.sort();
    };

    it('is served at /api/v1/openapi.json as OpenAPI 3.1 with every $ref resolvable', async () => {
      const r = await get('/api/v1/openapi.json');
      assert.equal(r.status, 200);
      assert.equal(r.body.openapi, '3.1.0');
      const text = JSON.stringify(r.body);
      for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
        assert.ok(name! in r.body.components.schemas, `unresolved $ref ${name}`);
      }
      for (const [path, ops] of Object.entries(r.body.paths as Record<string, Record<string, { 'x-role': string }>>)) {
        for (const [m, o] of Object.entries(ops)) {
          assert.equal(o['x-role'], m === 'get' ? 'read' : 'write', `${m} ${path}`);
        }
      }
    });

    it('agrees with the endpoint table of docs/api.md, both ways', () => {
      const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
      const documented = [...doc.matchAll(/^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*`([^`]+)`\s*\|/gm)]
        .map((m) => `${m[1]} ${m[2]}`)
        .sort();
      assert.deepEqual(documented, openapiOps());
    });

    it('every route the server registers is in the document, with the same role', () => {
      const inDoc = new Set(openapiOps());
      for (const r of registeredRoutes(app)) {
        if (r.method === 'HEAD') continue;
        const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
        assert.ok(inDoc.has(`${r.method} ${path}`), `${r.method} ${path} is registered but not in openapi.ts`);
        const op = (OPENAPI.paths as Record<string, Record<string, { 'x-role': string }>>)[path]![
          r.method.toLowerCase()
        ]!;
        assert.equal(r.role, op['x-role'], `${r.method} ${path} role`);
      }
    });

    it('every documented endpoint is served (write endpoints: once the control routes are registered)', () => {
      const served = new Set(
        registeredRoutes(app).map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_]+)/g, '{$1}')}`),
      );
      const missing = openapiOps().filter((o) => !served.has(o));
      assert.deepEqual(missing, []);
    });

    it('lists every error code of the registry, and docs/api.md documents each with its status', () => {
      const codes = (OPENAPI.components.schemas.Error as { properties: { code: { enum: string[] } } }).properties.code
        .enum;
      assert.deepEqual([...codes].sort(), Object.keys(API_ERRORS).sort());
      const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
      for (const [code, status] of Object.entries(API_ERRORS)) {
        assert.match(doc, new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`), `${code} missing from docs`);
      }
    });
  });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict-enough parser of the Prometheus text exposition format 0.0.4. */
function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)( \d+)?$/i.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[l[1]!] = l[2]!;
    }
    samples.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return { samples, types };
}
