import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CheckEnv, type CheckSpec, combineResults, defaultCheckEnv, runCheck, runChecks } from './checks.ts';
import { createNetns, fakeProc, type Netns } from './testing.ts';

function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}
function close(server: net.Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

describe('tcp check', () => {
  test('ok while a server listens; failed (refused) once it is stopped', async () => {
    const srv = net.createServer((s) => s.destroy());
    const port = await listen(srv, '127.0.0.2');
    const spec: CheckSpec = { type: 'tcp', host: '127.0.0.2', port };
    const up = await runCheck(spec, 2000);
    assert.equal(up.status, 'ok');
    assert.equal(up.detail, 'connected');
    assert.ok(up.durationMs >= 0);
    await close(srv);
    const down = await runCheck(spec, 2000);
    assert.equal(down.status, 'failed');
    assert.equal(down.detail, 'ECONNREFUSED');
  });

  test('IPv6 loopback', async (t) => {
    const srv = net.createServer((s) => s.destroy());
    let port: number;
    try {
      port = await listen(srv, '::1');
    } catch {
      t.skip('no IPv6 loopback');
      return;
    }
    const r = await runCheck({ type: 'tcp', host: '::1', port }, 2000);
    await close(srv);
    assert.equal(r.status, 'ok');
  });
});

describe('http check', () => {
  let server: http.Server;
  let base: string;
  const hung: http.ServerResponse[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      switch (req.url) {
        case '/ok':
          res.end('service is healthy: version 42');
          return;
        case '/down':
          res.writeHead(503).end('maintenance');
          return;
        case '/moved':
          res.writeHead(302, { location: '/ok' }).end();
          return;
        case '/header':
          res.writeHead(req.headers['x-check'] === 'yes' ? 200 : 400).end();
          return;
        case '/hang':
          hung.push(res);
          return;
        default:
          res.writeHead(404).end();
      }
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  after(async () => {
    for (const r of hung) r.destroy();
    server.closeAllConnections();
    await close(server);
  });

  const h = (path: string, extra: Partial<Extract<CheckSpec, { type: 'http' }>> = {}): CheckSpec => ({
    type: 'http',
    url: `${base}${path}`,
    expectStatus: [{ from: 200, to: 299 }],
    ...extra,
  });

  test('2xx by default; other statuses fail; redirects are not followed', async () => {
    assert.deepEqual(await runCheck(h('/ok'), 2000).then((r) => [r.status, r.detail]), ['ok', 'status 200']);
    assert.deepEqual(await runCheck(h('/down'), 2000).then((r) => [r.status, r.detail]), ['failed', 'status 503']);
    assert.deepEqual(await runCheck(h('/moved'), 2000).then((r) => [r.status, r.detail]), ['failed', 'status 302']);
    assert.equal((await runCheck(h('/missing'), 2000)).status, 'failed');
  });

  test('expected status list', async () => {
    const r = await runCheck(
      h('/down', {
        expectStatus: [
          { from: 200, to: 299 },
          { from: 503, to: 503 },
        ],
      }),
      2000,
    );
    assert.equal(r.status, 'ok');
    assert.equal((await runCheck(h('/moved', { expectStatus: [{ from: 300, to: 399 }] }), 2000)).status, 'ok');
  });

  test('body substring and regular expression', async () => {
    assert.equal((await runCheck(h('/ok', { bodyMatch: 'healthy' }), 2000)).status, 'ok');
    const miss = await runCheck(h('/ok', { bodyMatch: 'sick' }), 2000);
    assert.equal(miss.status, 'failed');
    assert.match(miss.detail, /does not contain "sick"/);
    assert.equal((await runCheck(h('/ok', { bodyRegex: 'version \\d+$' }), 2000)).status, 'ok');
    assert.equal((await runCheck(h('/ok', { bodyRegex: '^version' }), 2000)).status, 'failed');
  });

  test('request headers', async () => {
    assert.equal((await runCheck(h('/header'), 2000)).status, 'failed');
    assert.equal((await runCheck(h('/header', { headers: { 'x-check': 'yes' } }), 2000)).status, 'ok');
  });

  test('a server that does not answer fails at the timeout', async () => {
    const r = await runCheck(h('/hang'), 200);
    assert.equal(r.status, 'failed');
    assert.match(r.detail, /no response within 200 ms/);
  });

  test('a stopped server fails with the connection error', async () => {
    const srv = http.createServer();
    const port = await listen(srv);
    await close(srv);
    const r = await runCheck({ type: 'http', url: `http://127.0.0.1:${port}/`, expectStatus: [] }, 2000);
    assert.equal(r.status, 'failed');
    assert.equal(r.detail, 'ECONNREFUSED');
  });
});

describe('command check (Nagios exit codes)', () => {
  const c = (command: string, timeoutMs?: number): CheckSpec => ({ type: 'command', command, timeoutMs });

  test('0 OK, 1 WARNING, 2 CRITICAL and 3 UNKNOWN fail, other codes fail; the first output line is kept', async () => {
    const ok = await runCheck(c("echo 'HTTP OK - 0.01s'; exit 0"), 5000);
    assert.deepEqual([ok.status, ok.detail], ['ok', 'exit 0 (OK): HTTP OK - 0.01s']);
    const warn = await runCheck(c("echo 'DISK WARNING - 85%' >&2; exit 1"), 5000);
    assert.deepEqual([warn.status, warn.detail], ['warning', 'exit 1 (WARNING): DISK WARNING - 85%']);
    assert.deepEqual(await runCheck(c("sh -c 'exit 2'"), 5000).then((r) => [r.status, r.detail]), [
      'failed',
      'exit 2 (CRITICAL)',
    ]);
    assert.deepEqual(await runCheck(c('exit 3'), 5000).then((r) => [r.status, r.detail]), [
      'failed',
      'exit 3 (UNKNOWN)',
    ]);
    assert.deepEqual(await runCheck(c('exit 7'), 5000).then((r) => [r.status, r.detail]), ['failed', 'exit 7']);
    assert.equal((await runCheck(c('/nonexistent/plugin'), 5000)).status, 'failed');
  });

  test('a command that runs too long fails and its whole process group is killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbgp-cmd-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const pidFile = join(dir, 'pid');
    // The shell starts a background sleep (a grandchild) and waits: both must die at the timeout.
    const r = await runCheck(c(`sleep 30 & echo $! > ${pidFile}; wait`), 300);
    assert.equal(r.status, 'failed');
    assert.match(r.detail, /timed out after 300 ms/);
    assert.ok(existsSync(pidFile));
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    // SIGKILL was sent to the group; wait (bounded) for the kernel to finish it off.
    let alive = true;
    for (let i = 0; i < 200 && alive; i++) {
      alive = isRunning(pid);
      if (alive) await new Promise((res) => setTimeout(res, 10));
    }
    assert.equal(alive, false, `grandchild ${pid} survived the timeout`);
  });
});

/** True when `pid` exists and is not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('listening check', () => {
  test('from fixture files: ports, addresses, wildcards, any_port', async () => {
    const root = fakeProc();
    after(() => rmSync(root, { recursive: true, force: true }));
    const env: CheckEnv = { ...defaultCheckEnv, procRoot: root };
    const l = (ports: number[], addresses: string[] = [], anyPort = false): CheckSpec => ({
      type: 'listening',
      ports,
      addresses,
      ...(anyPort && { anyPort }),
    });
    assert.equal((await runCheck(l([8080, 443]), 1000, env)).status, 'ok');
    const missing = await runCheck(l([8080, 9999]), 1000, env);
    assert.deepEqual([missing.status, missing.detail], ['failed', 'not listening: 9999']);
    assert.equal((await runCheck(l([9999, 8080], [], true), 1000, env)).status, 'ok');
    assert.equal((await runCheck(l([443], ['192.0.2.10', '192.0.2.12']), 1000, env)).status, 'ok');
    assert.equal((await runCheck(l([443], ['192.0.2.11']), 1000, env)).detail, 'not listening: 192.0.2.11:443');
    // 0.0.0.0:80 serves any IPv4 address; [::]:22 serves both families.
    assert.equal((await runCheck(l([80], ['203.0.113.9']), 1000, env)).status, 'ok');
    assert.equal((await runCheck(l([22], ['203.0.113.9', '2001:db8::99']), 1000, env)).status, 'ok');
    assert.equal((await runCheck(l([80], ['2001:db8::10']), 1000, env)).status, 'ok');
    assert.equal((await runCheck(l([80], ['2001:db8::11']), 1000, env)).status, 'failed');
  });

  test('live: a real listener is found, and the check fails once it stops', async () => {
    const srv = net.createServer();
    const port = await listen(srv, '127.0.0.3');
    const spec: CheckSpec = { type: 'listening', ports: [port], addresses: ['127.0.0.3'] };
    assert.equal((await runCheck(spec, 1000)).status, 'ok');
    assert.equal((await runCheck({ ...spec, addresses: ['127.0.0.4'] }, 1000)).status, 'failed');
    await close(srv);
    assert.equal((await runCheck(spec, 1000)).status, 'failed');
  });

  test('a missing /proc root fails the check instead of throwing', async () => {
    const r = await runCheck({ type: 'listening', ports: [80], addresses: [] }, 1000, {
      ...defaultCheckEnv,
      procRoot: '/nonexistent',
    });
    assert.equal(r.status, 'failed');
    assert.match(r.detail, /ENOENT/);
  });
});

describe('address check (network namespace with a veth pair)', () => {
  let ns: Netns | string = 'not created';
  before(async () => {
    ns = await createNetns('addr');
  });
  after(async () => {
    if (typeof ns !== 'string') await ns.remove();
  });

  test('present, up, on a device, with a label; down and missing fail', async (t) => {
    if (typeof ns === 'string') {
      t.skip(ns);
      return;
    }
    const env: CheckEnv = { ...defaultCheckEnv, ip: ns.ip };
    const a = (address: string, device?: string, label?: string): CheckSpec => ({
      type: 'address',
      address,
      ...(device && { device }),
      ...(label && { label }),
    });
    assert.equal((await runCheck(a('192.0.2.1'), 5000, env)).detail, '192.0.2.1: not configured');

    await ns.ip(['address', 'add', '192.0.2.1/24', 'dev', 'va', 'label', 'va:web']);
    await ns.ip(['address', 'add', '2001:db8::1/64', 'dev', 'va', 'nodad']);
    const down = await runCheck(a('192.0.2.1'), 5000, env);
    assert.deepEqual([down.status, down.detail], ['failed', '192.0.2.1 on va: interface is down']);

    await ns.ip(['link', 'set', 'va', 'up']);
    assert.deepEqual(await runCheck(a('192.0.2.1'), 5000, env).then((r) => [r.status, r.detail]), [
      'ok',
      '192.0.2.1 up on va',
    ]);
    assert.equal((await runCheck(a('192.0.2.1', 'va'), 5000, env)).status, 'ok');
    assert.equal((await runCheck(a('192.0.2.1', 'vb'), 5000, env)).status, 'failed');
    assert.equal((await runCheck(a('192.0.2.1', undefined, 'va:web'), 5000, env)).status, 'ok');
    assert.equal((await runCheck(a('192.0.2.1', 'va', 'va:*'), 5000, env)).status, 'ok');
    assert.equal((await runCheck(a('192.0.2.1', undefined, 'va:db'), 5000, env)).status, 'failed');
    assert.equal((await runCheck(a('2001:DB8::1'), 5000, env)).status, 'ok');
    assert.equal((await runCheck(a('192.0.2.2'), 5000, env)).status, 'failed');

    await ns.ip(['link', 'set', 'va', 'down']);
    assert.equal((await runCheck(a('2001:db8::1'), 5000, env)).status, 'failed');
    await ns.ip(['link', 'set', 'va', 'up']);
    await ns.ip(['address', 'del', '192.0.2.1/24', 'dev', 'va']);
    assert.equal((await runCheck(a('192.0.2.1'), 5000, env)).status, 'failed');
  });

  test('an ip command that fails makes the check fail with its message', async () => {
    const env: CheckEnv = {
      ...defaultCheckEnv,
      ip: async () => {
        throw new Error('ip: Cannot open network namespace "gone"');
      },
    };
    const r = await runCheck({ type: 'address', address: '192.0.2.1' }, 1000, env);
    assert.deepEqual([r.status, r.detail], ['failed', 'ip: Cannot open network namespace "gone"']);
  });
});

describe('combining checks', () => {
  const r = (status: 'ok' | 'warning' | 'failed', check: string) => ({ status, check, detail: status, durationMs: 1 });

  test('all: the worst status wins; any: the best', () => {
    const set = [r('ok', 'a'), r('warning', 'b'), r('failed', 'c')];
    assert.equal(combineResults(set, 'all', 1).status, 'failed');
    assert.equal(combineResults(set, 'all', 1).detail, 'c: failed');
    assert.equal(combineResults(set, 'any', 1).status, 'ok');
    assert.equal(combineResults([r('warning', 'a'), r('ok', 'b')], 'all', 1).status, 'warning');
    assert.equal(combineResults([r('warning', 'a'), r('failed', 'b')], 'any', 1).status, 'warning');
    assert.equal(combineResults([], 'all', 0).status, 'ok');
  });

  test('runChecks runs real checks together', async () => {
    const srv = net.createServer((s) => s.destroy());
    const port = await listen(srv);
    const specs: CheckSpec[] = [
      { type: 'tcp', host: '127.0.0.1', port },
      { type: 'command', command: 'exit 1' },
    ];
    const all = await runChecks(specs, 'all', 2000);
    const any = await runChecks(specs, 'any', 2000);
    await close(srv);
    assert.equal(all.status, 'warning');
    assert.equal(any.status, 'ok');
    assert.deepEqual(
      all.results.map((x) => [x.check, x.status]),
      [
        [`tcp 127.0.0.1:${port}`, 'ok'],
        ['command exit 1', 'warning'],
      ],
    );
  });
});
