// BIRD 2 as the system under test: `bird -f -c CONF -s CTL`, one shared table per family (master4/master6, BIRD's
// fast path), every neighbour `passive` and `multihop` (the addresses are /32s on lo, so none is directly
// connected). Next hops of received routes resolve through static device routes for the benchmark's ranges via "lo"
// (test-peers.md). Export to every neighbour is `where source = RTS_BGP` — all BGP routes, none of the two statics.
// IPv6 routes over an IPv4 session need an explicit IPv6 next hop (`next hop address`).

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { birdUp, spawnBird } from '../../test/interop/harness/bird.ts';
import { type DaemonModule, DaemonSut, run, type SutConfig, which } from './common.ts';

function configText(c: SutConfig): string {
  const lines = [
    `router id ${c.routerId};`,
    'log stderr { warning, error, fatal };',
    'protocol device { scan time 60; }',
    'protocol static static4 { ipv4; route 198.51.100.0/24 via "lo"; }',
    'protocol static static6 { ipv6; route 2001:db8::/32 via "lo"; }',
  ];
  for (const n of c.neighbors) {
    lines.push(
      `protocol bgp n_${n.address.replaceAll('.', '_')} {`,
      `  local ${c.address4} as ${c.asn};`,
      `  neighbor ${n.address} as ${n.asn};`,
      '  strict bind yes;',
      '  multihop;',
      '  passive yes;',
      `  hold time ${c.holdTime};`,
      '  ipv4 { import all; export where source = RTS_BGP; };',
      `  ipv6 { import all; export where source = RTS_BGP; next hop address ${c.address6}; };`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

class Bird extends DaemonSut {
  readonly name = 'bird';

  async start(): Promise<void> {
    await writeFile(join(this.c.dir, 'bird.conf'), configText(this.c));
    await this.launch(spawnBird(this.c.dir), () => birdUp(this.c.dir), 'the BIRD control socket');
  }
}

export const bird: DaemonModule = {
  name: 'bird',
  async unavailable() {
    return (await which('bird')) && (await which('birdc')) ? null : 'bird/birdc not installed';
  },
  async version() {
    const r = await run('bird', ['--version']);
    return (r.stderr || r.stdout).trim();
  },
  create: (c) => new Bird(c),
};
