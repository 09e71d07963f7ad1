// fast-check arbitraries shared by the codec's property tests (test-only: nothing in src imports this).

import fc from 'fast-check';
import type { Capability } from './types.ts';

/** fc.record with ordinary objects (the decoder never returns null-prototype objects). */
const rec: typeof fc.record = ((model: never) => fc.record(model, { noNullPrototype: true })) as typeof fc.record;

export const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  rec({ kind: fc.constant('multiprotocol' as const), afi: fc.nat(0xffff), safi: fc.nat(0xff) }),
  fc.constant({ kind: 'route-refresh' as const }),
  fc.constant({ kind: 'route-refresh-old' as const }),
  fc.constant({ kind: 'enhanced-route-refresh' as const }),
  fc.constant({ kind: 'extended-message' as const }),
  rec({ kind: fc.constant('four-octet-as' as const), asn: fc.integer({ min: 1, max: 0xffffffff }) }),
  rec({
    kind: fc.constant('extended-next-hop' as const),
    entries: fc.array(rec({ afi: fc.nat(0xffff), safi: fc.nat(0xffff), nextHopAfi: fc.nat(0xffff) }), {
      maxLength: 10,
    }),
  }),
  rec({
    kind: fc.constant('graceful-restart' as const),
    flags: fc.nat(15),
    restartTime: fc.nat(4095),
    families: fc.array(rec({ afi: fc.nat(0xffff), safi: fc.nat(0xff), forwardingPreserved: fc.boolean() }), {
      maxLength: 10,
    }),
  }),
  rec({
    kind: fc.constant('add-path' as const),
    entries: fc.array(
      rec({
        afi: fc.nat(0xffff),
        safi: fc.nat(0xff),
        sendReceive: fc.constantFrom(1 as const, 2 as const, 3 as const),
      }),
      { maxLength: 10 },
    ),
  }),
  rec({
    kind: fc.constant('fqdn' as const),
    hostname: fc.string({ unit: 'grapheme', maxLength: 20 }),
    domain: fc.string({ unit: 'grapheme', maxLength: 20 }),
  }),
  rec({
    kind: fc.constant('unknown' as const),
    code: fc.constantFrom(0, 3, 4, 7, 71, 72, 129, 255),
    value: fc.uint8Array({ maxLength: 40 }),
  }),
);
