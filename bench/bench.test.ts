// Self-tests of the benchmark's own parts (not of tsbgp): the generated stream is valid BGP as tsbgp's decoder reads
// it and has the promised shape; the receiver's byte-walking counter agrees with the decoder and with the churn
// bookkeeping; the prefix hash set behaves like a Set; the sender's chunks end on message boundaries.
//
//   node --test bench/bench.test.ts

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { defaultCodecContext } from '../src/wire/types.ts';
import { decodeUpdate } from '../src/wire/update.ts';
import { PrefixSet, RibCounter } from './receiver.ts';
import { chunkBoundaries } from './sender.ts';
import {
  ByteSink,
  churnFile,
  encodeEndOfRib,
  encodeWithdraw,
  generateTable,
  type SenderView,
  streamFile,
  type TableParams,
} from './table.ts';

const params: TableParams = { seed: 42, v4: 6000, v6: 1400 };
const ebgp: SenderView = { asn: 65001, ibgp: false, nextHop4: '198.51.100.11', nextHop6: '2001:db8::11' };
const ibgp: SenderView = { asn: 65000, ibgp: true, nextHop4: '198.51.100.12', nextHop6: '2001:db8::12' };

function* messages(buf: Buffer): Generator<Buffer> {
  let off = 0;
  while (off < buf.length) {
    const len = buf.readUInt16BE(off + 16);
    yield buf.subarray(off, off + len);
    off += len;
  }
}

test('the generated stream decodes cleanly with src/wire and has the table shape', () => {
  const { file, meta } = streamFile({ table: params, view: ebgp });
  const buf = readFileSync(file);
  assert.equal(buf.length, meta.bytes);
  const ctx = defaultCodecContext({ ebgp: true });
  const seen = { 'ipv4-unicast': new Set<string>(), 'ipv6-unicast': new Set<string>() };
  let updates = 0;
  let withCommunities = 0;
  let pathLen = 0;
  for (const m of messages(buf)) {
    assert.equal(m[18], 2);
    assert.ok(m.length <= 4096);
    const u = decodeUpdate(m.subarray(19), ctx);
    assert.deepEqual(u.errors, []);
    assert.equal(u.treatAsWithdraw, false);
    assert.equal(u.announced.length, 1);
    const a = u.attributes;
    assert.ok(a);
    const path = a.asPath.flatMap((s) => s.asns);
    assert.equal(path[0], 65001, 'the eBGP sender prepends its AS');
    assert.ok(!path.slice(1).some((x) => x >= 64512 && x <= 65534), 'no private ASNs after the sender');
    pathLen += path.length;
    if (a.communities?.length) withCommunities++;
    for (const b of u.announced) {
      assert.equal(b.nextHop, b.family === 'ipv4-unicast' ? '198.51.100.11' : '2001:db8::11');
      for (const p of b.prefixes) {
        assert.ok(!seen[b.family].has(p), 'no prefix is sent twice');
        seen[b.family].add(p);
      }
    }
    updates++;
  }
  assert.equal(updates, meta.updates);
  assert.equal(seen['ipv4-unicast'].size, params.v4);
  assert.equal(seen['ipv6-unicast'].size, params.v6);
  const perUpdate = (params.v4 + params.v6) / updates;
  assert.ok(perUpdate > 2 && perUpdate < 3, `≈ 2.4 prefixes per UPDATE, got ${perUpdate}`);
  const meanPath = pathLen / updates;
  assert.ok(meanPath > 4 && meanPath < 5.5, `mean AS path ≈ 4–5, got ${meanPath}`);
  assert.ok(withCommunities / updates > 0.4 && withCommunities / updates < 0.75);
  assert.ok(
    meta.meanV4Length > 22.5 && meta.meanV4Length < 23.3,
    `average IPv4 length ≈ 22.9, got ${meta.meanV4Length}`,
  );
  assert.ok(meta.v6Share48 > 0.4 && meta.v6Share48 < 0.52);
});

test('the table is deterministic for a seed and different for another', () => {
  const a = generateTable(params);
  const b = generateTable(params);
  const c = generateTable({ ...params, seed: 43 });
  assert.deepEqual(a.v4addr, b.v4addr);
  assert.deepEqual(a.attrs.slice(0, 50), b.attrs.slice(0, 50));
  assert.notDeepEqual(a.v4addr, c.v4addr);
  // Never inside the speakers' or the markers' ranges.
  for (let i = 0; i < a.v4addr.length; i++) {
    const x = a.v4addr[i] as number;
    assert.ok(x >>> 8 !== 0xc63364 && x >>> 17 !== 0xc612 >>> 1);
  }
  for (let i = 0; i < a.v6hi.length; i++) assert.notEqual(a.v6hi[i], 0x20010db8);
});

test('iBGP streams carry LOCAL_PREF and no sender AS', () => {
  const { file } = streamFile({ table: params, view: ibgp, slice: { index: 1, of: 4 } });
  const ctx = defaultCodecContext({ ebgp: false });
  for (const m of messages(readFileSync(file))) {
    const u = decodeUpdate(m.subarray(19), ctx);
    assert.equal(u.attributes?.localPref, 100);
    assert.notEqual(u.attributes?.asPath[0]?.asns[0], 65000);
  }
});

test('the receiver counts what the decoder sees, and withdrawals remove', () => {
  const { file, meta } = streamFile({ table: params, view: ebgp });
  const buf = readFileSync(file);
  const rib = new RibCounter();
  for (const m of messages(buf)) rib.apply(m, 0, m.length);
  assert.equal(rib.v4.size, meta.v4);
  assert.equal(rib.v6.size, meta.v6);
  // Announcing again changes nothing (an implicit withdrawal, RFC 4271 §3.1).
  for (const m of messages(buf)) rib.apply(m, 0, m.length);
  assert.equal(rib.v4.size, meta.v4);
  // End-of-RIB for both families is recognised.
  const eor = encodeEndOfRib();
  for (const m of messages(eor)) rib.apply(m, 0, m.length);
  assert.ok(rib.endOfRib4 && rib.endOfRib6);
  // Withdraw everything, in batches per family.
  const t = generateTable(params);
  const s = new ByteSink();
  const all4 = Array.from({ length: params.v4 }, (_, i) => i);
  const all6 = Array.from({ length: params.v6 }, (_, i) => i);
  for (let i = 0; i < all4.length; i += 300) encodeWithdraw(s, t, 4, all4.slice(i, i + 300));
  for (let i = 0; i < all6.length; i += 100) encodeWithdraw(s, t, 6, all6.slice(i, i + 100));
  const w = s.result();
  const ctx = defaultCodecContext();
  for (const m of messages(w)) {
    const u = decodeUpdate(m.subarray(19), ctx);
    assert.deepEqual(u.errors, []);
    rib.apply(m, 0, m.length);
  }
  assert.equal(rib.v4.size, 0);
  assert.equal(rib.v6.size, 0);
});

test('churn ends with the table the bookkeeping predicts, one marker per tick', () => {
  const { file: sf } = streamFile({ table: params, view: ebgp });
  const { file, meta } = churnFile({ table: params, view: ebgp, rate: 4000, seconds: 2, tickMs: 100, seed: 7 });
  const rib = new RibCounter();
  for (const m of messages(readFileSync(sf))) rib.apply(m, 0, m.length);
  const churn = readFileSync(file);
  const ctx = defaultCodecContext();
  for (const m of messages(churn)) {
    assert.deepEqual(decodeUpdate(m.subarray(19), ctx).errors, []);
    rib.apply(m, 0, m.length);
  }
  assert.equal(meta.ticks, 20);
  assert.equal(meta.announces + meta.withdrawals, 8000);
  assert.equal(rib.v4.size, meta.finalV4);
  assert.equal(rib.v6.size, meta.finalV6);
  assert.equal(rib.markers.size, 20);
  assert.equal(meta.offsets.length, 21);
  assert.equal(meta.offsets[20], churn.length);
});

test('PrefixSet behaves like a Set under random adds and deletes', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.boolean(),
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: 64 }),
        ),
        {
          minLength: 200,
          maxLength: 3000,
          size: 'max',
        },
      ),
      (ops) => {
        const ps = new PrefixSet(4);
        const ref = new Set<string>();
        for (const [add, a, b, len] of ops) {
          const k = `${a},${b},${len}`;
          if (add) assert.equal(ps.add(a, b, len), !ref.has(k));
          else assert.equal(ps.delete(a, b, len), ref.has(k));
          if (add) ref.add(k);
          else ref.delete(k);
          assert.equal(ps.size, ref.size);
        }
      },
    ),
    { numRuns: 100 },
  );
});

test('sender chunks end on message boundaries and cover the stream', () => {
  const { file } = streamFile({ table: params, view: ebgp });
  const buf = readFileSync(file);
  const cuts = chunkBoundaries(buf, 4096);
  assert.equal(cuts[0], 0);
  assert.equal(cuts[cuts.length - 1], buf.length);
  const starts = new Set<number>([0]);
  let off = 0;
  for (const m of messages(buf)) {
    off += m.length;
    starts.add(off);
  }
  for (const c of cuts) assert.ok(starts.has(c));
});
