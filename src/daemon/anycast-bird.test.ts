// Issue 5 end to end with a real BIRD 2 peer: a running `tsbgp daemon` announces health-checked services and the
// routes of unchanged ExaBGP helper programs, and BIRD (eBGP, AS 65001) sees them come and go:
//   (a) a native [[services]] tcp check against a node:net server this test starts: the route reaches BIRD; drained
//       through the API it is first re-announced with GRACEFUL_SHUTDOWN 65535:0 (RFC 8326), then withdrawn;
//       undrained it comes back; the server stopped → withdrawn after `fall` failed checks. A second service with a
//       command check going to WARNING is announced degraded: MED 500 and our AS prepended twice (eBGP);
//   (b) Debian's ExaBGP healthcheck (`python3 -m exabgp healthcheck …`) run unchanged as a [[processes]] entry: its
//       route reaches BIRD with the MED it sets (100) and is withdrawn when the flag file its check tests is removed;
//   (c) an HA2BGP-style shell script (a bare address, `next-hop self` and a trailing space; it reads and discards
//       stdin): its route reaches BIRD and is withdrawn when the script dies.
// Root network namespace on 127.0.80.1 (tsbgp) and 127.0.80.2 (BIRD on a random port, passive, strict bind,
// multihop), like control-bird.test.ts. Next hops are 198.51.100.1 (next_hop_ipv4), which BIRD resolves through its
// static route. Skipped with a message when BIRD or Debian's exabgp is not installed.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Route } from '../../test/interop/harness/types.ts';
import { DaemonProcess, poll, randomPort } from '../cli/process-testing.ts';
import { BirdPeer, installed } from './bird-testing.ts';

const T = '127.0.80.1';
const B = '127.0.80.2';
const WEB = '198.51.100.55/32';
const DNS = '198.51.100.66/32';
const HC = '198.51.100.77/32';
const HA = '198.51.100.88/32';

const skip = !installed('bird', ['--version'])
  ? 'BIRD is not installed (apt-get install bird2)'
  : !installed('/usr/bin/python3', ['-c', 'import exabgp'])
    ? "Debian's exabgp is not installed (apt-get install exabgp)"
    : false;

describe('anycast: services and ExaBGP helper programs, seen by a real BIRD', { skip, timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-anycast-bird-'));
  const apiPort = randomPort();
  const bird = new BirdPeer(dir, B, T);
  const flag = join(dir, 'healthy');
  const status = join(dir, 'dns-status');
  const server = net.createServer((s) => s.destroy());
  let webPort = 0;
  let tsbgp: DaemonProcess;

  /** Waits until BIRD's route for `prefix` satisfies `ok` (undefined: the route is absent). */
  const onBird = (what: string, prefix: string, ok: (r: Route | undefined) => boolean) =>
    poll(
      async () => {
        const r = (await bird.routes('ipv4-unicast')).get(prefix);
        return ok(r) ? (r ?? null) : undefined;
      },
      what,
      400,
      100,
    );
  const api = async (method: string, path: string) => {
    const res = await fetch(`${tsbgp.apiUrl}${path}`, { method });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, T, resolve));
    webPort = (server.address() as net.AddressInfo).port;
    writeFileSync(flag, '');
    writeFileSync(status, '0\n');
    await bird.start();
    const hc =
      `/usr/bin/python3 -m exabgp healthcheck --cmd 'test -f ${flag}' --interval 1 --rise 1 --fall 1 ` +
      `--ip ${HC} --no-syslog --no-ip-setup --withdraw-on-down`;
    const ha2bgp = `printf 'announce route ${HA.slice(0, -3)} next-hop self \\n'; while read -r line; do :; done`;
    tsbgp = await DaemonProcess.start(
      dir,
      `${bird.tsbgpToml(apiPort)}
[[services]]
name = "web"
prefixes = ["${WEB}"]
interval = 0.5
fast_interval = 0.25
rise = 2
fall = 2
damping = false
[[services.checks]]
type = "tcp"
target = "${T}:${webPort}"
[services.drained]
action = "graceful-shutdown"
grace = 2

[[services]]
name = "dns"
prefixes = ["${DNS}"]
interval = 0.5
fast_interval = 0.25
rise = 1
fall = 1
damping = false
[[services.checks]]
type = "command"
target = "exit $(cat ${status})"
[services.warning]
as_path_prepend = 2

[[processes]]
name = "healthcheck"
run = ${JSON.stringify(hc)}

[[processes]]
name = "ha2bgp"
run = ["/bin/sh", "-c", ${JSON.stringify(ha2bgp)}]
respawn = false
`,
    );
    await bird.established();
  });

  after(async () => {
    await tsbgp?.stop('SIGTERM');
    tsbgp?.kill();
    await bird.stop();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('(a) tcp check: on BIRD; drained → 65535:0 first, then withdrawn; undrained; server stopped → withdrawn', {
    timeout: 60_000,
  }, async () => {
    const r = (await onBird('the web service route on BIRD', WEB, (x) => x !== undefined))!;
    assert.deepEqual(r.as_path, [65000]);
    assert.equal(r.next_hop, '198.51.100.1');
    assert.deepEqual(r.communities, []);

    const d = await api('POST', '/api/v1/services/web/drain');
    assert.equal(d.status, 200);
    assert.equal(d.body.state, 'drained');
    // RFC 8326 §4: re-announced with GRACEFUL_SHUTDOWN so BIRD can move traffic away, then withdrawn after the grace.
    await onBird('65535:0 on BIRD', WEB, (x) => x?.communities.includes('65535:0') === true);
    await onBird('the drained route withdrawn from BIRD', WEB, (x) => x === undefined);

    assert.equal((await api('POST', '/api/v1/services/web/undrain')).status, 200);
    await onBird(
      'the undrained route back, without 65535:0',
      WEB,
      (x) => x !== undefined && x.communities.length === 0,
    );

    await new Promise<void>((resolve) => server.close(() => resolve()));
    await onBird('the route withdrawn after the server stopped', WEB, (x) => x === undefined);
    const s = await api('GET', '/api/v1/services/web');
    assert.equal(s.body.state, 'down');
    const history = s.body.history as { from: string; to: string; reason: string }[];
    const last = history.slice(-2).map((h) => `${h.from}>${h.to}`);
    assert.deepEqual(last, ['up>falling', 'falling>down'], 'one failure is not enough: fall = 2');
    assert.match(history.at(-1)!.reason, /2 failed check\(s\) in a row/);
  });

  it('(a) a command check at WARNING: announced degraded, MED 500 and our AS prepended twice towards BIRD', {
    timeout: 60_000,
  }, async () => {
    await onBird('the dns service route on BIRD', DNS, (x) => x?.as_path.length === 1);
    writeFileSync(status, '1\n');
    const w = (await onBird('the degraded route on BIRD', DNS, (x) => x?.med === 500))!;
    assert.deepEqual(w.as_path, [65000, 65000, 65000]);
    writeFileSync(status, '0\n');
    const ok = (await onBird('the healthy route again', DNS, (x) => x !== undefined && x.med === null))!;
    assert.deepEqual(ok.as_path, [65000]);
  });

  it("(b) ExaBGP's own healthcheck, unchanged: on BIRD with its MED 100, withdrawn when its check fails", {
    timeout: 60_000,
  }, async () => {
    const r = (await onBird('the healthcheck route on BIRD', HC, (x) => x !== undefined))!;
    assert.equal(r.med, 100, 'the MED the healthcheck sets (--up-metric default)');
    assert.deepEqual(r.as_path, [65000]);
    assert.equal(r.next_hop, '198.51.100.1');
    unlinkSync(flag);
    await onBird('the healthcheck route withdrawn', HC, (x) => x === undefined);
    const p = ((await api('GET', '/api/v1/processes')).body as unknown as { name: string; state: string }[]).find(
      (x) => x.name === 'healthcheck',
    );
    assert.equal(p?.state, 'running', 'it withdrew by command, it did not die');
    writeFileSync(flag, '');
    await onBird('the healthcheck route back', HC, (x) => x !== undefined);
  });

  it('(c) an HA2BGP-style script: its route reaches BIRD and is withdrawn when the script dies', {
    timeout: 60_000,
  }, async () => {
    const r = (await onBird('the script route on BIRD', HA, (x) => x !== undefined))!;
    assert.equal(r.next_hop, '198.51.100.1');
    const list = (await api('GET', '/api/v1/processes')).body as unknown as { name: string; pid: number }[];
    const pid = list.find((x) => x.name === 'ha2bgp')!.pid;
    process.kill(pid, 'SIGTERM');
    await onBird('the script route withdrawn', HA, (x) => x === undefined);
    const after = (await api('GET', '/api/v1/processes')).body as unknown as { name: string; state: string }[];
    assert.equal(after.find((x) => x.name === 'ha2bgp')?.state, 'stopped');
  });
});
