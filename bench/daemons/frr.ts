// FRR bgpd without zebra as the system under test: `/usr/lib/frr/bgpd -Z -S -l ADDR4 -l ADDR6 --vty_socket DIR`
// (test-peers.md). Config for a plain transit:
//   - `no bgp ebgp-requires-policy` (RFC 8212 would deny everything on eBGP without a policy);
//   - `no bgp network import-check` and `disable-connected-check` (without zebra bgpd knows no connected routes;
//     the neighbours are /32s on lo);
//   - `advertisement-interval 0`: the `traditional` defaults wait up to 30 s (MRAI) between UPDATEs to an eBGP
//     peer, which would measure a timer rather than the daemon; BIRD, GoBGP and OpenBGPD have no such pause;
//   - every neighbour passive, both families activated.
// Logging is at errors level: without zebra bgpd warns once per path ("zclient_send_message() failed").

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess } from '../../test/interop/harness/util.ts';
import { type DaemonModule, DaemonSut, run, type SutConfig } from './common.ts';

const BGPD = '/usr/lib/frr/bgpd';

function configText(c: SutConfig): string {
  const lines = [
    'frr defaults traditional',
    'hostname bench-sut',
    'log stdout errors',
    '!',
    `router bgp ${c.asn}`,
    ` bgp router-id ${c.routerId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' no bgp default ipv4-unicast',
  ];
  const keepalive = Math.max(1, Math.floor(c.holdTime / 3));
  for (const n of c.neighbors) {
    lines.push(
      ` neighbor ${n.address} remote-as ${n.asn}`,
      ` neighbor ${n.address} update-source ${c.address4}`,
      ` neighbor ${n.address} timers ${keepalive} ${c.holdTime}`,
      ` neighbor ${n.address} disable-connected-check`,
      ` neighbor ${n.address} passive`,
      ` neighbor ${n.address} advertisement-interval 0`,
    );
  }
  for (const afi of ['ipv4', 'ipv6']) {
    lines.push(` address-family ${afi} unicast`);
    for (const n of c.neighbors) lines.push(`  neighbor ${n.address} activate`);
    lines.push(' exit-address-family');
  }
  lines.push('!', '');
  return lines.join('\n');
}

class Frr extends DaemonSut {
  readonly name = 'frr';

  async start(): Promise<void> {
    const conf = join(this.c.dir, 'bgpd.conf');
    await writeFile(conf, configText(this.c));
    const proc = new ManagedProcess(
      'bgpd',
      BGPD,
      [
        '-f',
        conf,
        '-i',
        join(this.c.dir, 'bgpd.pid'),
        '-Z',
        '-S',
        '-l',
        this.c.address4,
        '-l',
        this.c.address6,
        '-P',
        '0',
        '--vty_socket',
        this.c.dir,
        '--log',
        'stdout',
        '--log-level',
        'errors',
      ],
      { logFile: join(this.c.dir, 'bgpd.log') },
    );
    await this.launch(
      proc,
      async () => {
        const r = await run('vtysh', ['--vty_socket', this.c.dir, '-c', 'show bgp summary json']);
        return r.code === 0 && r.stdout.includes('{');
      },
      'the FRR vty socket',
    );
  }
}

export const frr: DaemonModule = {
  name: 'frr',
  async unavailable() {
    const r = await run(BGPD, ['--version']);
    return r.code === 0 ? null : `${BGPD} not runnable`;
  },
  async version() {
    const r = await run(BGPD, ['--version']);
    return `FRR ${r.stdout.split('\n')[0]?.replace(/^bgpd version /, '') ?? '?'}`;
  },
  create: (c) => new Frr(c),
};
