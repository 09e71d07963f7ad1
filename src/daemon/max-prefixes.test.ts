// Maximum-prefix limits (RFC 4486 Cease 1): the config keys and their errors, and a real daemon over loopback that
// stops a neighbour announcing more than its limit (NOTIFICATION data AFI, SAFI, limit), withdraws its routes, keeps
// it down until a reset or max_prefixes_restart, and with max_prefixes_warning_only keeps the session.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  announce,
  apiGet,
  BgpClient,
  type HostileDaemon,
  neighbor,
  poll,
  rawHttp,
  ribPaths,
  startDaemon,
} from '../../test/hostile/harness.ts';
import type { PathAttributes } from '../wire/index.ts';
import { checkNeighbor, parseConfig } from './config.ts';

const HEAD = '[global]\nasn = 65000\nrouter_id = "192.0.2.1"\n[[neighbors]]\naddress = "192.0.2.2"\nasn = 65001\n';

function errorsOf(extra: string): string[] {
  const r = parseConfig(HEAD + extra, 'test.toml');
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return r.ok ? [] : r.errors;
}

describe('config: max_prefixes', () => {
  it('parses a per-family table, the restart time and warning_only; defaults to no limit', () => {
    const r = parseConfig(
      `${HEAD}max_prefixes = { "ipv4-unicast" = 1100000, "ipv6-unicast" = 250000 }\nmax_prefixes_restart = 300\nmax_prefixes_warning_only = true\n`,
      null,
    );
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const n = r.config.neighbors[0]!;
    assert.deepEqual(n.maxPrefixes, { 'ipv4-unicast': 1100000, 'ipv6-unicast': 250000 });
    assert.equal(n.maxPrefixesRestart, 300);
    assert.equal(n.maxPrefixesWarningOnly, true);
    const d = parseConfig(HEAD, null);
    assert.ok(d.ok);
    assert.deepEqual(d.config.neighbors[0]!.maxPrefixes, {});
    assert.equal(d.config.neighbors[0]!.maxPrefixesRestart, 0);
    assert.equal(d.config.neighbors[0]!.maxPrefixesWarningOnly, false);
  });

  it('names the key path of bad values', () => {
    assert.deepEqual(errorsOf('max_prefixes = 1000\n'), ['neighbors[0].max_prefixes: expected a table']);
    assert.deepEqual(errorsOf('max_prefixes = { "ipv4-unicast" = 0 }\n'), [
      'neighbors[0].max_prefixes.ipv4-unicast: expected an integer 1..4294967295',
    ]);
    assert.deepEqual(errorsOf('max_prefixes = { "ipv6-unicast" = 4294967296 }\n'), [
      'neighbors[0].max_prefixes.ipv6-unicast: expected an integer 1..4294967295',
    ]);
    const unknown = errorsOf('max_prefixes = { "ipv4-multicast" = 10 }\n');
    assert.equal(unknown.length, 1);
    assert.match(unknown[0]!, /^neighbors\[0\]\.max_prefixes\.ipv4-multicast: unknown key/);
    assert.deepEqual(errorsOf('max_prefixes_restart = -1\n'), [
      'neighbors[0].max_prefixes_restart: expected an integer 0..4294967',
    ]);
    assert.deepEqual(errorsOf('max_prefixes_warning_only = "yes"\n'), [
      'neighbors[0].max_prefixes_warning_only: expected true or false',
    ]);
  });

  it('the API validation (checkNeighbor) gives the same field paths', () => {
    const r = checkNeighbor({ address: '192.0.2.9', asn: 65009, max_prefixes: { 'ipv4-unicast': 1.5 } }, 65000);
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.errors, [
      { field: 'max_prefixes.ipv4-unicast', message: 'expected an integer 1..4294967295' },
    ]);
    const good = checkNeighbor({ address: '192.0.2.9', asn: 65009, max_prefixes: { 'ipv6-unicast': 7 } }, 65000);
    assert.ok(good.ok);
    assert.deepEqual(good.neighbor.maxPrefixes, { 'ipv6-unicast': 7 });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A real daemon on 127.0.97.1; scripted neighbours connect in (every neighbour is passive).

const HOST = '127.0.97.1';
const STAY_DOWN = '127.0.97.2';
const RESTARTS = '127.0.97.3';
const WARNS = '127.0.97.4';
const LIMIT = 5;

function prefixes(n: number, third: number): string[] {
  return Array.from({ length: n }, (_, i) => `198.51.${third}.${i * 4}/30`);
}

async function establish(hd: HostileDaemon, address: string, asn: number): Promise<BgpClient> {
  const c = await BgpClient.connect({ host: hd.host, port: hd.port, localAddress: address }, address);
  await c.establish({ asn, routerId: address, holdTime: 30 });
  return c;
}

/** Announces `n` prefixes in one UPDATE. */
async function announceN(c: BgpClient, address: string, asn: number, n: number, third: number): Promise<void> {
  const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [asn] }] };
  await c.sendAll(announce(prefixes(n, third), attrs, address, c.ctx));
}

async function received(hd: HostileDaemon, address: string): Promise<number> {
  return (await neighbor(hd, address)).received['ipv4-unicast'] ?? 0;
}

describe('max_prefixes over a live session', { timeout: 60_000 }, () => {
  let hd: HostileDaemon;
  const open: BgpClient[] = [];
  const track = (c: BgpClient) => {
    open.push(c);
    return c;
  };

  before(async () => {
    const limit = `max_prefixes = { "ipv4-unicast" = ${LIMIT} }`;
    hd = await startDaemon(HOST, [
      { address: STAY_DOWN, asn: 65002, extra: limit },
      { address: RESTARTS, asn: 65003, extra: `${limit}\nmax_prefixes_restart = 1` },
      { address: WARNS, asn: 65004, extra: `${limit}\nmax_prefixes_warning_only = true` },
    ]);
  });

  after(async () => {
    for (const c of open) c.destroy();
    await hd?.d.stop();
  });

  it('Cease 1 with AFI, SAFI and the limit; routes withdrawn; stays down until POST reset', async () => {
    const c = track(await establish(hd, STAY_DOWN, 65002));
    await announceN(c, STAY_DOWN, 65002, LIMIT, 10);
    await poll(async () => ((await received(hd, STAY_DOWN)) === LIMIT ? true : undefined), 'the first 5 paths');
    assert.equal(c.notification, null, 'at the limit the session stays up');
    const view = await neighbor(hd, STAY_DOWN);
    assert.deepEqual((view as unknown as { max_prefixes: unknown }).max_prefixes, { 'ipv4-unicast': LIMIT });

    // One more prefix (6 in all) crosses the limit.
    const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65002] }] };
    await c.sendAll(announce(['198.51.11.0/24'], attrs, STAY_DOWN, c.ctx));
    const n = await c.waitNotification();
    assert.equal(n.code, 6);
    assert.equal(n.subcode, 1);
    // RFC 4486 §4: AFI 1 (2 octets), SAFI 1, the limit (4 octets).
    assert.deepEqual([...n.data], [0, 1, 1, 0, 0, 0, LIMIT]);
    assert.ok(await c.waitClosed(), 'the daemon closes the connection');

    const down = await poll(async () => {
      const v = await neighbor(hd, STAY_DOWN);
      return v.state === 'idle' && v.received['ipv4-unicast'] === 0 ? v : undefined;
    }, 'the neighbour idle with no paths');
    assert.equal(down.last_error, `maximum prefixes exceeded for ipv4-unicast: ${LIMIT + 1} > ${LIMIT}`);
    assert.deepEqual(await ribPaths(hd, prefixes(1, 10)[0]!, STAY_DOWN), [], 'routes withdrawn from the RIB');
    assert.deepEqual(await ribPaths(hd, '198.51.11.0/24', STAY_DOWN), []);
    const enabled = await apiGet<{ enabled: boolean }>(hd, `/api/v1/neighbors/${STAY_DOWN}`);
    assert.equal(enabled.enabled, true, 'the admin state in the config is unchanged');

    // It does not come back on its own: a new connection is refused.
    const again = track(await BgpClient.connect({ host: hd.host, port: hd.port, localAddress: STAY_DOWN }));
    await again.sendOpen({ asn: 65002, routerId: STAY_DOWN, holdTime: 30 });
    const refused = await again.waitNotification();
    assert.equal(refused.code, 6, 'refused with a Cease');
    assert.ok(await again.waitClosed());
    assert.equal((await neighbor(hd, STAY_DOWN)).state, 'idle');

    // An operator reset starts it again.
    const r = await rawHttp(hd, 'POST', `/api/v1/neighbors/${STAY_DOWN}/reset`, '{"mode": "hard"}');
    assert.equal(r.status, 200, r.body);
    const back = track(await establish(hd, STAY_DOWN, 65002));
    await poll(async () => ((await neighbor(hd, STAY_DOWN)).state === 'established' ? true : undefined), 'up again');
    await announceN(back, STAY_DOWN, 65002, 2, 12);
    await poll(async () => ((await received(hd, STAY_DOWN)) === 2 ? true : undefined), 'routes after the reset');
  });

  it('comes back after max_prefixes_restart', async () => {
    const c = track(await establish(hd, RESTARTS, 65003));
    await announceN(c, RESTARTS, 65003, LIMIT + 2, 20);
    const n = await c.waitNotification();
    assert.equal(n.code, 6);
    assert.equal(n.subcode, 1);
    assert.deepEqual([...n.data], [0, 1, 1, 0, 0, 0, LIMIT]);
    await poll(async () => ((await neighbor(hd, RESTARTS)).state === 'idle' ? true : undefined), 'idle');
    assert.equal((await neighbor(hd, RESTARTS)).last_error, `maximum prefixes exceeded for ipv4-unicast: 7 > 5`);
    // Connections are refused until the restart time (1 s) elapsed, then one is accepted.
    const back = await poll(
      async () => {
        try {
          return track(await establish(hd, RESTARTS, 65003));
        } catch {
          return undefined;
        }
      },
      'the session established again after max_prefixes_restart',
      100,
      100,
    );
    assert.equal(back.notification, null);
    await poll(async () => ((await neighbor(hd, RESTARTS)).state === 'established' ? true : undefined), 'up again');
  });

  it('max_prefixes_warning_only keeps the session and the routes', async () => {
    const c = track(await establish(hd, WARNS, 65004));
    await announceN(c, WARNS, 65004, LIMIT + 3, 30);
    await poll(async () => ((await received(hd, WARNS)) === LIMIT + 3 ? true : undefined), 'all 8 paths accepted');
    // The limit is checked right after the UPDATE is applied, before the API can show its paths: a stop would
    // already be on its way. One more API round trip lets any NOTIFICATION reach us.
    const v0 = await neighbor(hd, WARNS);
    assert.equal(v0.state, 'established');
    assert.equal(c.notification, null);
    assert.equal(c.closed, false);
    const v = await neighbor(hd, WARNS);
    assert.equal(v.state, 'established');
    assert.equal((await ribPaths(hd, prefixes(1, 30)[0]!, WARNS)).length, 1);

    // PATCH validates with the same rules, and a new limit does not reset the session.
    const path = `/api/v1/neighbors/${WARNS}`;
    const bad = await rawHttp(hd, 'PATCH', path, JSON.stringify({ max_prefixes: { 'ipv4-unicast': 0 } }));
    assert.equal(bad.status, 400, bad.body);
    assert.equal((bad.json as { field?: string }).field, 'max_prefixes.ipv4-unicast');
    const ok = await rawHttp(hd, 'PATCH', path, JSON.stringify({ max_prefixes: { 'ipv4-unicast': 100 } }));
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual((ok.json as { max_prefixes: unknown }).max_prefixes, { 'ipv4-unicast': 100 });
    assert.equal((await neighbor(hd, WARNS)).state, 'established');
    assert.equal(c.notification, null, 'changing the limit keeps the session');
  });
});
