// FRR 8 bgpd as an interop peer, without zebra: `/usr/lib/frr/bgpd -Z -S -l ADDR4 -l ADDR6 --vty_socket DIR`, driven
// and read through `vtysh --vty_socket DIR -c …`. Quirks handled here:
// - `no bgp ebgp-requires-policy` (RFC 8212 denies everything on eBGP otherwise) and `no bgp network import-check`
//   (without zebra no route would ever be "in the RIB" for a `network` statement);
// - `disable-connected-check`: without zebra bgpd knows no connected subnets, and the peers are /32s on lo anyway;
// - an IPv6 route over an IPv4 session would get `::ffff:a.b.c.d` as its next hop, so an outbound route-map sets the
//   global IPv6 next hop to the daemon's own IPv6 address (and the IPv4 one for IPv4 routes over an IPv6 session);
// - originated routes are `network P route-map ANN-n`, each with a fresh route-map holding its MED/communities.
// Routes come from `show bgp ipv4|ipv6 unicast detail json`? No: that command is not in 8.4, so the prefix list comes
// from `show bgp … json` and each prefix's attributes from `show bgp … PREFIX json`.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseDaemon, sortRoutes } from './base.ts';
import type { Announcement, Family, Route, SessionState } from './types.ts';
import { ManagedProcess, normaliseCommunity, run, runOk } from './util.ts';

function afiOf(family: Family): string {
  return family === 'ipv4-unicast' ? 'ipv4' : 'ipv6';
}

export class Frr extends BaseDaemon {
  readonly name = 'frr';
  private rmSeq = 0;
  /** prefix → route-map name currently attached to its `network` statement. */
  private readonly rmOf = new Map<string, string>();

  async vtysh(...commands: string[]): Promise<string> {
    const args = ['--vty_socket', this.dir];
    for (const c of commands) args.push('-c', c);
    return runOk('vtysh', args, { timeoutMs: 15_000 });
  }

  private routeMapLines(name: string, a: Announcement): string[] {
    const lines = [`route-map ${name} permit 10`];
    if (a.med !== undefined) lines.push(` set metric ${a.med}`);
    if (a.local_pref !== undefined) lines.push(` set local-preference ${a.local_pref}`);
    if (a.communities?.length) lines.push(` set community ${a.communities.join(' ')}`);
    if (a.large_communities?.length) lines.push(` set large-community ${a.large_communities.join(' ')}`);
    if (a.next_hop) {
      lines.push(a.prefix.includes(':') ? ` set ipv6 next-hop global ${a.next_hop}` : ` set ip next-hop ${a.next_hop}`);
    }
    return lines;
  }

  private nextRouteMap(): string {
    this.rmSeq += 1;
    return `ANN-${this.rmSeq}`;
  }

  private configText(): string {
    const o = this.opts;
    const lines = [
      'frr defaults traditional',
      'hostname frr-test',
      'log stdout errors',
      '!',
      // Cross-family next hops (see the overview).
      'route-map NH6 permit 10',
      ` set ipv6 next-hop global ${o.address6}`,
      'route-map NH4 permit 10',
      ` set ip next-hop ${o.address4}`,
      'route-map ALL permit 10',
      '!',
    ];
    const networks: string[][] = [[], []];
    this.rmOf.clear();
    for (const a of this.announced.values()) {
      const rm = this.nextRouteMap();
      this.rmOf.set(a.prefix, rm);
      lines.push(...this.routeMapLines(rm, a), '!');
      networks[a.prefix.includes(':') ? 1 : 0]?.push(`  network ${a.prefix} route-map ${rm}`);
    }
    lines.push(
      `router bgp ${o.asn}`,
      ` bgp router-id ${o.router_id}`,
      ' no bgp ebgp-requires-policy',
      ' no bgp network import-check',
      ' no bgp default ipv4-unicast',
      ' bgp route-map delay-timer 1',
    );
    for (const n of o.neighbors) {
      const hold = n.hold_time ?? o.hold_time ?? 9;
      lines.push(
        ` neighbor ${n.address} remote-as ${n.asn}`,
        ` neighbor ${n.address} update-source ${this.localFor(n)}`,
        ` neighbor ${n.address} timers ${Math.max(1, Math.floor(hold / 3))} ${hold}`,
        ` neighbor ${n.address} timers connect 1`,
        ` neighbor ${n.address} disable-connected-check`,
      );
      if (n.passive) lines.push(` neighbor ${n.address} passive`);
    }
    for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
      lines.push(` address-family ${afiOf(family)} unicast`);
      lines.push(...(networks[family === 'ipv4-unicast' ? 0 : 1] ?? []));
      for (const n of o.neighbors) {
        if (!this.familiesOf(n).includes(family)) continue;
        lines.push(`  neighbor ${n.address} activate`);
        const v6session = n.address.includes(':');
        if (family === 'ipv6-unicast' && !v6session) lines.push(`  neighbor ${n.address} route-map NH6 out`);
        if (family === 'ipv4-unicast' && v6session) lines.push(`  neighbor ${n.address} route-map NH4 out`);
      }
      lines.push(' exit-address-family');
    }
    lines.push('!', '');
    return lines.join('\n');
  }

  protected async launch(): Promise<void> {
    const conf = join(this.dir, 'bgpd.conf');
    await writeFile(conf, this.configText());
    this.proc = new ManagedProcess(
      'bgpd',
      '/usr/lib/frr/bgpd',
      [
        '-f',
        conf,
        '-i',
        join(this.dir, 'bgpd.pid'),
        '-Z',
        '-S',
        '-l',
        this.opts.address4,
        '-l',
        this.opts.address6,
        '-P',
        '0',
        '--vty_socket',
        this.dir,
        '--log',
        'stdout',
        '--log-level',
        'errors',
      ],
      { logFile: join(this.dir, 'bgpd.log') },
    );
    const proc = this.proc;
    await proc.waitReady(
      async () => {
        const r = await run('vtysh', ['--vty_socket', this.dir, '-c', 'show bgp summary json']);
        return r.code === 0 && r.stdout.includes('{');
      },
      { timeoutMs: 10_000, what: 'FRR bgpd vty socket' },
    );
  }

  private async neighborJson(neighbor: string): Promise<FrrNeighbor> {
    const j = JSON.parse(await this.vtysh(`show bgp neighbors ${neighbor} json`)) as Record<string, FrrNeighbor>;
    return j[neighbor] ?? {};
  }

  async neighborState(neighbor: string): Promise<SessionState> {
    const s = (await this.neighborJson(neighbor)).bgpState?.toLowerCase() ?? '';
    const known: SessionState[] = ['idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];
    return (known as string[]).includes(s) ? (s as SessionState) : 'unknown';
  }

  async lastError(neighbor: string): Promise<string> {
    const j = await this.neighborJson(neighbor);
    return [j.lastNotificationReason, j.lastResetDueTo, j.lastErrorCodeSubcode]
      .filter((x) => x !== undefined && x !== '')
      .join('; ');
  }

  async routes(family: Family): Promise<Route[]> {
    const afi = afiOf(family);
    const summary = JSON.parse(await this.vtysh(`show bgp ${afi} unicast json`)) as {
      routes?: Record<string, { peerId?: string }[]>;
    };
    const out: Route[] = [];
    for (const [prefix, paths] of Object.entries(summary.routes ?? {})) {
      // Locally originated routes have peerId "(unspec)".
      if (!paths.some((p) => p.peerId && p.peerId !== '(unspec)')) continue;
      const detail = JSON.parse(await this.vtysh(`show bgp ${afi} unicast ${prefix} json`)) as { paths?: FrrPath[] };
      for (const p of detail.paths ?? []) {
        const from = p.peer?.peerId;
        if (!from || from === '(unspec)') continue;
        out.push(parseFrrPath(prefix, p));
      }
    }
    return sortRoutes(out);
  }

  async announce(route: Announcement): Promise<void> {
    this.announced.set(route.prefix, route);
    const rm = this.nextRouteMap();
    const old = this.rmOf.get(route.prefix);
    this.rmOf.set(route.prefix, rm);
    const afi = route.prefix.includes(':') ? 'ipv6' : 'ipv4';
    await this.vtysh(
      'configure terminal',
      ...this.routeMapLines(rm, route),
      'exit',
      `router bgp ${this.opts.asn}`,
      `address-family ${afi} unicast`,
      ...(old ? [`no network ${route.prefix}`] : []),
      `network ${route.prefix} route-map ${rm}`,
      'end',
    );
  }

  async withdraw(prefix: string): Promise<void> {
    this.announced.delete(prefix);
    this.rmOf.delete(prefix);
    const afi = prefix.includes(':') ? 'ipv6' : 'ipv4';
    await this.vtysh(
      'configure terminal',
      `router bgp ${this.opts.asn}`,
      `address-family ${afi} unicast`,
      `no network ${prefix}`,
      'end',
    );
  }

  async requestRefresh(neighbor: string): Promise<void> {
    // Without soft-reconfiguration inbound, `clear … in` sends a ROUTE-REFRESH.
    const n = this.neighbor(neighbor);
    for (const f of this.familiesOf(n)) await this.vtysh(`clear bgp ${afiOf(f)} unicast ${neighbor} in`);
  }

  async counters(neighbor: string): Promise<{ updatesReceived: number }> {
    const j = await this.neighborJson(neighbor);
    return { updatesReceived: j.messageStats?.updatesRecv ?? 0 };
  }
}

interface FrrNeighbor {
  bgpState?: string;
  lastNotificationReason?: string;
  lastResetDueTo?: string;
  lastErrorCodeSubcode?: string;
  messageStats?: { updatesRecv?: number; routeRefreshSent?: number };
}

interface FrrPath {
  aspath?: { string?: string; segments?: { type: string; list: number[] }[] };
  med?: number;
  metric?: number;
  locPrf?: number;
  localpref?: number;
  community?: { string?: string };
  largeCommunity?: { string?: string };
  bestpath?: { overall?: boolean };
  nexthops?: { ip: string; afi?: string; scope?: string }[];
  peer?: { peerId?: string };
}

export function parseFrrPath(prefix: string, p: FrrPath): Route {
  const segs = p.aspath?.segments;
  const asPath = segs ? segs.flatMap((s) => s.list) : ((p.aspath?.string ?? '').match(/\d+/g)?.map(Number) ?? []);
  const global = p.nexthops?.find((n) => n.scope !== 'link-local') ?? p.nexthops?.[0];
  return {
    prefix,
    next_hop: global?.ip ?? '',
    as_path: asPath,
    med: p.med ?? p.metric ?? null,
    local_pref: p.locPrf ?? p.localpref ?? null,
    communities: p.community?.string ? p.community.string.split(' ').map(normaliseCommunity) : [],
    large_communities: p.largeCommunity?.string ? p.largeCommunity.string.split(' ') : [],
    best: Boolean(p.bestpath?.overall),
    from: p.peer?.peerId ?? '',
  };
}
