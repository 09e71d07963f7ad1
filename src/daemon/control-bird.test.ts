// End to end with a real BIRD 2 peer: routes injected through the HTTP API of a running `tsbgp daemon` reach BIRD
// (checked with birdc) with their attributes, disappear from it when deleted, survive a restart of tsbgp, and the
// neighbour operations of the API show on BIRD's side (hard reset = Cease 4, delete = Cease 3, then added back).
// Runs in the root network namespace on 127.0.60.1 (tsbgp) and 127.0.60.2 (BIRD on a random port, not 179, so a
// wildcard :179 listener elsewhere on the host cannot get in the way; `strict bind`, `multihop`, passive). BIRD's
// routes are read with the interop harness's parser. Skipped with a message when BIRD is not installed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseBirdRoutes } from '../../test/interop/harness/bird.ts';
import type { Family, Route } from '../../test/interop/harness/types.ts';
import { ManagedProcess, runOk, waitFor } from '../../test/interop/harness/util.ts';
import { DaemonProcess, poll, randomPort } from '../cli/process-testing.ts';

const T = '127.0.60.1';
const B = '127.0.60.2';

function birdInstalled(): boolean {
  try {
    execFileSync('bird', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = birdInstalled() ? false : 'BIRD is not installed (apt-get install bird2)';

describe('routes and neighbours through the API, seen by a real BIRD', { skip }, () => {
  // One private directory for both daemons (BIRD's config, control socket and log; tsbgp's config and store).
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-control-bird-'));
  const apiPort = randomPort();
  const birdPort = randomPort();
  const ctl = join(dir, 'bird.ctl');
  const toml = `
[global]
asn = 65000
router_id = "${T}"
listen = []

[api]
listen = "${T}:${apiPort}"

[[neighbors]]
address = "${B}"
asn = 65001
port = ${birdPort}
local_address = "${T}"
hold_time = 9
connect_retry = 1
# 127/8 next hops are unreachable to BIRD; these resolve through its static routes (harness/bird.ts).
next_hop_ipv4 = "198.51.100.1"
next_hop_ipv6 = "2001:db8::1"
`;
  let bird: ManagedProcess;
  let tsbgp: DaemonProcess;
  const birdc = (...args: string[]) => runOk('birdc', ['-s', ctl, ...args]);

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${tsbgp.apiUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
  };

  /** BIRD's BGP routes learned from tsbgp, by prefix. */
  const birdRoutes = async (family: Family): Promise<Map<string, Route>> => {
    const out = await birdc('show', 'route', 'all', 'table', family === 'ipv4-unicast' ? 'master4' : 'master6');
    return new Map(parseBirdRoutes(out).map((r) => [r.prefix, r]));
  };
  const birdProtocol = () => birdc('show', 'protocols', 'all', 'tsbgp');
  const birdEstablished = () =>
    waitFor(async () => /BGP state:\s+Established/.test(await birdProtocol()), {
      timeoutMs: 30_000,
      what: 'the BIRD session with tsbgp established',
    });

  const waitBird = <T>(what: string, fn: () => Promise<T | undefined>) => poll(fn, what, 300, 100);

  before(async () => {
    const conf = join(dir, 'bird.conf');
    writeFileSync(
      conf,
      `log stderr all;
router id ${B};
protocol device { scan time 5; }
# Next hops of the routes tsbgp sends resolve through these.
protocol static nh4 { ipv4; route 198.51.100.0/24 via "lo"; }
protocol static nh6 { ipv6; route 2001:db8::/64 via "lo"; }
protocol bgp tsbgp {
  local ${B} port ${birdPort} as 65001;
  neighbor ${T} as 65000;
  strict bind yes;
  multihop;
  passive yes;
  hold time 9;
  error wait time 1, 2;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
`,
    );
    bird = new ManagedProcess('bird', 'bird', ['-f', '-c', conf, '-s', ctl, '-P', join(dir, 'bird.pid')], {
      logFile: join(dir, 'bird.log'),
    });
    await waitFor(
      async () => {
        if (!bird.running) throw new Error(`bird exited: ${bird.logTail(1000)}`);
        return /Daemon is up/.test(await birdc('show', 'status').catch(() => ''));
      },
      { timeoutMs: 10_000, what: 'bird control socket' },
    );
    tsbgp = await DaemonProcess.start(dir, toml);
    await birdEstablished();
  });

  after(async () => {
    tsbgp?.kill();
    await bird?.stop('SIGTERM', 5000);
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
      const m = await birdRoutes('ipv4-unicast');
      return v4.every((p) => m.has(p)) ? m : undefined;
    });
    const r = got4.get('10.60.7.0/24')!;
    assert.deepEqual(r.as_path, [65000, 65010], 'our AS prepended, then the injected path');
    assert.equal(r.med, 7);
    assert.equal(r.next_hop, '198.51.100.1');
    assert.deepEqual(r.communities, ['65000:60']);
    assert.deepEqual(r.large_communities, ['65000:60:1']);
    const got6 = await waitBird('BIRD to have the 20 IPv6 routes', async () => {
      const m = await birdRoutes('ipv6-unicast');
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
      const m = await birdRoutes('ipv4-unicast');
      return gone.every((p) => !m.has(p)) ? m : undefined;
    });
    assert.equal(m4.size, 150);
    const m6 = await birdRoutes('ipv6-unicast');
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
      /administrative reset/i.test(await birdProtocol())
        ? true
        : undefined,
    );
    await birdEstablished();
    await waitBird('the 150 routes back on BIRD', async () =>
      (await birdRoutes('ipv4-unicast')).size === 150 ? true : undefined,
    );
  });

  it('deleting the neighbour sends Cease 3; adding it back through the API re-advertises the injected routes', async () => {
    assert.equal((await api('DELETE', `/api/v1/neighbors/${B}`)).status, 204);
    await waitBird('BIRD to record the de-configuration', async () =>
      /Last error:.*de-?configured/i.test(await birdProtocol()) ? true : undefined,
    );
    await waitBird('BIRD to drop the routes', async () =>
      (await birdRoutes('ipv4-unicast')).size === 0 ? true : undefined,
    );
    const added = await api('POST', '/api/v1/neighbors', {
      address: B,
      asn: 65001,
      port: birdPort,
      local_address: T,
      hold_time: 9,
      connect_retry: 1,
      next_hop_ipv4: '198.51.100.1',
      next_hop_ipv6: '2001:db8::1',
      description: 'added back through the API',
    });
    assert.equal(added.status, 201);
    await birdEstablished();
    await waitBird('the 150 routes back on BIRD', async () =>
      (await birdRoutes('ipv4-unicast')).size === 150 ? true : undefined,
    );
  });

  it('after a restart of tsbgp the injected routes and the API-added neighbour are back, and BIRD has the routes again', async () => {
    assert.equal((await tsbgp.stop('SIGTERM')).code, 0);
    await waitBird('BIRD to see tsbgp go', async () =>
      (await birdRoutes('ipv4-unicast')).size === 0 ? true : undefined,
    );
    tsbgp = await DaemonProcess.start(dir, toml);
    const n = await api('GET', `/api/v1/neighbors/${B}`);
    assert.equal(n.body?.description, 'added back through the API');
    const listed = await api('GET', '/api/v1/routes?limit=1000');
    assert.equal(listed.body?.total, 165);
    await birdEstablished();
    const m = await waitBird('the 150 IPv4 routes back on BIRD', async () => {
      const x = await birdRoutes('ipv4-unicast');
      return x.size === 150 ? x : undefined;
    });
    assert.equal(m.get('10.60.199.0/24')?.med, 199);
    await waitBird('the 15 IPv6 routes back on BIRD', async () =>
      (await birdRoutes('ipv6-unicast')).size === 15 ? true : undefined,
    );
  });
});
