// `tsbgp` end to end: a real daemon process, queried through the CLI (human and --json), reloaded with SIGHUP,
// stopped with SIGTERM; CLI errors and exit codes. Loopback addresses 127.0.50.20-29 belong to this file.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess, randomPort, runCli, tempDir } from './process-testing.ts';

const ADDR = '127.0.50.20';
const bgpPort = randomPort();
const apiPort = bgpPort + 1;
const API = `http://${ADDR}:${apiPort}`;

const CONFIG = `
[global]
asn = 65000
router_id = "192.0.2.1"
listen = ["${ADDR}:${bgpPort}"]

[api]
listen = "${ADDR}:${apiPort}"

[[neighbors]]
address = "127.0.50.21"
asn = 65001
description = "nobody home"
passive = true

[[routes]]
prefix = "203.0.113.0/24"
communities = ["65000:100"]
med = 10

[[routes]]
prefix = "2001:db8:100::/48"
next_hop = "2001:db8::1"
`;

const ADDED = `${CONFIG}
[[neighbors]]
address = "127.0.50.22"
asn = 65002
passive = true
`;

describe('tsbgp CLI against a running daemon', () => {
  const dir = tempDir();
  let d: DaemonProcess;

  before(async () => {
    d = await DaemonProcess.start(dir, CONFIG);
  });
  after(() => d?.kill());

  it('prints the ready line with the real addresses', () => {
    assert.equal(d.readyLine, `tsbgp ready: bgp on ${ADDR}:${bgpPort}, api on ${ADDR}:${apiPort}`);
  });

  it('tsbgp neighbor list --json', async () => {
    const r = await runCli(['neighbor', 'list', '--json', '--api', API]);
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout);
    assert.equal(list.length, 1);
    assert.equal(list[0].address, '127.0.50.21');
    assert.equal(list[0].asn, 65001);
    assert.equal(list[0].description, 'nobody home');
    assert.notEqual(list[0].state, 'established');
  });

  it('tsbgp neighbor list (table), with the API URL from TSBGP_API', async () => {
    const r = await runCli(['neighbor', 'list'], { TSBGP_API: API });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NEIGHBOR\s+AS\s+STATE\s+UPTIME/);
    assert.match(lines[1]!, /^127\.0\.50\.21\s+65001\s+\w+\s+-\s+0\/0\s+0\/0\s+nobody home$/);
  });

  it('tsbgp neighbor show ADDRESS', async () => {
    const r = await runCli(['neighbor', 'show', '127.0.50.21', '--api', API]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^neighbor\s+127\.0\.50\.21$/m);
    assert.match(r.stdout, /^description\s+nobody home$/m);
  });

  it('tsbgp rib ipv4-unicast --json', async () => {
    const r = await runCli(['rib', 'ipv4-unicast', '--json', '--api', API]);
    assert.equal(r.status, 0, r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.total, 1);
    assert.equal(body.routes[0].prefix, '203.0.113.0/24');
    assert.equal(body.routes[0].from, 'local');
    assert.deepEqual(body.routes[0].communities, ['65000:100']);
    assert.equal(body.routes[0].med, 10);
  });

  it('tsbgp rib --prefix P infers the family', async () => {
    const r = await runCli(['rib', '--prefix', '2001:db8:100::/48', '--json', '--api', API]);
    assert.equal(r.status, 0, r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.total, 1);
    assert.equal(body.routes[0].next_hop, '2001:db8::1');
  });

  it('tsbgp rib (table of both families)', async () => {
    const r = await runCli(['rib', '--api', API]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ipv4-unicast: 1 path$/m);
    assert.match(r.stdout, /^\*>\s+203\.0\.113\.0\/24\s+self\s+local\s+\(empty\)\s+igp\s+10\s+100\s+65000:100$/m);
    assert.match(r.stdout, /^ipv6-unicast: 1 path$/m);
  });

  it('API errors are one line with the HTTP status and code, and exit 1', async () => {
    const r = await runCli(['neighbor', 'show', '127.0.50.99', '--api', API]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'tsbgp: no neighbor 127.0.50.99 is configured (HTTP 404 neighbor_not_found)\n');
    const p = await runCli(['rib', 'ipv4-unicast', '--prefix', '203.0.113.1/24', '--api', API]);
    assert.equal(p.status, 1);
    assert.match(p.stderr, /^tsbgp: prefix: "203\.0\.113\.1\/24" has host bits set.*\(HTTP 400 bad_prefix\)\n$/);
  });

  it('usage errors exit 2', async () => {
    for (const args of [
      ['rib', 'ipv9'],
      ['neighbor', 'frobnicate'],
      ['nonsense'],
      ['rib', '--limit', 'x'],
      ['neighbor', 'list', '--jsn'],
    ]) {
      const r = await runCli([...args, '--api', API]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^tsbgp: .*\nRun 'tsbgp help/);
    }
    const badUrl = await runCli(['neighbor', 'list', '--api', 'not a url']);
    assert.equal(badUrl.status, 2);
  });

  it('SIGHUP reloads: a neighbour is added', async () => {
    writeFileSync(d.configPath, ADDED);
    const n = d.count('configuration reloaded');
    d.proc.kill('SIGHUP');
    const line = await d.waitNth('configuration reloaded', n);
    assert.deepEqual(line.added, ['127.0.50.22']);
    const r = await runCli(['neighbor', 'list', '--json', '--api', API]);
    assert.deepEqual(
      JSON.parse(r.stdout).map((x: { address: string }) => x.address),
      ['127.0.50.21', '127.0.50.22'],
    );
  });

  it('SIGHUP with an invalid file logs every error and keeps running unchanged', async () => {
    writeFileSync(d.configPath, `${ADDED}\n[[neighbors]]\naddress = "127.0.50.23"\nasn = 0\nhold_tme = 3\n`);
    const n = d.count('SIGHUP: configuration invalid, keeping the running one');
    d.proc.kill('SIGHUP');
    await d.waitNth('SIGHUP: configuration invalid, keeping the running one', n);
    const errors = d.logs.filter((l) => l.msg.startsWith('config error: ')).map((l) => l.msg);
    assert.ok(errors.includes('config error: neighbors[2].asn: expected an integer 1..4294967295'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('config error: neighbors[2].hold_tme: unknown key')));
    const r = await runCli(['neighbor', 'list', '--json', '--api', API]);
    assert.equal(JSON.parse(r.stdout).length, 2);
  });

  it('SIGTERM exits 0 and closes the API; a client that cannot reach it exits 3', async () => {
    const { code } = await d.stop('SIGTERM');
    assert.equal(code, 0);
    const r = await runCli(['neighbor', 'list', '--api', API]);
    assert.equal(r.status, 3);
    assert.equal(
      r.stderr,
      `tsbgp: cannot reach the API at ${API}: connection refused (is \`tsbgp daemon\` running?)\n`,
    );
  });
});

describe('tsbgp without a daemon', () => {
  it('--version and help', async () => {
    const v = await runCli(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^tsbgp \d+\.\d+\.\d+\n$/);
    const h = await runCli(['help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /tsbgp daemon \[--config FILE\]/);
    const hd = await runCli(['help', 'rib']);
    assert.match(hd.stdout, /^Usage: tsbgp rib/);
  });

  it('a daemon that cannot bind exits 1 with one clear line', async () => {
    const dir = tempDir();
    const port = randomPort();
    const cfg = `[global]\nasn = 65000\nrouter_id = "192.0.2.1"\nlisten = ["127.0.50.24:${port}"]\n[api]\nlisten = "127.0.50.24:${port}"\n`;
    writeFileSync(`${dir}/t.toml`, cfg);
    const r = await runCli(['daemon', '--config', `${dir}/t.toml`, '--log-level', 'silent']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `tsbgp: cannot listen for the API on 127.0.50.24:${port}: address already in use\n`);
  });

  it('an invalid config is not started: exit 1 with every error', async () => {
    const dir = tempDir();
    writeFileSync(`${dir}/bad.toml`, '[global]\nasn = 65000\n');
    const r = await runCli(['daemon', '--config', `${dir}/bad.toml`]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `global.router_id: required\ntsbgp: ${dir}/bad.toml: 1 error(s); not starting\n`);
  });
});
