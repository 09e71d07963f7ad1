// OpenBGPD 7 (Debian's portable build) as an interop peer: `bgpd -d -f CONF` with `socket "DIR/bgpd.sock"` and
// `listen on` its own addresses, read and driven through `bgpctl -j -s SOCK …` (JSON output).
// Quirks handled here: the chroot directory /run/openbgpd must exist; `fib-update no` (no kernel table support in this
// build); filters deny by default, hence `allow from any` / `allow to any`; the config language has no `;` separators;
// `connect-retry` defaults to 120 s; bgpd runs as four processes (freeze() stops the whole process group).
// Originated routes are `network P set { … }` in the config and `bgpctl network add/delete` at run time.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseDaemon, sortRoutes } from './base.ts';
import type { Announcement, Family, PeerNeighbor, Route, SessionState } from './types.ts';
import { ManagedProcess, normaliseCommunity, run, runOk } from './util.ts';

export class OpenBgpd extends BaseDaemon {
  readonly name = 'openbgpd';

  get sock(): string {
    return join(this.dir, 'bgpd.sock');
  }

  async bgpctl(...args: string[]): Promise<string> {
    return runOk('bgpctl', ['-s', this.sock, ...args]);
  }

  async bgpctlJson<T>(...args: string[]): Promise<T> {
    return JSON.parse(await runOk('bgpctl', ['-j', '-s', this.sock, ...args])) as T;
  }

  /** The `set { … }` attribute list of a network statement or `bgpctl network add`. */
  private setArgs(a: Announcement): string[] {
    const s: string[] = [];
    if (a.med !== undefined) s.push('med', String(a.med));
    if (a.local_pref !== undefined) s.push('localpref', String(a.local_pref));
    for (const c of a.communities ?? []) s.push('community', c);
    for (const c of a.large_communities ?? []) s.push('large-community', c);
    s.push('nexthop', a.next_hop ?? (a.prefix.includes(':') ? this.opts.address6 : this.opts.address4));
    return s;
  }

  private neighborBlock(n: PeerNeighbor): string {
    const fams = this.familiesOf(n);
    const lines = [
      `neighbor ${n.address} {`,
      `  remote-as ${n.asn}`,
      `  local-address ${this.localFor(n)}`,
      `  holdtime ${n.hold_time ?? this.opts.hold_time}`,
      '  holdtime min 3',
      `  announce IPv4 ${fams.includes('ipv4-unicast') ? 'unicast' : 'none'}`,
      `  announce IPv6 ${fams.includes('ipv6-unicast') ? 'unicast' : 'none'}`,
      '  announce enhanced refresh yes',
    ];
    if (n.passive) lines.push('  passive');
    // A "directly connected" eBGP session gets the interface address picked by bgpd as the next hop of routes of the
    // other family (127.0.0.1, or the last address on lo): as a multihop session with `set nexthop no-modify`, the
    // next hop given to each network statement is sent unchanged.
    if (n.asn !== this.opts.asn) lines.push('  multihop 2');
    lines.push('}');
    return lines.join('\n');
  }

  private configText(): string {
    const o = this.opts;
    const lines = [
      `AS ${o.asn}`,
      `router-id ${o.router_id}`,
      `socket "${this.sock}"`,
      `listen on ${o.address4}`,
      `listen on ${o.address6}`,
      'fib-update no',
      'connect-retry 1',
      `holdtime ${o.hold_time}`,
      'holdtime min 3',
    ];
    for (const a of this.announced.values()) {
      const s = this.setArgs(a);
      lines.push(`network ${a.prefix}${s.length ? ` set { ${s.join(' ')} }` : ''}`);
    }
    lines.push(
      '',
      ...o.neighbors.map((n) => this.neighborBlock(n)),
      '',
      'allow from any',
      'allow to any',
      'match to any set nexthop no-modify',
      '',
    );
    return lines.join('\n');
  }

  protected async launch(): Promise<void> {
    await mkdir('/run/openbgpd', { recursive: true });
    const conf = join(this.dir, 'bgpd.conf');
    await writeFile(conf, this.configText());
    const check = await run('bgpd', ['-n', '-f', conf]);
    if (check.code !== 0) throw new Error(`bgpd -n: ${check.stderr}${check.stdout}\n${this.configText()}`);
    this.proc = new ManagedProcess('bgpd', 'bgpd', ['-d', '-v', '-f', conf], { logFile: join(this.dir, 'bgpd.log') });
    const proc = this.proc;
    await proc.waitReady(async () => (await run('bgpctl', ['-s', this.sock, 'show', 'summary'])).code === 0, {
      timeoutMs: 10_000,
      what: 'OpenBGPD control socket',
    });
  }

  private async neighborJson(neighbor: string): Promise<ObgpNeighbor> {
    const j = await this.bgpctlJson<{ neighbors?: ObgpNeighbor[] }>('show', 'neighbor', neighbor);
    return j.neighbors?.[0] ?? {};
  }

  async neighborState(neighbor: string): Promise<SessionState> {
    const s = ((await this.neighborJson(neighbor)).state ?? '').toLowerCase();
    const known: SessionState[] = ['idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];
    return (known as string[]).includes(s) ? (s as SessionState) : 'unknown';
  }

  async lastError(neighbor: string): Promise<string> {
    // The JSON output has no error fields; the text output has "Last error sent: …" / "Last error received: …".
    const out = await this.bgpctl('show', 'neighbor', neighbor);
    return [...out.matchAll(/Last error (sent|received):\s*(.*)/g)].map((m) => `${m[1]}: ${m[2]?.trim()}`).join('; ');
  }

  async routes(family: Family): Promise<Route[]> {
    const j = await this.bgpctlJson<{ rib?: ObgpRib[] }>(
      'show',
      'rib',
      'detail',
      family === 'ipv4-unicast' ? 'inet' : 'inet6',
    );
    const peers = new Set(this.opts.neighbors.map((n) => n.address));
    const out: Route[] = [];
    for (const r of j.rib ?? []) {
      if (!peers.has(r.neighbor?.remote_addr ?? '')) continue;
      out.push(parseObgpRib(r));
    }
    return sortRoutes(out);
  }

  async announce(route: Announcement): Promise<void> {
    this.announced.set(route.prefix, route);
    await this.bgpctl('network', 'add', route.prefix, ...this.setArgs(route));
  }

  async withdraw(prefix: string): Promise<void> {
    this.announced.delete(prefix);
    await this.bgpctl('network', 'delete', prefix);
  }

  async requestRefresh(neighbor: string): Promise<void> {
    await this.bgpctl('neighbor', neighbor, 'refresh');
  }

  async reconnect(neighbor: string): Promise<void> {
    // After a NOTIFICATION bgpd stays Idle for an IdleHold time that doubles with every error, and refuses incoming
    // connections meanwhile; `neighbor … up` starts the session again at once.
    await this.bgpctl('neighbor', neighbor, 'up');
  }

  async counters(neighbor: string): Promise<{ updatesReceived: number }> {
    const j = await this.neighborJson(neighbor);
    return { updatesReceived: j.stats?.message?.received?.updates ?? 0 };
  }
}

interface ObgpNeighbor {
  state?: string;
  stats?: { message?: { received?: { updates?: number } } };
}

interface ObgpRib {
  prefix: string;
  aspath?: string;
  true_nexthop?: string;
  exit_nexthop?: string;
  med?: number;
  metric?: number;
  localpref?: number;
  communities?: string[];
  large_communities?: string[];
  best?: boolean;
  neighbor?: { remote_addr?: string };
}

export function parseObgpRib(r: ObgpRib): Route {
  return {
    prefix: r.prefix,
    next_hop: r.exit_nexthop ?? r.true_nexthop ?? '',
    as_path: (r.aspath ?? '').match(/\d+/g)?.map(Number) ?? [],
    med: r.med ?? r.metric ?? null,
    local_pref: r.localpref ?? null,
    communities: (r.communities ?? []).map(normaliseCommunity),
    large_communities: r.large_communities ?? [],
    best: Boolean(r.best),
    from: r.neighbor?.remote_addr ?? '',
  };
}
