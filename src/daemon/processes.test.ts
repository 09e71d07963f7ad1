// [[processes]] wired into the speaker, with real programs (small /bin/sh scripts) and scripted peers: routes a
// program announces reach the RIB and the peers (all of them, or the neighbours a command names), withdrawals per
// neighbour, watchdogs, a dead program's routes withdrawn, neighbour state changes and received UPDATEs written to the
// program in ExaBGP's formats, a changed program restarted on reload, and the view the API serves.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { parsePrefix } from '../wire/index.ts';
import type { Speaker } from './speaker.ts';
import { announce, config, fakeSpeaker, GLOBAL_TOML, neighborToml } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsbgp-processes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `${GLOBAL_TOML}
${neighborToml('192.0.2.2', 65001)}
${neighborToml('192.0.2.3', 65003)}`;

/** A [[processes]] table running `commands` (printed at once), then copying its stdin to `capture`. */
function proc(name: string, commands: string[], capture: string, extra = ''): string {
  const printf = commands.map((c) => `'${c}\\n'`).join(' ');
  const script = `for l in ${printf}; do printf "$l"; done; exec cat >> ${capture}`;
  return `
[[processes]]
name = "${name}"
run = ["/bin/sh", "-c", ${JSON.stringify(script)}]
${extra}
`;
}

/** Polls `fn` every 20 ms until it returns true (at most 10 s). */
async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sent(s: Speaker, neighbor: string, prefix: string) {
  const { family, key } = parsePrefix(prefix, true);
  return s.adjRibOut(neighbor, family, key, { limit: 10 }).routes[0];
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Speakers to shut down after each test, also when it failed (its programs must not outlive the run). */
const running = new Set<Speaker>();
afterEach(async () => {
  for (const s of running) await s.shutdown();
  running.clear();
});

async function start(toml: string) {
  const { speaker: s, peers } = fakeSpeaker(toml, {
    shutdownGraceMs: 200,
    processOptions: { stopTimeoutMs: 2000, termDelayMs: 10 },
  });
  running.add(s);
  await s.start();
  peers.latest('192.0.2.2').establish({ localAddress: '192.0.2.1' });
  peers.latest('192.0.2.3').establish({ localAddress: '192.0.2.1' });
  return { s, peers };
}

describe('processes in the speaker', () => {
  it('routes for every neighbour and for named ones; per-neighbour withdrawal; acks on stdin', async () => {
    const cap = join(dir, 'a.txt');
    const { s } = await start(
      BASE +
        proc(
          'a',
          [
            'announce route 198.51.100.20/32 next-hop self med 10',
            'neighbor 192.0.2.2 announce route 198.51.100.21 next-hop self',
            'announce route 198.51.100.22/32 next-hop self',
            'neighbor 192.0.2.3 withdraw route 198.51.100.22/32',
            'withdraw route 198.51.100.99/32',
            'bogus command',
          ],
          cap,
          'respawn = false',
        ),
    );
    await until(() => (s.processes()[0]?.commands.ok ?? 0) + (s.processes()[0]?.commands.error ?? 0) === 6, 'six acks');
    assert.equal(sent(s, '192.0.2.2', '198.51.100.20/32')?.med, 10);
    assert.equal(sent(s, '192.0.2.3', '198.51.100.20/32')?.med, 10);
    assert.ok(sent(s, '192.0.2.2', '198.51.100.21/32'), 'a bare address is a host route');
    assert.equal(sent(s, '192.0.2.3', '198.51.100.21/32'), undefined, 'only for the neighbour the command named');
    assert.ok(sent(s, '192.0.2.2', '198.51.100.22/32'));
    assert.equal(sent(s, '192.0.2.3', '198.51.100.22/32'), undefined, 'withdrawn from one neighbour only');
    const v = s.processes()[0]!;
    assert.equal(v.state, 'running');
    assert.equal(v.routes, 3);
    assert.deepEqual(v.commands, { ok: 5, error: 1 });
    await until(() => read(cap).split('\n').length > 6, 'acks written');
    assert.deepEqual(read(cap).trim().split('\n'), ['done', 'done', 'done', 'done', 'done', 'error']);
    // The program dies: its routes go.
    process.kill(v.pid!, 'SIGKILL');
    await until(() => sent(s, '192.0.2.2', '198.51.100.20/32') === undefined, 'routes withdrawn on death');
    assert.equal(sent(s, '192.0.2.2', '198.51.100.21/32'), undefined);
    await s.shutdown();
  });

  it('watchdogs: a route announced withdrawn waits for its watchdog; withdraw watchdog takes it away', async () => {
    const cap = join(dir, 'w.txt');
    const { s } = await start(
      BASE +
        proc(
          'w',
          [
            'announce route 198.51.100.30/32 next-hop self watchdog dog withdraw',
            'announce route 198.51.100.31/32 next-hop self watchdog dog',
          ],
          cap,
        ),
    );
    await until(() => s.processes()[0]?.commands.ok === 2, 'two commands');
    assert.equal(sent(s, '192.0.2.2', '198.51.100.30/32'), undefined);
    assert.ok(sent(s, '192.0.2.2', '198.51.100.31/32'));
    const r = s.reload(
      config(
        BASE +
          proc(
            'w',
            [
              'announce route 198.51.100.30/32 next-hop self watchdog dog withdraw',
              'announce watchdog dog',
              'announce route 198.51.100.32/32 next-hop self watchdog other',
              'withdraw watchdog other',
            ],
            cap,
          ),
      ),
    );
    assert.deepEqual(r.processes, { added: [], removed: [], restarted: ['w'] });
    await until(() => s.processes()[0]?.commands.ok === 4 && s.processes()[0]?.state === 'running', 'restarted');
    assert.ok(sent(s, '192.0.2.2', '198.51.100.30/32'), 'announced by its watchdog');
    assert.equal(sent(s, '192.0.2.2', '198.51.100.31/32'), undefined, "the old program's routes are gone");
    assert.equal(sent(s, '192.0.2.2', '198.51.100.32/32'), undefined);
    await s.shutdown();
  });

  it('neighbour changes and received UPDATEs go to the program in its encoder; shutdown at the end', async () => {
    const cap = join(dir, 'n.txt');
    const { speaker: s, peers } = fakeSpeaker(
      BASE +
        proc(
          'n',
          [],
          cap,
          'encoder = "json"\nneighbor_changes = true\nreceive_updates = true\nneighbors = ["192.0.2.2"]\nack = false',
        ),
      { processOptions: { stopTimeoutMs: 2000, termDelayMs: 10 } },
    );
    running.add(s);
    await s.start();
    await until(() => s.processes()[0]?.state === 'running', 'program running');
    const a = peers.latest('192.0.2.2');
    a.establish({ localAddress: '192.0.2.1' });
    peers.latest('192.0.2.3').establish({ localAddress: '192.0.2.1' });
    a.receive(announce(['203.0.113.0/24'], '192.0.2.2', [65001], { med: 5 }));
    a.drop({
      message: 'received NOTIFICATION 6/2',
      notification: { direction: 'received', code: 6, subcode: 2 },
    });
    await until(() => read(cap).includes('"state": "down"'), 'down message');
    const lines = read(cap)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const kinds = lines.map((m) => {
      const n = m.neighbor as Record<string, unknown>;
      return m.type === 'state' ? `state ${n.state}` : String(m.type);
    });
    assert.deepEqual(kinds, ['state connected', 'state up', 'update', 'notification', 'state down']);
    for (const m of lines) {
      const addr = (m.neighbor as { address: { peer: string } }).address.peer;
      assert.equal(addr, '192.0.2.2', 'only the neighbour the program speaks for');
    }
    const upd = JSON.stringify(lines[2]);
    assert.match(upd, /"203\.0\.113\.0\/24"/);
    assert.match(upd, /"med":5/);
    await s.shutdown();
    assert.match(read(cap), /"notification": "shutdown"/);
    assert.equal(s.processes().length, 0);
  });
});
