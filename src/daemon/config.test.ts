// Configuration: a full valid file, every kind of error with its key path, defaults, and `tsbgp daemon --check`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatPrefix, Origin, parsePrefix } from '../wire/index.ts';
import { BUILTIN_CONFIG_TOML, builtinConfig, type ConfigResult, parseConfig, parseListen } from './config.ts';

const BIN = new URL('../../bin/tsbgp', import.meta.url).pathname;

const FULL = `
[global]
asn = 65000
router_id = "192.0.2.1"
listen = ["0.0.0.0:179", "[::]:179"]
hostname = "rs1.example.net"
cluster_id = "192.0.2.100"

[api]
listen = "127.0.0.1:8179"

[[neighbors]]
address = "192.0.2.2"
asn = 65001
description = "edge-1"
local_address = "192.0.2.1"
port = 179
passive = false
hold_time = 90
connect_retry = 30
families = ["ipv4-unicast", "ipv6-unicast"]
next_hop_ipv6 = "2001:db8::1"
enabled = true
add_path_receive = true
graceful_restart = true
restart_time = 120

[[neighbors]]
address = "2001:DB8::2"
asn = 65000
route_reflector_client = true
next_hop_ipv4 = "192.0.2.1"
families = ["ipv6-unicast"]
passive = true
hold_time = 0
graceful_restart = false

[[routes]]
prefix = "203.0.113.0/24"
next_hop = "self"
communities = ["65000:100", "no-export"]
large_communities = ["65000:1:1"]
ext_communities = ["rt:65000:1"]
med = 10
local_pref = 200
origin = "incomplete"
as_path = [65010, 65020]

[[routes]]
prefix = "2001:db8:100::/48"
next_hop = "2001:db8::99"
`;

function ok(r: ConfigResult) {
  if (!r.ok) assert.fail(`expected a valid config, got:\n${r.errors.join('\n')}`);
  return r.config;
}

function errorsOf(toml: string): string[] {
  const r = parseConfig(toml, 'test.toml');
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return r.ok ? [] : r.errors;
}

const HEAD = '[global]\nasn = 65000\nrouter_id = "192.0.2.1"\n';

describe('config: a full valid file', () => {
  it('parses every key', () => {
    const c = ok(parseConfig(FULL, 'full.toml'));
    assert.equal(c.source, 'full.toml');
    assert.deepEqual(c.global, {
      asn: 65000,
      routerId: '192.0.2.1',
      listen: [
        { host: '0.0.0.0', port: 179, text: '0.0.0.0:179' },
        { host: '::', port: 179, text: '[::]:179' },
      ],
      hostname: 'rs1.example.net',
      clusterId: '192.0.2.100',
    });
    assert.deepEqual(c.api.listen, { host: '127.0.0.1', port: 8179, text: '127.0.0.1:8179' });
    assert.equal(c.neighbors.length, 2);
    const [a, b] = c.neighbors;
    assert.deepEqual(a, {
      address: '192.0.2.2',
      asn: 65001,
      description: 'edge-1',
      localAddress: '192.0.2.1',
      port: 179,
      passive: false,
      holdTime: 90,
      connectRetry: 30,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      nextHopIpv6: '2001:db8::1',
      enabled: true,
      routeReflectorClient: false,
      addPathReceive: true,
      gracefulRestart: true,
      restartTime: 120,
      maxPrefixes: {},
      maxPrefixesRestart: 0,
      maxPrefixesWarningOnly: false,
    });
    assert.equal(b?.address, '2001:db8::2', 'IPv6 addresses are normalised (RFC 5952)');
    assert.equal(b?.routeReflectorClient, true);
    assert.equal(b?.holdTime, 0);
    assert.equal(b?.nextHopIpv4, '192.0.2.1');
    assert.equal(b?.gracefulRestart, false);

    assert.equal(c.routes.length, 2);
    const r = c.routes[0]!;
    assert.equal(r.family, 'ipv4-unicast');
    assert.equal(r.prefix, parsePrefix('203.0.113.0/24').key);
    assert.equal(r.prefixText, '203.0.113.0/24');
    assert.equal(r.nextHop, 'self');
    assert.deepEqual(r.communities, [65000 * 65536 + 100, 0xffffff01]);
    assert.deepEqual(r.largeCommunities, [[65000, 1, 1]]);
    assert.deepEqual(Array.from(r.extCommunities[0]!), [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 1]);
    assert.equal(r.med, 10);
    assert.equal(r.localPref, 200);
    assert.equal(r.origin, Origin.INCOMPLETE);
    assert.deepEqual(r.asPath, [65010, 65020]);
    const r6 = c.routes[1]!;
    assert.equal(r6.family, 'ipv6-unicast');
    assert.equal(formatPrefix(r6.family, r6.prefix), '2001:db8:100::/48');
    assert.equal(r6.nextHop, '2001:db8::99');
  });
});

describe('config: defaults', () => {
  it('fills in every optional key', () => {
    const c = ok(
      parseConfig(
        `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 65001\n[[routes]]\nprefix = "198.51.100.0/24"\n`,
        'x',
      ),
    );
    assert.deepEqual(
      c.global.listen.map((l) => l.text),
      ['0.0.0.0:179', '[::]:179'],
    );
    assert.equal(c.global.hostname, undefined);
    assert.equal(c.api.listen.text, '127.0.0.1:8179');
    assert.deepEqual(c.neighbors[0], {
      address: '192.0.2.2',
      asn: 65001,
      port: 179,
      passive: false,
      holdTime: 90,
      connectRetry: 30,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      enabled: true,
      routeReflectorClient: false,
      addPathReceive: false,
      gracefulRestart: true,
      restartTime: 120,
      maxPrefixes: {},
      maxPrefixesRestart: 0,
      maxPrefixesWarningOnly: false,
    });
    const r = c.routes[0]!;
    assert.equal(r.nextHop, 'self');
    assert.equal(r.origin, Origin.IGP);
    assert.deepEqual(r.asPath, []);
    assert.equal(r.med, undefined);
    assert.equal(r.localPref, undefined);
    assert.deepEqual(r.communities, []);
  });

  it('listen = [] means never listen', () => {
    const c = ok(parseConfig('[global]\nasn = 1\nrouter_id = "10.0.0.1"\nlisten = []\n', 'x'));
    assert.deepEqual(c.global.listen, []);
  });

  it('the built-in default: private AS, BGP on 127.0.0.1:1179, API on 127.0.0.1:8179, nothing else', () => {
    const c = builtinConfig();
    assert.equal(c.source, null);
    assert.equal(c.global.asn, 65000);
    assert.ok(c.global.asn >= 64512 && c.global.asn <= 65534, 'a private AS (RFC 6996)');
    assert.deepEqual(
      c.global.listen.map((l) => l.text),
      ['127.0.0.1:1179'],
    );
    assert.equal(c.api.listen.text, '127.0.0.1:8179');
    assert.deepEqual(c.neighbors, []);
    assert.deepEqual(c.routes, []);
    assert.match(BUILTIN_CONFIG_TOML, /asn = 65000/);
  });
});

describe('config: errors name their key path', () => {
  const cases: [string, string, string][] = [
    [
      'asn out of range',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 65001\n[[neighbors]]\naddress = "192.0.2.3"\nasn = 1\n[[neighbors]]\naddress = "192.0.2.4"\nasn = 4294967296\n`,
      'neighbors[2].asn: expected an integer 1..4294967295',
    ],
    [
      'asn not an integer',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = "65001"\n`,
      'neighbors[0].asn: expected an integer 1..4294967295',
    ],
    ['asn zero', '[global]\nasn = 0\nrouter_id = "192.0.2.1"\n', 'global.asn: expected an integer 1..4294967295'],
    [
      'unknown key',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 65001\nhold_tme = 30\n`,
      'neighbors[0].hold_tme: unknown key (did you mean "hold_time"?)',
    ],
    ['unknown section', `${HEAD}[bgp]\nx = 1\n`, 'bgp: unknown key'],
    ['unknown global key', `${HEAD}routerid = "1.2.3.4"\n`, 'global.routerid: unknown key (did you mean "router_id"?)'],
    ['missing required key', `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\n`, 'neighbors[0].asn: required'],
    ['missing global', '[[neighbors]]\naddress = "192.0.2.2"\nasn = 1\n', 'global: required'],
    ['router_id 0.0.0.0', '[global]\nasn = 1\nrouter_id = "0.0.0.0"\n', 'global.router_id: must not be 0.0.0.0'],
    [
      'router_id IPv6',
      '[global]\nasn = 1\nrouter_id = "2001:db8::1"\n',
      'global.router_id: "2001:db8::1" is not an IPv4 address',
    ],
    ['bad listen', `${HEAD}listen = ["0.0.0.0"]\n`, 'global.listen[0]: "0.0.0.0": expected "address:port"'],
    [
      'IPv6 listen without brackets',
      `${HEAD}listen = ["::1:179"]\n`,
      'global.listen[0]: "::1:179": an IPv6 address needs brackets',
    ],
    [
      'bad api listen',
      `${HEAD}[api]\nlisten = "localhost:80"\n`,
      'api.listen: "localhost:80": "localhost" is not an IPv4 address',
    ],
    [
      'duplicate neighbor',
      `${HEAD}[[neighbors]]\naddress = "2001:db8::2"\nasn = 1\n[[neighbors]]\naddress = "2001:DB8:0::2"\nasn = 2\n`,
      'neighbors[1].address: 2001:db8::2 is already neighbors[0]',
    ],
    [
      'bad address',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.256"\nasn = 1\n`,
      'neighbors[0].address: "192.0.2.256" is not an IPv4 or IPv6 address',
    ],
    [
      'hold time 2',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 1\nhold_time = 2\n`,
      'neighbors[0].hold_time: expected 0 or an integer 3..65535',
    ],
    [
      'local_address family',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 1\nlocal_address = "2001:db8::1"\n`,
      'neighbors[0].local_address: 2001:db8::1 is IPv6 but the neighbor address 192.0.2.2 is not',
    ],
    [
      'next_hop_ipv6 not IPv6',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 1\nnext_hop_ipv6 = "192.0.2.1"\n`,
      'neighbors[0].next_hop_ipv6: "192.0.2.1" is not an IPv6 address',
    ],
    [
      'bad family',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 1\nfamilies = ["ipv4-flowspec"]\n`,
      'neighbors[0].families[0]: expected one of "ipv4-unicast", "ipv6-unicast"',
    ],
    [
      'passive not a boolean',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 1\npassive = "yes"\n`,
      'neighbors[0].passive: expected true or false',
    ],
    [
      'rr client on eBGP',
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 1\nroute_reflector_client = true\n`,
      'neighbors[0].route_reflector_client: only an iBGP neighbor',
    ],
    [
      'host bits',
      `${HEAD}[[routes]]\nprefix = "203.0.113.1/24"\n`,
      'routes[0].prefix: "203.0.113.1/24" has host bits set; the network is 203.0.113.0/24',
    ],
    [
      'next hop family',
      `${HEAD}[[routes]]\nprefix = "203.0.113.0/24"\nnext_hop = "2001:db8::1"\n`,
      'routes[0].next_hop: an IPv6 next hop for an IPv4 prefix',
    ],
    [
      'bad community',
      `${HEAD}[[routes]]\nprefix = "203.0.113.0/24"\ncommunities = ["65000:1", "65536:1"]\n`,
      'routes[0].communities[1]: "65536:1"',
    ],
    [
      'bad large community',
      `${HEAD}[[routes]]\nprefix = "203.0.113.0/24"\nlarge_communities = ["1:2"]\n`,
      'routes[0].large_communities[0]: "1:2" is not a large community',
    ],
    [
      'bad ext community',
      `${HEAD}[[routes]]\nprefix = "203.0.113.0/24"\next_communities = ["xx:1:2"]\n`,
      'routes[0].ext_communities[0]: "xx:1:2"',
    ],
    [
      'bad origin',
      `${HEAD}[[routes]]\nprefix = "203.0.113.0/24"\norigin = "IGP2"\n`,
      'routes[0].origin: expected "igp", "egp" or "incomplete"',
    ],
    [
      'duplicate route',
      `${HEAD}[[routes]]\nprefix = "203.0.113.0/24"\n[[routes]]\nprefix = "203.0.113.0/24"\n`,
      'routes[1].prefix: 203.0.113.0/24 is already routes[0]',
    ],
    ['neighbors not an array of tables', `neighbors = 3\n${HEAD}`, 'neighbors: expected an array of neighbor tables'],
    ['a key after [global] belongs to it', `${HEAD}routes = 1\n`, 'global.routes: unknown key'],
  ];
  for (const [name, toml, expected] of cases) {
    it(name, () => {
      const errors = errorsOf(toml);
      assert.ok(
        errors.some((e) => e.startsWith(expected)),
        `expected an error starting with\n  ${expected}\ngot:\n  ${errors.join('\n  ')}`,
      );
    });
  }

  it('reports every error at once, in key order', () => {
    const errors = errorsOf(`
[global]
asn = 0
router_id = "0.0.0.0"
[[neighbors]]
address = "192.0.2.2"
asn = 65001
hold_tme = 3
[[neighbors]]
address = "192.0.2.2"
asn = -1
[[routes]]
prefix = "10.0.0.1/8"
med = -1
`);
    assert.deepEqual(errors, [
      'global.asn: expected an integer 1..4294967295',
      'global.router_id: must not be 0.0.0.0 (RFC 6286: the BGP Identifier is non-zero)',
      'neighbors[0].hold_tme: unknown key (did you mean "hold_time"?)',
      'neighbors[1].address: 192.0.2.2 is already neighbors[0]',
      'neighbors[1].asn: expected an integer 1..4294967295',
      'routes[0].med: expected an integer 0..4294967295',
      'routes[0].prefix: "10.0.0.1/8" has host bits set; the network is 10.0.0.0/8',
    ]);
  });

  it('a TOML syntax error gives file:line:column', () => {
    const errors = errorsOf('[global]\nasn = 65000\nrouter_id = 192.0.2.1\n');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^test\.toml:3:\d+: invalid TOML: /);
  });

  it('numbers beyond 2^53 are a syntax error, not a silent rounding', () => {
    const errors = errorsOf(`${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 99999999999999999999\n`);
    assert.match(errors[0]!, /^test\.toml:6:\d+: invalid TOML/);
  });
});

describe('config: listen addresses', () => {
  it('parses IPv4 and bracketed IPv6', () => {
    assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0, text: '127.0.0.1:0' });
    assert.deepEqual(parseListen('[2001:DB8::1]:1179'), {
      host: '2001:db8::1',
      port: 1179,
      text: '[2001:DB8::1]:1179',
    });
    assert.equal(typeof parseListen('127.0.0.1:65536'), 'string');
    assert.equal(typeof parseListen('[::1]179'), 'string');
  });
});

describe('tsbgp daemon --check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-config-'));
  const run = (...args: string[]) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 30_000 });

  it('exit 0 and a summary for a valid file', () => {
    const f = join(dir, 'ok.toml');
    writeFileSync(f, FULL);
    const r = run('daemon', '--check', '--config', f);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'config OK: 2 neighbors, 2 routes');
  });

  it('exit 1 and every error, one per line, for an invalid file', () => {
    const f = join(dir, 'bad.toml');
    writeFileSync(
      f,
      `${HEAD}[[neighbors]]\naddress = "192.0.2.2"\nasn = 65001\n[[neighbors]]\naddress = "192.0.2.3"\nasn = 1\n[[neighbors]]\naddress = "192.0.2.4"\nasn = 0\nhold_tme = 9\n`,
    );
    const r = run('daemon', '--check', '--config', f);
    assert.equal(r.status, 1);
    assert.deepEqual(r.stderr.trim().split('\n'), [
      'neighbors[2].asn: expected an integer 1..4294967295',
      'neighbors[2].hold_tme: unknown key (did you mean "hold_time"?)',
    ]);
    assert.equal(r.stdout, '');
  });

  it('exit 1 for a missing file', () => {
    const r = run('daemon', '--check', '--config', join(dir, 'nope.toml'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /nope\.toml: cannot read the config file: no such file/);
  });

  it('the built-in default is valid', () => {
    const r = run('daemon', '--check');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'config OK: 0 neighbors, 0 routes');
  });

  it('exit 2 for a usage error', () => {
    const r = run('daemon', '--check', '--confg', 'x');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^tsbgp: unknown option --confg/);
  });
});

describe('config: [state] and [api] body_limit', () => {
  const base = '[global]\nasn = 65000\nrouter_id = "192.0.2.1"\n';
  const ok = (text: string, source: string | null = '/etc/tsbgp/tsbgp.toml') => {
    const r = parseConfig(text, source);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    return r.config;
  };

  it('the state file defaults to data/tsbgp.db next to the config file (the working directory without one)', () => {
    assert.equal(ok(base).state.path, '/etc/tsbgp/data/tsbgp.db');
    assert.equal(ok(base, null).state.path, 'data/tsbgp.db');
    assert.equal(ok(`${base}[state]\npath = "run/s.db"\n`).state.path, '/etc/tsbgp/run/s.db');
    assert.equal(ok(`${base}[state]\npath = "/var/lib/tsbgp/s.db"\n`).state.path, '/var/lib/tsbgp/s.db');
    assert.equal(builtinConfig().state.path, 'data/tsbgp.db');
  });

  it('body_limit defaults to 256 MiB and is bounded', () => {
    assert.equal(ok(base).api.bodyLimit, 256 * 1024 * 1024);
    assert.equal(ok(`${base}[api]\nbody_limit = 4096\n`).api.bodyLimit, 4096);
    const big = parseConfig(`${base}[api]\nbody_limit = 1073741824\n`, 'x.toml');
    assert.equal(big.ok, false);
    assert.match(String(!big.ok && big.errors[0]), /^api\.body_limit: expected an integer number of bytes/);
  });

  it('[state] rejects unknown keys and an empty path', () => {
    const r = parseConfig(`${base}[state]\npth = "x"\n`, 'x.toml');
    assert.deepEqual(!r.ok && r.errors, ['state.path: required', 'state.pth: unknown key (did you mean "path"?)']);
    const e = parseConfig(`${base}[state]\npath = ""\n`, 'x.toml');
    assert.deepEqual(!e.ok && e.errors, ['state.path: expected a file path']);
  });
});
