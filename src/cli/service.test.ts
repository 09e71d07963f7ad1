// `tsbgp service …` and `tsbgp process list` end to end: a real daemon whose [[services]] tcp check points at a
// node:net server this test starts and stops, and a [[processes]] program; the CLI's tables and --json, drain and
// undrain followed in the Loc-RIB, a check failing when the server stops, a service added by SIGHUP, `--check`.
// Loopback addresses 127.0.80.20-29 belong to this file.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess, poll, randomPort, runCli, tempDir } from './process-testing.ts';

const ADDR = '127.0.80.20';
const apiPort = randomPort();
const API = `http://${ADDR}:${apiPort}`;

describe('tsbgp service and process commands against a running daemon', () => {
  const dir = tempDir();
  const server = net.createServer((s) => s.destroy());
  let port = 0;
  let d: DaemonProcess;
  const config = (extra = '') => `
[global]
asn = 65000
router_id = "192.0.2.1"
listen = []

[api]
listen = "${ADDR}:${apiPort}"

[[services]]
name = "web"
prefixes = ["198.51.100.10/32"]
interval = 0.2
fast_interval = 0.1
rise = 2
fall = 2
damping = false
[[services.checks]]
type = "tcp"
target = "${ADDR}:${port}"

[[processes]]
name = "announcer"
run = "echo 'announce route 198.51.100.11/32 next-hop self'; exec cat >/dev/null"
${extra}`;

  const cli = (...args: string[]) => runCli([...args, '--api', API]);
  const ribHas = async (prefix: string) => {
    const r = (await (await fetch(`${API}/api/v1/rib/ipv4-unicast?prefix=${prefix}`)).json()) as { total: number };
    return r.total > 0;
  };

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, ADDR, resolve));
    port = (server.address() as net.AddressInfo).port;
    d = await DaemonProcess.start(dir, config());
  });
  after(() => {
    d?.kill();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tsbgp service list: the service comes up and its prefix is in the Loc-RIB', async () => {
    await poll(async () => ((await ribHas('198.51.100.10/32')) ? true : undefined), 'the service route');
    const r = await cli('service', 'list');
    assert.equal(r.status, 0, r.stderr);
    const [header, row] = r.stdout.trim().split('\n');
    assert.match(header!, /^SERVICE\s+STATE\s+ANNOUNCED\s+PREFIXES\s+LAST CHECK/);
    assert.match(row!, /^web\s+up\s+yes\s+198\.51\.100\.10\/32\s+ok/);
    const j = JSON.parse((await cli('service', 'list', '--json')).stdout) as { name: string; state: string }[];
    assert.deepEqual(
      j.map((s) => [s.name, s.state]),
      [['web', 'up']],
    );
  });

  it('tsbgp service show NAME: announcement, checks and history', async () => {
    const r = await cli('service', 'show', 'web');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^service\s+web$/m);
    assert.match(r.stdout, /^announced\s+yes: next-hop self$/m);
    assert.match(r.stdout, new RegExp(`tcp ${ADDR.replace(/\./g, '\\.')}:${port}: ok`));
    assert.match(r.stdout, /history \(oldest first\):/);
    assert.match(r.stdout, /rising\s+up\s+yes/);
    const missing = await cli('service', 'show', 'nope');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no service "nope" is configured \(HTTP 404 service_not_found\)/);
    assert.equal((await cli('service', 'show')).status, 2, 'usage error');
  });

  it('tsbgp service drain / undrain: the route leaves the Loc-RIB and comes back', async () => {
    const r = await cli('service', 'drain', 'web');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'drained service web: drained, announced: no');
    assert.equal(await ribHas('198.51.100.10/32'), false);
    const u = await cli('service', 'undrain', 'web', '--json');
    assert.equal(u.status, 0, u.stderr);
    assert.equal((JSON.parse(u.stdout) as { state: string }).state, 'up');
    assert.equal(await ribHas('198.51.100.10/32'), true);
  });

  it('tsbgp process list: the program runs and holds its route', async () => {
    await poll(async () => ((await ribHas('198.51.100.11/32')) ? true : undefined), 'the process route');
    const r = await cli('process', 'list');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.trim().split('\n')[1]!, /^announcer\s+running\s+\d+\s+0\s+1\s+1\/0/);
  });

  it('the check fails when the server stops: withdrawn after `fall` failures', async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await poll(async () => ((await ribHas('198.51.100.10/32')) ? undefined : true), 'the withdrawal');
    const s = JSON.parse((await cli('service', 'show', 'web', '--json')).stdout) as {
      state: string;
      last_check: { status: string; detail: string };
    };
    assert.equal(s.state, 'down');
    assert.equal(s.last_check.status, 'failed');
    assert.match(s.last_check.detail, /ECONNREFUSED|refused/i);
  });

  it('SIGHUP adds a service; --check counts services and processes', async () => {
    const extra = `
[[services]]
name = "dns"
prefixes = ["198.51.100.12/32"]
interval = 0.2
rise = 1
[[services.checks]]
type = "command"
target = "true"
`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(d.configPath, config(extra));
    const n = d.count('configuration reloaded');
    d.proc.kill('SIGHUP');
    const line = await d.waitNth('configuration reloaded', n);
    assert.deepEqual(line.services, { added: ['dns'], removed: [], changed: [] });
    assert.deepEqual(line.processes, { added: [], removed: [], restarted: [] });
    await poll(async () => ((await ribHas('198.51.100.12/32')) ? true : undefined), 'the new service route');
    const c = await runCli(['daemon', '--check', '--config', d.configPath]);
    assert.equal(c.stdout.trim(), 'config OK: 0 neighbors, 0 routes, 2 services, 1 process');
  });
});
