// tsbgp as the system under test: `bin/tsbgp daemon --config FILE` (TOML per docs/config.md), ready when it prints
// the line starting "tsbgp ready"; its API on 127.0.0.1:8179 inside the benchmark's namespace. Every neighbour is
// passive with both families; IPv6 routes towards an IPv4 session get the SUT's IPv6 address as next hop.
// The longest event-loop delay is read from the API when the daemon exposes it (GET /api/v1/health, or GET /metrics).

import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'smol-toml';
import { ManagedProcess } from '../../test/interop/harness/util.ts';
import { type DaemonModule, DaemonSut, run, type SutConfig } from './common.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin/tsbgp');
const API = '127.0.0.1:8179';

function configText(c: SutConfig): string {
  return stringify({
    global: { asn: c.asn, router_id: c.routerId, listen: [`${c.address4}:179`, `[${c.address6}]:179`] },
    api: { listen: API },
    neighbors: c.neighbors.map((n) => ({
      address: n.address,
      asn: n.asn,
      passive: true,
      hold_time: c.holdTime,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      local_address: c.address4,
      next_hop_ipv4: c.address4,
      next_hop_ipv6: c.address6,
    })),
  });
}

/** Finds a number under a key that looks like a maximum event-loop delay, at any depth of a JSON value. */
function findLoopDelay(v: unknown, path = ''): { ms: number; key: string } | null {
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      if (typeof x === 'number' && /loop/i.test(p) && /max/i.test(p)) {
        // Seconds or milliseconds, by the key's unit suffix.
        const ms = /_s$|seconds/i.test(k) ? x * 1000 : /_ns$/i.test(k) ? x / 1e6 : x;
        return { ms, key: p };
      }
      const deeper = findLoopDelay(x, p);
      if (deeper) return deeper;
    }
  }
  return null;
}

class Tsbgp extends DaemonSut {
  readonly name = 'tsbgp';
  readonly apiBase = `http://${API}`;
  private ready = false;

  async start(): Promise<void> {
    const conf = join(this.c.dir, 'tsbgp.toml');
    await writeFile(conf, configText(this.c));
    const proc = new ManagedProcess('tsbgp', BIN, ['daemon', '--config', conf], {
      logFile: join(this.c.dir, 'tsbgp.log'),
      onStdoutLine: (line) => {
        if (line.startsWith('tsbgp ready')) this.ready = true;
      },
    });
    await this.launch(proc, () => this.ready, 'the "tsbgp ready" line', { timeoutMs: 30_000, tailChars: 2000 });
  }

  async maxLoopDelayMs(): Promise<{ value: number | null; note: string }> {
    try {
      const h = await fetch(`${this.apiBase}/api/v1/health`);
      if (h.ok) {
        const found = findLoopDelay(await h.json());
        if (found) return { value: Math.round(found.ms * 10) / 10, note: `GET /api/v1/health ${found.key}` };
      }
      const m = await fetch(`http://${API}/metrics`);
      if (m.ok) {
        const text = await m.text();
        const line = text.split('\n').find((l) => !l.startsWith('#') && /event_?loop.*(max|lag_max)/i.test(l));
        if (line) {
          const [name = '', value = ''] = line.trim().split(/\s+/);
          const x = Number(value);
          return { value: /seconds/.test(name) ? Math.round(x * 10000) / 10 : x, note: `GET /metrics ${name}` };
        }
      }
      return { value: null, note: 'not exposed by the daemon yet (neither /api/v1/health nor /metrics)' };
    } catch (err) {
      return { value: null, note: `API unreachable: ${(err as Error).message}` };
    }
  }
}

export const tsbgp: DaemonModule = {
  name: 'tsbgp',
  async unavailable() {
    const r = await run(BIN, ['--version']);
    return r.code === 0 ? null : `bin/tsbgp --version failed: ${(r.stderr || r.stdout).trim().slice(0, 200)}`;
  },
  async version() {
    const r = await run(BIN, ['--version']);
    let rev = '';
    const g = await run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
    if (g.code === 0) rev = ` (${g.stdout.trim()})`;
    return `${r.stdout.trim()}${rev}`;
  },
  create: (c) => new Tsbgp(c),
};
