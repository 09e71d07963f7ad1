// Micro benchmark of the RIB (not a test), in the shape of a real full table (bench anchors: ≈ 2.4 prefixes per
// UPDATE, each UPDATE its own attribute set). Phases, each timed and followed by a heap measurement:
//   insert    1 M IPv4 prefixes from one eBGP peer (UPDATEs built beforehand, as the decoder returns them)
//   export    a second eBGP peer comes up and pulls the whole table (export rules + real UPDATE encoding)
//   second    a third peer sends the same prefixes with other attributes (2 paths per prefix, best path runs)
//   down      the first peer goes down (its paths withdrawn, best paths recomputed, withdrawals queued)
//
//   node --expose-gc bench/micro/rib.ts [prefixes]
//
// BIRD's reference on this kind of machine: ≈ 470 k prefixes/s (≈ 2100 ns/prefix) in and out, ≈ 220 bytes per
// prefix for in + out tables together. Measured here (2 cores, Node 24, 1 M prefixes, 2026-11-22 after the prefix
// table): insert ≈ 0.8 µs and 81 B per prefix (Adj-RIB-In + Loc-RIB: the path is the interned attribute set),
// export ≈ 0.5–0.7 µs per prefix and 92 B per prefix for in + out, a second path +137 B.

import { Rib } from '../../src/rib/rib.ts';
import {
  AsPathSegmentType,
  defaultCodecContext,
  makePrefixKey,
  type PathAttributes,
  type PrefixKey,
  type UpdateMessage,
} from '../../src/wire/index.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const PER_UPDATE = [2, 3, 2, 3, 2]; // ≈ 2.4 on average

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with: node --expose-gc bench/micro/rib.ts');
  process.exit(1);
}

/** Live heap after a full collection, from a fresh macrotask (nothing of the current job kept alive). */
async function heap(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

function prefixKey(i: number): PrefixKey {
  // Mostly /24, some shorter, like a real table.
  const len = i % 10 === 0 ? 22 : 24;
  return makePrefixKey(
    Uint8Array.of(1 + ((i >> 16) & 0xdf), (i >> 8) & 0xff, i & 0xff & (len === 22 ? 0xfc : 0xff), 0),
    len,
  );
}

/** Attributes shaped like the decoder's output: every field present, most undefined. */
function attributes(i: number, variant: number): PathAttributes {
  return {
    origin: 0,
    asPath: [
      { type: AsPathSegmentType.AS_SEQUENCE, asns: [65001 + variant, 3356, 1299 + (i % 50), 64512 + (i % 9973)] },
    ],
    med: variant === 0 ? undefined : i % 100,
    localPref: undefined,
    atomicAggregate: undefined,
    aggregator: undefined,
    communities: [(65001 << 16) >>> 0, ((3356 << 16) | (i % 500)) >>> 0],
    originatorId: undefined,
    clusterList: undefined,
    extCommunities: undefined,
    largeCommunities: undefined,
    otc: undefined,
    unknown: undefined,
  };
}

/** UPDATEs for prefixes [from, to), as the decoder would hand them over. */
function updates(from: number, to: number, variant: number, nextHop: string): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  for (let i = from, u = from; i < to; u++) {
    const n = Math.min(PER_UPDATE[u % PER_UPDATE.length]!, to - i);
    const prefixes: PrefixKey[] = [];
    for (let k = 0; k < n; k++) prefixes.push(prefixKey(i + k));
    out.push({
      type: 'update',
      withdrawn: [],
      announced: [{ family: 'ipv4-unicast', prefixes, pathIds: null, nextHop }],
      attributes: attributes(i, variant),
      treatAsWithdraw: false,
      errors: [],
    });
    i += n;
  }
  return out;
}

/**
 * Feeds the whole table from one peer in chunks of UPDATEs built just before they are applied (so that they die
 * young, as decoded UPDATEs do); returns the nanoseconds spent in applyUpdate.
 */
function feed(rib: Rib, id: string, variant: number): number {
  let ns = 0;
  const CHUNK = 24_000;
  for (let i = 0; i < N; i += CHUNK) {
    const msgs = updates(i, Math.min(N, i + CHUNK), variant, id);
    const t = process.hrtime.bigint();
    for (const m of msgs) rib.applyUpdate(id, m);
    ns += Number(process.hrtime.bigint() - t);
  }
  return ns;
}

function report(phase: string, ns: number, units: number, bytes: number | null): void {
  const per = (ns / units).toFixed(0);
  const rate = (((units / ns) * 1e9) / 1000).toFixed(0);
  const mem =
    bytes === null ? '' : `, heap ${(bytes / units).toFixed(0)} B/prefix (${(bytes / 2 ** 20).toFixed(0)} MiB)`;
  console.log(`${phase.padEnd(8)} ${per.padStart(6)} ns/prefix  (${rate} k/s)${mem}`);
}

const session = (addr: string, rid: number) => ({
  families: ['ipv4-unicast' as const],
  codec: defaultCodecContext(),
  localAddress: addr,
  routerId: rid,
});

const base = await heap();
const rib = new Rib({ localAsn: 65000, routerId: 0x0a000001 });
for (const [id, asn] of [
  ['192.0.2.1', 65001],
  ['192.0.2.2', 65002],
  ['192.0.2.3', 65003],
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
}
rib.peerUp('192.0.2.1', session('192.0.2.100', 1));
rib.pull('192.0.2.1', 1 << 20);

// insert
let ns = feed(rib, '192.0.2.1', 0);
const afterIn = (await heap()) - base;
report('insert', ns, N, afterIn);
const stats = rib.internStats();
console.log(`         ${stats.sources} attribute sets, ${(N / stats.sources).toFixed(2)} prefixes per set`);

// export
rib.peerUp('192.0.2.2', session('192.0.2.200', 2));
let bytes = 0;
let messages = 0;
let t = process.hrtime.bigint();
for (;;) {
  const out = rib.pull('192.0.2.2', 1 << 16);
  if (out.length === 0) break;
  messages += out.length;
  for (const m of out) bytes += m.length;
}
ns = Number(process.hrtime.bigint() - t);
const afterOut = (await heap()) - base;
report('export', ns, N, afterOut);
console.log(
  `         ${messages} UPDATEs, ${(bytes / 2 ** 20).toFixed(1)} MiB; Adj-RIB-Out alone ${((afterOut - afterIn) / N).toFixed(0)} B/prefix`,
);

// second path per prefix
rib.peerUp('192.0.2.3', session('192.0.2.100', 3));
ns = feed(rib, '192.0.2.3', 1);
const afterSecond = (await heap()) - base;
report('second', ns, N, null);
console.log(
  `         +${((afterSecond - afterOut) / N).toFixed(0)} B per extra path (its attribute sets and the 2-path arrays)`,
);

// peer down
t = process.hrtime.bigint();
rib.peerDown('192.0.2.1');
// The sweep runs in slices from the event loop (rib.ts peerDown): time it to the end.
while (rib.sweeping) await new Promise((resolve) => setImmediate(resolve));
ns = Number(process.hrtime.bigint() - t);
report('down', ns, N, null);
