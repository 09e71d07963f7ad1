import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { normalizeProcesses, processesSchema } from './config.ts';

function load(toml: string) {
  return processesSchema.safeParse((parseToml(toml) as { processes: unknown }).processes);
}

test('[[processes]]: defaults and every key', () => {
  const r = load(`
[[processes]]
name = "healthcheck"
run = "/usr/bin/python3 -m exabgp healthcheck --cmd 'curl -sf http://127.0.0.1/' --no-syslog"

[[processes]]
name = "ha2bgp"
run = ["/usr/local/bin/ha2bgp", "-network", "100.64.0.0/24"]
encoder = "json"
neighbors = ["192.0.2.2", "2001:DB8::2"]
ack = false
neighbor_changes = true
receive_updates = true
respawn = false
`);
  assert.ok(r.success, JSON.stringify(r.error?.issues));
  assert.deepEqual(normalizeProcesses(r.data), [
    {
      name: 'healthcheck',
      run: "/usr/bin/python3 -m exabgp healthcheck --cmd 'curl -sf http://127.0.0.1/' --no-syslog",
      encoder: 'text',
      neighbors: [],
      ack: true,
      neighborChanges: false,
      receiveUpdates: false,
      respawn: true,
    },
    {
      name: 'ha2bgp',
      run: ['/usr/local/bin/ha2bgp', '-network', '100.64.0.0/24'],
      encoder: 'json',
      neighbors: ['192.0.2.2', '2001:db8::2'],
      ack: false,
      neighborChanges: true,
      receiveUpdates: true,
      respawn: false,
    },
  ]);
});

test('[[processes]]: errors name their key', () => {
  const r = load(`
[[processes]]
name = "x y"
run = ""
encoder = "xml"
neighbors = ["nope"]
acks = true
[[processes]]
name = "b"
run = []
[[processes]]
name = "b"
run = "true"
`);
  assert.ok(!r.success);
  const msgs = r.error.issues
    .map((i) => `${i.path.join('.')}: ${i.code === 'unrecognized_keys' ? i.keys.join(',') : i.message}`)
    .sort();
  assert.deepEqual(msgs, [
    '0.encoder: expected "text" or "json"',
    '0.name: expected a name of letters, digits, "_", ".", "-" (up to 64)',
    '0.neighbors.0: expected a neighbor address',
    '0.run: expected a command line',
    '0: acks',
    '1.run: expected a program',
  ]);
  const dup = load('[[processes]]\nname = "b"\nrun = "true"\n[[processes]]\nname = "b"\nrun = "true"\n');
  assert.ok(!dup.success);
  assert.deepEqual(
    dup.error.issues.map((i) => [i.path.join('.'), i.message]),
    [['1.name', '"b" is already processes[0]']],
  );
});
