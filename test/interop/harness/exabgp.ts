// ExaBGP 4.2 as an interop peer, run with the system Python (`/usr/bin/python3 -m exabgp CONF`) in the foreground.
// ExaBGP has no query CLI of its own: an API process (api.py, written next to the config) is its window. ExaBGP writes
// every received UPDATE/NOTIFICATION/state change to the process's stdin as JSON (`encoder json`, `receive { parsed;
// update; notification; refresh; }`, `neighbor-changes`), and api.py appends each line to received.jsonl; commands
// for ExaBGP (`announce route …`, `withdraw route …`, `announce route-refresh …`) are appended by this module to
// commands.txt, which api.py tails and copies to its stdout, where ExaBGP reads them.
// routes() replays received.jsonl: announces and withdrawals per (peer, prefix), cleared when the peer goes down.
// Environment quirks: as root ExaBGP drops privileges unless exabgp.daemon.user=root; exabgp.daemon.daemonize=false
// keeps it in the foreground; exabgp.tcp.bind makes it listen only on its own addresses.

import { existsSync } from 'node:fs';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseDaemon, sortRoutes } from './base.ts';
import type { Announcement, Family, PeerNeighbor, Route, SessionState } from './types.ts';
import { ManagedProcess } from './util.ts';

const API_PY = `# tsbgp interop harness: ExaBGP API process (see test/interop/harness/exabgp.ts)
import os, sys, threading, time
here = os.path.dirname(os.path.abspath(__file__))
received = open(os.path.join(here, 'received.jsonl'), 'a', buffering=1)
commands = os.path.join(here, 'commands.txt')

def feed():
    pos = 0
    while True:
        try:
            with open(commands) as f:
                f.seek(pos)
                data = f.read()
                # only whole lines
                cut = data.rfind('\\n') + 1
                if cut:
                    sys.stdout.write(data[:cut])
                    sys.stdout.flush()
                    pos += len(data[:cut].encode())
        except FileNotFoundError:
            pass
        time.sleep(0.05)

threading.Thread(target=feed, daemon=True).start()
open(os.path.join(here, 'api.ready'), 'w').close()
for line in sys.stdin:
    received.write(line if line.endswith('\\n') else line + '\\n')
`;

interface ExaMessage {
  type?: string;
  neighbor?: {
    address?: { local?: string; peer?: string };
    state?: string;
    reason?: string;
    direction?: string;
    message?: {
      update?: {
        attribute?: ExaAttributes;
        announce?: Record<string, Record<string, ({ nlri?: string } | string)[]>>;
        withdraw?: Record<string, ({ nlri?: string } | string)[]>;
      };
      notification?: { code?: number; subcode?: number; data?: string };
    };
  };
  // notification messages put code/subcode directly under neighbor in some versions
}

interface ExaAttributes {
  origin?: string;
  'as-path'?: number[] | Record<string, { element: string; value: number[] }>;
  med?: number;
  'local-preference'?: number;
  community?: [number, number][];
  'large-community'?: [number, number, number][];
}

export interface ExaNeighbor extends PeerNeighbor {
  /** `capability { asn4 disable; }`: a 2-octet-only speaker (RFC 6793 §4.2 on the other side). */
  asn4?: boolean;
}

export class ExaBgp extends BaseDaemon {
  readonly name = 'exabgp';

  private get received() {
    return join(this.dir, 'received.jsonl');
  }

  private neighborConf(n: ExaNeighbor): string {
    const fams = this.familiesOf(n)
      .map((f) => (f === 'ipv4-unicast' ? 'ipv4 unicast;' : 'ipv6 unicast;'))
      .join(' ');
    return `neighbor ${n.address} {
  router-id ${this.opts.router_id};
  local-address ${this.localFor(n)};
  local-as ${this.opts.asn};
  peer-as ${n.asn};
  hold-time ${n.hold_time ?? this.opts.hold_time};
  passive ${n.passive ? 'true' : 'false'};
  family { ${fams} }
  capability {
    route-refresh;
${n.asn4 === false ? '    asn4 disable;\n' : ''}  }
  api {
    processes [ harness ];
    neighbor-changes;
    receive { parsed; update; notification; refresh; }
  }
}
`;
  }

  protected async launch(): Promise<void> {
    await writeFile(join(this.dir, 'api.py'), API_PY);
    await rm(join(this.dir, 'api.ready'), { force: true });
    // Commands of an earlier run must not be replayed; routes are re-announced below.
    await writeFile(join(this.dir, 'commands.txt'), '');
    const conf = `process harness {
  run /usr/bin/python3 ${join(this.dir, 'api.py')};
  encoder json;
}

${this.opts.neighbors.map((n) => this.neighborConf(n)).join('\n')}`;
    const confFile = join(this.dir, 'exabgp.conf');
    await writeFile(confFile, conf);
    await appendFile(this.received, '');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      'exabgp.daemon.user': 'root',
      'exabgp.daemon.daemonize': 'false',
      'exabgp.daemon.pid': join(this.dir, 'exabgp.pid'),
      'exabgp.log.destination': 'stdout',
      'exabgp.log.level': 'INFO',
      'exabgp.tcp.bind': `${this.opts.address4} ${this.opts.address6}`,
      'exabgp.tcp.port': '179',
      'exabgp.api.ack': 'false',
      'exabgp.api.cli': 'false',
    };
    this.proc = new ManagedProcess('exabgp', '/usr/bin/python3', ['-m', 'exabgp', confFile], {
      logFile: join(this.dir, 'exabgp.log'),
      env,
    });
    const proc = this.proc;
    // Ready once its API process runs (commands are queued in a file, so nothing is lost before that).
    await proc.waitReady(() => existsSync(join(this.dir, 'api.ready')), {
      timeoutMs: 15_000,
      what: 'exabgp to start its API process',
      tailChars: 2000,
    });
    for (const r of this.announced.values()) await this.command(this.announceCommand(r));
  }

  async command(line: string): Promise<void> {
    await appendFile(join(this.dir, 'commands.txt'), `${line}\n`);
  }

  private announceCommand(a: Announcement): string {
    const v6 = a.prefix.includes(':');
    const parts = [
      'announce route',
      a.prefix,
      'next-hop',
      a.next_hop ?? (v6 ? this.opts.address6 : this.opts.address4),
    ];
    if (a.med !== undefined) parts.push('med', String(a.med));
    if (a.local_pref !== undefined) parts.push('local-preference', String(a.local_pref));
    if (a.communities?.length) parts.push('community', `[ ${a.communities.join(' ')} ]`);
    if (a.large_communities?.length) parts.push('large-community', `[ ${a.large_communities.join(' ')} ]`);
    if (a.as_path?.length) parts.push('as-path', `[ ${a.as_path.join(' ')} ]`);
    return parts.join(' ');
  }

  private async messages(): Promise<ExaMessage[]> {
    let text = '';
    try {
      text = await readFile(this.received, 'utf8');
    } catch {
      return [];
    }
    const out: ExaMessage[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as ExaMessage);
      } catch {
        // a line being written
      }
    }
    return out;
  }

  /** Every message ExaBGP reported for `neighbor`, raw (for tests that look at details such as the AS path form). */
  async messagesFrom(neighbor: string): Promise<ExaMessage[]> {
    return (await this.messages()).filter((m) => m.neighbor?.address?.peer === neighbor);
  }

  async neighborState(neighbor: string): Promise<SessionState> {
    let state: SessionState = 'idle';
    for (const m of await this.messagesFrom(neighbor)) {
      if (m.type !== 'state') continue;
      const s = m.neighbor?.state;
      state = s === 'up' ? 'established' : s === 'connected' ? 'opensent' : 'idle';
    }
    return state;
  }

  async lastError(neighbor: string): Promise<string> {
    let last = '';
    for (const m of await this.messagesFrom(neighbor)) {
      const n = m.neighbor?.message?.notification;
      if (m.type === 'notification' && n) {
        last = `notification ${m.neighbor?.direction ?? ''} ${n.code}/${n.subcode} data ${n.data ?? ''}`.trim();
      } else if (m.type === 'state' && m.neighbor?.state === 'down' && m.neighbor.reason) {
        last = m.neighbor.reason;
      }
    }
    return last;
  }

  async routes(family: Family): Promise<Route[]> {
    const key = family === 'ipv4-unicast' ? 'ipv4 unicast' : 'ipv6 unicast';
    const table = new Map<string, Route>();
    for (const m of await this.messages()) {
      const peer = m.neighbor?.address?.peer ?? '';
      if (m.type === 'state' && m.neighbor?.state === 'down') {
        for (const k of [...table.keys()]) if (k.startsWith(`${peer} `)) table.delete(k);
        continue;
      }
      const u = m.neighbor?.message?.update;
      if (m.type !== 'update' || !u) continue;
      for (const w of u.withdraw?.[key] ?? []) table.delete(`${peer} ${nlriOf(w)}`);
      const byNextHop = u.announce?.[key];
      if (!byNextHop) continue;
      for (const [nh, nlris] of Object.entries(byNextHop)) {
        for (const n of nlris) {
          const prefix = nlriOf(n);
          table.set(`${peer} ${prefix}`, exaRoute(prefix, nh, u.attribute ?? {}, peer));
        }
      }
    }
    return sortRoutes([...table.values()]);
  }

  async announce(route: Announcement): Promise<void> {
    this.announced.set(route.prefix, route);
    await this.command(this.announceCommand(route));
  }

  async withdraw(prefix: string): Promise<void> {
    const a = this.announced.get(prefix);
    this.announced.delete(prefix);
    const v6 = prefix.includes(':');
    await this.command(
      `withdraw route ${prefix} next-hop ${a?.next_hop ?? (v6 ? this.opts.address6 : this.opts.address4)}`,
    );
  }

  async requestRefresh(neighbor: string): Promise<void> {
    const n = this.neighbor(neighbor);
    for (const f of this.familiesOf(n)) {
      await this.command(
        `neighbor ${neighbor} announce route-refresh ${f === 'ipv4-unicast' ? 'ipv4' : 'ipv6'} unicast`,
      );
    }
  }

  async counters(neighbor: string): Promise<{ updatesReceived: number }> {
    return { updatesReceived: (await this.messagesFrom(neighbor)).filter((m) => m.type === 'update').length };
  }
}

function nlriOf(n: { nlri?: string } | string): string {
  return typeof n === 'string' ? n : (n.nlri ?? '');
}

export function exaAsPath(a: ExaAttributes['as-path']): number[] {
  if (!a) return [];
  if (Array.isArray(a)) return a;
  // 4.2 with AS_SETs: {"0": {"element": "as-sequence", "value": [...]}, ...}
  return Object.values(a).flatMap((s) => s.value);
}

function exaRoute(prefix: string, nh: string, a: ExaAttributes, from: string): Route {
  return {
    prefix,
    next_hop: nh,
    as_path: exaAsPath(a['as-path']),
    med: a.med ?? null,
    local_pref: a['local-preference'] ?? null,
    communities: (a.community ?? []).map(([x, y]) => `${x}:${y}`),
    large_communities: (a['large-community'] ?? []).map(([x, y, z]) => `${x}:${y}:${z}`),
    best: true,
    from,
  };
}
