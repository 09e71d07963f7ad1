// The key-writing decoder against the object-building one it replaced (kept, frozen, in test-reference/): for
// random UPDATE bodies, valid and corrupted, under varied session contexts, both throw the same WireError or both
// return the same withdrawals, announcements, errors and actions; the attributes made from the key equal the
// objects the old decoder built; and the key bytes are the RIB's attributesKey of those objects (with LOCAL_PREF
// where attrKeyLpAt/attrKeyLpEnd say). A deliberately broken decoder must fail the same property.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { attributesKey } from '../rib/intern.ts';
import type { Family } from './constants.ts';
import { WireError } from './errors.ts';
import { parsePrefix } from './prefix.ts';
import { decodeUpdate as decodeUpdateV1 } from './test-reference/update-v1.ts';
import type { CodecContext, PathAttributes, UpdateMessage } from './types.ts';
import { defaultCodecContext } from './types.ts';
import { DecodedUpdate, decodeUpdate, decodeUpdateAt, encodeUpdates } from './update.ts';

const RUNS = 3000;

const families: Family[] = ['ipv4-unicast', 'ipv6-unicast'];
const contextArb: fc.Arbitrary<CodecContext> = fc
  .record({ asn4: fc.boolean(), addPathRx: fc.subarray(families), ebgp: fc.boolean() })
  .map((r) =>
    defaultCodecContext({
      asn4: r.asn4,
      addPathRx: new Set(r.addPathRx),
      ebgp: r.ebgp,
      maxMessageSize: 65535,
      extendedNextHop: new Set(families),
    }),
  );

const u8 = (n: number) => n & 0xff;
const be = (v: number, bytes: number): number[] => {
  const out: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
  return out;
};

/** An attribute TLV: flags (sometimes wrong, sometimes extended length), code, value. */
function tlv(flags: number, code: number, value: number[], ext: boolean): number[] {
  const f = ext || value.length > 255 ? flags | 0x10 : flags & ~0x10;
  return f & 0x10 ? [f, code, ...be(value.length, 2), ...value] : [f, code, value.length, ...value];
}

const asnArb = (size: 2 | 4) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 1, max: size === 4 ? 0xffffffff : 0xffff }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 23456) },
  );
/** AS_PATH / AS4_PATH values: mostly valid segments (adjacent sequences included), now and then broken. */
const pathValueArb = (size: 2 | 4): fc.Arbitrary<number[]> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .array(
          fc.record({
            type: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1, 2, 3, 4) }, fc.constantFrom(0, 5)),
            asns: fc.array(asnArb(size), { minLength: 0, maxLength: 6 }),
          }),
          { maxLength: 4 },
        )
        .map((segs) => segs.flatMap((s) => [s.type, s.asns.length, ...s.asns.flatMap((a) => be(a, size))])),
    },
    { weight: 1, arbitrary: fc.array(fc.nat(255), { maxLength: 12 }) },
  );

const ip4 = fc.array(fc.nat(255), { minLength: 4, maxLength: 4 });
const oneOfLen = (good: fc.Arbitrary<number[]>) =>
  fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: fc.array(fc.nat(255), { maxLength: 13 }) });

/** One attribute: a known code with a plausible value and usually its right flags, or anything at all. */
const attrArb = (size: 2 | 4): fc.Arbitrary<number[]> =>
  fc
    .tuple(
      fc.oneof(
        fc.record({ code: fc.constant(1), flags: fc.constant(0x40), v: oneOfLen(fc.tuple(fc.nat(3)).map((x) => x)) }),
        fc.record({ code: fc.constant(2), flags: fc.constant(0x40), v: pathValueArb(size) }),
        fc.record({ code: fc.constant(3), flags: fc.constant(0x40), v: oneOfLen(ip4) }),
        fc.record({
          code: fc.constant(4),
          flags: fc.constant(0x80),
          v: oneOfLen(fc.array(fc.nat(255), { minLength: 4, maxLength: 4 })),
        }),
        fc.record({
          code: fc.constant(5),
          flags: fc.constant(0x40),
          v: oneOfLen(fc.array(fc.nat(255), { minLength: 4, maxLength: 4 })),
        }),
        fc.record({ code: fc.constant(6), flags: fc.constant(0x40), v: oneOfLen(fc.constant([])) }),
        fc.record({
          code: fc.constant(7),
          flags: fc.constant(0xc0),
          v: oneOfLen(fc.tuple(asnArb(size), ip4).map(([a, ip]) => [...be(a, size), ...ip])),
        }),
        fc.record({
          code: fc.constant(8),
          flags: fc.constant(0xc0),
          v: oneOfLen(
            fc
              .array(fc.constantFrom(0xffffff01, 0xffffff02, 0xffffff03, 0xfde80064), { minLength: 1, maxLength: 4 })
              .map((cs) => cs.flatMap((c) => be(c, 4))),
          ),
        }),
        fc.record({ code: fc.constant(9), flags: fc.constant(0x80), v: oneOfLen(ip4) }),
        fc.record({
          code: fc.constant(10),
          flags: fc.constant(0x80),
          v: oneOfLen(fc.array(ip4, { minLength: 1, maxLength: 3 }).map((l) => l.flat())),
        }),
        fc.record({
          code: fc.constant(16),
          flags: fc.constant(0xc0),
          v: oneOfLen(
            fc.array(fc.nat(255), { minLength: 8, maxLength: 8 }).chain((a) => fc.constantFrom(a, [...a, ...a])),
          ),
        }),
        fc.record({ code: fc.constant(17), flags: fc.constant(0xc0), v: pathValueArb(4) }),
        fc.record({
          code: fc.constant(18),
          flags: fc.constant(0xc0),
          v: oneOfLen(fc.tuple(asnArb(4), ip4).map(([a, ip]) => [...be(a, 4), ...ip])),
        }),
        fc.record({
          code: fc.constant(32),
          flags: fc.constant(0xc0),
          v: oneOfLen(
            fc.array(fc.nat(255), { minLength: 12, maxLength: 12 }).chain((a) => fc.constantFrom(a, [...a, ...a])),
          ),
        }),
        fc.record({
          code: fc.constant(35),
          flags: fc.constant(0xc0),
          v: oneOfLen(fc.array(fc.nat(255), { minLength: 4, maxLength: 4 })),
        }),
        fc.record({
          code: fc.constantFrom(99, 200, 42),
          flags: fc.constantFrom(0xc0, 0x80, 0xe0),
          v: fc.array(fc.nat(255), { maxLength: 6 }),
        }),
      ),
      fc.oneof({ weight: 12, arbitrary: fc.constant(-1) }, fc.constantFrom(0x40, 0x80, 0xc0, 0x00, 0xe0)),
      fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, fc.constant(true)),
    )
    .map(([a, wrongFlags, ext]) => tlv(wrongFlags < 0 ? a.flags : wrongFlags, a.code, a.v, ext));

const v4Prefixes = ['198.51.100.0/24', '203.0.113.128/25', '10.0.0.0/8', '0.0.0.0/0', '192.0.2.1/32'].map(
  (p) => parsePrefix(p).key,
);
const nlriBytes = (keys: string[], ids: boolean): number[] =>
  keys.flatMap((k, i) => [...(ids ? be(i + 1, 4) : []), ...Array.from(k, (c) => c.charCodeAt(0))]);

/** A whole UPDATE body: withdrawn routes, attributes (MP_REACH / MP_UNREACH among them now and then), NLRI. */
const bodyArb = (ctx: CodecContext): fc.Arbitrary<Uint8Array> => {
  const size = ctx.asn4 ? 4 : 2;
  const ids4 = ctx.addPathRx.has('ipv4-unicast');
  const ids6 = ctx.addPathRx.has('ipv6-unicast');
  const v6 = ['2001:db8::/32', '2001:db8:1:2::/64', '::/0'].map((p) => parsePrefix(p).key);
  const mpReach = fc
    .tuple(fc.subarray(v6, { minLength: 0 }), fc.constantFrom(16, 32), fc.boolean())
    .map(([keys, nhLen, ext]) =>
      tlv(
        0x80,
        14,
        [
          0,
          2,
          1,
          nhLen,
          0x20,
          0x01,
          0x0d,
          0xb8,
          ...new Array(nhLen - 4).fill(0).map((_, i) => u8(i + 1)),
          0,
          ...nlriBytes(keys, ids6),
        ],
        ext,
      ),
    );
  const mpUnreach = fc.subarray(v6).map((keys) => tlv(0x80, 15, [0, 2, 1, ...nlriBytes(keys, ids6)], false));
  return fc
    .tuple(
      fc.subarray(v4Prefixes),
      fc.array(
        fc.oneof(
          { weight: 10, arbitrary: attrArb(size) },
          { weight: 1, arbitrary: mpReach },
          { weight: 1, arbitrary: mpUnreach },
        ),
        { maxLength: 9 },
      ),
      fc.subarray(v4Prefixes),
      fc.boolean(),
    )
    .map(([wd, attrs, nlri, mandatory]) => {
      // Usually ORIGIN, AS_PATH and NEXT_HOP first, so that most bodies announce something.
      const head = mandatory
        ? [
            ...tlv(0x40, 1, [0], false),
            ...tlv(0x40, 2, [2, 1, ...be(65001, size)], false),
            ...tlv(0x40, 3, [192, 0, 2, 1], false),
          ]
        : [];
      const a = [...head, ...attrs.flat()];
      const w = nlriBytes(wd, ids4);
      return Uint8Array.from([...be(w.length, 2), ...w, ...be(a.length, 2), ...a, ...nlriBytes(nlri, ids4)]);
    });
};

type Decoder = (body: Uint8Array, ctx: CodecContext) => UpdateMessage;

function outcome(dec: Decoder, body: Uint8Array, ctx: CodecContext): { m: UpdateMessage } | { e: WireError } {
  try {
    return { m: dec(body, ctx) };
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    return { e };
  }
}

const plainError = (e: WireError) => ({
  message: e.message,
  code: e.code,
  subcode: e.subcode,
  data: Buffer.from(e.data).toString('hex'),
  action: e.action,
});

/** Asserts that `dec` decodes `body` as the old decoder did, and that its key is the RIB's key of the attributes. */
function sameAsV1(dec: Decoder, body: Uint8Array, ctx: CodecContext): void {
  const a = outcome(dec, body, ctx);
  const b = outcome(decodeUpdateV1, body, ctx);
  if ('e' in a || 'e' in b) {
    assert.ok('e' in a && 'e' in b, 'one decoder threw, the other did not');
    assert.deepEqual(plainError(a.e), plainError(b.e));
    return;
  }
  const m = a.m;
  const old = b.m;
  assert.deepEqual(m.withdrawn, old.withdrawn);
  // The new blocks keep their prefixes as bytes until read: compared by content (JSON), which reads them.
  assert.deepEqual(JSON.parse(JSON.stringify(m.announced)), JSON.parse(JSON.stringify(old.announced)));
  assert.equal(m.treatAsWithdraw, old.treatAsWithdraw);
  assert.deepEqual(m.errors.map(plainError), old.errors.map(plainError));
  assert.equal(m.endOfRib, old.endOfRib);
  assert.ok(m instanceof DecodedUpdate);
  assert.equal(m.attrKeyBuf !== null, old.attributes !== null);
  if (m.attrKeyBuf !== null) {
    const attrs = old.attributes as PathAttributes;
    const kb = m.attrKeyBuf;
    const key = Buffer.from(kb.subarray(m.attrKeyStart, m.attrKeyEnd)).toString('latin1');
    assert.equal(key, attributesKey(attrs), 'key bytes are attributesKey of the old attributes');
    // LOCAL_PREF where the message says it is (or would go): replaced by 100, the key of an eBGP route.
    assert.equal(m.attrKeyLpAt < m.attrKeyLpEnd, attrs.localPref !== undefined);
    const spliced =
      Buffer.from(kb.subarray(m.attrKeyStart, m.attrKeyLpAt)).toString('latin1') +
      '\x05\x64' +
      Buffer.from(kb.subarray(m.attrKeyLpEnd, m.attrKeyEnd)).toString('latin1');
    assert.equal(spliced, attributesKey(attrs, 100));
  }
  // The attributes made from the key are the objects the old decoder built (read last: it caches).
  assert.deepEqual(m.attributes, old.attributes);
  assert.equal(JSON.stringify(m), JSON.stringify(old));
}

const property = (dec: Decoder) =>
  fc.property(
    contextArb.chain((ctx) => fc.tuple(fc.constant(ctx), bodyArb(ctx))),
    ([ctx, body]) => sameAsV1(dec, body, ctx),
  );

describe('decoding attributes into the key equals the object-building decoder', () => {
  it(`property: ${RUNS} generated UPDATE bodies, valid and malformed`, () => {
    fc.assert(property(decodeUpdate), { numRuns: RUNS, seed: 4711 });
  });

  it('property: the same bodies behind a 19-byte header (decodeUpdateAt, as decodeMessage calls it)', () => {
    const atHeader: Decoder = (body, ctx) => {
      const msg = new Uint8Array(19 + body.length).fill(0xff, 0, 16);
      msg.set(body, 19);
      return decodeUpdateAt(msg, 19, ctx);
    };
    fc.assert(property(atHeader), { numRuns: RUNS, seed: 815 });
  });

  it('property: encoded UPDATEs of random attributes, with random bytes changed', () => {
    const attrsArb = fc.record(
      {
        origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
        asPath: fc.array(
          fc.record({
            type: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
            asns: fc.array(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 1, maxLength: 300 }),
          }),
          { maxLength: 3 },
        ),
        med: fc.nat(),
        localPref: fc.nat(),
        atomicAggregate: fc.constant(true),
        aggregator: fc.record({ asn: fc.integer({ min: 1, max: 0xffffffff }), address: fc.ipV4() }),
        communities: fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        originatorId: fc.ipV4(),
        clusterList: fc.array(fc.ipV4(), { minLength: 1, maxLength: 5 }),
        extCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 5 }),
        largeCommunities: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 5 }),
        otc: fc.nat(),
        unknown: fc.array(
          fc.record({
            flags: fc.constantFrom(0xc0, 0xe0),
            code: fc.constantFrom(99, 150, 250),
            value: fc.uint8Array({ maxLength: 300 }),
          }),
          { minLength: 1, maxLength: 2 },
        ),
      },
      { requiredKeys: ['origin', 'asPath'], noNullPrototype: true },
    ) as fc.Arbitrary<PathAttributes>;
    fc.assert(
      fc.property(
        contextArb,
        attrsArb,
        fc.constantFrom<[Family, string]>(
          ['ipv4-unicast', '192.0.2.1'],
          ['ipv6-unicast', '2001:db8::1'],
          ['ipv4-unicast', '2001:db8::2'],
        ),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }),
        (ctx, attrs, [family, nextHop], changes) => {
          const tx = { ...ctx, addPathTx: ctx.addPathRx };
          const prefixes = family === 'ipv6-unicast' ? [parsePrefix('2001:db8::/32').key] : v4Prefixes;
          const ids = ctx.addPathRx.has(family) ? prefixes.map((_, i) => i + 1) : undefined;
          for (const msg of encodeUpdates({ family, attributes: attrs, nextHop, prefixes, pathIds: ids }, tx)) {
            const body = msg.slice(19);
            for (const [at, v] of changes) body[at % body.length] = v;
            sameAsV1(decodeUpdate, body, ctx);
          }
        },
      ),
      { numRuns: 1000, seed: 1234 },
    );
  });

  it('keys of the largest fixed part, across many slab ends, are whole', () => {
    // Empty AS_PATH, every single-valued attribute at its longest text (255.255.255.255) or varint: each key is
    // near writeAttrKey's fixed bound; 12 000 of them fill ≈ 20 64 KiB slabs.
    const ctx = defaultCodecContext({ ebgp: false });
    const ff = [255, 255, 255, 255];
    for (let i = 0; i < 12_000; i++) {
      // Pseudo-random lengths: a periodic sequence could keep missing the last bytes of every slab.
      const r = Math.imul(i + 1, 0x9e3779b1) >>> 0;
      const pad = Array.from({ length: r % 29 }, (_, j) => j + 1);
      const block = [
        ...tlv(0x40, 1, [2], false),
        ...tlv(0x40, 2, [], false),
        ...tlv(0x40, 3, [192, 0, 2, 1], false),
        ...tlv(0x80, 4, ff, false),
        ...tlv(0x40, 5, ff, false),
        ...tlv(0x40, 6, [], false),
        ...tlv(0xc0, 7, [...ff, ...ff], false),
        ...tlv(0xc0, 8, ff, false),
        ...tlv(0x80, 9, ff, false),
        ...tlv(0x80, 10, ff, false),
        ...tlv(0xc0, 32, [...ff, ...ff, ...ff], false),
        ...tlv(0xc0, 35, ff, false),
        ...((r >>> 8) % 2 === 0 ? tlv(0xc0, 99, pad, false) : []),
      ];
      const body = Uint8Array.from([0, 0, ...be(block.length, 2), ...block, 24, 10, 0, 0]);
      sameAsV1(decodeUpdate, body, ctx);
    }
  });

  it('the property catches a decoder whose key is wrong (mutation check)', () => {
    // ORIGIN is the key's first byte: a decoder that gets it wrong makes a different key and different attributes.
    const broken: Decoder = (body, ctx) => {
      const m = decodeUpdate(body, ctx) as DecodedUpdate;
      if (m.attrKeyBuf !== null) m.attrKeyBuf[m.attrKeyStart] = (m.attrKeyBuf[m.attrKeyStart]! + 1) % 3;
      return m;
    };
    const r = fc.check(property(broken), { numRuns: 200, seed: 4711 });
    assert.equal(r.failed, true);
    // And one that drops an error report.
    const quiet: Decoder = (body, ctx) => {
      const m = decodeUpdate(body, ctx);
      m.errors = m.errors.slice(1);
      return m;
    };
    assert.equal(fc.check(property(quiet), { numRuns: 500, seed: 4711 }).failed, true);
  });
});
