// Two tsbgp daemons (separate processes) peer over loopback: a configured route of one appears in the other's
// RIB API with the right AS path and next hop, disappears after a SIGHUP removes it, and a SIGTERM reaches the
// other side as Cease / administrative shutdown with its text (RFC 8203). Loopback addresses 127.0.50.30-39
// belong to this file.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess, poll, randomPort, tempDir } from '../cli/process-testing.ts';
import type { RouteView } from '../rib/types.ts';
import type { NeighborView } from './types.ts';

const A = '127.0.50.30';
const B = '127.0.50.31';
const port = randomPort();

function configA(withRoutes: boolean): string {
  return `
[global]
asn = 65001
router_id = "10.0.0.1"
listen = ["${A}:${port}"]

[api]
listen = "${A}:${port + 1}"

# Both daemons' files are in one directory: each needs its own state store (the default data/tsbgp.db is shared).
[state]
path = "a.db"

[[neighbors]]
address = "${B}"
asn = 4200000002
port = ${port}
local_address = "${A}"
hold_time = 9
connect_retry = 1
${
  withRoutes
    ? `
[[routes]]
prefix = "198.51.100.0/24"
as_path = [65100]
communities = ["65001:1"]
large_communities = ["65001:2:3"]
med = 20

[[routes]]
prefix = "2001:db8:1::/48"
next_hop = "2001:db8::1"
`
    : ''
}
[[routes]]
prefix = "192.0.2.0/24"
`;
}

const configB = `
[global]
asn = 4200000002
router_id = "10.0.0.2"
listen = ["${B}:${port}"]

[api]
listen = "${B}:${port + 1}"

[state]
path = "b.db"

[[neighbors]]
address = "${A}"
asn = 65001
port = ${port}
local_address = "${B}"
hold_time = 9
connect_retry = 1
`;

describe('two tsbgp daemons over loopback', () => {
  const dir = tempDir();
  let a: DaemonProcess;
  let b: DaemonProcess;

  before(async () => {
    [a, b] = await Promise.all([
      DaemonProcess.start(dir, configA(true), 'a.toml'),
      DaemonProcess.start(dir, configB, 'b.toml'),
    ]);
  });
  after(() => {
    a?.kill();
    b?.kill();
  });

  const neighborOf = (d: DaemonProcess, addr: string) => d.get<NeighborView>(`/api/v1/neighbors/${addr}`);
  const ribOf = (d: DaemonProcess, family: string) =>
    d.get<{ total: number; routes: RouteView[] }>(`/api/v1/rib/${family}`);

  it('the session comes up on both sides', async () => {
    const nb = await poll(async () => {
      const n = await neighborOf(b, A);
      return n.state === 'established' ? n : undefined;
    }, 'B to reach Established with A');
    assert.equal(nb.session?.local_address, B);
    assert.equal(nb.session?.remote_router_id, '10.0.0.1');
    assert.equal(nb.session?.hold_time, 9);
    assert.equal(nb.session?.four_octet_as, true);
    const na = await neighborOf(a, B);
    assert.equal(na.state, 'established');
    assert.equal(typeof na.uptime_s, 'number');
  });

  it("A's configured routes appear in B's RIB with A's AS prepended and A's address as next hop", async () => {
    const rib = await poll(async () => {
      const r = await ribOf(b, 'ipv4-unicast');
      return r.total >= 2 ? r : undefined;
    }, "A's routes in B's RIB");
    const route = rib.routes.find((r) => r.prefix === '198.51.100.0/24');
    assert.ok(route, JSON.stringify(rib));
    assert.equal(route.best, true);
    assert.equal(route.from, A);
    assert.equal(route.next_hop, A);
    assert.deepEqual(route.as_path, [65001, 65100]);
    assert.equal(route.origin, 'igp');
    assert.equal(route.med, 20);
    assert.deepEqual(route.communities, ['65001:1']);
    assert.deepEqual(route.large_communities, ['65001:2:3']);
    const plain = rib.routes.find((r) => r.prefix === '192.0.2.0/24');
    assert.deepEqual(plain?.as_path, [65001]);

    const v6 = await poll(async () => {
      const r = await ribOf(b, 'ipv6-unicast');
      return r.total >= 1 ? r : undefined;
    }, "A's IPv6 route in B's RIB");
    assert.equal(v6.routes[0]?.prefix, '2001:db8:1::/48');
    assert.equal(v6.routes[0]?.next_hop, '2001:db8::1');
    assert.deepEqual(v6.routes[0]?.as_path, [65001]);

    const nb = await neighborOf(b, A);
    assert.deepEqual(nb.received, { 'ipv4-unicast': 2, 'ipv6-unicast': 1 });
    const na = await neighborOf(a, B);
    assert.deepEqual(na.advertised, { 'ipv4-unicast': 2, 'ipv6-unicast': 1 });
  });

  it('a SIGHUP that removes the routes withdraws them from B, without resetting the session', async () => {
    const uptimeBefore = (await neighborOf(b, A)).uptime_s;
    writeFileSync(a.configPath, configA(false));
    const n = a.count('configuration reloaded');
    a.proc.kill('SIGHUP');
    const summary = await a.waitNth('configuration reloaded', n);
    assert.equal(summary.routesWithdrawn, 2);
    assert.deepEqual(summary.reset, []);
    const rib = await poll(async () => {
      const r = await ribOf(b, 'ipv4-unicast');
      return r.total === 1 ? r : undefined;
    }, 'the withdrawal to reach B');
    assert.equal(rib.routes[0]?.prefix, '192.0.2.0/24');
    await poll(async () => ((await ribOf(b, 'ipv6-unicast')).total === 0 ? true : undefined), 'the IPv6 withdrawal');
    const nb = await neighborOf(b, A);
    assert.equal(nb.state, 'established');
    assert.ok((nb.uptime_s ?? -1) >= (uptimeBefore ?? 0), 'the same session');
  });

  it("SIGTERM on A: exit 0, and B records A's Cease with its shutdown text", async () => {
    const { code } = await a.stop('SIGTERM');
    assert.equal(code, 0);
    const nb = await poll(async () => {
      const n = await neighborOf(b, A);
      return n.state !== 'established' && n.last_error ? n : undefined;
    }, 'B to notice the shutdown');
    assert.match(nb.last_error ?? '', /6\/2.*tsbgp shutting down/);
    const rib = await ribOf(b, 'ipv4-unicast');
    assert.equal(rib.total, 0, "A's routes are gone from B");
    assert.equal((await b.stop('SIGTERM')).code, 0);
  });
});
