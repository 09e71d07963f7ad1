// Micro benchmark of route injection through the API (not a test): one POST /api/v1/routes of N routes (default
// 100 000) through fastify .inject() into a real Speaker and RIB with one established eBGP neighbour (its output
// is not pulled, so the RIB apply is measured alone), on a state store in a temp directory (WAL, synchronous=FULL:
// the COMMIT is fsync'd). Prints the total time and the daemon's own split (validate / store commit / RIB apply),
// a re-post of the same batch (every row replaced), and the start-up load of the stored routes into a new RIB.
//
//   node bench/micro/inject.ts [routes]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildApi } from '../../src/api/server.ts';
import { Speaker } from '../../src/daemon/speaker.ts';
import { StateStore } from '../../src/daemon/store.ts';
import { config, fakePeers } from '../../src/daemon/testing.ts';

const N = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'tsbgp-bench-inject-'));
const TOML = `[global]\nasn = 65000\nrouter_id = "192.0.2.1"\nlisten = []\n`;

interface Split {
  msg: string;
  routes?: number;
  validate_ms?: number;
  commit_ms?: number;
  apply_ms?: number;
}
const logs: Split[] = [];
const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s) as Split) });
const lastSplit = () => logs.filter((l) => l.msg === 'routes injected').at(-1);

try {
  const store = StateStore.open(join(dir, 'state.db'));
  const peers = fakePeers();
  const speaker = new Speaker(config(`${TOML}[[neighbors]]\naddress = "192.0.2.2"\nasn = 65001\n`), {
    logger,
    createPeer: peers.factory,
    store,
  });
  await speaker.start();
  const peer = peers.latest('192.0.2.2');
  peer.establish({ localAddress: '192.0.2.1' });
  peer.wakeOutput = () => {};
  const app = buildApi(speaker);
  await app.ready();

  // 50 distinct attribute sets, as a portal injecting customer routes with a few communities would produce.
  const routes = [];
  for (let i = 0; i < N; i++) {
    routes.push({
      prefix: `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`,
      as_path: [65010 + (i % 50)],
      communities: ['65000:1'],
    });
  }
  const payload = JSON.stringify({ routes });
  const post = async () => {
    const t = performance.now();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/routes',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    if (res.statusCode !== 200) throw new Error(`POST: ${res.statusCode} ${res.body}`);
    return performance.now() - t;
  };
  console.log(`${N} routes, body ${(payload.length / 1e6).toFixed(1)} MB`);
  const first = await post();
  console.log(`POST (new routes):      ${first.toFixed(0)} ms total`, lastSplit());
  const again = await post();
  console.log(`POST (same, replaced):  ${again.toFixed(0)} ms total`, lastSplit());
  await app.close();
  await speaker.shutdown();
  store.close();

  const reopened = StateStore.open(join(dir, 'state.db'));
  const t = performance.now();
  const restarted = new Speaker(config(TOML), { logger, createPeer: fakePeers().factory, store: reopened });
  console.log(
    `restart: ${restarted.ribSize('ipv4-unicast')} routes loaded into the RIB in ${(performance.now() - t).toFixed(0)} ms`,
  );
  await restarted.shutdown();
  reopened.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
