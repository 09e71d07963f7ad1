// exportedBlockEbgp (intern.ts) against the general export path: for random learned routes, the bytes written
// straight from the interning key must equal encodeAttributeBlockView(exportRoute(…).attributes) — or the fast
// path must decline (null) and leave the route to the general one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeAttributeBlockView } from '../wire/attributes.ts';
import { defaultCodecContext, type Family, type PathAttributes, parseIPv4 } from '../wire/index.ts';
import { type ExportPeer, exportRoute } from './export.ts';
import { exportedBlockEbgp, SourceKind, SourceTable } from './intern.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ip = fc.ipV4();
const rec: typeof fc.record = ((model: never, opts?: object) =>
  fc.record(model, { ...opts, noNullPrototype: true })) as typeof fc.record;

const attributesArb: fc.Arbitrary<PathAttributes> = rec(
  {
    origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
    asPath: fc.array(
      rec({
        type: fc.constantFrom(1 as const, 2 as const, 2 as const, 3 as const, 4 as const),
        asns: fc.oneof(fc.array(u32, { maxLength: 6 }), fc.array(u32, { minLength: 250, maxLength: 520 })),
      }),
      { maxLength: 4 },
    ),
    med: u32,
    localPref: u32,
    atomicAggregate: fc.constant(true),
    aggregator: rec({ asn: u32, address: ip }),
    communities: fc.array(u32, { maxLength: 80 }),
    originatorId: ip,
    clusterList: fc.array(ip, { maxLength: 4 }),
    extCommunities: fc.array(
      fc.oneof(
        { weight: 19, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 9 }) },
      ),
      { maxLength: 5 },
    ),
    largeCommunities: fc.array(fc.tuple(u32, u32, u32), { maxLength: 30 }),
    otc: u32,
    unknown: fc.array(
      rec({
        flags: fc.constantFrom(0xc0, 0x80, 0xe0),
        code: fc.integer({ min: 40, max: 255 }),
        value: fc.uint8Array(),
      }),
      { minLength: 1, maxLength: 2 },
    ),
  },
  { requiredKeys: ['origin', 'asPath'] },
)
  // Unknown attributes on one route in five.
  .chain((a) => fc.integer({ min: 0, max: 4 }).map((r) => (r === 0 ? a : { ...a, unknown: undefined })));

function peer(idx: number, localAsn: number, self4: string | null, self6: string | null): ExportPeer {
  return {
    idx,
    ibgp: false,
    routeReflectorClient: false,
    localAsn,
    routerId: 0x0a000002,
    selfIpv4: self4,
    selfIpv6: self6,
  };
}

test('property: the exported block written from the key equals the general export path, or is declined', () => {
  let fast = 0;
  let runs = 0;
  fc.assert(
    fc.property(
      attributesArb,
      fc.constantFrom<Family>('ipv4-unicast', 'ipv6-unicast'),
      fc.boolean(),
      u32,
      fc.constantFrom('192.0.2.77', '2001:db8::77'),
      (attrs, family, ibgpSource, localAsn, self4) => {
        runs++;
        const t = new SourceTable();
        const kind = ibgpSource ? SourceKind.IBGP : SourceKind.EBGP;
        const nextHop = family === 'ipv4-unicast' ? '198.51.100.9' : '2001:db8::9';
        const src = t.internAttributes(attrs, ibgpSource ? attrs.localPref : 100, 3, kind, family, nextHop, undefined);
        const from = { ...peer(3, 65000, null, null), ibgp: ibgpSource };
        const to = peer(4, localAsn, self4, '2001:db8::1');
        const e = exportRoute(src, from, to, '10.0.0.1');
        const ctx = defaultCodecContext({ asn4: true, extendedNextHop: new Set(['ipv4-unicast']) });
        const v4 = family === 'ipv4-unicast' ? parseIPv4(e.nextHop) : null;
        let expected: string | null;
        try {
          expected = Buffer.from(encodeAttributeBlockView(e.attributes, ctx, v4)).toString('hex');
        } catch {
          expected = null;
        }
        const got = exportedBlockEbgp(src.key, localAsn, v4);
        if (got === null) {
          // Declined only for what it leaves to the general path.
          const odd = attrs.unknown !== undefined || (attrs.extCommunities ?? []).some((x) => x.length !== 8);
          assert.ok(odd, 'declined a route of the common shape');
          return;
        }
        fast++;
        assert.notEqual(expected, null, 'the fast path encoded what the codec refuses');
        assert.equal(Buffer.from(got, 'latin1').toString('hex'), expected);
      },
    ),
    { numRuns: 3000 },
  );
  // Most routes take the fast path (only unknown attributes and malformed extended communities decline it).
  assert.ok(fast > runs / 4, `fast path taken ${fast} times in ${runs}`);
});
