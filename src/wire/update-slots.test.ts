// encodeSlotUpdates (prefixes as NLRI bytes picked by slot, attribute block given as bytes) against encodeUpdates:
// for random prefix sets, attribute sets, families, next hops, message sizes and Add-Path, the same messages byte
// for byte — including where the prefixes are split at the message size limit and where the attributes leave no
// room at all (both throw, and nothing is appended).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeAttributeBlockView } from './attributes.ts';
import { type Family, MAX_EXTENDED_MESSAGE_SIZE, MAX_MESSAGE_SIZE } from './constants.ts';
import { makePrefixKey, type PrefixKey, parsePrefix } from './prefix.ts';
import { defaultCodecContext, type PathAttributes, type RouteBatch } from './types.ts';
import { encodeSlotUpdates, encodeUpdates, type SlotBatch } from './update.ts';

const toHex = (msgs: Uint8Array[]) => msgs.map((m) => Buffer.from(m).toString('hex'));

function prefixArb(family: Family): fc.Arbitrary<PrefixKey> {
  const bytes = family === 'ipv4-unicast' ? 4 : 16;
  return fc
    .tuple(fc.uint8Array({ minLength: bytes, maxLength: bytes }), fc.integer({ min: 0, max: bytes * 8 }))
    .map(([addr, bits]) => makePrefixKey(addr, bits));
}

/** Attributes whose block ranges from a few bytes to more than a 4096-byte message holds. */
const attrsArb: fc.Arbitrary<PathAttributes> = fc
  .record({
    origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
    asns: fc.array(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 1, maxLength: 40 }),
    communities: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 950, max: 1030 }), // around a 4096-byte message's room for attributes
    ),
  })
  .map(({ origin, asns, communities }) => ({
    origin,
    asPath: [{ type: 2 as const, asns }],
    ...(communities > 0 ? { communities: Array.from({ length: communities }, (_, i) => 0x10000 + i) } : {}),
  }));

/**
 * The prefixes laid out as a prefix table keeps them: keys at a fixed stride in one byte array, in shuffled slots
 * (with unused slots between), and the slot list in a longer array than `count`.
 */
function slotted(prefixes: PrefixKey[], stride: number, seed: number): { keys: Uint8Array; slots: Int32Array } {
  const n = prefixes.length;
  const order = Array.from({ length: 2 * n + 1 }, (_, i) => i);
  let r = seed | 1;
  for (let i = order.length - 1; i > 0; i--) {
    r = Math.imul(r ^ (r >>> 15), 0x2c1b3c6d) ^ 0x9e3779b9;
    const j = (r >>> 0) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const keys = new Uint8Array(order.length * stride).fill(0xaa);
  const slots = new Int32Array(n + 7).fill(-1);
  for (let i = 0; i < n; i++) {
    const s = order[i]!;
    slots[i] = s;
    const p = prefixes[i]!;
    for (let k = 0; k < p.length; k++) keys[s * stride + k] = p.charCodeAt(k);
  }
  return { keys, slots };
}

/** encodeUpdates' messages, or 'throws'. */
function reference(batch: RouteBatch, ctx: ReturnType<typeof defaultCodecContext>): string[] | 'throws' {
  try {
    return toHex(encodeUpdates(batch, ctx));
  } catch {
    return 'throws';
  }
}

for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
  test(`property: encodeSlotUpdates makes encodeUpdates' bytes (${family})`, () => {
    const stride = family === 'ipv4-unicast' ? 5 : 17;
    let split = 0;
    let threw = 0;
    fc.assert(
      fc.property(
        attrsArb,
        fc.array(prefixArb(family), { minLength: 0, maxLength: 2500, size: 'max' }),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.constantFrom(MAX_MESSAGE_SIZE, MAX_EXTENDED_MESSAGE_SIZE),
        family === 'ipv4-unicast'
          ? fc.constantFrom('192.0.2.1', '2001:db8::1')
          : fc.constantFrom('2001:db8::1', '192.0.2.1'),
        fc.option(fc.constant('fe80::1'), { nil: undefined }),
        fc.integer(),
        fc.integer({ min: 0, max: 40 }),
        (attributes, prefixes, addPath, pathId, max, nextHop, linkLocal, seed, pad) => {
          const fams = new Set<Family>(addPath ? [family] : []);
          const ctx = defaultCodecContext({
            maxMessageSize: max,
            addPathTx: fams,
            addPathRx: fams,
            extendedNextHop: new Set(['ipv4-unicast']),
          });
          const ll = nextHop.includes(':') ? linkLocal : undefined;
          const batch: RouteBatch = {
            family,
            attributes,
            nextHop,
            ...(ll !== undefined ? { nextHopLinkLocal: ll } : {}),
            prefixes,
            ...(addPath ? { pathIds: prefixes.map(() => pathId) } : {}),
          };
          const want = reference(batch, ctx);
          // The block as the RIB hands it over: inside a larger buffer, NEXT_HOP included when it is an IPv4 one
          // for IPv4 routes.
          const v4 = family === 'ipv4-unicast' && !nextHop.includes(':') ? Uint8Array.of(192, 0, 2, 1) : null;
          const block = encodeAttributeBlockView(attributes, ctx, v4).slice();
          const arena = new Uint8Array(pad + block.length + 3).fill(0x55);
          arena.set(block, pad);
          const { keys, slots } = slotted(prefixes, stride, seed);
          const sb: SlotBatch = {
            family,
            nextHop,
            ...(ll !== undefined ? { nextHopLinkLocal: ll } : {}),
            block: arena,
            blockStart: pad,
            blockEnd: pad + block.length,
            keys,
            stride,
            slots,
            count: prefixes.length,
            pathId,
          };
          const before = Uint8Array.of(1, 2, 3);
          const out: Uint8Array[] = [before];
          let got: string[] | 'throws';
          let bytes = 0;
          try {
            bytes = encodeSlotUpdates(sb, ctx, out);
            assert.equal(out[0], before, 'what was in `out` stays');
            got = toHex(out.slice(1));
          } catch {
            assert.deepEqual(out, [before], 'nothing appended when it throws');
            got = 'throws';
          }
          assert.deepEqual(got, want);
          if (got !== 'throws') {
            assert.equal(
              bytes,
              out.slice(1).reduce((n, m) => n + m.length, 0),
            );
            if (got.length > 1) split++;
          } else threw++;
        },
      ),
      // No shrinking: runs of thousands of prefixes shrink for minutes; the counterexample is reported as found.
      { numRuns: 300, endOnFailure: true },
    );
    // The interesting cases did happen: messages split at the size limit, and attributes that leave no room.
    assert.ok(split > 20, `only ${split} runs split their prefixes over several messages`);
    assert.ok(threw > 5, `only ${threw} runs had attributes too large for the message`);
  });
}

test('encodeSlotUpdates: an empty batch appends nothing; slots beyond count are not read', () => {
  const ctx = defaultCodecContext();
  const keys = new Uint8Array(10).fill(0xff);
  const p = parsePrefix('10.1.0.0/16').key;
  for (let k = 0; k < p.length; k++) keys[5 + k] = p.charCodeAt(k);
  const block = encodeAttributeBlockView({ origin: 0, asPath: [] }, ctx, Uint8Array.of(192, 0, 2, 1));
  const batch: SlotBatch = {
    family: 'ipv4-unicast',
    nextHop: '192.0.2.1',
    block,
    blockStart: 0,
    blockEnd: block.length,
    keys,
    stride: 5,
    slots: Int32Array.of(1, 0),
    count: 0,
    pathId: 1,
  };
  const out: Uint8Array[] = [];
  assert.equal(encodeSlotUpdates(batch, ctx, out), 0);
  assert.deepEqual(out, []);
  batch.count = 1;
  encodeSlotUpdates(batch, ctx, out);
  const ref = encodeUpdates(
    { family: 'ipv4-unicast', attributes: { origin: 0, asPath: [] }, nextHop: '192.0.2.1', prefixes: [p] },
    ctx,
  );
  assert.deepEqual(toHex(out), toHex(ref));
});
