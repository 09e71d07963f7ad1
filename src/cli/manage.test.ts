// `tsbgp` end to end for the management surface: two real daemons peering over loopback, A serving its API over
// TLS with read/write tokens, B over plain HTTP. Neighbours and routes changed with the CLI on A reach B over BGP;
// B's Loc-RIB is filtered, paged and explained with the CLI; `tsbgp watch` follows B; status, metrics and the exit
// codes. Loopback addresses 127.0.70.1-19 belong to this file.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeCert } from '../api/tls-testing.ts';
import { BIN, DaemonProcess, poll, randomPort, runCli, tempDir } from './process-testing.ts';

const A = '127.0.70.1';
const B = '127.0.70.2';
const bgpA = randomPort();
const bgpB = bgpA + 1;
const apiA = bgpA + 2;
const apiB = bgpA + 3;
const API_A = `https://${A}:${apiA}`;
const API_B = `http://${B}:${apiB}`;
const READ = 'read-token-0123456789abcdef';
const WRITE = 'write-token-0123456789abcdef';

const configA = (dir: string) => `
[global]
asn = 65001
router_id = "${A}"
listen = ["${A}:${bgpA}"]

[api]
listen = "${A}:${apiA}"
tokens_file = "tokens"
tls_cert = "cert.pem"
tls_key = "key.pem"

[state]
path = "${join(dir, 'a.db')}"

[[neighbors]]
address = "${B}"
asn = 65002
port = ${bgpB}
local_address = "${A}"
hold_time = 9
connect_retry = 1
`;

const configB = (dir: string) => `
[global]
asn = 65002
router_id = "${B}"
listen = ["${B}:${bgpB}"]

[api]
listen = "${B}:${apiB}"

[state]
path = "${join(dir, 'b.db')}"

[[neighbors]]
address = "${A}"
asn = 65001
passive = true
hold_time = 9

[[routes]]
prefix = "198.51.100.0/24"
`;

interface Route {
  prefix: string;
  from: string;
  best: boolean;
  as_path: number[];
  med: number | null;
  communities: string[];
}

/** `tsbgp watch` as a child process; its stdout lines as they come. */
class Watcher {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.proc = spawn(BIN, ['watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
    let buf = '';
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (c: string) => {
      buf += c;
      let i = buf.indexOf('\n');
      while (i >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** The first line (seen or future) that `match` accepts, parsed as JSON. */
  async waitFor(match: (e: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      for (const l of this.lines) {
        const e = JSON.parse(l) as Record<string, unknown>;
        if (match(e)) return e;
      }
      if (Date.now() > deadline) throw new Error(`watch: no ${what} in\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

describe('tsbgp management CLI against two daemons', () => {
  const dirA = tempDir();
  const dirB = tempDir();
  let a: DaemonProcess;
  let b: DaemonProcess;
  let ca: string;
  const envRead = () => ({ TSBGP_API: API_A, TSBGP_TOKEN: READ, TSBGP_CA: ca });
  const envWrite = () => ({ TSBGP_API: API_A, TSBGP_TOKEN: WRITE, TSBGP_CA: ca });
  const cliA = (args: string[]) => runCli(args, envWrite());
  const cliB = (args: string[]) => runCli([...args, '--api', API_B]);
  const ribB = async (args: string[]) => {
    const r = await cliB(['rib', ...args, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { total: number; routes: Route[]; next_cursor: string | null };
  };

  before(async () => {
    const files = makeCert(dirA, [A]);
    ca = files.cert;
    writeFileSync(join(dirA, 'tokens'), `# test tokens\nread ${READ}\nwrite ${WRITE}\n`);
    b = await DaemonProcess.start(dirB, configB(dirB));
    a = await DaemonProcess.start(dirA, configA(dirA));
    assert.equal(a.apiUrl, API_A);
    await poll(async () => {
      const r = await cliA(['neighbor', 'show', B, '--json']);
      return r.status === 0 && JSON.parse(r.stdout).state === 'established' ? true : undefined;
    }, 'A and B established');
  });
  after(() => {
    a?.kill();
    b?.kill();
  });

  it('status over TLS with a token; a client without the CA or without a token is refused', async () => {
    const r = await runCli(['status'], envRead());
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^tsbgp \\d+\\.\\d+\\.\\d+ at ${API_A}: ok, up `));
    assert.match(r.stdout, /^neighbors\s+1 of 1 established$/m);
    assert.match(r.stdout, /^event loop\s+p99 [\d.]+ ms, max [\d.]+ ms since start$/m);
    const noCa = await runCli(['status', '--api', API_A], { TSBGP_TOKEN: READ });
    assert.equal(noCa.status, 3);
    assert.match(noCa.stderr, /^tsbgp: cannot reach the API at https:.*self-signed.*--ca FILE/);
    const noToken = await runCli(['status', '--api', API_A, '--ca', ca]);
    assert.equal(noToken.status, 1);
    assert.match(noToken.stderr, /\(HTTP 401 unauthorized\)\n$/);
    const tokenFile = join(dirA, 'my-token');
    writeFileSync(tokenFile, `# mine\n${READ}\n`);
    const viaFile = await runCli(['status', '--json', '--api', API_A, '--ca', ca, '--token-file', tokenFile]);
    assert.equal(viaFile.status, 0, viaFile.stderr);
    assert.deepEqual(JSON.parse(viaFile.stdout).neighbors, { configured: 1, established: 1 });
  });

  it('a read token cannot inject routes: exit 1 with HTTP 403 forbidden', async () => {
    const r = await runCli(['route', 'add', '192.0.2.0/24'], envRead());
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^tsbgp: a read token cannot POST \/api\/v1\/routes \(needs write\) \(HTTP 403 forbidden\)\n$/,
    );
  });

  it('route add reaches B over BGP with its attributes; B filters its Loc-RIB with the CLI', async () => {
    const r = await cliA([
      'route',
      'add',
      '203.0.113.0/24',
      '--as-path',
      '65100 65101',
      '--med',
      '5',
      '--community',
      '65001:7',
      '--community',
      '65001:8',
      '--large-community',
      '65001:1:1',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'accepted 203.0.113.0/24\n');
    const got = await poll(async () => {
      const x = await ribB(['ipv4', '--prefix', '203.0.113.0/24']);
      return x.total === 1 ? x.routes[0] : undefined;
    }, '203.0.113.0/24 on B');
    assert.equal(got.from, A);
    assert.deepEqual(got.as_path, [65001, 65100, 65101]);
    assert.deepEqual(got.communities, ['65001:7', '65001:8']);
    assert.equal(got.med, 5);
    assert.equal((await ribB(['ipv4', '--community', '65001:7', '--community', '65001:8'])).total, 1);
    assert.equal((await ribB(['ipv4', '--community', '65001:7', '--community', '65001:9'])).total, 0);
    assert.equal((await ribB(['ipv4', '--large-community', '65001:1:1'])).total, 1);
    assert.equal((await ribB(['ipv4', '--as-path', '^65001 65100 '])).total, 1);
    assert.equal((await ribB(['ipv4', '--from', 'local'])).routes[0]!.prefix, '198.51.100.0/24');
    const table = await cliB(['rib', 'ipv4', '--from', A]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^ipv4-unicast: 1 path$/m);
    assert.match(
      table.stdout,
      /^\*>\s+203\.0\.113\.0\/24\s+127\.0\.70\.1\s+127\.0\.70\.1\s+65001 65100 65101\s+igp\s+5\s+100\s+65001:7 65001:8 65001:1:1$/m,
    );
  });

  it('route add --file (text) sends one batch; list shows them; a bad line names FILE:LINE', async () => {
    const file = join(dirA, 'routes.txt');
    writeFileSync(
      file,
      [
        '# customer prefixes',
        '10.10.0.0/16 as-path 65200 community 65001:100',
        '10.10.1.0/24 as-path 65200 med 20   # more specific',
        '2001:db8:10::/48 next-hop self origin incomplete',
        '',
      ].join('\n'),
    );
    const r = await cliA(['route', 'add', '--file', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'accepted 3 routes\n');
    const list = await cliA(['route', 'list', '--json']);
    assert.equal(list.status, 0, list.stderr);
    const injected = JSON.parse(list.stdout) as { total: number; routes: { prefix: string }[] };
    assert.equal(injected.total, 4);
    const v6 = await cliA(['route', 'list', 'ipv6']);
    assert.match(v6.stdout, /^1 injected route\n/);
    assert.match(v6.stdout, /^2001:db8:10::\/48\s+self\s+\(empty\)\s+incomplete/m);
    await poll(
      async () => ((await ribB(['--prefix', '10.10.0.0/16', '--longer'])).total === 2 ? true : undefined),
      'B has 10.10/16 and 10.10.1/24',
    );

    const bad = join(dirA, 'bad.txt');
    writeFileSync(bad, '10.20.0.0/16 med 1\n10.21.0.0/16 nexthop 192.0.2.1\n');
    const b1 = await cliA(['route', 'add', '--file', bad]);
    assert.equal(b1.status, 2);
    assert.match(b1.stderr, /^tsbgp: .*bad\.txt:2: unknown key "nexthop" \(expected next-hop, /);
    writeFileSync(bad, '10.20.0.0/16 med 1\n\n10.21.0.0/16 next-hop 2001:db8::1\n');
    const b2 = await cliA(['route', 'add', '--file', bad]);
    assert.equal(b2.status, 1);
    assert.match(b2.stderr, /^tsbgp: .*bad\.txt:3: next_hop: .*\(HTTP 400 [a-z_]+\)\n$/);
    // Nothing of the rejected batch was applied.
    const after = JSON.parse((await cliA(['route', 'list', '--json'])).stdout) as { total: number };
    assert.equal(after.total, 4);
  });

  it('rib --explain on B: the local route beats the one learned from A, step by step', async () => {
    await cliA(['route', 'add', '198.51.100.0/24', '--as-path', '65300']);
    await poll(
      async () => ((await ribB(['--prefix', '198.51.100.0/24'])).total === 2 ? true : undefined),
      'two paths on B',
    );
    const r = await cliB(['rib', '--prefix', '198.51.100.0/24', '--explain']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^198\.51\.100\.0\/24: 2 candidates$/m);
    assert.match(r.stdout, /^#0 \*> from local, next hop self, AS path \(empty\)/m);
    assert.match(r.stdout, /^#1 \* {2}from 127\.0\.70\.1, next hop 127\.0\.70\.1, AS path 65001 65300/m);
    assert.match(r.stdout, /^ {3}lost to #0 \(from local\) at step as-path-length: AS_PATH length 2 vs 0/m);
    assert.match(r.stdout, /^ {3}as-path-length\s+2\s+0\s+worse$/m);
    const j = JSON.parse((await cliB(['rib', '--prefix', '198.51.100.0/24', '--explain', '--json'])).stdout);
    assert.equal(j.candidates[1].decided_by, 'as-path-length');
    const missing = await cliB(['rib', '--prefix', '192.0.2.0/24', '--explain']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /\(HTTP 404 prefix_not_found\)\n$/);
    const usage = await cliB(['rib', '--explain']);
    assert.equal(usage.status, 2);
  });

  it('rib pages with --limit and follows every page with --all', async () => {
    const page = await ribB(['ipv4', '--limit', '1']);
    assert.ok(page.total >= 4);
    // One prefix per page: a prefix's paths are never split.
    assert.equal(new Set(page.routes.map((r) => r.prefix)).size, 1);
    assert.notEqual(page.next_cursor, null);
    const all = await ribB(['ipv4', '--limit', '1', '--all']);
    assert.equal(all.routes.length, page.total);
    assert.equal(all.next_cursor, null);
    const table = await cliB(['rib', 'ipv4', '--limit', '1']);
    assert.match(table.stdout, /\(\d of \d+ shown; --all follows every page/);
  });

  it("watch on B sees A's withdrawal and the session going down and up; Ctrl-C exits 0", async () => {
    const w = new Watcher(['--json', '--api', API_B]);
    // The stream is live once B counts the client.
    await poll(async () => {
      const text = await (await fetch(`${API_B}/metrics`)).text();
      return /^tsbgp_watch_clients 1$/m.test(text) ? true : undefined;
    }, 'the watch client connected');
    const del = await cliA(['route', 'delete', '10.10.1.0/24', '192.0.2.99/32']);
    assert.equal(del.status, 0, del.stderr);
    assert.equal(del.stdout, 'withdrew 1 route; 1 not found\n');
    const gone = await w.waitFor((e) => e.event === 'route' && e.prefix === '10.10.1.0/24', 'withdraw of 10.10.1.0/24');
    assert.deepEqual([gone.action, gone.route, gone.previous_from], ['withdraw', null, A]);

    const dis = await cliA(['neighbor', 'disable', B]);
    assert.equal(dis.status, 0, dis.stderr);
    const down = await w.waitFor(
      (e) => e.event === 'session' && e.neighbor === A && e.from === 'established',
      'session down on B',
    );
    assert.match(String(down.reason), /Cease/);
    await w.waitFor(
      (e) => e.event === 'route' && e.action === 'withdraw' && e.prefix === '203.0.113.0/24',
      "A's routes withdrawn",
    );
    const en = await cliA(['neighbor', 'enable', B]);
    assert.equal(en.status, 0, en.stderr);
    await w.waitFor((e) => e.event === 'session' && e.to === 'established', 'session up again');
    await w.waitFor(
      (e) => e.event === 'route' && e.action === 'best' && e.prefix === '203.0.113.0/24',
      "A's routes back",
    );
    w.proc.kill('SIGINT');
    assert.equal(await w.exited, 0);
  });

  it('route add --file (JSON) and route delete --file (text, prefixes only)', async () => {
    const file = join(dirA, 'routes.json');
    writeFileSync(
      file,
      JSON.stringify({ routes: [{ prefix: '10.30.0.0/16', communities: ['65001:30'] }, { prefix: '10.31.0.0/16' }] }),
    );
    const add = await cliA(['route', 'add', '--file', file, '--json']);
    assert.equal(add.status, 0, add.stderr);
    assert.deepEqual(JSON.parse(add.stdout), { accepted: 2 });
    const del = join(dirA, 'delete.txt');
    writeFileSync(del, '10.30.0.0/16 community 65001:30\n10.31.0.0/16\n10.32.0.0/16\n');
    const r = await cliA(['route', 'delete', '--file', del]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'withdrew 2 routes; 1 not found\n');
    const mixed = await cliA(['route', 'add', '--file', file, '--med', '5']);
    assert.equal(mixed.status, 2);
  });

  it('neighbor add / set / show / reset / delete', async () => {
    const add = await cliA([
      'neighbor',
      'add',
      '127.0.70.9',
      '--asn',
      '65009',
      '--passive',
      '--description',
      'test peer',
      '--families',
      'ipv4',
    ]);
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout, /^added neighbor 127\.0\.70\.9 \(AS 65009\): /);
    const dup = await cliA(['neighbor', 'add', '127.0.70.9', '--asn', '65009']);
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /\(HTTP 409 neighbor_exists\)\n$/);
    const set = await cliA(['neighbor', 'set', '127.0.70.9', '--description', 'renamed', '--hold-time', '30']);
    assert.equal(set.status, 0, set.stderr);
    const show = JSON.parse((await cliA(['neighbor', 'show', '127.0.70.9', '--json'])).stdout);
    assert.equal(show.description, 'renamed');
    assert.deepEqual(show.families, ['ipv4-unicast']);
    const list = await runCli(['neighbor', 'list'], envRead());
    assert.match(list.stdout, /^127\.0\.70\.9\s+65009\s+\w+\s+-\s+0\/0\s+0\/0\s+renamed$/m);
    const soft = await cliA(['neighbor', 'reset', B, '--soft', 'out']);
    assert.equal(soft.status, 0, soft.stderr);
    assert.equal(soft.stdout, `soft-out reset of neighbor ${B} done\n`);
    const badSoft = await cliA(['neighbor', 'reset', B, '--soft', 'sideways']);
    assert.equal(badSoft.status, 2);
    const badInt = await cliA(['neighbor', 'set', '127.0.70.9', '--hold-time', 'soon']);
    assert.equal(badInt.status, 2);
    const badValue = await cliA(['neighbor', 'set', '127.0.70.9', '--hold-time', '2']);
    assert.equal(badValue.status, 1);
    assert.match(badValue.stderr, /hold_time.*\(HTTP 400 bad_request\)\n$/);
    const del = await cliA(['neighbor', 'delete', '127.0.70.9']);
    assert.equal(del.status, 0, del.stderr);
    const gone = await cliA(['neighbor', 'show', '127.0.70.9']);
    assert.equal(gone.status, 1);
    assert.equal(gone.stderr, 'tsbgp: no neighbor 127.0.70.9 is configured (HTTP 404 neighbor_not_found)\n');
  });

  it('neighbor adj-out on A and adj-in on B show the same prefixes', async () => {
    const out = await cliA(['neighbor', 'adj-out', B, 'ipv4', '--json']);
    assert.equal(out.status, 0, out.stderr);
    const inB = await cliB(['neighbor', 'adj-in', A, 'ipv4', '--json']);
    assert.equal(inB.status, 0, inB.stderr);
    const prefixes = (s: string) => (JSON.parse(s) as { routes: Route[] }).routes.map((r) => r.prefix).sort();
    assert.ok(prefixes(out.stdout).includes('203.0.113.0/24'));
    assert.deepEqual(prefixes(inB.stdout), prefixes(out.stdout));
  });

  it('metrics on A count the messages of the session with B', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      https
        .get(`${API_A}/metrics`, { ca: readFileSync(ca), headers: { authorization: `Bearer ${READ}` } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    const value = (name: string) => Number(new RegExp(`^${name}\\{peer="${B}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    assert.ok(value('bgp_received_open_total') >= 2, 'an OPEN per session (disabled and enabled once)');
    assert.ok(value('bgp_sent_open_total') >= 2);
    assert.ok(value('bgp_received_keepalive_total') >= 2);
    assert.ok(value('bgp_sent_update_total') >= 1);
    assert.ok(value('bgp_sent_notification_total') >= 1, 'the Cease of the disable');
    assert.ok(value('bgp_peer_flop_count') >= 1);
    assert.match(
      text,
      new RegExp(`^bgp_peer_state\\{peer="${B}",session_state="established",admin_state="up"\\} 6$`, 'm'),
    );
  });

  it('daemon --check refuses a public API without tokens, and names a missing tokens file', async () => {
    const dir = tempDir();
    const base = '[global]\nasn = 65000\nrouter_id = "192.0.2.1"\nlisten = []\n';
    writeFileSync(join(dir, 'open.toml'), `${base}[api]\nlisten = "0.0.0.0:8179"\n`);
    const open = await runCli(['daemon', '--config', join(dir, 'open.toml'), '--check']);
    assert.equal(open.status, 1);
    assert.equal(
      open.stderr,
      'api.listen: 0.0.0.0:8179 is not a loopback address; set api.tokens_file (bearer tokens) to serve the API beyond this host\n',
    );
    writeFileSync(join(dir, 'missing.toml'), `${base}[api]\nlisten = "0.0.0.0:8179"\ntokens_file = "nope"\n`);
    const missing = await runCli(['daemon', '--config', join(dir, 'missing.toml'), '--check']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, `${join(dir, 'nope')}: cannot read the tokens file: no such file\n`);
    const start = await runCli(['daemon', '--config', join(dir, 'missing.toml'), '--log-level', 'silent']);
    assert.equal(start.status, 1);
    assert.equal(start.stderr, `tsbgp: ${join(dir, 'nope')}: cannot read the tokens file: no such file\n`);
  });
});
