// BIRD 2 as an interop peer: `bird -f` with its own config, control socket and `strict bind` per BGP protocol.
// Originated routes are blackhole statics in protocols ann4/ann6 whose attributes (MED, communities, LOCAL_PREF) are set
// by the BGP export filter — BIRD only sends a MED to an eBGP neighbour when the export filter set it (bgp_update_attrs
// drops a MED that is not "fresh") — and announce/withdraw rewrite routes.conf and run `birdc configure`.
// Routes are read by parsing `birdc show route all`; state and the last error from `show protocols all NAME`.
// Every neighbour is `multihop`: the addresses are /32s on lo, so BIRD would not see a directly connected neighbour;
// next hops resolve through the static `198.51.100.0/24 via "lo"` (and the IPv6 equivalent).

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseDaemon, sortRoutes } from './base.ts';
import type { Announcement, Family, PeerNeighbor, Route, SessionState } from './types.ts';
import { ManagedProcess, run, runOk } from './util.ts';

/** BIRD's control socket, in the directory spawnBird() runs it in. */
export function birdCtl(dir: string): string {
  return join(dir, 'bird.ctl');
}

/**
 * Spawns `bird -f` on DIR/bird.conf (written by the caller) with its control socket, pid file and log (bird.log) in
 * DIR. Wait for it with `proc.waitReady(() => birdUp(dir), …)`.
 */
export function spawnBird(dir: string): ManagedProcess {
  return new ManagedProcess(
    'bird',
    'bird',
    ['-f', '-c', join(dir, 'bird.conf'), '-s', birdCtl(dir), '-P', join(dir, 'bird.pid')],
    { logFile: join(dir, 'bird.log') },
  );
}

/** True once the BIRD of `dir` answers on its control socket. */
export async function birdUp(dir: string): Promise<boolean> {
  return (await run('birdc', ['-s', birdCtl(dir), 'show', 'status'])).stdout.includes('Daemon is up');
}

export function birdProtoName(address: string): string {
  return `n_${address.replace(/[^0-9a-zA-Z]/g, '_')}`;
}

export class Bird extends BaseDaemon {
  readonly name = 'bird';

  private get conf() {
    return join(this.dir, 'bird.conf');
  }

  async birdc(...args: string[]): Promise<string> {
    return runOk('birdc', ['-s', birdCtl(this.dir), ...args]);
  }

  private neighborBlock(n: PeerNeighbor): string {
    const local = this.localFor(n);
    const v6session = n.address.includes(':');
    const fams = this.familiesOf(n);
    const lines = [
      `protocol bgp ${birdProtoName(n.address)} {`,
      `  local ${local} as ${this.opts.asn};`,
      `  neighbor ${n.address} as ${n.asn};`,
      '  strict bind yes;',
      '  multihop;',
      '  connect delay time 1;',
      '  connect retry time 1;',
      // After an error BIRD otherwise waits 60 s before it tries again.
      '  error wait time 1, 2;',
      `  hold time ${n.hold_time ?? this.opts.hold_time};`,
      n.passive ? '  passive yes;' : '',
    ];
    if (fams.includes('ipv4-unicast')) {
      // An IPv4 route over an IPv6 session needs an IPv4 next hop to send.
      const nh = v6session ? ` next hop address ${this.opts.address4};` : '';
      lines.push(`  ipv4 { import all; export filter export_ann;${nh} };`);
    }
    if (fams.includes('ipv6-unicast')) {
      const nh = v6session ? '' : ` next hop address ${this.opts.address6};`;
      lines.push(`  ipv6 { import all; export filter export_ann;${nh} };`);
    }
    lines.push('}');
    return lines.filter((l) => l !== '').join('\n');
  }

  private routesConf(): string {
    const r4: string[] = [];
    const r6: string[] = [];
    const filt: string[] = [];
    for (const a of this.announced.values()) {
      (a.prefix.includes(':') ? r6 : r4).push(`  route ${a.prefix} blackhole;`);
      const sets: string[] = [];
      if (a.med !== undefined) sets.push(`bgp_med = ${a.med};`);
      if (a.local_pref !== undefined) sets.push(`bgp_local_pref = ${a.local_pref};`);
      for (const c of a.communities ?? []) sets.push(`bgp_community.add((${c.split(':').join(',')}));`);
      for (const c of a.large_communities ?? []) sets.push(`bgp_large_community.add((${c.split(':').join(',')}));`);
      if (sets.length > 0) filt.push(`  if net = ${a.prefix} then { ${sets.join(' ')} }`);
    }
    return [
      'protocol static ann4 {',
      '  ipv4;',
      ...r4,
      '}',
      'protocol static ann6 {',
      '  ipv6;',
      ...r6,
      '}',
      'filter export_ann {',
      '  if proto != "ann4" && proto != "ann6" then reject;',
      ...filt,
      '  accept;',
      '}',
    ].join('\n');
  }

  private async writeConfig(): Promise<void> {
    const conf = [
      'log stderr all;',
      `router id ${this.opts.router_id};`,
      'protocol device { scan time 5; }',
      // Next hops of received routes resolve through these (the addresses are /32s on lo).
      'protocol static nh4 { ipv4; route 198.51.100.0/24 via "lo"; }',
      'protocol static nh6 { ipv6; route 2001:db8::/64 via "lo"; }',
      `include "${join(this.dir, 'routes.conf')}";`,
      ...this.opts.neighbors.map((n) => this.neighborBlock(n)),
      '',
    ].join('\n');
    await writeFile(join(this.dir, 'routes.conf'), `${this.routesConf()}\n`);
    await writeFile(this.conf, conf);
  }

  protected async launch(): Promise<void> {
    await this.writeConfig();
    const proc = spawnBird(this.dir);
    this.proc = proc;
    await proc.waitReady(() => birdUp(this.dir), { timeoutMs: 10_000, what: 'bird control socket' });
  }

  private async protocolInfo(neighbor: string): Promise<string> {
    return this.birdc('show', 'protocols', 'all', birdProtoName(neighbor));
  }

  async neighborState(neighbor: string): Promise<SessionState> {
    const out = await this.protocolInfo(neighbor);
    const m = /BGP state:\s+(\S+)/.exec(out);
    const s = (m?.[1] ?? '').toLowerCase();
    if (s === 'established') return 'established';
    if (s === 'idle' || s === 'down') return 'idle';
    if (s === 'connect') return 'connect';
    if (s === 'active') return 'active';
    if (s === 'opensent') return 'opensent';
    if (s === 'openconfirm') return 'openconfirm';
    return 'unknown';
  }

  async lastError(neighbor: string): Promise<string> {
    const out = await this.protocolInfo(neighbor);
    return /Last error:\s+(.*)/.exec(out)?.[1]?.trim() ?? '';
  }

  async routes(family: Family): Promise<Route[]> {
    const table = family === 'ipv4-unicast' ? 'master4' : 'master6';
    return sortRoutes(parseBirdRoutes(await this.birdc('show', 'route', 'all', 'table', table)));
  }

  async announce(route: Announcement): Promise<void> {
    this.announced.set(route.prefix, route);
    await this.reconfigure();
  }

  async withdraw(prefix: string): Promise<void> {
    this.announced.delete(prefix);
    await this.reconfigure();
  }

  private async reconfigure(): Promise<void> {
    await writeFile(join(this.dir, 'routes.conf'), `${this.routesConf()}\n`);
    const out = await this.birdc('configure');
    if (!/Reconfigur/.test(out)) throw new Error(`birdc configure: ${out}`);
  }

  async requestRefresh(neighbor: string): Promise<void> {
    // `reload in` asks the neighbour for a ROUTE-REFRESH when it supports it (BIRD keeps no Adj-RIB-In by default).
    const out = await this.birdc('reload', 'in', birdProtoName(neighbor));
    if (!/reload/i.test(out)) throw new Error(`birdc reload in: ${out}`);
  }

  async counters(neighbor: string): Promise<{ updatesReceived: number }> {
    // BIRD counts routes, not messages: "Import updates: received …" per channel.
    const out = await this.protocolInfo(neighbor);
    let n = 0;
    for (const m of out.matchAll(/Import updates:\s+(\d+)/g)) n += Number(m[1]);
    return { updatesReceived: n };
  }
}

/** Parses `birdc show route all` into the routes learned over BGP. */
export function parseBirdRoutes(out: string): Route[] {
  const routes: Route[] = [];
  let prefix = '';
  let cur: (Route & { bgp: boolean }) | undefined;
  const flush = () => {
    if (cur?.bgp) {
      const { bgp: _bgp, ...r } = cur;
      routes.push(r);
    }
    cur = undefined;
  };
  for (const line of out.split('\n')) {
    // "203.0.113.0/24       unicast [n_198_51_100_11 00:54:38.937 from 198.51.100.11] * (100) [AS65011i]"
    // A second route for the same prefix starts with blanks instead of the prefix.
    const head =
      /^(\S+\/\d+)?\s+(?:unicast|unreachable|blackhole|prohibit|multipath)?\s*\[(\S+) [^\]]*?(?:from (\S+))?\](\s+\*)?/.exec(
        line,
      );
    if (head && !line.startsWith('\t') && /\[\S+ /.test(line)) {
      flush();
      if (head[1]) prefix = head[1];
      cur = {
        prefix,
        next_hop: '',
        as_path: [],
        med: null,
        local_pref: null,
        communities: [],
        large_communities: [],
        best: Boolean(head[4]),
        from: head[3] ?? '',
        bgp: false,
      };
      continue;
    }
    if (!cur) continue;
    const attr = /^\s+(Type|BGP\.\w+):\s*(.*)$/.exec(line);
    if (!attr) continue;
    const [, key, value = ''] = attr;
    switch (key) {
      case 'Type':
        cur.bgp = value.startsWith('BGP');
        break;
      case 'BGP.as_path':
        // AS_SET members appear in braces; keep the numbers in order.
        cur.as_path = value.match(/\d+/g)?.map(Number) ?? [];
        break;
      case 'BGP.next_hop':
        cur.next_hop = value.split(/\s+/)[0] ?? '';
        break;
      case 'BGP.med':
        cur.med = Number(value);
        break;
      case 'BGP.local_pref':
        cur.local_pref = Number(value);
        break;
      case 'BGP.community':
        cur.communities = [...value.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
        break;
      case 'BGP.large_community':
        cur.large_communities = [...value.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map(
          (m) => `${m[1]}:${m[2]}:${m[3]}`,
        );
        break;
    }
  }
  flush();
  return routes;
}
