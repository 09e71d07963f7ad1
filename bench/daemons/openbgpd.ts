// OpenBGPD 7 (Debian's portable build) as the system under test: `bgpd -d -f CONF` — four processes (parent,
// session engine, route decision engine, RTR), all measured through the process tree. Quirks (test-peers.md): the
// chroot /run/openbgpd must exist; `fib-update no` (no kernel table support in this build); filters deny by default,
// hence `allow from any` / `allow to any`; no `;` separators, neighbour blocks on several lines.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess } from '../../test/interop/harness/util.ts';
import { type DaemonModule, DaemonSut, run, type SutConfig, which } from './common.ts';

function configText(c: SutConfig, sock: string): string {
  const lines = [
    `AS ${c.asn}`,
    `router-id ${c.routerId}`,
    `socket "${sock}"`,
    `listen on ${c.address4}`,
    `listen on ${c.address6}`,
    'fib-update no',
    `holdtime ${c.holdTime}`,
    '',
  ];
  for (const n of c.neighbors) {
    lines.push(
      `neighbor ${n.address} {`,
      `  remote-as ${n.asn}`,
      `  local-address ${c.address4}`,
      `  local-address ${c.address6}`,
      '  announce IPv4 unicast',
      '  announce IPv6 unicast',
      '  passive',
      // The neighbours are /32s on lo, not on a shared subnet.
      ...(n.asn !== c.asn ? ['  multihop 2'] : []),
      '}',
    );
  }
  lines.push('', 'allow from any', 'allow to any', '');
  return lines.join('\n');
}

class OpenBgpd extends DaemonSut {
  readonly name = 'openbgpd';

  private get sock(): string {
    return join(this.c.dir, 'bgpd.sock');
  }

  async start(): Promise<void> {
    await mkdir('/run/openbgpd', { recursive: true });
    const conf = join(this.c.dir, 'bgpd.conf');
    await writeFile(conf, configText(this.c, this.sock));
    const check = await run('bgpd', ['-n', '-f', conf]);
    if (check.code !== 0) throw new Error(`bgpd -n: ${check.stderr}${check.stdout}`);
    const proc = new ManagedProcess('bgpd', 'bgpd', ['-d', '-f', conf], { logFile: join(this.c.dir, 'bgpd.log') });
    await this.launch(
      proc,
      async () => (await run('bgpctl', ['-s', this.sock, 'show', 'summary'])).code === 0,
      'the OpenBGPD control socket',
    );
  }
}

export const openbgpd: DaemonModule = {
  name: 'openbgpd',
  async unavailable() {
    return (await which('bgpd')) && (await which('bgpctl')) ? null : 'bgpd/bgpctl not installed';
  },
  async version() {
    const r = await run('bgpd', ['-V']);
    return (r.stdout || r.stderr).trim().split('\n')[0] ?? '?';
  },
  create: (c) => new OpenBgpd(c),
};
