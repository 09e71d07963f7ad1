// GoBGP 3 as an interop peer: `gobgpd -f CONF.toml` listening only on its own addresses (local-address-list) with its
// gRPC API on 127.0.0.1:(50000 + last octet of its IPv4 address); pprof is disabled so several instances can coexist.
// Routes are read from `gobgp global rib -a FAMILY -j`, states from `gobgp neighbor ADDR -j`. GoBGP's neighbour JSON has
// no last error, so lastError() reads the NOTIFICATIONs and hold-timer expiries out of its JSON log (level info).
// idle-hold-time-after-reset is cut from 30 s to 1 s so that restarts re-establish quickly.

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseDaemon, sortRoutes } from './base.ts';
import type { Announcement, Family, PeerNeighbor, Route, SessionState } from './types.ts';
import { communityToString, ManagedProcess, notificationName, run, runOk } from './util.ts';

const STATES: SessionState[] = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];

function afiArg(family: Family): string {
  return family === 'ipv4-unicast' ? 'ipv4' : 'ipv6';
}

export class GoBgp extends BaseDaemon {
  readonly name = 'gobgp';

  get apiPort(): number {
    return 50000 + Number(this.opts.address4.split('.')[3]);
  }

  async gobgp(...args: string[]): Promise<string> {
    return runOk('gobgp', ['-p', String(this.apiPort), ...args]);
  }

  private neighborToml(n: PeerNeighbor): string {
    const fams = this.familiesOf(n)
      .map((f) => `  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "${f}"`)
      .join('\n');
    const hold = n.hold_time ?? this.opts.hold_time ?? 9;
    return `[[neighbors]]
  [neighbors.config]
    neighbor-address = "${n.address}"
    peer-as = ${n.asn}
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = ${hold}
    keepalive-interval = ${Math.max(1, Math.floor(hold / 3))}
    idle-hold-time-after-reset = 1
  [neighbors.transport.config]
    local-address = "${this.localFor(n)}"
    passive-mode = ${n.passive ? 'true' : 'false'}
${fams}
`;
  }

  private async writeConfig(): Promise<string> {
    const conf = `[global.config]
  as = ${this.opts.asn}
  router-id = "${this.opts.router_id}"
  port = 179
  local-address-list = ["${this.opts.address4}", "${this.opts.address6}"]

${this.opts.neighbors.map((n) => this.neighborToml(n)).join('\n')}`;
    const file = join(this.dir, 'gobgpd.toml');
    await writeFile(file, conf);
    return file;
  }

  protected async launch(): Promise<void> {
    const conf = await this.writeConfig();
    this.proc = new ManagedProcess(
      'gobgpd',
      'gobgpd',
      [
        '-f',
        conf,
        '-l',
        process.env.GOBGP_LOG_LEVEL ?? 'info',
        '--api-hosts',
        `127.0.0.1:${this.apiPort}`,
        '--pprof-disable',
      ],
      { logFile: join(this.dir, 'gobgpd.log') },
    );
    const proc = this.proc;
    await proc.waitReady(async () => (await run('gobgp', ['-p', String(this.apiPort), 'global'])).code === 0, {
      timeoutMs: 10_000,
      what: 'gobgpd API',
    });
    // Routes given at start (and those announced before a restart) are added through the API.
    for (const r of this.announced.values()) await this.addPath(r);
  }

  private async neighborJson(neighbor: string): Promise<GoBgpNeighbor> {
    return JSON.parse(await this.gobgp('neighbor', neighbor, '-j')) as GoBgpNeighbor;
  }

  async neighborState(neighbor: string): Promise<SessionState> {
    const j = await this.neighborJson(neighbor);
    return STATES[j.state?.session_state ?? 0] ?? 'unknown';
  }

  async lastError(neighbor: string): Promise<string> {
    // The JSON log lines that matter, e.g.
    // {"Code":2,"Subcode":2,"Key":"198.51.100.11","msg":"received notification",…}
    // {"Key":"198.51.100.11","msg":"hold timer expired",…}
    // {"Key":"198.51.100.11","Reason":"notification-received code 4(hold timer expired) …","msg":"Peer Down",…}
    let text = '';
    try {
      text = readFileSync(join(this.dir, 'gobgpd.log'), 'utf8');
    } catch {
      return '';
    }
    let last = '';
    for (const line of text.split('\n')) {
      if (!line.startsWith('{') || !line.includes(neighbor)) continue;
      let j: Record<string, unknown>;
      try {
        j = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (j.Key !== neighbor) continue;
      const msg = String(j.msg);
      if (msg === 'received notification' || msg === 'sent notification') {
        const code = typeof j.Code === 'number' ? notificationName(j.Code, Number(j.Subcode ?? 0)) : '';
        const data = j.Data ? ` ${String(j['Communicated-Reason'] || j.Data)}` : '';
        last = `${msg} ${code}${data}`.replace(/\s+/g, ' ').trim();
      } else if (msg === 'hold timer expired') {
        last = msg;
      } else if (msg === 'Peer Down' && j.Reason && j.Reason !== 'dying') {
        last = `peer down: ${String(j.Reason)}`;
      }
    }
    return last;
  }

  async routes(family: Family): Promise<Route[]> {
    const out = await this.gobgp('global', 'rib', '-a', afiArg(family), '-j');
    const j = JSON.parse(out.trim() || '{}') as Record<string, GoBgpPath[]>;
    const peers = new Set(this.opts.neighbors.map((n) => n.address));
    const routes: Route[] = [];
    for (const [prefix, paths] of Object.entries(j)) {
      for (const p of paths) {
        if (!peers.has(p['neighbor-ip'] ?? '')) continue;
        routes.push(parseGoBgpPath(prefix, p));
      }
    }
    return sortRoutes(routes);
  }

  private async addPath(r: Announcement): Promise<void> {
    const v6 = r.prefix.includes(':');
    const args = [
      'global',
      'rib',
      'add',
      r.prefix,
      'nexthop',
      r.next_hop ?? (v6 ? this.opts.address6 : this.opts.address4),
    ];
    if (r.med !== undefined) args.push('med', String(r.med));
    if (r.local_pref !== undefined) args.push('local-pref', String(r.local_pref));
    if (r.communities?.length) args.push('community', r.communities.join(','));
    if (r.large_communities?.length) args.push('large-community', r.large_communities.join(','));
    args.push('-a', v6 ? 'ipv6' : 'ipv4');
    await this.gobgp(...args);
  }

  async announce(route: Announcement): Promise<void> {
    this.announced.set(route.prefix, route);
    await this.addPath(route);
  }

  async withdraw(prefix: string): Promise<void> {
    this.announced.delete(prefix);
    await this.gobgp('global', 'rib', 'del', prefix, '-a', prefix.includes(':') ? 'ipv6' : 'ipv4');
  }

  async requestRefresh(_neighbor: string): Promise<void> {
    // `gobgp neighbor ADDR softresetin` re-runs the import policy over GoBGP's own Adj-RIB-In and sends no
    // ROUTE-REFRESH (checked with tshark), and the CLI has no other way to send one.
    throw new Error('gobgp: sending a ROUTE-REFRESH is not supported by its CLI');
  }

  async counters(neighbor: string): Promise<{ updatesReceived: number }> {
    const j = await this.neighborJson(neighbor);
    return { updatesReceived: j.state?.messages?.received?.update ?? 0 };
  }
}

interface GoBgpNeighbor {
  state?: { session_state?: number; messages?: { received?: { update?: number } } };
}

interface GoBgpAttr {
  type: number;
  value?: unknown;
  as_paths?: { segment_type: number; asns: number[] }[];
  nexthop?: string;
  metric?: number;
  communities?: number[];
}

interface GoBgpPath {
  best?: boolean;
  attrs: GoBgpAttr[];
  'neighbor-ip'?: string;
}

export function parseGoBgpPath(prefix: string, p: GoBgpPath): Route {
  const r: Route = {
    prefix,
    next_hop: '',
    as_path: [],
    med: null,
    local_pref: null,
    communities: [],
    large_communities: [],
    best: Boolean(p.best),
    from: p['neighbor-ip'] ?? '',
  };
  for (const a of p.attrs) {
    switch (a.type) {
      case 2:
        r.as_path = (a.as_paths ?? []).flatMap((s) => s.asns);
        break;
      case 3:
      case 14:
        r.next_hop = a.nexthop ?? '';
        break;
      case 4:
        r.med = a.metric ?? 0;
        break;
      case 5:
        r.local_pref = Number(a.value);
        break;
      case 8:
        r.communities = (a.communities ?? []).map(communityToString);
        break;
      case 32:
        r.large_communities = ((a.value ?? []) as { ASN: number; LocalData1: number; LocalData2: number }[]).map(
          (c) => `${c.ASN}:${c.LocalData1}:${c.LocalData2}`,
        );
        break;
    }
  }
  return r;
}
