// exportedBlockEbgp (intern.ts) against the general export path: for random learned routes, the bytes written
// straight from the interning key must equal encodeAttributeBlockView(exportRoute(…).attributes) — or the fast
// path must decline (null) and leave the route to the general one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeAttributeBlockView } from '../wire/attributes.ts';
import {
  type CodecContext,
  decodeUpdate,
  defaultCodecContext,
  type Family,
  HEADER_LENGTH,
  type PathAttributes,
  parseIPv4,
} from '../wire/index.ts';
import { type UpdateEncoder, wireEncoder } from './encoder.ts';
import { type ExportPeer, exportRoute } from './export.ts';
import { exportedBlockEbgp, SourceKind, SourceTable } from './intern.ts';
import { Rib } from './rib.ts';
import { announce, ribPeer, withdraw } from './test-helpers.ts';

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

// The same, one level up: two RIBs fed the same random UPDATEs from eBGP and iBGP peers, one with the wire encoder
// (direct export for eBGP peers over 4-octet sessions) and one with the same encoder minus encodeSlotUpdates
// (the general path only). Every receiving peer (eBGP and iBGP, 4- and 2-octet sessions, over IPv4 and IPv6, with
// and without extended next hop) must end up holding exactly the same routes, attribute for attribute.

const SENDERS = [
  { id: '192.0.2.1', asn: 65001, ibgp: false },
  { id: '192.0.2.2', asn: 4200000002, ibgp: false },
  { id: '192.0.2.5', asn: 65000, ibgp: true },
] as const;

interface Receiver {
  id: string;
  asn: number;
  local: string;
  ctx: CodecContext;
}

const RECEIVERS: Receiver[] = [
  { id: '192.0.2.11', asn: 65011, local: '192.0.2.100', ctx: defaultCodecContext({ asn4: true }) },
  { id: '192.0.2.12', asn: 65012, local: '192.0.2.100', ctx: defaultCodecContext({ asn4: false }) },
  {
    id: '2001:db8::13',
    asn: 4200000013,
    local: '2001:db8::100',
    ctx: defaultCodecContext({ asn4: true, extendedNextHop: new Set(['ipv4-unicast']) }),
  },
  { id: '2001:db8::14', asn: 65014, local: '2001:db8::100', ctx: defaultCodecContext({ asn4: true }) },
  { id: '192.0.2.15', asn: 65000, local: '192.0.2.100', ctx: defaultCodecContext({ asn4: true, ebgp: false }) },
];

function ribWith(encoder: UpdateEncoder): Rib {
  const rib = new Rib({ localAsn: 65000, routerId: 0x0a000001, encoder });
  for (const s of SENDERS) {
    rib.addPeer({ ...ribPeer(s.id, s.asn, 65000), ibgp: s.ibgp });
    rib.peerUp(s.id, {
      families: ['ipv4-unicast', 'ipv6-unicast'],
      codec: defaultCodecContext(),
      localAddress: '192.0.2.100',
      routerId: 7,
    });
  }
  for (const r of RECEIVERS) {
    rib.addPeer({ ...ribPeer(r.id, r.asn, 65000), ibgp: r.asn === 65000 });
    rib.peerUp(r.id, { families: ['ipv4-unicast', 'ipv6-unicast'], codec: r.ctx, localAddress: r.local, routerId: 9 });
  }
  return rib;
}

/** Drains every receiver and applies what it got to its view: prefix → exported attributes and next hop. */
function drain(rib: Rib, views: Map<string, Map<string, string>>): void {
  for (const r of RECEIVERS) {
    const view = views.get(r.id) ?? new Map<string, string>();
    views.set(r.id, view);
    for (let i = 0; i < 10_000; i++) {
      const msgs = rib.pull(r.id, 1 << 16);
      if (msgs.length === 0) break;
      for (const m of msgs) {
        const u = decodeUpdate(m.subarray(HEADER_LENGTH), r.ctx);
        // Random attributes may be ones a receiver reports (AGGREGATOR AS 0, RFC 7607): both paths must agree on
        // those too, so they are part of what is compared.
        const errors = u.errors.map((e) => e.message);
        for (const b of u.withdrawn) for (const p of b.prefixes) view.delete(`${b.family} ${p}`);
        for (const b of u.announced) {
          const what = JSON.stringify([b.nextHop, b.nextHopLinkLocal ?? null, u.attributes, errors], (_k, v) =>
            v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
          );
          for (const p of b.prefixes) view.set(`${b.family} ${p}`, what);
        }
      }
    }
  }
}

test('property: receivers hold the same routes whether exports are written from the key or by the general path', () => {
  const generalOnly: UpdateEncoder = {
    encodeUpdates: wireEncoder.encodeUpdates,
    encodeWithdrawals: wireEncoder.encodeWithdrawals,
    encodeEndOfRib: wireEncoder.encodeEndOfRib,
  };
  const prefixArb = fc.oneof(
    fc.integer({ min: 0, max: 40 }).map((i) => `10.${i}.0.0/16`),
    fc.integer({ min: 0, max: 40 }).map((i) => `2001:db8:${i.toString(16)}::/48`),
  );
  const op = fc.record({
    from: fc.integer({ min: 0, max: SENDERS.length - 1 }),
    prefixes: fc.uniqueArray(prefixArb, { minLength: 1, maxLength: 4 }),
    withdraw: fc.boolean(),
    attrs: attributesArb.filter((a) => a.asPath.every((s) => s.asns.every((x) => x !== 0))),
  });
  let routes = 0;
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => {
      const direct = ribWith(wireEncoder);
      const general = ribWith(generalOnly);
      const vd = new Map<string, Map<string, string>>();
      const vg = new Map<string, Map<string, string>>();
      for (const o of ops) {
        const s = SENDERS[o.from]!;
        for (const fam of ['ipv4-unicast', 'ipv6-unicast'] as const) {
          const ps = o.prefixes.filter((p) => p.includes(':') === (fam === 'ipv6-unicast'));
          if (ps.length === 0) continue;
          const nh = fam === 'ipv4-unicast' ? '198.51.100.7' : '2001:db8::7';
          const msg = o.withdraw ? withdraw(ps) : announce(ps, nh, { ...o.attrs, unknown: undefined });
          direct.applyUpdate(s.id, msg);
          general.applyUpdate(s.id, msg);
        }
        drain(direct, vd);
        drain(general, vg);
      }
      for (const r of RECEIVERS) {
        assert.deepEqual(vd.get(r.id), vg.get(r.id), r.id);
        routes += vd.get(r.id)!.size;
      }
    }),
    { numRuns: 150 },
  );
  assert.ok(routes > 1000, `only ${routes} routes reached the receivers`);
});
