// GoBGP 3 as the system under test: `gobgpd -f CONF.toml -l warn --api-hosts 127.0.0.1:50051 --pprof-disable`,
// listening only on the SUT's addresses (local-address-list), every neighbour passive with both families. GoBGP's
// defaults import and export everything, so no policy is configured.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess } from '../../test/interop/harness/util.ts';
import { type DaemonModule, DaemonSut, run, type SutConfig, which } from './common.ts';

const API = '127.0.0.1:50051';

function configText(c: SutConfig): string {
  const out = [
    '[global.config]',
    `  as = ${c.asn}`,
    `  router-id = "${c.routerId}"`,
    '  port = 179',
    `  local-address-list = ["${c.address4}", "${c.address6}"]`,
    '',
  ];
  for (const n of c.neighbors) {
    out.push(
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.asn}`,
      '  [neighbors.timers.config]',
      `    hold-time = ${c.holdTime}`,
      `    keepalive-interval = ${Math.max(1, Math.floor(c.holdTime / 3))}`,
      '  [neighbors.transport.config]',
      `    local-address = "${c.address4}"`,
      '    passive-mode = true',
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      '      afi-safi-name = "ipv4-unicast"',
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      '      afi-safi-name = "ipv6-unicast"',
      '',
    );
  }
  return out.join('\n');
}

class GoBgp extends DaemonSut {
  readonly name = 'gobgp';
  // Stopping one that holds a full table gracefully takes > 10 s (test-peers.md); its state is not needed.
  protected override stopGraceMs = 1000;

  async start(): Promise<void> {
    const conf = join(this.c.dir, 'gobgpd.toml');
    await writeFile(conf, configText(this.c));
    const proc = new ManagedProcess(
      'gobgpd',
      'gobgpd',
      ['-f', conf, '-l', 'warn', '--api-hosts', API, '--pprof-disable'],
      { logFile: join(this.c.dir, 'gobgpd.log') },
    );
    await this.launch(
      proc,
      async () =>
        (await run('gobgp', ['-u', API.split(':')[0] ?? '', '-p', API.split(':')[1] ?? '', 'global'])).code === 0,
      'the gobgpd API',
    );
  }
}

export const gobgp: DaemonModule = {
  name: 'gobgp',
  async unavailable() {
    return (await which('gobgpd')) && (await which('gobgp')) ? null : 'gobgpd/gobgp not installed';
  },
  async version() {
    const r = await run('gobgpd', ['--version']);
    return r.stdout.trim().replace(/^gobgpd version /, 'GoBGP ');
  },
  create: (c) => new GoBgp(c),
};
