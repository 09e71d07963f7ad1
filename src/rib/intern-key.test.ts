// Interning from a decoded UPDATE's key bytes (SourceTable.internKey, RouteSource read from its key, the AS-loop
// check on the key) against interning from PathAttributes objects (internAttributes, importable): the same sources
// and the same RIB, output bytes included.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CodecContext,
  DecodedUpdate,
  decodeUpdate,
  defaultCodecContext,
  encodeUpdates,
  type Family,
  HEADER_LENGTH,
  type PathAttributes,
  parsePrefix,
  type UpdateMessage,
  WellKnownCommunity,
} from '../wire/index.ts';
import { attributesKey, type RouteSource, SourceKind, SourceTable } from './intern.ts';
import { Rib } from './rib.ts';
import { ribPeer } from './test-helpers.ts';

const LOCAL_ASN = 65000;
const u32 = fc.integer({ min: 1, max: 0xffffffff });
const rec: typeof fc.record = ((model: never) => fc.record(model, { noNullPrototype: true })) as typeof fc.record;

/** Attributes an UPDATE can carry (non-empty lists, no AS 0), our own AS in the path now and then. */
const attributesArb: fc.Arbitrary<PathAttributes> = rec(
  {
    origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
    asPath: fc.array(
      rec({
        type: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
        asns: fc.array(fc.oneof({ weight: 20, arbitrary: u32 }, fc.constant(LOCAL_ASN)), {
          minLength: 1,
          maxLength: 8,
        }),
      }),
      { maxLength: 3 },
    ),
    med: fc.nat(),
    localPref: fc.nat(),
    atomicAggregate: fc.constant(true),
    aggregator: rec({ asn: u32, address: fc.ipV4() }),
    communities: fc.array(
      fc.oneof(
        u32,
        fc.constantFrom(
          WellKnownCommunity.NO_EXPORT,
          WellKnownCommunity.NO_ADVERTISE,
          WellKnownCommunity.NO_EXPORT_SUBCONFED,
        ),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    originatorId: fc.ipV4(),
    clusterList: fc.array(fc.ipV4(), { minLength: 1, maxLength: 4 }),
    extCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 3 }),
    largeCommunities: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }),
    otc: fc.nat(),
    unknown: fc.array(rec({ flags: fc.constant(0xc0), code: fc.constantFrom(99, 200), value: fc.uint8Array() }), {
      minLength: 1,
      maxLength: 2,
    }),
  },
  { requiredKeys: ['origin', 'asPath'] },
);

/** What a RouteSource offers the decision process and export. */
function facts(s: RouteSource) {
  return {
    key: s.key,
    kind: s.kind,
    family: s.family,
    peer: s.peer,
    flags: s.flags,
    origin: s.origin,
    localPref: s.localPref,
    med: s.med,
    neighborAs: s.neighborAs,
    originatorId: s.originatorId,
    asPathLength: s.asPathLength,
    clusterListLength: s.clusterListLength,
    nextHop: s.nextHop,
    nextHopLinkLocal: s.nextHopLinkLocal,
  };
}

/** An UPDATE carrying `attrs` for one prefix, decoded (from an internal peer LOCAL_PREF etc. are kept). */
function decoded(attrs: PathAttributes, family: Family, ctx: CodecContext): DecodedUpdate {
  const prefix = parsePrefix(family === 'ipv4-unicast' ? '203.0.113.0/24' : '2001:db8::/32').key;
  const nextHop = family === 'ipv4-unicast' ? '192.0.2.1' : '2001:db8::1';
  const [msg] = encodeUpdates({ family, attributes: attrs, nextHop, prefixes: [prefix] }, ctx);
  const m = decodeUpdate(msg!.subarray(HEADER_LENGTH), ctx);
  assert.ok(m instanceof DecodedUpdate);
  return m;
}

describe('interning from key bytes', () => {
  const ibgp = defaultCodecContext({ ebgp: false });

  it('property: internKey finds and makes the same source as internAttributes', () => {
    fc.assert(
      fc.property(
        attributesArb,
        fc.constantFrom<Family>('ipv4-unicast', 'ipv6-unicast'),
        fc.option(fc.nat(), { nil: undefined }),
        (attrs, family, lpArg) => {
          const m = decoded(attrs, family, ibgp);
          assert.ok(m.attrKeyBuf !== null);
          // As the RIB calls it: the route's own LOCAL_PREF (iBGP), or one in its place (100 for eBGP).
          const lp = lpArg ?? m.attributes!.localPref;
          const b = m.announced[0]!;
          const byKey = new SourceTable();
          const byAttrs = new SourceTable();
          const args = [7, SourceKind.EBGP, family, b.nextHop, b.nextHopLinkLocal] as const;
          const k = byKey.internKey(
            m.attrKeyBuf!,
            m.attrKeyStart,
            m.attrKeyEnd,
            m.attrKeyLpAt,
            m.attrKeyLpEnd,
            lp,
            ...args,
          );
          const a = byAttrs.internAttributes(m.attributes!, lp, ...args);
          assert.deepEqual(facts(k), facts(a));
          assert.equal(k.key, attributesKey(m.attributes!, lp));
          // Found again, not made again.
          const again = byKey.internKey(
            m.attrKeyBuf!,
            m.attrKeyStart,
            m.attrKeyEnd,
            m.attrKeyLpAt,
            m.attrKeyLpEnd,
            lp,
            ...args,
          );
          assert.equal(again, k);
          assert.equal(byKey.size, 1);
        },
      ),
      { numRuns: 500, seed: 99 },
    );
  });

  it('a different LOCAL_PREF is a different source (the splice is not a no-op)', () => {
    const m = decoded({ origin: 0, asPath: [{ type: 2, asns: [65001] }], localPref: 200 }, 'ipv4-unicast', ibgp);
    const t = new SourceTable();
    const at = (lp: number | undefined) =>
      t.internKey(
        m.attrKeyBuf!,
        m.attrKeyStart,
        m.attrKeyEnd,
        m.attrKeyLpAt,
        m.attrKeyLpEnd,
        lp,
        1,
        1,
        'ipv4-unicast',
        '192.0.2.1',
        undefined,
      );
    assert.notEqual(at(100), at(200));
    assert.notEqual(at(undefined), at(200));
    assert.equal(at(200).localPref, 200);
    assert.equal(at(undefined).localPref, 100);
  });

  for (const ibgpSender of [false, true]) {
    const kind = ibgpSender ? 'an iBGP' : 'an eBGP';
    it(`property: ${kind} peer's decoded UPDATEs and the same UPDATEs as plain objects give the same RIB and output`, () => {
      const ctx = defaultCodecContext({ ebgp: !ibgpSender });
      const ROUTER_ID = '10.0.0.1';
      const CLUSTER_ID = '10.9.9.9';
      const setup = () => {
        const rib = new Rib({ localAsn: LOCAL_ASN, routerId: 0x0a000001, clusterId: 0x0a090909 });
        const senderAsn = ibgpSender ? LOCAL_ASN : 65001;
        rib.addPeer(ribPeer('192.0.2.1', senderAsn, LOCAL_ASN, { routeReflectorClient: ibgpSender }));
        rib.peerUp('192.0.2.1', {
          families: ['ipv4-unicast', 'ipv6-unicast'],
          codec: ctx,
          localAddress: '192.0.2.100',
          routerId: 1,
        });
        rib.addPeer(ribPeer('192.0.2.3', 65003, LOCAL_ASN));
        rib.peerUp('192.0.2.3', {
          families: ['ipv4-unicast', 'ipv6-unicast'],
          codec: defaultCodecContext(),
          localAddress: '198.51.100.1',
          routerId: 3,
        });
        return rib;
      };
      const pullAll = (rib: Rib): string => {
        const out: string[] = [];
        for (let m = rib.pull('192.0.2.3', 1 << 20); m.length > 0; m = rib.pull('192.0.2.3', 1 << 20)) {
          for (const x of m) out.push(Buffer.from(x).toString('hex'));
        }
        return out.join(' ');
      };
      // Our router and cluster ids now and then, for the route-reflection loop checks (RFC 4456 §8).
      const idArb = fc.oneof({ weight: 4, arbitrary: fc.ipV4() }, fc.constantFrom(ROUTER_ID, CLUSTER_ID));
      const updateArb = fc.tuple(
        attributesArb,
        fc.option(idArb, { nil: undefined }),
        fc.option(fc.array(idArb, { minLength: 1, maxLength: 3 }), { nil: undefined }),
        fc.constantFrom<Family>('ipv4-unicast', 'ipv6-unicast'),
      );
      let keyed = 0;
      fc.assert(
        fc.property(fc.array(updateArb, { minLength: 1, maxLength: 6 }), (list) => {
          const fast = setup();
          const slow = setup();
          pullAll(fast);
          pullAll(slow);
          for (const [a, originatorId, clusterList, family] of list) {
            const attrs: PathAttributes = { ...a, asPath: [{ type: 2, asns: [65001] }, ...a.asPath] };
            if (originatorId === undefined) delete attrs.originatorId;
            else attrs.originatorId = originatorId;
            if (clusterList === undefined) delete attrs.clusterList;
            else attrs.clusterList = clusterList;
            const m = decoded(attrs, family, ctx);
            if (m.attrKeyBuf !== null) keyed++;
            const plain: UpdateMessage = { ...m, attributes: m.attributes };
            fast.applyUpdate('192.0.2.1', m);
            slow.applyUpdate('192.0.2.1', plain);
          }
          assert.equal(pullAll(fast), pullAll(slow));
          assert.deepEqual(fast.counts('192.0.2.1'), slow.counts('192.0.2.1'));
        }),
        { numRuns: 300, seed: ibgpSender ? 6 : 5 },
      );
      assert.ok(keyed > 300, 'most UPDATEs take the keyed path');
    });
  }
});
