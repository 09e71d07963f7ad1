import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { normalizeServices, parseHostPort, parseService, servicesSchema } from './config.ts';

function errorsOf(toml: string): string[] {
  const doc = parseToml(toml) as { services: unknown };
  const r = servicesSchema.safeParse(doc.services);
  if (r.success) return [];
  return r.error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    return `services${path}: ${i.code === 'unrecognized_keys' ? `unknown ${i.keys.join(',')}` : i.message}`;
  });
}

describe('[[services]] schema', () => {
  test('the issue example parses, with every default applied', () => {
    const doc = parseToml(`
[[services]]
name = "web"
prefixes = ["192.0.2.10/32", "2001:db8::10/128"]
interval = 2
rise = 3
fall = 3
[[services.checks]]
type = "tcp"
target = "127.0.0.1:8080"
`) as { services: unknown };
    const r = servicesSchema.safeParse(doc.services);
    assert.ok(r.success, JSON.stringify(r.error?.issues));
    const [s] = normalizeServices(r.data);
    assert.deepEqual(s, {
      name: 'web',
      prefixes: ['192.0.2.10/32', '2001:db8::10/128'],
      intervalMs: 2000,
      fastIntervalMs: 1000,
      timeoutMs: 5000,
      rise: 3,
      fall: 3,
      withdrawDelayMs: 0,
      checks: [{ type: 'tcp', host: '127.0.0.1', port: 8080 }],
      combine: 'all',
      nextHop: 'self',
      base: { communities: [], largeCommunities: [], asPathPrepend: 0 },
      warning: { action: 'announce', med: 500, communities: [], largeCommunities: [] },
      failed: { action: 'withdraw', med: 1000, communities: [], largeCommunities: [] },
      drained: { action: 'withdraw', graceMs: 30000 },
      damping: {
        enabled: true,
        penalty: 1000,
        attributePenalty: 0,
        halfLifeMs: 60000,
        suppress: 3000,
        reuse: 750,
        maxSuppressMs: 600000,
      },
      historySize: 50,
    });
  });

  test('every check type and every action table', () => {
    const s = parseService({
      name: 'all-the-things',
      prefixes: ['203.0.113.0/24'],
      fast_interval: 0.5,
      timeout: 1.5,
      withdraw_delay: 10,
      combine: 'any',
      next_hop: '192.0.2.1',
      med: 10,
      local_pref: 200,
      communities: ['65000:1', 'no-export'],
      large_communities: ['65000:1:2'],
      warning: { med: 100, as_path_prepend: 2, communities: ['65000:2'] },
      failed: { action: 'announce', local_pref: 10 },
      drained: { action: 'graceful-shutdown', grace: 0 },
      damping: { half_life: 30, max_suppress: 300, attribute_penalty: 500 },
      drain_file: '/run/tsbgp/web.drain',
      history: 10,
      checks: [
        { type: 'tcp', target: '[::1]:443', timeout: 0.25 },
        {
          type: 'http',
          target: 'https://127.0.0.1/health',
          expect_status: [200, '3xx', '500-503'],
          body_match: 'OK',
          body_regex: '^ok$',
          headers: { host: 'www.example' },
        },
        { type: 'command', target: '/usr/lib/nagios/plugins/check_http -H 127.0.0.1' },
        { type: 'listening', ports: [80, 443], addresses: ['192.0.2.10', '2001:DB8::10'], any_port: true },
        { type: 'address', address: '192.0.2.10', device: 'lo', label: 'lo:web' },
      ],
    });
    assert.deepEqual(s.checks, [
      { type: 'tcp', host: '::1', port: 443, timeoutMs: 250 },
      {
        type: 'http',
        url: 'https://127.0.0.1/health',
        expectStatus: [
          { from: 200, to: 200 },
          { from: 300, to: 399 },
          { from: 500, to: 503 },
        ],
        bodyMatch: 'OK',
        bodyRegex: '^ok$',
        headers: { host: 'www.example' },
      },
      { type: 'command', command: '/usr/lib/nagios/plugins/check_http -H 127.0.0.1' },
      { type: 'listening', ports: [80, 443], addresses: ['192.0.2.10', '2001:db8::10'], anyPort: true },
      { type: 'address', address: '192.0.2.10', device: 'lo', label: 'lo:web' },
    ]);
    assert.equal(s.fastIntervalMs, 500);
    assert.equal(s.nextHop, '192.0.2.1');
    assert.deepEqual(s.base, {
      med: 10,
      localPref: 200,
      asPathPrepend: 0,
      communities: [0xfde80001, 0xffffff01],
      largeCommunities: [[65000, 1, 2]],
    });
    assert.deepEqual(s.warning, {
      action: 'announce',
      med: 100,
      asPathPrepend: 2,
      communities: [0xfde80002],
      largeCommunities: [],
    });
    assert.deepEqual(s.failed, { action: 'announce', med: 1000, localPref: 10, communities: [], largeCommunities: [] });
    assert.deepEqual(s.drained, { action: 'graceful-shutdown', graceMs: 0 });
    assert.equal(s.damping.halfLifeMs, 30000);
    assert.equal(s.damping.attributePenalty, 500);
    assert.equal(s.drainFile, '/run/tsbgp/web.drain');
  });

  test('damping = false, and a discovery service', () => {
    assert.equal(
      parseService({
        name: 'a',
        prefixes: ['192.0.2.1/32'],
        damping: false,
        checks: [{ type: 'command', target: 'true' }],
      }).damping.enabled,
      false,
    );
    assert.equal(
      parseService({
        name: 'a',
        prefixes: ['192.0.2.1/32'],
        damping: { enabled: false },
        checks: [{ type: 'command', target: 'true' }],
      }).damping.enabled,
      false,
    );
    const d = parseService({
      name: 'ha2bgp',
      discover: { networks: ['100.64.0.0/24', '2001:db8::/64'], device: 'lo' },
    });
    assert.deepEqual(d.discover, { networks: ['100.64.0.0/24', '2001:db8::/64'], ports: [80, 443], device: 'lo' });
    assert.deepEqual(d.prefixes, []);
    assert.deepEqual(d.checks, []);
  });

  test('errors name their key path', () => {
    const errs = errorsOf(`
[[services]]
name = "web"
prefixes = ["192.0.2.10/24", "192.0.2.0/24", "192.0.2.0/24"]
interval = 2
fast_interval = 3
rise = 0
next_hop = "2001:db8::1"
communities = ["65536:1"]
[services.damping]
reuse = 5000
[services.warning]
action = "explode"
[[services.checks]]
type = "tcp"
target = "127.0.0.1"
[[services.checks]]
type = "http"
target = "ftp://x/"
[[services.checks]]
type = "listening"
ports = []
target = "x"
[[services.checks]]
type = "ping"

[[services]]
name = "web"
[[services.checks]]
type = "command"
target = "true"
`);
    assert.deepEqual(
      errs.sort(),
      [
        'services[0].prefixes[0]: "192.0.2.10/24" has host bits set; the network is 192.0.2.0/24',
        'services[0].rise: expected an integer 1..100',
        'services[0].communities[0]: "65536:1": AS part 65536 is larger than 65535',
        'services[0].warning.action: expected "announce" or "withdraw"',
        'services[0].checks[0].target: "127.0.0.1": expected "host:port"',
        'services[0].checks[1].target: "ftp://x/": only http and https URLs',
        'services[0].checks[2]: unknown target',
        'services[0].checks[2].ports: expected at least one port',
        'services[0].checks[3].type: expected a check table with type = "tcp" | "http" | "command" | "listening" | "address"',
        'services[1].prefixes: a service needs prefixes (or a [services.discover] table)',
      ].sort(),
    );
    // Rules across keys run once the keys themselves are valid.
    assert.deepEqual(
      errorsOf(`
[[services]]
name = "web"
prefixes = ["192.0.2.0/24", "192.0.2.0/24", "2001:db8::/32"]
interval = 2
fast_interval = 3
next_hop = "192.0.2.1"
[services.damping]
reuse = 5000
[[services.checks]]
type = "command"
target = "true"
[[services]]
name = "web"
prefixes = ["192.0.2.9/32"]
[[services.checks]]
type = "command"
target = "true"
`),
      [
        'services[0].prefixes[1]: 192.0.2.0/24 is listed twice',
        'services[0].prefixes[2]: 2001:db8::/32 is IPv6 but next_hop 192.0.2.1 is not; use next_hop = "self"',
        'services[0].fast_interval: must not be longer than interval (2 s)',
        'services[0].damping.reuse: must be below suppress (3000)',
        'services[1].name: "web" is already services[0]',
      ],
    );
  });

  test('a service without checks, and both prefixes and discover, are errors', () => {
    assert.throws(
      () => parseService({ name: 'x', prefixes: ['192.0.2.1/32'] }),
      /checks: a service needs at least one check/,
    );
    assert.throws(
      () => parseService({ name: 'x', prefixes: ['192.0.2.1/32'], discover: { networks: ['192.0.2.0/24'] } }),
      /discover: use either prefixes or discover, not both/,
    );
    assert.throws(() => parseService({ name: 'bad name', prefixes: ['192.0.2.1/32'] }), /name: expected a name/);
    assert.throws(
      () =>
        parseService({
          name: 'x',
          prefixes: ['192.0.2.1/32'],
          drain_file: 'rel/path',
          checks: [{ type: 'command', target: 'true' }],
        }),
      /absolute path/,
    );
  });

  test('parseHostPort', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:80'), { host: '127.0.0.1', port: 80 });
    assert.deepEqual(parseHostPort('[2001:db8::1]:443'), { host: '2001:db8::1', port: 443 });
    assert.deepEqual(parseHostPort('localhost:8080'), { host: 'localhost', port: 8080 });
    assert.match(parseHostPort('2001:db8::1:443') as string, /needs brackets/);
    assert.match(parseHostPort('127.0.0.1:0') as string, /port must be 1..65535/);
    assert.match(parseHostPort('[::1]443') as string, /expected "\[IPv6\]:port"/);
  });
});
