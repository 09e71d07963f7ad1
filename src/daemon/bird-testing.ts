// A real BIRD 2 as the peer of a `tsbgp daemon` in the daemon's end-to-end tests, which run in the root network
// namespace: BIRD (AS 65001) on its own 127.0.x.y address and a random port, not 179, so a wildcard :179 listener
// elsewhere on the host cannot get in the way (`strict bind`, `multihop`, passive), tsbgp (AS 65000) on another one.
// BIRD is started with the interop harness's spawnBird() and its routes are read with the harness's parser; the
// tsbgp config that peers with it comes from here too, so the two sides agree on ports and next hops.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { birdCtl, birdUp, parseBirdRoutes, spawnBird } from '../../test/interop/harness/bird.ts';
import type { Family, Route } from '../../test/interop/harness/types.ts';
import { type ManagedProcess, runOk, waitFor } from '../../test/interop/harness/util.ts';
import { randomPort } from '../cli/process-testing.ts';

/** True when `cmd args` runs and exits 0 within 20 s (the tool is installed). */
export function installed(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** BIRD peering with a tsbgp on `tsbgp`, its config, control socket and log in `dir`. */
export class BirdPeer {
  readonly dir: string;
  /** BIRD's address. */
  readonly address: string;
  /** tsbgp's address. */
  readonly tsbgp: string;
  /** The port BIRD listens on for tsbgp. */
  readonly port = randomPort();
  private proc: ManagedProcess | undefined;

  constructor(dir: string, address: string, tsbgp: string) {
    this.dir = dir;
    this.address = address;
    this.tsbgp = tsbgp;
  }

  /** Writes BIRD's config and starts it; resolves once it answers on its control socket. */
  async start(): Promise<void> {
    writeFileSync(
      join(this.dir, 'bird.conf'),
      `log stderr all;
router id ${this.address};
protocol device { scan time 5; }
# Next hops of the routes tsbgp sends resolve through these.
protocol static nh4 { ipv4; route 198.51.100.0/24 via "lo"; }
protocol static nh6 { ipv6; route 2001:db8::/64 via "lo"; }
protocol bgp tsbgp {
  local ${this.address} port ${this.port} as 65001;
  neighbor ${this.tsbgp} as 65000;
  strict bind yes;
  multihop;
  passive yes;
  hold time 9;
  error wait time 1, 2;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
`,
    );
    const proc = spawnBird(this.dir);
    this.proc = proc;
    await proc.waitReady(() => birdUp(this.dir), { timeoutMs: 10_000, what: 'bird control socket' });
  }

  async stop(): Promise<void> {
    await this.proc?.stop('SIGTERM', 5000);
  }

  logTail(max?: number): string {
    return this.proc?.logTail(max) ?? '';
  }

  birdc(...args: string[]): Promise<string> {
    return runOk('birdc', ['-s', birdCtl(this.dir), ...args]);
  }

  /** BIRD's BGP routes learned from tsbgp, by prefix. */
  async routes(family: Family): Promise<Map<string, Route>> {
    const out = await this.birdc('show', 'route', 'all', 'table', family === 'ipv4-unicast' ? 'master4' : 'master6');
    return new Map(parseBirdRoutes(out).map((r) => [r.prefix, r]));
  }

  /** `birdc show protocols all tsbgp`: the session's state and last error. */
  protocol(): Promise<string> {
    return this.birdc('show', 'protocols', 'all', 'tsbgp');
  }

  /** Resolves once BIRD's session with tsbgp is Established (30 s at most). */
  async established(): Promise<void> {
    await waitFor(async () => /BGP state:\s+Established/.test(await this.protocol()), {
      timeoutMs: 30_000,
      what: 'the BIRD session with tsbgp established',
    });
  }

  /**
   * The start of tsbgp's config: [global] on the tsbgp address without a BGP listener (tsbgp connects to the passive
   * BIRD), [api] on `apiPort`, and the [[neighbors]] table for this BIRD.
   */
  tsbgpToml(apiPort: number): string {
    return `
[global]
asn = 65000
router_id = "${this.tsbgp}"
listen = []

[api]
listen = "${this.tsbgp}:${apiPort}"

[[neighbors]]
address = "${this.address}"
asn = 65001
port = ${this.port}
local_address = "${this.tsbgp}"
hold_time = 9
connect_retry = 1
# 127/8 next hops are unreachable to BIRD; these resolve through its static routes.
next_hop_ipv4 = "198.51.100.1"
next_hop_ipv6 = "2001:db8::1"
`;
  }
}
