// [[services]] and [[processes]] in the daemon's configuration: normalised with their defaults, and every problem
// reported with its key path (`services[0].checks[1].target: …`) alongside the rest of the file's errors.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './config.ts';

const GLOBAL = `
[global]
asn = 65000
router_id = "192.0.2.1"
`;

function errors(toml: string): string[] {
  const r = parseConfig(GLOBAL + toml, 't.toml');
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return r.ok ? [] : r.errors;
}

describe('config: [[services]] and [[processes]]', () => {
  it('normalises both, with defaults; absent means none', () => {
    const none = parseConfig(GLOBAL, 't.toml');
    assert.ok(none.ok);
    assert.deepEqual([none.config.services, none.config.processes], [[], []]);
    const r = parseConfig(
      `${GLOBAL}
[[services]]
name = "web"
prefixes = ["192.0.2.10/32", "2001:DB8::10/128"]
interval = 0.5
[[services.checks]]
type = "tcp"
target = "[::1]:443"
[services.warning]
as_path_prepend = 2

[[processes]]
name = "hc"
run = "python3 -m exabgp healthcheck"
neighbors = ["2001:DB8::2"]
`,
      't.toml',
    );
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const s = r.config.services[0]!;
    assert.equal(s.name, 'web');
    assert.deepEqual(s.prefixes, ['192.0.2.10/32', '2001:db8::10/128']);
    assert.equal(s.intervalMs, 500);
    assert.equal(s.rise, 3);
    assert.equal(s.nextHop, 'self');
    assert.deepEqual(s.checks, [{ type: 'tcp', host: '::1', port: 443 }]);
    assert.equal(s.warning.asPathPrepend, 2);
    assert.deepEqual(r.config.processes, [
      {
        name: 'hc',
        run: 'python3 -m exabgp healthcheck',
        encoder: 'text',
        neighbors: ['2001:db8::2'],
        ack: true,
        neighborChanges: false,
        receiveUpdates: false,
        respawn: true,
      },
    ]);
  });

  it('every problem with its key path, sorted with the rest of the file', () => {
    const e = errors(`
[[neighbors]]
address = "192.0.2.2"
asn = 0

[[services]]
name = "web"
prefixes = ["192.0.2.10/32"]
rise = 0
[[services.checks]]
type = "tcp"
target = "127.0.0.1:80"
[[services.checks]]
type = "tcp"
target = "127.0.0.1"
[[services.checks]]
type = "ping"

[[services]]
name = "web"
prefixs = ["192.0.2.11/32"]

[[processes]]
name = "a"
run = ""

[[processes]]
name = "a"
run = ["x"]
nieghbors = []
encoder = "yaml"
`);
    assert.deepEqual(e, [
      'neighbors[0].asn: expected an integer 1..4294967295',
      'processes[0].run: expected a command line',
      'processes[1].encoder: expected "text" or "json"',
      'processes[1].name: "a" is already processes[0]',
      'processes[1].nieghbors: unknown key (did you mean "neighbors"?)',
      'services[0].checks[1].target: "127.0.0.1": expected "host:port"',
      'services[0].checks[2].type: expected a check table with type = "tcp" | "http" | "command" | "listening" | "address"',
      'services[0].rise: expected an integer 1..100',
      'services[1].checks: a service needs at least one check ([[services.checks]])',
      'services[1].name: "web" is already services[0]',
      'services[1].prefixes: a service needs prefixes (or a [services.discover] table)',
      'services[1].prefixs: unknown key (did you mean "prefixes"?)',
    ]);
  });

  it('unknown keys in nested service tables are reported without a wrong suggestion', () => {
    const e = errors(`
[[services]]
name = "web"
prefixes = ["192.0.2.10/32"]
[[services.checks]]
type = "tcp"
target = "127.0.0.1:80"
tiemout = 1
`);
    assert.deepEqual(e, ['services[0].checks[0].tiemout: unknown key']);
  });
});
