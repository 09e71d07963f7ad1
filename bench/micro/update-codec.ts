// Micro benchmark of the UPDATE codec (not a test): prefixes per second for encode and decode of 100k synthetic
// prefixes, in the shape of a full-table transfer — small UPDATEs of 3 prefixes sharing a typical attribute set
// (ORIGIN, AS_PATH of 4 ASNs, NEXT_HOP, MED, COMMUNITIES), each set distinct — plus one big packed batch.
//
//   node bench/micro/update-codec.ts

import type { Family } from '../../src/wire/constants.ts';
import { makePrefixKey, type PrefixKey } from '../../src/wire/prefix.ts';
import type { PathAttributes, RouteBatch } from '../../src/wire/types.ts';
import { defaultCodecContext } from '../../src/wire/types.ts';
import { decodeUpdate, encodeUpdates } from '../../src/wire/update.ts';

const PREFIXES = 100_000;
const PER_UPDATE = 3;
const ROUNDS = 15; // best of: the runs are short and a shared machine is noisy

function prefixes(family: Family): PrefixKey[] {
  const out: PrefixKey[] = [];
  for (let i = 0; i < PREFIXES; i++) {
    const addr =
      family === 'ipv4-unicast'
        ? Uint8Array.of(1 + (i >> 16), (i >> 8) & 0xff, i & 0xff, 0)
        : Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, i >> 16, (i >> 8) & 0xff, i & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    out.push(makePrefixKey(addr, family === 'ipv4-unicast' ? 24 : 56));
  }
  return out;
}

function attrs(i: number): PathAttributes {
  return {
    origin: 0,
    asPath: [{ type: 2, asns: [65001, 3356, 1299 + (i % 50), 64512 + (i % 1000)] }],
    med: i % 100,
    communities: [(65001 << 16) >>> 0, ((65001 << 16) | (i % 500)) >>> 0],
  };
}

function batches(family: Family, keys: PrefixKey[]): RouteBatch[] {
  const out: RouteBatch[] = [];
  for (let i = 0; i < keys.length; i += PER_UPDATE) {
    out.push({
      family,
      attributes: attrs(i),
      nextHop: family === 'ipv4-unicast' ? '192.0.2.1' : '2001:db8::1',
      prefixes: keys.slice(i, i + PER_UPDATE),
    });
  }
  return out;
}

function best(label: string, count: number, fn: () => void): void {
  fn(); // warm-up
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  const rate = Math.round((count / min) * 1000);
  console.log(`${label.padEnd(44)} ${rate.toLocaleString('en-US').padStart(12)} prefixes/s  (${min.toFixed(1)} ms)`);
}

const ctx = defaultCodecContext({ ebgp: true });
for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
  const keys = prefixes(family);
  const bs = batches(family, keys);
  let msgs: Uint8Array[] = [];
  best(`encode ${family}, ${PER_UPDATE}/UPDATE (${bs.length} calls)`, PREFIXES, () => {
    msgs = [];
    for (const b of bs) for (const m of encodeUpdates(b, ctx)) msgs.push(m);
  });
  const bodies = msgs.map((m) => m.subarray(19));
  let sink = 0;
  best(`decode ${family}, ${PER_UPDATE}/UPDATE (${bodies.length} msgs)`, PREFIXES, () => {
    for (const b of bodies) sink += decodeUpdate(b, ctx).announced.length;
  });
  const one: RouteBatch = { family, attributes: attrs(0), nextHop: bs[0]!.nextHop, prefixes: keys };
  let packed: Uint8Array[] = [];
  best(`encode ${family}, one attribute set, packed`, PREFIXES, () => {
    packed = encodeUpdates(one, ctx);
  });
  const packedBodies = packed.map((m) => m.subarray(19));
  best(`decode ${family}, packed (${packed.length} msgs)`, PREFIXES, () => {
    for (const b of packedBodies) sink += decodeUpdate(b, ctx).announced.length;
  });
  if (sink < 0) console.log(sink);
}
