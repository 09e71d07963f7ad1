// Micro benchmark of attribute-set interning (not a test), in the shape of a full table: 500 k UPDATEs from one
// eBGP peer, every one its own attribute set, decoded by the real decoder (so the attribute objects have the
// decoder's shape). Times sourceKey + SourceTable.intern per UPDATE (as rib.ts calls them), a second pass that
// finds every set again (a re-announcement), and release; measures the heap each interned source costs.
//
//   node --expose-gc bench/micro/intern.ts [updates]

import type { RouteSource } from '../../src/rib/intern.ts';
import { SourceKind, SourceTable, sourceKey } from '../../src/rib/intern.ts';
import {
  AsPathSegmentType,
  decodeUpdate,
  defaultCodecContext,
  encodeUpdates,
  makePrefixKey,
  type PathAttributes,
  type UpdateMessage,
} from '../../src/wire/index.ts';

const N = Number(process.argv[2] ?? 500_000);
const CHUNK = 20_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with: node --expose-gc bench/micro/intern.ts');
  process.exit(1);
}

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const ctx = defaultCodecContext({ ebgp: true });

function attributes(i: number): PathAttributes {
  return {
    origin: 0,
    asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001, 3356, 1299 + (i % 50), 64512 + (i % 9973), i + 1] }],
    med: i % 100,
    communities: [(65001 << 16) >>> 0, ((3356 << 16) | (i % 500)) >>> 0, ((3356 << 16) | 2000) >>> 0],
  };
}

/** Bodies of UPDATEs [from, to), 2–3 prefixes each (≈ 2.46 per UPDATE in a real table). */
function bodies(from: number, to: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = from; i < to; i++) {
    const prefixes = [];
    const n = i % 2 === 0 ? 2 : 3;
    for (let k = 0; k < n; k++) {
      const p = i * 3 + k;
      prefixes.push(makePrefixKey(Uint8Array.of(1 + (p >> 16), (p >> 8) & 0xff, p & 0xff, 0), 24));
    }
    const batch = { family: 'ipv4-unicast' as const, attributes: attributes(i), nextHop: '192.0.2.1', prefixes };
    for (const m of encodeUpdates(batch, ctx)) out.push(m.slice(19));
  }
  return out;
}

function decoded(from: number, to: number): UpdateMessage[] {
  return bodies(from, to).map((b) => decodeUpdate(b, ctx));
}

/** One pass over all UPDATEs: ns spent in sourceKey + intern (decode excluded). */
function pass(table: SourceTable, keep: RouteSource[] | null, mode: 'key' | 'attrs' | 'keyOnly' = 'key'): number {
  let ns = 0;
  for (let i = 0; i < N; i += CHUNK) {
    const msgs = decoded(i, Math.min(N, i + CHUNK));
    const t = process.hrtime.bigint();
    for (const m of msgs) {
      const a = m.attributes!;
      const b = m.announced[0]!;
      if (mode === 'keyOnly') {
        sink += sourceKey(a, 100, 1, b.family, b.nextHop, b.nextHopLinkLocal).length;
        continue;
      }
      const src =
        mode === 'key'
          ? table.intern(
              sourceKey(a, 100, 1, b.family, b.nextHop, b.nextHopLinkLocal),
              1,
              SourceKind.EBGP,
              b.family,
              a,
              b.nextHop,
              b.nextHopLinkLocal,
              100,
            )
          : table.internAttributes(a, 100, 1, SourceKind.EBGP, b.family, b.nextHop, b.nextHopLinkLocal);
      if (keep !== null) {
        src.refs++;
        keep.push(src);
      }
    }
    ns += Number(process.hrtime.bigint() - t);
  }
  return ns;
}

let sink = 0;
const mode = (process.env.MODE ?? 'key') as 'key' | 'attrs';
const keep: RouteSource[] = [];
const base = heap();
const table = new SourceTable();
const keepArray = heap() - base; // nothing yet: the kept array grows below, counted separately
const tIn = pass(table, keep, mode);
const held = heap() - base - keepArray - keep.length * 8;
const tAgain = pass(table, null, mode);
const tKey = pass(table, null, 'keyOnly');
let t = process.hrtime.bigint();
for (const s of keep) table.release(s);
const tRel = Number(process.hrtime.bigint() - t);
t = process.hrtime.bigint();
if (table.size !== 0) console.log(`LEAK: ${table.size} sources left`);

const keyLen = sourceKey(decoded(0, 1)[0]!.attributes!, 100, 1, 'ipv4-unicast', '192.0.2.1', undefined).length;
console.log(`${N} UPDATEs, ${keep.length} sources, key ${keyLen} chars`);
console.log(`mode ${mode}${sink < 0 ? '' : ''}`);
console.log(`sourceKey only ${(tKey / N).toFixed(0).padStart(6)} ns/UPDATE`);
console.log(`intern new     ${(tIn / N).toFixed(0).padStart(6)} ns/UPDATE (sourceKey + intern)`);
console.log(`intern again   ${(tAgain / N).toFixed(0).padStart(6)} ns/UPDATE (all found)`);
console.log(`release        ${(tRel / N).toFixed(0).padStart(6)} ns/source`);
console.log(`heap           ${(held / N).toFixed(0).padStart(6)} B/source (RouteSource + key + table)`);
