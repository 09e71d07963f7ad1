// Micro benchmark of the whole per-UPDATE pipeline without sockets (not a test): the benchmark's full-table stream
// (bench/.cache, made by `npm run bench`) is framed, decoded with src/wire, applied to a Rib from one eBGP peer and
// pulled by a second one in 64 KiB pulls, as the daemon does. Reports time per prefix and, with --alloc, where the
// garbage is made (V8's sampling heap profiler with collected objects included; top allocation sites by bytes).
//
//   node --expose-gc bench/micro/pipeline.ts [--alloc]

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { Rib } from '../../src/rib/rib.ts';
import { blockSize, type CodecContext, decodeMessage, defaultCodecContext } from '../../src/wire/index.ts';
import { CACHE_DIR } from '../table.ts';

const alloc = process.argv.includes('--alloc');
// The largest cached stream is the full table.
const file = readdirSync(CACHE_DIR)
  .filter((f) => f.startsWith('stream-') && f.endsWith('.bin'))
  .map((f) => join(CACHE_DIR, f))
  .sort((a, b) => statSync(b).size - statSync(a).size)[0];
if (file === undefined) {
  console.error('no cached stream: run `npm run bench` once');
  process.exit(1);
}
const stream = readFileSync(file);

const ctx: CodecContext = {
  ...defaultCodecContext(),
  asn4: true,
  families: new Set(['ipv4-unicast', 'ipv6-unicast']),
} as CodecContext;
const rib = new Rib({ localAsn: 65000, routerId: 0x0a000001 });
for (const [id, asn] of [
  ['198.51.100.11', 65001],
  ['198.51.100.31', 65101],
] as const) {
  rib.addPeer({
    id,
    address: id,
    asn,
    localAsn: 65000,
    routerId: 0,
    ibgp: false,
    routeReflectorClient: false,
    localAddress: '',
  });
  rib.peerUp(id, {
    families: ['ipv4-unicast', 'ipv6-unicast'],
    codec: ctx,
    localAddress: '198.51.100.1',
    routerId: asn,
  });
}
while (rib.pull('198.51.100.31', 1 << 20).length > 0);

let session: Session | null = null;
if (alloc) {
  session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
const t0 = performance.now();
let prefixes = 0;
let out = 0;
const digest = createHash('sha256');
for (let off = 0, n = 0; off < stream.length; n++) {
  const len = stream.readUInt16BE(off + 16);
  const m = decodeMessage(stream.subarray(off, off + len), ctx);
  off += len;
  if (m.type !== 'update') continue;
  for (const b of m.announced) prefixes += blockSize(b);
  rib.applyUpdate('198.51.100.11', m);
  if ((n & 63) === 63) {
    for (const x of rib.pull('198.51.100.31', 64 * 1024)) {
      out += x.length;
      digest.update(x);
    }
  }
}
for (let m = rib.pull('198.51.100.31', 64 * 1024); m.length > 0; m = rib.pull('198.51.100.31', 64 * 1024)) {
  for (const x of m) {
    out += x.length;
    digest.update(x);
  }
}
const ms = performance.now() - t0;
console.log(
  `${prefixes} prefixes in ${ms.toFixed(0)} ms: ${((ms * 1e6) / prefixes).toFixed(0)} ns/prefix; ${(out / 2 ** 20).toFixed(1)} MiB out, sha256 ${digest.digest('hex').slice(0, 16)}`,
);

if (session !== null) {
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as {
    profile: { head: Node };
  };
  interface Node {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: Node[];
  }
  const by = new Map<string, number>();
  const walk = (n: Node, stack: string[]): void => {
    const f = n.callFrame;
    const here = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    if (n.selfSize > 0) {
      const k = [here, ...stack.slice(0, 1)].join(' < ');
      by.set(k, (by.get(k) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, [here, ...stack]);
  };
  walk(profile.head, []);
  let total = 0;
  for (const v of by.values()) total += v;
  console.log(`allocated ≈ ${(total / 2 ** 20).toFixed(0)} MiB (sampled)`);
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${(v / 2 ** 20).toFixed(1).padStart(7)} MiB  ${k}`);
  }
}
