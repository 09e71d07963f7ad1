// End to end with a real BIRD 2 peer: routes injected through the HTTP API of a running `tsbgp daemon` reach BIRD
// (checked with birdc) with their attributes, disappear from it when deleted, survive a restart of tsbgp, and the
// neighbour operations of the API show on BIRD's side (hard reset = Cease 4, delete = Cease 3, then added back).
// Runs in the root network namespace on 127.0.60.1 (tsbgp) and 127.0.60.2 (BIRD on a random port, not 179, so a
// wildcard :179 listener elsewhere on the host cannot get in the way; `strict bind`, `multihop`, passive). BIRD's
// routes are read with the interop harness's parser (bird-testing.ts). Skipped with a message when BIRD is not
// installed.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess, poll, randomPort } from '../cli/process-testing.ts';
import { BirdPeer, installed } from './bird-testing.ts';

const T = '127.0.60.1';
const B = '127.0.60.2';

const skip = installed('bird', ['--version']) ? false : 'BIRD is not installed (apt-get install bird2)';

describe('routes and neighbours through the API, seen by a real BIRD', { skip }, () => {
  // One private directory for both daemons (BIRD's config, control socket and log; tsbgp's config and store).
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-control-bird-'));
  const apiPort = randomPort();
  const bird = new BirdPeer(dir, B, T);
  const toml = bird.tsbgpToml(apiPort);
  let tsbgp: DaemonProcess;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${tsbgp.apiUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
  };

  const waitBird = <T>(what: string, fn: () => Promise<T | undefined>) => poll(fn, what, 300, 100);

  before(async () => {
    await bird.start();
    tsbgp = await DaemonProcess.start(dir, toml);
    await bird.established();
  });

  after(async () => {
    tsbgp?.kill();
    await bird.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const v4 = Array.from({ length: 200 }, (_, i) => `10.60.${i}.0/24`);
  // Canonical text (RFC 5952), as BIRD prints it: no ":0::".
  const v6 = Array.from({ length: 20 }, (_, i) => `2001:db8:60:${(i + 1).toString(16)}::/64`);

  it('a batch of IPv4 and IPv6 routes injected through the API reaches BIRD with its attributes', async () => {
    const routes = [
      ...v4.map((prefix, i) => ({
        prefix,
        as_path: [65010],
        med: i,
        communities: ['65000:60'],
        large_communities: ['65000:60:1'],
      })),
      ...v6.map((prefix) => ({ prefix, as_path: [65010, 65011] })),
    ];
    const res = await api('POST', '/api/v1/routes', { routes });
    assert.deepEqual(res, { status: 200, body: { accepted: 220 } });
    const got4 = await waitBird('BIRD to have the 200 IPv4 routes', async () => {
      const m = await bird.routes('ipv4-unicast');
      return v4.every((p) => m.has(p)) ? m : undefined;
    });
    const r = got4.get('10.60.7.0/24')!;
    assert.deepEqual(r.as_path, [65000, 65010], 'our AS prepended, then the injected path');
    assert.equal(r.med, 7);
    assert.equal(r.next_hop, '198.51.100.1');
    assert.deepEqual(r.communities, ['65000:60']);
    assert.deepEqual(r.large_communities, ['65000:60:1']);
    const got6 = await waitBird('BIRD to have the 20 IPv6 routes', async () => {
      const m = await bird.routes('ipv6-unicast');
      return v6.every((p) => m.has(p)) ? m : undefined;
    });
    assert.deepEqual(got6.get(v6[3]!)!.as_path, [65000, 65010, 65011]);
    assert.equal(got6.get(v6[3]!)!.next_hop, '2001:db8::1');
  });

  it('deleted routes disappear from BIRD; the others stay', async () => {
    const gone = [...v4.slice(0, 50), ...v6.slice(0, 5)];
    const res = await api('DELETE', '/api/v1/routes', { prefixes: gone });
    assert.deepEqual(res.body, { withdrawn: 55, not_found: 0 });
    const m4 = await waitBird('BIRD to drop 50 IPv4 routes', async () => {
      const m = await bird.routes('ipv4-unicast');
      return gone.every((p) => !m.has(p)) ? m : undefined;
    });
    assert.equal(m4.size, 150);
    const m6 = await bird.routes('ipv6-unicast');
    assert.equal(m6.size, 15);
  });

  it('hard reset through the API: BIRD sees Cease 4, the session comes back with the routes', async () => {
    const res = await api('POST', `/api/v1/neighbors/${B}/reset`, { mode: 'hard' });
    assert.deepEqual(res, { status: 200, body: { ok: true } });
    // BIRD shows the Cease 4 with its shutdown communication (RFC 9003) as "Message: administrative reset" until the
    // session is back, and logs "Received: Administrative reset": either is proof (a busy machine can re-establish the
    // session between two looks at `show protocols`).
    await waitBird('BIRD to record the administrative reset', async () =>
      /Received: Administrative reset/i.test(bird.logTail(200_000)) ||
      /administrative reset/i.test(await bird.protocol())
        ? true
        : undefined,
    );
    await bird.established();
    await waitBird('the 150 routes back on BIRD', async () =>
      (await bird.routes('ipv4-unicast')).size === 150 ? true : undefined,
    );
  });

  it('deleting the neighbour sends Cease 3; adding it back through the API re-advertises the injected routes', async () => {
    assert.equal((await api('DELETE', `/api/v1/neighbors/${B}`)).status, 204);
    await waitBird('BIRD to record the de-configuration', async () =>
      /Last error:.*de-?configured/i.test(await bird.protocol()) ? true : undefined,
    );
    await waitBird('BIRD to drop the routes', async () =>
      (await bird.routes('ipv4-unicast')).size === 0 ? true : undefined,
    );
    const added = await api('POST', '/api/v1/neighbors', {
      address: B,
      asn: 65001,
      port: bird.port,
      local_address: T,
      hold_time: 9,
      connect_retry: 1,
      next_hop_ipv4: '198.51.100.1',
      next_hop_ipv6: '2001:db8::1',
      description: 'added back through the API',
    });
    assert.equal(added.status, 201);
    await bird.established();
    await waitBird('the 150 routes back on BIRD', async () =>
      (await bird.routes('ipv4-unicast')).size === 150 ? true : undefined,
    );
  });

  it('after a restart of tsbgp the injected routes and the API-added neighbour are back, and BIRD has the routes again', async () => {
    assert.equal((await tsbgp.stop('SIGTERM')).code, 0);
    await waitBird('BIRD to see tsbgp go', async () =>
      (await bird.routes('ipv4-unicast')).size === 0 ? true : undefined,
    );
    tsbgp = await DaemonProcess.start(dir, toml);
    const n = await api('GET', `/api/v1/neighbors/${B}`);
    assert.equal(n.body?.description, 'added back through the API');
    const listed = await api('GET', '/api/v1/routes?limit=1000');
    assert.equal(listed.body?.total, 165);
    await bird.established();
    const m = await waitBird('the 150 IPv4 routes back on BIRD', async () => {
      const x = await bird.routes('ipv4-unicast');
      return x.size === 150 ? x : undefined;
    });
    assert.equal(m.get('10.60.199.0/24')?.med, 199);
    await waitBird('the 15 IPv6 routes back on BIRD', async () =>
      (await bird.routes('ipv6-unicast')).size === 15 ? true : undefined,
    );
  });
});
