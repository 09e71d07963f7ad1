import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ipv4ToNumber, type PathAttributes } from '../wire/index.ts';
import {
  attributesKey,
  decodeAttributesKey,
  KEYED_ATTRIBUTE_FIELDS,
  SourceKind,
  SourceTable,
  sourceKey,
} from './intern.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ip = fc.ipV4();
const rec: typeof fc.record = ((model: never) => fc.record(model, { noNullPrototype: true })) as typeof fc.record;

/** PathAttributes with only the fields that are present (as attributes() returns them). */
const attributesArb: fc.Arbitrary<PathAttributes> = rec(
  {
    origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
    asPath: fc.array(
      rec({
        type: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
        asns: fc.array(u32, { maxLength: 300 }),
      }),
      { maxLength: 4 },
    ),
    med: u32,
    localPref: u32,
    atomicAggregate: fc.constant(true),
    aggregator: rec({ asn: u32, address: ip }),
    communities: fc.array(u32, { maxLength: 20 }),
    originatorId: ip,
    clusterList: fc.array(ip, { maxLength: 5 }),
    extCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { maxLength: 5 }),
    largeCommunities: fc.array(fc.tuple(u32, u32, u32), { maxLength: 5 }),
    otc: u32,
    unknown: fc.array(
      rec({ flags: fc.integer({ min: 0, max: 255 }), code: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array() }),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: ['origin', 'asPath'] },
);

describe('attribute keys', () => {
  it('property: decodeAttributesKey inverts attributesKey, also with a suffix after the key', () => {
    fc.assert(
      fc.property(attributesArb, (a) => {
        const k = attributesKey(a);
        assert.deepEqual(decodeAttributesKey(k), a);
        assert.deepEqual(decodeAttributesKey(`${k}7\x004192.0.2.1\x00`), a);
      }),
      { numRuns: 500 },
    );
  });

  it('property: equal keys exactly for equal attributes', () => {
    fc.assert(
      fc.property(attributesArb, attributesArb, (a, b) => {
        assert.equal(
          attributesKey(a) === attributesKey(b),
          JSON.stringify(a) === JSON.stringify(b) || isDeepEqual(a, b),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('treats absent and undefined fields alike (the decoder fills every field)', () => {
    const a: PathAttributes = { origin: 0, asPath: [], med: undefined, communities: [1] };
    assert.equal(attributesKey(a), attributesKey({ origin: 0, asPath: [], communities: [1] }));
  });

  it('covers every field of PathAttributes', () => {
    assert.equal(KEYED_ATTRIBUTE_FIELDS.length, 13);
  });
});

describe('SourceTable', () => {
  it('interns by peer, family, next hop and attributes; shares next hop strings', () => {
    const t = new SourceTable();
    const a: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [1] }] };
    const get = (peer: number, family: 'ipv4-unicast' | 'ipv6-unicast', nh: string, ll?: string) =>
      t.intern(sourceKey(a, undefined, peer, family, nh, ll), peer, SourceKind.EBGP, family, a, nh, ll);
    const s1 = get(1, 'ipv4-unicast', '192.0.2.1');
    assert.equal(get(1, 'ipv4-unicast', '192.0.2.1'), s1);
    const s2 = get(2, 'ipv4-unicast', `192.0.2.${1}`);
    assert.notEqual(s2, s1);
    assert.equal(s2.nextHop, s1.nextHop);
    assert.notEqual(get(1, 'ipv6-unicast', '192.0.2.1'), s1);
    assert.notEqual(get(1, 'ipv4-unicast', '192.0.2.1', 'fe80::1'), s1);
    assert.equal(t.size, 4);
    assert.deepEqual(s1.attributes(), a);
    assert.equal(s1.family, 'ipv4-unicast');
    assert.equal(s1.kind, SourceKind.EBGP);
    s1.refs++;
    t.release(s1);
    assert.equal(t.size, 3);
  });
});

describe('SourceTable hash table', () => {
  const attrsOf = (i: number): PathAttributes => ({ origin: 0, asPath: [{ type: 2, asns: [65001, i] }], med: i % 7 });

  it('property: behaves like a Map through interning, growth and releases (backward-shift deletion)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 }), fc.boolean()), {
          minLength: 1,
          maxLength: 4000,
        }),
        (ops) => {
          const t = new SourceTable();
          const model = new Map<string, ReturnType<SourceTable['intern']>>();
          const get = (i: number, byKey: boolean) => {
            const a = attrsOf(i);
            const peer = 1 + (i % 3);
            const nh = i % 5 === 0 ? '192.0.2.2' : '192.0.2.1';
            return byKey
              ? t.intern(
                  sourceKey(a, 100, peer, 'ipv4-unicast', nh, undefined),
                  peer,
                  1,
                  'ipv4-unicast',
                  a,
                  nh,
                  undefined,
                  100,
                )
              : t.internAttributes(a, 100, peer, SourceKind.EBGP, 'ipv4-unicast', nh, undefined);
          };
          for (const [add, i, byKey] of ops) {
            const id = `${byKey}${i}`;
            if (add) {
              const s = get(i, byKey);
              const known = model.get(id);
              if (known !== undefined) assert.equal(s, known);
              s.refs++;
              model.set(id, s);
            } else {
              const s = model.get(id);
              if (s === undefined) continue;
              t.release(s);
              if (s.refs === 0) model.delete(id);
            }
            assert.equal(t.size, model.size);
          }
          for (const [id, s] of model) assert.equal(get(Number(id.replace(/\D/g, '')), id.startsWith('true')), s);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('internAttributes: attributes alone in the key, peer, family and next hops compared as fields', () => {
    const t = new SourceTable();
    const a = attrsOf(1);
    const s = t.internAttributes(a, undefined, 2, SourceKind.EBGP, 'ipv4-unicast', '192.0.2.1', undefined);
    assert.equal(s.key, attributesKey(a));
    assert.deepEqual(s.attributes(), a);
    assert.equal(
      t.internAttributes(attrsOf(1), undefined, 2, SourceKind.EBGP, 'ipv4-unicast', '192.0.2.1', undefined),
      s,
    );
    for (const other of [
      t.internAttributes(a, undefined, 3, SourceKind.EBGP, 'ipv4-unicast', '192.0.2.1', undefined),
      t.internAttributes(a, undefined, 2, SourceKind.EBGP, 'ipv6-unicast', '192.0.2.1', undefined),
      t.internAttributes(a, undefined, 2, SourceKind.EBGP, 'ipv4-unicast', '192.0.2.9', undefined),
      t.internAttributes(a, undefined, 2, SourceKind.EBGP, 'ipv4-unicast', '192.0.2.1', 'fe80::1'),
      t.internAttributes(a, 200, 2, SourceKind.EBGP, 'ipv4-unicast', '192.0.2.1', undefined),
    ]) {
      assert.notEqual(other, s);
    }
    assert.equal(t.size, 6);
  });

  it('finds a source by a key that is not the last sourceKey, and drops unused sources', () => {
    const t = new SourceTable();
    const a = attrsOf(1);
    const k1 = sourceKey(a, undefined, 3, 'ipv6-unicast', '2001:db8::1', 'fe80::1');
    const s1 = t.intern(k1, 3, SourceKind.IBGP, 'ipv6-unicast', a, '2001:db8::1', 'fe80::1');
    sourceKey(attrsOf(2), undefined, 3, 'ipv4-unicast', '192.0.2.1', undefined);
    assert.equal(t.intern(k1, 3, SourceKind.IBGP, 'ipv6-unicast', a, '2001:db8::1', 'fe80::1'), s1);
    const odd = `${k1}\x00Tx\x00P1`;
    const s2 = t.intern(odd, 0, SourceKind.LOCAL, 'ipv6-unicast', a, '2001:db8::1', undefined);
    assert.notEqual(s2, s1);
    assert.equal(s1.peer, 3);
    assert.equal(s1.kind, SourceKind.IBGP);
    assert.equal(s1.family, 'ipv6-unicast');
    assert.equal(s1.nextHopLinkLocal, 'fe80::1');
    assert.equal(s1.src, s1);
    assert.equal(s1.pathId, 0);
    assert.equal(s1.asPathLength, 2);
    assert.equal(s1.neighborAs, 65001);
    assert.equal(t.size, 2);
    t.dropIfUnused(s2);
    t.dropIfUnused(s1);
    assert.equal(t.size, 0);
    assert.equal(t.totalRefs(), 0);
  });
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

describe('RouteSource decision inputs', () => {
  it('property: MED, LOCAL_PREF, neighbour AS and ORIGINATOR_ID read back as the unsigned values they were', () => {
    fc.assert(
      fc.property(attributesArb, u32, (a, lp) => {
        const t = new SourceTable();
        const s = t.internAttributes(a, lp, 1, SourceKind.IBGP, 'ipv4-unicast', '192.0.2.1', undefined);
        assert.equal(s.localPref, lp);
        assert.equal(s.med, a.med ?? 0);
        assert.equal(s.originatorId, a.originatorId === undefined ? -1 : ipv4ToNumber(a.originatorId));
        const first = a.asPath.find((g) => (g.type === 2 && g.asns.length > 0) || g.type === 1);
        const nas = first === undefined ? 0 : first.type === 1 ? -1 : first.asns[0]!;
        assert.equal(s.neighborAs, nas === 0xffffffff ? -1 : nas);
        assert.equal(s.clusterListLength, a.clusterList?.length ?? 0);
      }),
      { numRuns: 300 },
    );
  });
});
