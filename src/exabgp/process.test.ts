import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parsePrefix } from '../wire/index.ts';
import type { NeighborInfo } from './commands.ts';
import { type HostOptions, type ProcessConfig, ProcessHost } from './process.ts';
import { RecordingSink, type SinkCall, summarize, waitFor } from './testing.ts';

const peer2: NeighborInfo = {
  address: '192.0.2.2',
  localAddress: '192.0.2.1',
  localAs: 65000,
  peerAs: 65001,
  routerId: '192.0.2.1',
  established: false,
};

function config(run: string | string[], extra: Partial<ProcessConfig> = {}): ProcessConfig {
  return {
    name: 'helper',
    run,
    encoder: 'text',
    neighbors: [],
    ack: true,
    neighborChanges: false,
    receiveUpdates: false,
    respawn: true,
    ...extra,
  };
}

/** A host whose log lines (the program's stderr among them) are also events. */
function host(cfg: ProcessConfig, sink: RecordingSink, options: HostOptions = {}) {
  const logs = new EventEmitter();
  const lines: string[] = [];
  const h = new ProcessHost(cfg, sink, {
    termDelayMs: 50,
    stopTimeoutMs: 3000,
    ...options,
    logger: (level, message) => {
      lines.push(`${level}: ${message}`);
      logs.emit('line', message);
    },
  });
  const stderr = (re: RegExp) =>
    waitFor<[string]>(logs, 'line', (m) => re.test(m), 15_000, `stderr ${re}`).then(([m]) => m);
  return { h, lines, stderr };
}

function calls(sink: RecordingSink, n: number, pred: (c: SinkCall) => boolean = () => true): Promise<void> {
  let seen = sink.calls.filter(pred).length;
  if (seen >= n) return Promise.resolve();
  return waitFor<[SinkCall]>(sink, 'call', (c) => pred(c) && ++seen >= n, 20_000, `${n} sink call(s)`).then(() => {});
}

describe('ProcessHost with a shell helper', () => {
  test('commands run in order; each is answered done or error on stdin', async () => {
    const sink = new RecordingSink([peer2]);
    const script = [
      'echo "announce route 192.0.2.1/32 next-hop self med 10"; read a; echo "ack1=$a" >&2',
      'echo "nonsense"; read b; echo "ack2=$b" >&2',
      'echo "version"; read v; read d; echo "ver=$v/$d" >&2',
      'echo "neighbor 192.0.2.9 announce route 192.0.2.3/32 next-hop self"; read n; echo "ack3=$n" >&2',
      'echo "withdraw route 192.0.2.1/32"; read c; echo "ack4=$c" >&2',
      'echo "announce eor"; read e; echo "ack5=$e" >&2',
      'echo "# just a comment"; read f; echo "ack6=$f" >&2',
      'exec cat >/dev/null',
    ].join('\n');
    const { h, lines, stderr } = host(config(script), sink);
    h.start();
    await stderr(/ack6=/);
    assert.deepEqual(
      lines.filter((l) => /ack\d=|ver=/.test(l)).map((l) => l.replace(/^info: process helper: /, '')),
      ['ack1=done', 'ack2=error', 'ver=exabgp 4.0.1/done', 'ack3=error', 'ack4=done', 'ack5=error', 'ack6=done'],
    );
    assert.deepEqual(sink.summary(), ['announce 192.0.2.1/32 nh=self med=10', 'withdraw 192.0.2.1/32']);
    // No selector and no neighbours in the process config: the routes are for every neighbour.
    assert.deepEqual(sink.calls[0]!.target, { all: true, neighbors: ['192.0.2.2'] });
    assert.equal(sink.calls[0]!.proc.generation, 1);
    assert.deepEqual(h.status().commands, { ok: 4, error: 3 });
    assert.ok(lines.some((l) => l.includes('nonsense: unknown command "nonsense"')));
    assert.ok(lines.some((l) => l.includes('no neighbor matching the command')));
    await h.stop();
    assert.deepEqual(sink.summary().slice(-1), ['withdrawAll']);
  });

  test('ack off: nothing but replies is written', async () => {
    const sink = new RecordingSink();
    const script =
      'echo "announce route 192.0.2.1/32 next-hop self"; echo version; read first; echo "first=$first" >&2; exec cat >/dev/null';
    const { h, stderr } = host(config(script, { ack: false }), sink);
    h.start();
    assert.match(await stderr(/first=/), /first=exabgp 4\.0\.1$/);
    await h.stop();
  });

  test('the selector and the process neighbour list narrow the target', async () => {
    const peers: NeighborInfo[] = [peer2, { ...peer2, address: '192.0.2.3', peerAs: 65003, established: true }];
    const sink = new RecordingSink(peers);
    const script = [
      'echo "neighbor 192.0.2.3 announce route 10.0.0.0/8 next-hop self"; read a',
      'echo "announce route 10.1.0.0/16 next-hop self"; read b',
      'echo "neighbor 192.0.2.2 announce route 10.2.0.0/16 next-hop self"; read c; echo "c=$c" >&2',
      'echo "announce eor ipv6 unicast"; read d',
      'echo "announce route-refresh ipv4 unicast"; read e; echo "e=$e" >&2',
      'exec cat >/dev/null',
    ].join('\n');
    const { h, stderr } = host(config(script, { neighbors: ['192.0.2.3'] }), sink);
    h.start();
    await stderr(/e=/);
    assert.deepEqual(
      sink.calls.map((c) => [summarize(c), c.target]),
      [
        ['announce 10.0.0.0/8 nh=self', { all: false, neighbors: ['192.0.2.3'] }],
        ['announce 10.1.0.0/16 nh=self', { all: false, neighbors: ['192.0.2.3'] }],
        ['eor 2/1 ipv6-unicast', { all: false, neighbors: ['192.0.2.3'] }],
        ['route-refresh 1/1', { all: false, neighbors: ['192.0.2.3'] }],
      ],
    );
    await h.stop();
  });

  test('an HA2BGP-style script (trailing space, discards stdin) announces a host route; stop withdraws it', async () => {
    const sink = new RecordingSink();
    const { h } = host(config('printf "announce route 127.0.0.1 next-hop self \\n"; exec cat > /dev/null'), sink);
    h.start();
    await calls(sink, 1);
    const c = sink.calls[0]!;
    assert.equal(summarize(c), 'announce 127.0.0.1/32 nh=self');
    assert.equal(parsePrefix(c.routes!.prefixes[0]!).family, 'ipv4-unicast');
    await h.stop();
    assert.deepEqual(sink.summary(), ['announce 127.0.0.1/32 nh=self', 'withdrawAll']);
    assert.equal(h.status().running, false);
  });

  test('stop() sends the encoder shutdown line before terminating (text and json)', async () => {
    for (const encoder of ['text', 'json'] as const) {
      const sink = new RecordingSink();
      const { h, stderr } = host(config('while read l; do echo "got:$l" >&2; done', { encoder }), sink);
      h.start();
      await waitFor(h, 'spawn', () => true);
      const got = stderr(/got:/);
      await h.stop();
      const line = await got;
      if (encoder === 'text') assert.match(line, /got:shutdown$/);
      else
        assert.equal(
          (JSON.parse(line.slice(line.indexOf('got:') + 4)) as { notification: string }).notification,
          'shutdown',
        );
    }
  });

  test('neighbour changes and received updates go to programs that asked, for neighbours they speak for', async () => {
    const sink = new RecordingSink();
    const { h, stderr, lines } = host(
      config('while read l; do echo "got:$l" >&2; done', {
        neighbors: ['192.0.2.2'],
        neighborChanges: true,
        receiveUpdates: true,
      }),
      sink,
    );
    h.start();
    await waitFor(h, 'spawn', () => true);
    const id = { localAddress: '192.0.2.1', peerAddress: '192.0.2.2', localAs: 65000, peerAs: 65001 };
    h.notifyState({ ...id, peerAddress: '192.0.2.3' }, 'up');
    h.notifyState(id, 'up');
    h.notifyUpdate(id, 'receive', {
      type: 'update',
      withdrawn: [{ family: 'ipv4-unicast', prefixes: [parsePrefix('10.0.0.0/8').key], pathIds: null }],
      announced: [],
      attributes: null,
      treatAsWithdraw: false,
      errors: [],
    });
    h.notifyState(id, 'down', 'hold timer expired');
    await stderr(/got:neighbor 192.0.2.2 down/);
    assert.deepEqual(
      lines.filter((l) => l.includes('got:')).map((l) => l.slice(l.indexOf('got:') + 4)),
      [
        'neighbor 192.0.2.2 up',
        'neighbor 192.0.2.2 receive update start',
        'neighbor 192.0.2.2 receive update withdrawn 10.0.0.0/8',
        'neighbor 192.0.2.2 receive update end',
        'neighbor 192.0.2.2 down - hold timer expired',
      ],
    );
    await h.stop();
  });
});

describe('ProcessHost lifecycle', () => {
  test('a program that dies has its routes withdrawn and is respawned — until it died more than 5 times in 64 s', async () => {
    const sink = new RecordingSink();
    const { h } = host(config('echo "announce route 192.0.2.7/32 next-hop self"; read a; exit 3'), sink);
    const gaveUp = waitFor<[number]>(h, 'gave-up', () => true, 30_000);
    h.start();
    assert.deepEqual(await gaveUp, [6]);
    const s = sink.calls.map((c) => `${c.method}#${c.proc.generation}`);
    const want: string[] = [];
    for (let g = 1; g <= 6; g++) want.push(`announce#${g}`, `withdrawAll#${g}`);
    assert.deepEqual(s, want);
    const st = h.status();
    assert.equal(st.starts, 6);
    assert.equal(st.gaveUp, true);
    assert.equal(st.running, false);
    assert.deepEqual(st.lastExit && [st.lastExit.code, st.lastExit.signal], [3, null]);
    assert.match(st.lastError ?? '', /died 6 times within 64 s/);
    await h.stop();
  });

  test('deaths spread over more than the window keep it respawning (injected clock)', async () => {
    const sink = new RecordingSink();
    let t = 0;
    const { h } = host(config('exit 1'), sink, { now: () => (t += 20_000) });
    h.start();
    await calls(sink, 8, (c) => c.method === 'withdrawAll');
    await h.stop();
    assert.equal(h.status().gaveUp, false);
    assert.ok(h.status().starts >= 8);
  });

  test('respawn = false: one run only', async () => {
    const sink = new RecordingSink();
    const { h } = host(config('exit 0', { respawn: false }), sink);
    h.start();
    await waitFor(h, 'exit', () => true);
    await calls(sink, 1);
    assert.equal(h.status().starts, 1);
    await h.stop();
  });

  test('a program that cannot be started is reported', async () => {
    const sink = new RecordingSink();
    const { h, lines } = host(config(['/nonexistent/helper'], { respawn: false }), sink);
    h.start();
    await calls(sink, 1);
    await h.stop();
    assert.ok(
      lines.some((l) => /cannot start: spawn \/nonexistent\/helper ENOENT/.test(l)),
      lines.join('\n'),
    );
  });

  test('a program that ignores SIGTERM is killed after stopTimeoutMs', async () => {
    const sink = new RecordingSink();
    const { h } = host(config("trap '' TERM; while :; do sleep 0.05; done"), sink, { stopTimeoutMs: 300 });
    h.start();
    await waitFor(h, 'spawn', () => true);
    await h.stop();
    assert.equal(h.status().lastExit?.signal, 'SIGKILL');
  });

  test('an overlong line is answered error and skipped', async () => {
    const sink = new RecordingSink();
    const script = `head -c 5000 /dev/zero | tr '\\0' 'x'; echo; read a; echo "a=$a" >&2; echo "announce route 10.0.0.0/8 next-hop self"; read b; echo "b=$b" >&2; exec cat >/dev/null`;
    const { h, stderr } = host(config(script), sink, { maxLineLength: 1000 });
    h.start();
    await stderr(/b=/);
    assert.deepEqual(sink.summary(), ['announce 10.0.0.0/8 nh=self']);
    assert.equal(h.status().commands.error, 1);
    await h.stop();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// ExaBGP's own healthcheck program, run unchanged.

const HAVE_EXABGP =
  existsSync('/usr/bin/python3') && existsSync('/usr/lib/python3/dist-packages/exabgp/application/healthcheck.py');

describe("Debian's ExaBGP healthcheck under ProcessHost", {
  skip: HAVE_EXABGP ? false : "Debian's exabgp is not installed",
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-hc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function healthcheck(name: string, extra: string): { cmd: string; up: string; disabled: string } {
    const up = join(dir, `${name}.up`);
    const disabled = join(dir, `${name}.disabled`);
    writeFileSync(up, '');
    // --no-ip-setup: as root it would otherwise add 198.51.100.10 to lo. No --next-hop: ExaBGP 4.2's healthcheck
    // rejects "--next-hop self" ("invalid fixed value") and prints "next-hop self" when none is given.
    const cmd =
      `/usr/bin/python3 -m exabgp healthcheck --cmd 'test -f ${up}' --interval 1 --fast-interval 1 --rise 1 --fall 1 ` +
      `--timeout 5 --ip 198.51.100.10 --no-syslog --no-ip-setup --disable ${disabled} ${extra}`;
    return { cmd, up, disabled };
  }

  test('announces with the up metric, changes MED when the check fails and when disabled, withdraws on SIGTERM', async () => {
    const hc = healthcheck('med', '--up-metric 100 --down-metric 1000 --disabled-metric 500 --community 65000:1');
    const sink = new RecordingSink();
    const { h } = host(config(hc.cmd), sink);
    h.start();
    const isMed = (m: number) => (c: SinkCall) => c.method === 'announce' && c.routes?.attributes.med === m;
    await calls(sink, 2, isMed(100)); // two announcements: the host answered the first one's ack
    const first = sink.calls.find(isMed(100))!;
    assert.deepEqual(first.routes?.prefixes, ['198.51.100.10/32']);
    assert.equal(first.routes?.nextHop, 'self');
    assert.deepEqual(first.routes?.attributes.communities, [((65000 << 16) | 1) >>> 0]);
    unlinkSync(hc.up);
    await calls(sink, 1, isMed(1000));
    writeFileSync(hc.disabled, '');
    await calls(sink, 1, isMed(500));
    assert.equal(h.status().commands.error, 0);
    const n = sink.calls.length;
    await h.stop();
    // Its SIGTERM handler withdraws and waits for our ack; then the host withdraws whatever is left.
    assert.deepEqual(sink.summary().slice(n), ['withdraw 198.51.100.10/32 nh=self', 'withdrawAll']);
  });

  test('--withdraw-on-down withdraws when the check fails and announces again when it passes', async () => {
    const hc = healthcheck('wod', '--withdraw-on-down');
    const sink = new RecordingSink();
    const { h } = host(config(hc.cmd, { encoder: 'json' }), sink);
    h.start();
    await calls(sink, 1, (c) => c.method === 'announce');
    unlinkSync(hc.up);
    await calls(sink, 1, (c) => c.method === 'withdraw');
    writeFileSync(hc.up, '');
    const announcedBefore = sink.calls.filter((c) => c.method === 'announce').length;
    await calls(sink, announcedBefore + 1, (c) => c.method === 'announce');
    await h.stop();
    const seq = sink.summary().filter((s, i, a) => s !== a[i - 1]);
    assert.deepEqual(seq.slice(0, 3), [
      'announce 198.51.100.10/32 nh=self med=100',
      'withdraw 198.51.100.10/32 nh=self',
      'announce 198.51.100.10/32 nh=self med=100',
    ]);
  });
});
