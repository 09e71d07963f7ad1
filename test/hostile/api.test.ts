// Hostile HTTP requests against a running `tsbgp daemon`'s API: malformed JSON, a wrong type in every field of
// POST /api/v1/routes and POST /api/v1/neighbors (and PATCH), prototype-poisoning keys, deep nesting, bodies over
// [api] body_limit (announced, chunked, or lied about), path traversal and odd characters in {address} and {family},
// repeated query parameters, and a catastrophic-backtracking ?as_path= pattern. Every rejected request must answer a
// 4xx JSON error naming the field (400 for bad input, 413 for size) and change nothing: the neighbours, the injected
// routes and the Loc-RIB read back the same. A good BGP neighbour stays Established throughout.
// Loopback addresses 127.0.90.30-39 belong to this file.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  apiGet,
  GoodNeighbor,
  type HostileDaemon,
  type HttpAnswer,
  isAlive,
  poll,
  rawHttp,
  rssBytes,
  startDaemon,
  streamUntilAnswered,
} from './harness.ts';

const HOST = '127.0.90.30';
const GOOD = '127.0.90.31';
/** A neighbour added through the API before the attacks (so PATCH has a target that is not the good one). */
const ADDED = '127.0.90.32';
const BODY_LIMIT = 1024 * 1024;

interface ErrorJson {
  code: string;
  message: string;
  field?: string;
}

function errorOf(a: HttpAnswer): ErrorJson {
  assert.ok(
    a.json !== null && typeof a.json === 'object',
    `a JSON error body, got ${a.status} ${a.body.slice(0, 200)}`,
  );
  return a.json as ErrorJson;
}

describe('hostile: the HTTP API', () => {
  let hd: HostileDaemon;
  let good: GoodNeighbor;
  let before0: string;

  /** What a rejected request must not change: neighbours (configuration), injected routes, the Loc-RIB. */
  async function snapshot(): Promise<string> {
    const ns = await apiGet<Record<string, unknown>[]>(hd, '/api/v1/neighbors');
    const config = ns.map((n) => [n.address, n.asn, n.description, n.enabled, n.families]);
    const routes = await apiGet<unknown>(hd, '/api/v1/routes');
    const rib4 = await apiGet<unknown>(hd, '/api/v1/rib/ipv4-unicast');
    const rib6 = await apiGet<unknown>(hd, '/api/v1/rib/ipv6-unicast');
    return JSON.stringify({ config, routes, rib4, rib6 });
  }

  async function unchanged(what: string): Promise<void> {
    assert.equal(await snapshot(), before0, `${what} changed the daemon's state`);
    await good.check(what);
  }

  before(async () => {
    hd = await startDaemon(HOST, [{ address: GOOD, asn: 65001, extra: 'hold_time = 6' }], `body_limit = ${BODY_LIMIT}`);
    good = await GoodNeighbor.start(hd, GOOD, 65001);
    const r = await rawHttp(
      hd,
      'POST',
      '/api/v1/routes',
      JSON.stringify({ prefix: '203.0.113.0/24', communities: ['65000:1'], med: 5 }),
    );
    assert.equal(r.status, 200, r.body);
    const n = await rawHttp(
      hd,
      'POST',
      '/api/v1/neighbors',
      JSON.stringify({ address: ADDED, asn: 65032, passive: true, description: 'added' }),
    );
    assert.equal(n.status, 201, n.body);
    before0 = await snapshot();
  });

  after(async () => {
    good?.client.destroy();
    await hd?.d.stop('SIGTERM');
  });

  it('malformed JSON bodies: 400 bad_request naming the body, nothing changed', async () => {
    const bodies = [
      '{',
      '{"prefix": }',
      '[1,2',
      'nul',
      '{"a":1}{',
      '{"prefix":"10.0.0.0/8",}',
      "{'prefix':1}",
      '\u0000',
    ];
    const targets: [string, string][] = [
      ['POST', '/api/v1/routes'],
      ['DELETE', '/api/v1/routes'],
      ['POST', '/api/v1/neighbors'],
      ['PATCH', `/api/v1/neighbors/${ADDED}`],
      ['POST', `/api/v1/neighbors/${ADDED}/reset`],
    ];
    for (const [method, path] of targets) {
      for (const b of bodies) {
        const a = await rawHttp(hd, method, path, b);
        assert.equal(a.status, 400, `${method} ${path} ${JSON.stringify(b)}: ${a.body}`);
        const e = errorOf(a);
        assert.equal(e.code, 'bad_request');
        assert.equal(e.field, 'body', `${method} ${path} ${JSON.stringify(b)}: ${a.body}`);
      }
      // Not JSON at all, and an empty JSON body.
      const t = await rawHttp(hd, method, path, 'prefix=10.0.0.0/8', { 'content-type': 'text/plain' });
      assert.ok(t.status === 400 || t.status === 415, `${method} ${path} text/plain: ${t.status} ${t.body}`);
      errorOf(t);
    }
    await unchanged('malformed JSON');
  });

  it('POST /api/v1/routes: a wrong type or value in every field is a 400 naming it, alone or in a batch', async () => {
    const bad: [string, unknown, string?][] = [
      ['prefix', 123],
      ['prefix', null],
      ['prefix', ['10.0.0.0/8']],
      ['prefix', { a: 1 }],
      ['prefix', '10.0.0.1/8'],
      ['prefix', '10.0.0.0/33'],
      ['prefix', '../../etc/passwd'],
      ['next_hop', 5],
      ['next_hop', 'not-an-address'],
      ['next_hop', '2001:db8::1'],
      ['next_hop', true],
      ['origin', 1],
      ['origin', 'bogus'],
      ['as_path', '65001'],
      ['as_path', { 0: 65001 }],
      ['as_path', ['65001'], 'as_path[0]'],
      ['as_path', [-1], 'as_path[0]'],
      ['as_path', [0], 'as_path[0]'],
      ['as_path', [4294967296], 'as_path[0]'],
      ['as_path', [1.5], 'as_path[0]'],
      ['as_path', new Array(256).fill(65001)],
      ['med', '10'],
      ['med', -1],
      ['med', 1.5],
      ['med', 4294967296],
      ['med', true],
      ['local_pref', '100'],
      ['local_pref', -5],
      ['local_pref', []],
      ['communities', '65000:1'],
      ['communities', [65000], 'communities[0]'],
      ['communities', ['65000'], 'communities[0]'],
      ['communities', ['70000:1'], 'communities[0]'],
      ['communities', new Array(501).fill('65000:1')],
      ['large_communities', '1:2:3'],
      ['large_communities', ['1:2'], 'large_communities[0]'],
      ['large_communities', [[1, 2, 3]], 'large_communities[0]'],
      ['ext_communities', 'rt:1:1'],
      ['ext_communities', ['xx:1:1'], 'ext_communities[0]'],
      ['ext_communities', [{}], 'ext_communities[0]'],
      ['bogus_key', 1],
      ['__proto_', 1],
    ];
    for (const [field, value, named] of bad) {
      const route: Record<string, unknown> = { prefix: '198.51.100.0/24', [field]: value };
      const single = await rawHttp(hd, 'POST', '/api/v1/routes', JSON.stringify(route));
      assert.equal(single.status, 400, `${field}=${JSON.stringify(value)}: ${single.body}`);
      assert.equal(errorOf(single).field, named ?? field, `${field}=${JSON.stringify(value)}: ${single.body}`);
      const batch = {
        routes: [{ prefix: '198.51.100.0/24' }, { prefix: '198.51.101.0/24', med: 1 }, route],
      };
      const b = await rawHttp(hd, 'POST', '/api/v1/routes', JSON.stringify(batch));
      assert.equal(b.status, 400, `batch ${field}=${JSON.stringify(value)}: ${b.body}`);
      assert.equal(errorOf(b).field, `routes[2].${named ?? field}`, `batch ${field}: ${b.body}`);
    }
    // Shapes around the routes: not an object, routes not an array, an element not an object, a key next to routes.
    const shapes: [unknown, string][] = [
      [[{ prefix: '198.51.100.0/24' }], 'body'],
      ['198.51.100.0/24', 'body'],
      [42, 'body'],
      [null, 'body'],
      [{ routes: { prefix: '198.51.100.0/24' } }, 'routes'],
      [{ routes: [{ prefix: '198.51.100.0/24' }, 'x'] }, 'routes[1]'],
      [{ routes: [{ prefix: '198.51.100.0/24' }, null] }, 'routes[1]'],
      [{ routes: [], extra: 1 }, 'extra'],
    ];
    for (const [body, field] of shapes) {
      const a = await rawHttp(hd, 'POST', '/api/v1/routes', JSON.stringify(body));
      assert.equal(a.status, 400, `${JSON.stringify(body)}: ${a.body}`);
      assert.equal(errorOf(a).field, field, `${JSON.stringify(body)}: ${a.body}`);
    }
    await unchanged('bad routes');
  });

  it('POST /api/v1/neighbors and PATCH: a wrong type or value in every field is a 400 naming it', async () => {
    const bad: [string, unknown, string?][] = [
      ['address', 1],
      ['address', 'not-an-ip'],
      ['address', ''],
      ['address', '127.0.90.33/32'],
      ['address', '../../etc'],
      ['address', '0.0.0.0'],
      ['address', '224.0.0.1'],
      ['address', '255.255.255.255'],
      ['address', 'ff02::1'],
      ['asn', '65033'],
      ['asn', 0],
      ['asn', -1],
      ['asn', 4294967296],
      ['asn', 1.5],
      ['asn', null],
      ['description', 5],
      ['description', ['x']],
      ['local_address', 5],
      ['local_address', 'x'],
      ['port', '179'],
      ['port', 0],
      ['port', 70000],
      ['passive', 'yes'],
      ['passive', 1],
      ['hold_time', 1],
      ['hold_time', 2],
      ['hold_time', '90'],
      ['hold_time', 70000],
      ['connect_retry', 0],
      ['connect_retry', 'x'],
      ['families', 'ipv4-unicast'],
      ['families', ['bogus'], 'families[0]'],
      ['families', [1], 'families[0]'],
      ['families', []],
      ['families', ['ipv4-unicast', 'ipv4-unicast']],
      ['next_hop_ipv4', '2001:db8::1'],
      ['next_hop_ipv4', 4],
      ['next_hop_ipv6', '192.0.2.1'],
      ['enabled', 'true'],
      ['route_reflector_client', 1],
      ['add_path_receive', 'x'],
      ['graceful_restart', {}],
      ['restart_time', -1],
      ['restart_time', 4096],
      ['bogus_key', 1],
    ];
    for (const [field, value, named] of bad) {
      const body: Record<string, unknown> = { address: '127.0.90.33', asn: 65033, [field]: value };
      const a = await rawHttp(hd, 'POST', '/api/v1/neighbors', JSON.stringify(body));
      assert.equal(a.status, 400, `POST ${field}=${JSON.stringify(value)}: ${a.body}`);
      assert.equal(errorOf(a).field, named ?? field, `POST ${field}=${JSON.stringify(value)}: ${a.body}`);
      if (field === 'address' || value === null) continue;
      const p = await rawHttp(hd, 'PATCH', `/api/v1/neighbors/${ADDED}`, JSON.stringify({ [field]: value }));
      assert.equal(p.status, 400, `PATCH ${field}=${JSON.stringify(value)}: ${p.body}`);
      assert.equal(errorOf(p).field, named ?? field, `PATCH ${field}=${JSON.stringify(value)}: ${p.body}`);
    }
    for (const [body, field] of [
      [{ asn: 65033 }, 'address'],
      [{ address: '127.0.90.33' }, 'asn'],
      [[], 'body'],
      ['127.0.90.33', 'body'],
      [{ address: GOOD, asn: 65001 }, 'address'],
    ] as [unknown, string][]) {
      const a = await rawHttp(hd, 'POST', '/api/v1/neighbors', JSON.stringify(body));
      assert.ok(a.status === 400 || a.status === 409, `${JSON.stringify(body)}: ${a.body}`);
      assert.equal(errorOf(a).field, field, `${JSON.stringify(body)}: ${a.body}`);
    }
    const p = await rawHttp(hd, 'PATCH', `/api/v1/neighbors/${ADDED}`, JSON.stringify({ address: '127.0.90.34' }));
    assert.equal(p.status, 400);
    assert.equal(errorOf(p).field, 'address');
    await unchanged('bad neighbours');
  });

  it('prototype-poisoning keys and deep nesting are refused with a 400 naming the field', async () => {
    const deepArray = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const deepObject = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    const cases: [string, string, string, string][] = [
      ['POST', '/api/v1/routes', '{"__proto__": {"polluted": true}, "prefix": "198.51.100.0/24"}', 'body'],
      [
        'POST',
        '/api/v1/routes',
        '{"constructor": {"prototype": {"polluted": true}}, "prefix": "198.51.100.0/24"}',
        'body',
      ],
      ['POST', '/api/v1/routes', '{"routes": [{"__proto__": {"med": 1}, "prefix": "198.51.100.0/24"}]}', 'body'],
      ['POST', '/api/v1/neighbors', '{"__proto__": {"polluted": true}, "address": "127.0.90.33", "asn": 1}', 'body'],
      ['POST', '/api/v1/routes', deepArray, 'body'],
      ['POST', '/api/v1/routes', deepObject, 'a'],
      ['POST', '/api/v1/routes', `{"prefix": "198.51.100.0/24", "communities": ${deepArray}}`, 'communities'],
      ['POST', '/api/v1/routes', `{"prefix": "198.51.100.0/24", "next_hop": ${deepObject}}`, 'next_hop'],
      [
        'POST',
        '/api/v1/routes',
        `{"routes": [{"prefix": "198.51.100.0/24", "as_path": ${deepArray}}]}`,
        'routes[0].as_path',
      ],
      ['POST', '/api/v1/routes', `{"prefix": ${deepArray}}`, 'prefix'],
      ['POST', '/api/v1/neighbors', deepArray, 'body'],
      [
        'POST',
        '/api/v1/neighbors',
        `{"address": "127.0.90.33", "asn": 65033, "description": ${deepObject}}`,
        'description',
      ],
      [
        'POST',
        '/api/v1/neighbors',
        `{"address": "127.0.90.33", "asn": 65033, "families": ${deepArray}}`,
        'families[0]',
      ],
      ['PATCH', `/api/v1/neighbors/${ADDED}`, `{"hold_time": ${deepArray}}`, 'hold_time'],
      ['DELETE', '/api/v1/routes', `{"prefixes": [${deepArray}]}`, 'prefixes[0]'],
      ['DELETE', '/api/v1/routes', `{"prefix": ${deepObject}}`, 'prefix'],
      ['POST', `/api/v1/neighbors/${ADDED}/reset`, `{"mode": ${deepArray}}`, 'mode'],
    ];
    for (const [method, path, b, field] of cases) {
      const a = await rawHttp(hd, method, path, b);
      const what = `${method} ${path} ${b.slice(0, 60)}`;
      assert.equal(a.status, 400, `${what}: ${a.status} ${a.body.slice(0, 300)}`);
      assert.equal(errorOf(a).field, field, `${what}: ${a.body.slice(0, 300)}`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    await unchanged('poisoning and nesting');
  });

  it('bodies over [api] body_limit: 413 whether announced, chunked, or lied about', async () => {
    const routes = [];
    for (let i = 0; routes.length < 50_000; i++)
      routes.push({ prefix: `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32` });
    const big = JSON.stringify({ routes });
    assert.ok(big.length > BODY_LIMIT);
    const a = await rawHttp(hd, 'POST', '/api/v1/routes', big);
    assert.equal(a.status, 413, a.body.slice(0, 300));
    assert.equal(errorOf(a).code, 'payload_too_large');
    const n = await rawHttp(hd, 'POST', '/api/v1/neighbors', big);
    assert.equal(n.status, 413);

    // A Content-Length far beyond the limit is refused before the body is read.
    const head = (extra: string) =>
      `POST /api/v1/routes HTTP/1.1\r\nHost: ${hd.host}\r\nContent-Type: application/json\r\n${extra}\r\n`;
    const lie = await streamUntilAnswered(hd, `${head(`Content-Length: ${10 * 1024 ** 3}\r\n`)}{"routes": [`, ' ', 0);
    assert.equal(lie.status, 413);

    // Chunked, with no length: the server must stop at the limit, not buffer whatever comes. It answers 413, or
    // resets the connection with our surplus unread, long before 8 × the limit has been sent.
    const piece = '{"prefix": "10.0.0.0/8"}, '.repeat(4000);
    const chunk = `${piece.length.toString(16)}\r\n${piece}\r\n`;
    const chunked = await streamUntilAnswered(hd, head('Transfer-Encoding: chunked\r\n'), chunk, 8 * BODY_LIMIT);
    assert.ok(
      chunked.status === 413 || (chunked.status === 0 && chunked.sent < 8 * BODY_LIMIT),
      `chunked: ${JSON.stringify(chunked)}`,
    );
    await unchanged('oversized bodies');
  });

  it('path traversal and odd characters in {address} and {family}: 4xx naming the segment, nothing changed', async () => {
    const addresses = [
      '..%2F..%2Fetc%2Fpasswd',
      '..',
      '%2e%2e',
      '127.0.90.31%00',
      '127.0.90.31%20',
      '%00',
      '127.0.90.31;rm%20-rf',
      '%E2%80%AE127.0.90.31',
      'fe80::1%25eth0',
      '127.0.0.1:179',
      '0x7f.1',
      '127.1',
      '999.999.999.999',
      '%27%20OR%201%3D1',
      '%3Cscript%3E',
      'a'.repeat(90),
    ];
    for (const addr of addresses) {
      for (const [method, suffix] of [
        ['GET', ''],
        ['DELETE', ''],
        ['PATCH', ''],
        ['POST', '/reset'],
        ['POST', '/disable'],
        ['GET', '/adj-rib-in/ipv4-unicast'],
      ] as const) {
        const path = `/api/v1/neighbors/${addr}${suffix}`;
        const a = await rawHttp(hd, method, path, method === 'PATCH' ? '{"description":"x"}' : undefined);
        assert.equal(a.status, 400, `${method} ${path}: ${a.status} ${a.body}`);
        const e = errorOf(a);
        assert.equal(e.code, 'bad_address', `${method} ${path}: ${a.body}`);
        assert.equal(e.field, 'address', `${method} ${path}: ${a.body}`);
      }
    }
    const families = [
      '..%2F..%2Fetc%2Fpasswd',
      '..',
      'ipv4-unicast%00',
      'IPV4-UNICAST',
      'ipv4-unicast%20',
      '%00',
      'ipv4',
    ];
    for (const f of families) {
      for (const path of [
        `/api/v1/rib/${f}`,
        `/api/v1/rib/${f}/explain?prefix=10.0.0.0/8`,
        `/api/v1/neighbors/${GOOD}/adj-rib-out/${f}`,
      ]) {
        const a = await rawHttp(hd, 'GET', path);
        assert.equal(a.status, 400, `GET ${path}: ${a.status} ${a.body}`);
        const e = errorOf(a);
        assert.equal(e.code, 'bad_family', `GET ${path}: ${a.body}`);
        assert.equal(e.field, 'family', `GET ${path}: ${a.body}`);
      }
    }
    // Segments the router itself refuses (bad percent-encoding, very long): still a JSON 4xx, never a 5xx.
    for (const path of [
      '/api/v1/neighbors/%zz',
      '/api/v1/neighbors/%',
      `/api/v1/neighbors/${'1'.repeat(5000)}`,
      `/api/v1/rib/${'x'.repeat(5000)}`,
      '/api/v1/rib/ipv4-unicast/../../../../etc/passwd',
      '/api/v1/../../etc/passwd',
      '//api/v1/neighbors',
    ]) {
      const a = await rawHttp(hd, 'GET', path);
      assert.ok(a.status >= 400 && a.status < 500, `GET ${path.slice(0, 80)}: ${a.status} ${a.body.slice(0, 200)}`);
      errorOf(a);
    }
    await unchanged('odd path segments');
  });

  it('a query parameter given twice is a 400 naming it; unknown parameters too', async () => {
    const cases: [string, string][] = [
      ['/api/v1/rib/ipv4-unicast?prefix=198.18.0.0/24&prefix=198.18.1.0/24', 'prefix'],
      ['/api/v1/rib/ipv4-unicast?limit=1&limit=2', 'limit'],
      ['/api/v1/rib/ipv4-unicast?from=127.0.90.31&from=local', 'from'],
      ['/api/v1/rib/ipv4-unicast?cursor=a&cursor=b', 'cursor'],
      ['/api/v1/rib/ipv4-unicast?as_path=a&as_path=b', 'as_path'],
      ['/api/v1/rib/ipv4-unicast?prefix=198.18.0.0/24&longer&longer', 'longer'],
      ['/api/v1/rib/ipv4-unicast/explain?prefix=198.18.0.0/24&prefix=198.18.0.0/24', 'prefix'],
      ['/api/v1/routes?family=ipv4-unicast&family=ipv6-unicast', 'family'],
      ['/api/v1/routes?limit=1&limit=1', 'limit'],
      [`/api/v1/neighbors/${GOOD}/adj-rib-in/ipv4-unicast?prefix=198.18.0.0/24&prefix=198.18.1.0/24`, 'prefix'],
      ['/api/v1/rib/ipv4-unicast?prefix[]=198.18.0.0/24', 'prefix[]'],
      ['/api/v1/rib/ipv4-unicast?__proto__=x', '__proto__'],
      ['/api/v1/rib/ipv4-unicast?constructor=x', 'constructor'],
      ['/api/v1/neighbors?x=1', 'x'],
      ['/api/v1/health?verbose=1', 'verbose'],
      // Values of the wrong shape.
      ['/api/v1/rib/ipv4-unicast?limit=0', 'limit'],
      ['/api/v1/rib/ipv4-unicast?limit=-1', 'limit'],
      ['/api/v1/rib/ipv4-unicast?limit=1e3', 'limit'],
      ['/api/v1/rib/ipv4-unicast?limit=99999999999999999999', 'limit'],
      ['/api/v1/rib/ipv4-unicast?cursor=%00', 'cursor'],
      [`/api/v1/rib/ipv4-unicast?cursor=${'A'.repeat(5000)}`, 'cursor'],
      ['/api/v1/rib/ipv4-unicast?cursor=MTAuMC4wLjAvOA', 'cursor'],
      ['/api/v1/rib/ipv4-unicast?prefix=2001:db8::/32', 'prefix'],
      ['/api/v1/rib/ipv4-unicast?prefix=%00', 'prefix'],
      ['/api/v1/rib/ipv4-unicast?community=x', 'community'],
      ['/api/v1/rib/ipv4-unicast?from=..%2F', 'from'],
      ['/api/v1/rib/ipv4-unicast?as_path=(', 'as_path'],
      [`/api/v1/rib/ipv4-unicast?as_path=${'a'.repeat(300)}`, 'as_path'],
      ['/api/v1/routes?limit=0', 'limit'],
      ['/api/v1/routes?cursor=!!', 'cursor'],
      [`/api/v1/neighbors/${GOOD}/adj-rib-in/ipv4-unicast?cursor=%2F%2F`, 'cursor'],
    ];
    for (const [path, field] of cases) {
      const a = await rawHttp(hd, 'GET', path);
      assert.equal(a.status, 400, `${path}: ${a.status} ${a.body}`);
      assert.equal(errorOf(a).field, field, `${path}: ${a.body}`);
    }
    await unchanged('repeated query parameters');
  });

  it('HTTP-level abuse: oversized headers, a bogus method, duplicate Content-Length — refused, daemon unaffected', async () => {
    const big = await rawHttp(hd, 'GET', '/api/v1/health', undefined, { 'x-filler': 'a'.repeat(64 * 1024) });
    assert.equal(big.status, 431);
    const bogus = await streamUntilAnswered(hd, `BREW /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n`, '', 0);
    assert.ok(bogus.status >= 400 && bogus.status < 500, `BREW: ${bogus.status}`);
    const dup = await streamUntilAnswered(
      hd,
      'POST /api/v1/routes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}',
      '',
      0,
    );
    assert.equal(dup.status, 400, 'two Content-Length headers (request smuggling)');
    const smuggle = await streamUntilAnswered(
      hd,
      'POST /api/v1/routes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      '',
      0,
    );
    assert.ok(smuggle.status >= 400 && smuggle.status < 500, `CL + TE: ${smuggle.status}`);
    await unchanged('HTTP-level abuse');
  });

  it('?as_path= cannot freeze the daemon: a catastrophic pattern over a 255-AS path answers at once', async () => {
    const asns = Array.from({ length: 255 }, (_, i) => 65100 + i);
    const add = await rawHttp(
      hd,
      'POST',
      '/api/v1/routes',
      JSON.stringify({ prefix: '198.51.100.0/24', as_path: asns }),
    );
    assert.equal(add.status, 200, add.body);
    const evil = encodeURIComponent('^(\\d+ ?)+X$');
    const a = await rawHttp(hd, 'GET', `/api/v1/rib/ipv4-unicast?as_path=${evil}`);
    assert.equal(a.status, 200, a.body);
    assert.equal((a.json as { routes: unknown[] }).routes.length, 0);
    // Patterns the linear-time engine cannot run are refused rather than run by the backtracking one.
    for (const p of ['(\\d+)\\1', '^(?=65100)', '^(?!x)']) {
      const r = await rawHttp(hd, 'GET', `/api/v1/rib/ipv4-unicast?as_path=${encodeURIComponent(p)}`);
      assert.equal(r.status, 400, `${p}: ${r.body}`);
      assert.equal(errorOf(r).field, 'as_path');
    }
    const ok = await rawHttp(hd, 'GET', `/api/v1/rib/ipv4-unicast?as_path=${encodeURIComponent('^65100 .* 65354$')}`);
    assert.equal((ok.json as { routes: unknown[] }).routes.length, 1, ok.body);
    const del = await rawHttp(hd, 'DELETE', '/api/v1/routes', JSON.stringify({ prefix: '198.51.100.0/24' }));
    assert.equal(del.status, 200, del.body);
    await poll(async () => ((await snapshot()) === before0 ? true : undefined), 'the state as before');
    await good.moreKeepalives(1);
  });

  it("an injected route too large for a 4096-byte UPDATE does not hold up the good neighbour's other routes", async () => {
    const big = {
      prefix: '198.51.100.0/24',
      as_path: Array.from({ length: 255 }, (_, i) => 65100 + i),
      communities: Array.from({ length: 500 }, (_, i) => `65000:${i}`),
      large_communities: Array.from({ length: 500 }, (_, i) => `65000:${i}:1`),
      ext_communities: Array.from({ length: 500 }, (_, i) => `rt:65000:${i}`),
    };
    const a = await rawHttp(hd, 'POST', '/api/v1/routes', JSON.stringify(big));
    assert.ok(a.status === 200 || a.status === 400, a.body.slice(0, 300));
    const b = await rawHttp(hd, 'POST', '/api/v1/routes', JSON.stringify({ prefix: '192.0.2.0/24' }));
    assert.equal(b.status, 200, b.body);
    await poll(async () => good.client.route('192.0.2.0/24'), 'the later route at the good neighbour');
    assert.equal(good.client.route('198.51.100.0/24'), undefined, 'the oversized route is not sent');
    assert.deepEqual(good.client.violations, []);
    const del = await rawHttp(
      hd,
      'DELETE',
      '/api/v1/routes',
      JSON.stringify({ prefixes: ['198.51.100.0/24', '192.0.2.0/24'] }),
    );
    assert.equal(del.status, 200, del.body);
    await poll(async () => ((await snapshot()) === before0 ? true : undefined), 'the state as before');
    await good.check('an oversized injected route');
  });

  it('afterwards: alive, RSS < 1 GB, health answers, the good session still gets KEEPALIVEs', async () => {
    assert.ok(isAlive(hd.pid));
    const rss = rssBytes(hd.pid);
    assert.ok(rss < 1024 * 1024 * 1024, `RSS ${rss}`);
    const h = await rawHttp(hd, 'GET', '/api/v1/health');
    assert.equal(h.status, 200);
    assert.equal((h.json as { status: string }).status, 'ok');
    await good.moreKeepalives(2);
    await unchanged('the whole file');
  });
});
