// UPDATE codec: fixtures captured from real implementations (ExaBGP's qa/decoding set, FRR's MP_REACH/MP_UNREACH
// parser test vectors in tests/bgpd/test_mp_attr.c), End-of-RIB bytes from RFC 4724 §2, packing, Add-Path,
// RFC 8950, and property tests: encode → decode returns the input; random bytes only ever throw WireError.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatIPv4, formatIPv6 } from './addr.ts';
import { type Family, MAX_EXTENDED_MESSAGE_SIZE, MAX_MESSAGE_SIZE } from './constants.ts';
import { WireError } from './errors.ts';
import { formatPrefix, makePrefixKey, type PrefixKey, parsePrefix } from './prefix.ts';
import type { AsPathSegment, CodecContext, PathAttributes, UnknownAttribute, UpdateMessage } from './types.ts';
import { defaultCodecContext } from './types.ts';
import {
  decodeUpdate,
  encodeAttributes,
  encodeEndOfRib,
  encodeUpdates,
  encodeWithdrawals,
  formatCommunity,
  formatExtCommunity,
  formatLargeCommunity,
  parseCommunity,
  parseExtCommunity,
  parseLargeCommunity,
} from './update.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[\s:]+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const key = (t: string) => parsePrefix(t).key;
const IBGP = defaultCodecContext({ ebgp: false });

function clean(a: PathAttributes | null): Record<string, unknown> | null {
  return a && Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined));
}

/** Decodes a whole message (header included), checking the header first. */
function decodeMessage(msg: Uint8Array, ctx: CodecContext): UpdateMessage {
  assert.equal(toHex(msg.subarray(0, 16)), 'ff'.repeat(16), 'marker');
  assert.equal((msg[16]! << 8) | msg[17]!, msg.length, 'length field');
  assert.equal(msg[18], 2, 'type UPDATE');
  return decodeUpdate(msg.subarray(19), ctx);
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures from ExaBGP's decoder test set (qa/decoding/ipv4-unicast-1, ipv4-unicast-2, bgp-flow-1).

test('ExaBGP ipv4-unicast-1: four default routes and a /32, iBGP attributes', () => {
  const m = decodeMessage(
    hex(
      'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF003C020000001C4001010040020040030465016501800404000000C840050400000064000000002001010101',
    ),
    IBGP,
  );
  assert.deepEqual(m.errors, []);
  assert.equal(m.treatAsWithdraw, false);
  assert.deepEqual(clean(m.attributes), { origin: 0, asPath: [], med: 200, localPref: 100 });
  assert.equal(m.announced.length, 1);
  const a = m.announced[0]!;
  assert.equal(a.nextHop, '101.1.101.1');
  assert.deepEqual(
    a.prefixes.map((p) => formatPrefix('ipv4-unicast', p)),
    ['0.0.0.0/0', '0.0.0.0/0', '0.0.0.0/0', '0.0.0.0/0', '1.1.1.1/32'],
  );
});

test('ExaBGP ipv4-unicast-2: attributes only (AGGREGATOR, ATOMIC_AGGREGATE, 4-octet AS_PATH), no NLRI', () => {
  const m = decodeMessage(
    hex(
      'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF004F02000000384001010040020E02030000AAAA0000AAAA0000AAAAC0070800AA00AA0A0A0A0A4006004003040A0A0A0A8004040000000040050400000064',
    ),
    IBGP,
  );
  assert.deepEqual(m.errors, []);
  assert.deepEqual(m.announced, []);
  assert.deepEqual(clean(m.attributes), {
    origin: 0,
    asPath: [{ type: 2, asns: [43690, 43690, 43690] }],
    med: 0,
    localPref: 100,
    atomicAggregate: true,
    aggregator: { asn: 11141290, address: '10.10.10.10' },
  });
});

test('ExaBGP bgp-flow-1: IPv6 FlowSpec MP_REACH_NLRI is length-checked and ignored', () => {
  const m = decodeMessage(
    hex(
      'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0056:02:0000003F4001010040020040050400000064800E2E0002850000280180002A0229B8192500000000000000002E69024000BEEFF00E000000000381060C000400028008',
    ),
    IBGP,
  );
  assert.deepEqual(m.errors, []);
  assert.deepEqual(m.announced, []);
  assert.equal(m.endOfRib, undefined);
  assert.deepEqual(clean(m.attributes), { origin: 0, asPath: [], localPref: 100 });
});

// ---------------------------------------------------------------------------------------------------------------
// MP_REACH_NLRI / MP_UNREACH_NLRI values from FRR's test_mp_attr.c, wrapped in an UPDATE with ORIGIN and AS_PATH.

function mpBody(code: 14 | 15, value: string): Uint8Array {
  const v = hex(value);
  const mp = toHex(Uint8Array.of(0x90, code, v.length >> 8, v.length & 0xff)) + toHex(v);
  const attrs = mp + (code === 14 ? '40010100400200' : '');
  return hex(`0000${(attrs.length / 2).toString(16).padStart(4, '0')}${attrs}`);
}

const NH6 = 'fffe0102aabbccdd03040506a1a2a3a4';
const LL6 = 'fe80000000000000021002ff01020304';
const NLRI6 = '20fffe0102 40fffe000100020003 00';
const frrReach: { name: string; value: string; ok: boolean; prefixes?: string[]; nh?: string; ll?: string }[] = [
  {
    name: 'IPv6, global next hop, 1 NLRI',
    value: `0002 01 10 ${NH6} 00 20fffe0102`,
    ok: true,
    prefixes: ['fffe:102::/32'],
    nh: 'fffe:102:aabb:ccdd:304:506:a1a2:a3a4',
  },
  {
    name: 'IPv6, 2 NLRIs + default',
    value: `0002 01 10 ${NH6} 00 ${NLRI6}`,
    ok: true,
    prefixes: ['fffe:102::/32', 'fffe:1:2:3::/64', '::/0'],
  },
  {
    name: 'IPv6, global + link-local next hops',
    value: `0002 01 20 ${NH6}${LL6} 00 ${NLRI6}`,
    ok: true,
    prefixes: ['fffe:102::/32', 'fffe:1:2:3::/64', '::/0'],
    nh: 'fffe:102:aabb:ccdd:304:506:a1a2:a3a4',
    ll: 'fe80::210:2ff:102:304',
  },
  { name: 'IPv6, next hop length 4', value: `0002 01 04 ${NH6}${LL6} 00 ${NLRI6}`, ok: false },
  { name: 'IPv6, next hop length 5', value: `0002 01 05 ${NH6}${LL6} 00 ${NLRI6}`, ok: false },
  { name: 'IPv6, next hop length overflows', value: `0002 01 20 ${NH6}`, ok: false },
  { name: 'IPv6, next hop length short', value: `0002 01 10 ${NH6}${LL6} 00 ${NLRI6}`, ok: false },
  {
    name: 'IPv6, NLRI bit length overflow',
    value: `0002 01 20 ${NH6}${LL6} 00 78fffe0102 40fffe000100020003 00`,
    ok: false,
  },
  {
    name: 'IPv4, 2 NLRIs + default',
    value: '0001 01 04 c0a80001 00 100a01 110a0203 00',
    ok: true,
    prefixes: ['10.1.0.0/16', '10.2.0.0/17', '0.0.0.0/0'],
    nh: '192.168.0.1',
  },
  { name: 'IPv4, next hop length overflow', value: '0001 01 20 c0a80001 00 100a01 110a0203 00', ok: false },
  { name: 'IPv4, NLRI length overflow', value: '0001 01 04 c0a80001 00 100a01 1e0a00', ok: false },
  { name: 'IPv4 FlowSpec, 1 NLRI (ignored)', value: '0001 85 00 00 06011e1e282800', ok: true, prefixes: [] },
];

for (const c of frrReach) {
  test(`FRR MP_REACH_NLRI vector: ${c.name}`, () => {
    const body = mpBody(14, c.value);
    if (!c.ok) {
      assert.throws(
        () => decodeUpdate(body, IBGP),
        (e: unknown) => e instanceof WireError && e.action === 'session-reset' && e.code === 3,
      );
      return;
    }
    const m = decodeUpdate(body, IBGP);
    assert.deepEqual(m.errors, []);
    const family: Family = c.value.startsWith('0002') ? 'ipv6-unicast' : 'ipv4-unicast';
    const got = m.announced.flatMap((a) => a.prefixes.map((p) => formatPrefix(family, p)));
    assert.deepEqual(got, c.prefixes);
    if (c.nh) assert.equal(m.announced[0]!.nextHop, c.nh);
    if (c.ll) assert.equal(m.announced[0]!.nextHopLinkLocal, c.ll);
  });
}

const frrUnreach: { name: string; value: string; ok: boolean; prefixes?: string[] }[] = [
  { name: 'IPv6, 1 NLRI', value: '0002 01 20fffe0102', ok: true, prefixes: ['fffe:102::/32'] },
  {
    name: 'IPv6, 2 NLRIs + default',
    value: `0002 01 ${NLRI6}`,
    ok: true,
    prefixes: ['fffe:102::/32', 'fffe:1:2:3::/64', '::/0'],
  },
  { name: 'IPv6, NLRI bit length overflow', value: '0002 01 78fffe0102 40fffe000100020003 00', ok: false },
  {
    name: 'IPv4, 2 NLRIs + default',
    value: '0001 01 100a01 110a0203 00',
    ok: true,
    prefixes: ['10.1.0.0/16', '10.2.0.0/17', '0.0.0.0/0'],
  },
  { name: 'IPv4, NLRI length overflow', value: '0001 01 100a01 1e0a00', ok: false },
  { name: 'IPv4 FlowSpec (ignored)', value: '0001 85 06011e1e282800', ok: true, prefixes: [] },
];

for (const c of frrUnreach) {
  test(`FRR MP_UNREACH_NLRI vector: ${c.name}`, () => {
    const body = mpBody(15, c.value);
    if (!c.ok) {
      assert.throws(
        () => decodeUpdate(body, IBGP),
        (e: unknown) => e instanceof WireError && e.action === 'session-reset',
      );
      return;
    }
    const m = decodeUpdate(body, IBGP);
    assert.deepEqual(m.errors, []);
    const family: Family = c.value.startsWith('0002') ? 'ipv6-unicast' : 'ipv4-unicast';
    assert.deepEqual(
      m.withdrawn.flatMap((w) => w.prefixes.map((p) => formatPrefix(family, p))),
      c.prefixes,
    );
    assert.equal(m.attributes, null);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// End-of-RIB (RFC 4724 §2)

test('End-of-RIB encoding: IPv4 is an empty UPDATE, IPv6 an UPDATE with an empty MP_UNREACH_NLRI', () => {
  assert.equal(toHex(encodeEndOfRib('ipv4-unicast')), `${'ff'.repeat(16)}0017020000 0000`.replace(/ /g, ''));
  assert.equal(toHex(encodeEndOfRib('ipv6-unicast')), `${'ff'.repeat(16)}001d0200000006800f03000201`);
});

test('End-of-RIB decoding', () => {
  assert.equal(decodeUpdate(hex('00000000'), IBGP).endOfRib, 'ipv4-unicast');
  assert.equal(decodeUpdate(hex('0000 0006 800f03000201'), IBGP).endOfRib, 'ipv6-unicast');
  // Extended-length form of the same attribute is still End-of-RIB.
  assert.equal(decodeUpdate(hex('0000 0007 900f0003000201'), IBGP).endOfRib, 'ipv6-unicast');
  // Not End-of-RIB: MP_UNREACH with a prefix; an empty MP_UNREACH beside another attribute; withdrawn routes.
  assert.equal(decodeUpdate(hex('0000 0007 800f0400020100'), IBGP).endOfRib, undefined);
  assert.equal(decodeUpdate(hex('0000 000a 800f03000201 40010100'), IBGP).endOfRib, undefined);
  assert.equal(decodeUpdate(hex('0003 100a01 0000'), IBGP).endOfRib, undefined);
});

// ---------------------------------------------------------------------------------------------------------------
// Encoding layout

const ATTRS: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], med: 10 };

test('IPv4 UPDATE layout: NEXT_HOP in ascending order, NLRI field (hand-computed bytes)', () => {
  const [m, ...rest] = encodeUpdates(
    { family: 'ipv4-unicast', attributes: ATTRS, nextHop: '192.0.2.1', prefixes: [key('10.0.0.0/24')] },
    IBGP,
  );
  assert.equal(rest.length, 0);
  // attrs: ORIGIN 40010100, AS_PATH 40020602010000fde9, NEXT_HOP 400304c0000201, MED 8004040000000a = 27 bytes
  const body = '0000 001b 40010100 40020602010000fde9 400304c0000201 8004040000000a 180a0000';
  assert.equal(toHex(m!), `${'ff'.repeat(16)}0036 02 ${body}`.replace(/ /g, ''));
});

test('IPv6 UPDATE layout: MP_REACH_NLRI first, global + link-local next hop (hand-computed bytes)', () => {
  const [m] = encodeUpdates(
    {
      family: 'ipv6-unicast',
      attributes: ATTRS,
      nextHop: '2001:db8::1',
      nextHopLinkLocal: 'fe80::1',
      prefixes: [key('2001:db8:1::/48')],
    },
    IBGP,
  );
  const mp = `800e2c 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00 30 20010db80001`;
  const body = `0000 0043 ${mp} 40010100 40020602010000fde9 8004040000000a`;
  assert.equal(toHex(m!), `${'ff'.repeat(16)}005a 02 ${body}`.replace(/ /g, ''));
});

test('RFC 8950: IPv4 routes with an IPv6 next hop go in MP_REACH_NLRI (AFI 1, next hop length 16)', () => {
  const ctx = defaultCodecContext({ ebgp: false, extendedNextHop: new Set(['ipv4-unicast']) });
  const batch = {
    family: 'ipv4-unicast' as const,
    attributes: ATTRS,
    nextHop: '2001:db8::1',
    prefixes: [key('10.0.0.0/8')],
  };
  const [m] = encodeUpdates(batch, ctx);
  assert.equal(toHex(m!.subarray(23, 30)), '800e1700010110');
  const d = decodeMessage(m!, ctx);
  assert.deepEqual(JSON.parse(JSON.stringify(d.announced)), [
    { family: 'ipv4-unicast', prefixes: [key('10.0.0.0/8')], pathIds: null, nextHop: '2001:db8::1' },
  ]);
  assert.throws(() => encodeUpdates(batch, IBGP), /Extended Next Hop/);
});

test('Add-Path: path ids before each prefix, in both NLRI field and MP attributes (RFC 7911 §3)', () => {
  const ctx = defaultCodecContext({
    ebgp: false,
    addPathTx: new Set(['ipv4-unicast', 'ipv6-unicast'] as const),
    addPathRx: new Set(['ipv4-unicast', 'ipv6-unicast'] as const),
  });
  const [m] = encodeUpdates(
    { family: 'ipv4-unicast', attributes: ATTRS, nextHop: '192.0.2.1', prefixes: [key('10.0.0.0/24')], pathIds: [7] },
    ctx,
  );
  assert.equal(toHex(m!.subarray(m!.length - 8)), '00000007180a0000');
  const d = decodeMessage(m!, ctx);
  assert.deepEqual(d.announced[0]!.pathIds, [7]);
  const [w] = encodeWithdrawals('ipv6-unicast', [key('2001:db8::/32')], [9], ctx);
  assert.equal(toHex(w!.subarray(19)), '0000000f800f0c00020100000009202001 0db8'.replace(/ /g, ''));
  assert.deepEqual(decodeMessage(w!, ctx).withdrawn, [
    { family: 'ipv6-unicast', prefixes: [key('2001:db8::/32')], pathIds: [9] },
  ]);
  assert.throws(
    () =>
      encodeUpdates(
        { family: 'ipv4-unicast', attributes: ATTRS, nextHop: '192.0.2.1', prefixes: [key('10.0.0.0/8')] },
        ctx,
      ),
    /path id/,
  );
});

test('withdrawals: IPv4 in the Withdrawn Routes field (hand-computed bytes)', () => {
  const [w] = encodeWithdrawals('ipv4-unicast', [key('10.0.0.0/24'), key('0.0.0.0/0')], null, IBGP);
  assert.equal(toHex(w!), `${'ff'.repeat(16)}001c02 0005 180a000000 0000`.replace(/ /g, ''));
  const d = decodeMessage(w!, IBGP);
  assert.deepEqual(d.withdrawn, [
    { family: 'ipv4-unicast', prefixes: [key('10.0.0.0/24'), key('0.0.0.0/0')], pathIds: null },
  ]);
  assert.equal(d.attributes, null);
  assert.deepEqual(encodeWithdrawals('ipv4-unicast', [], null, IBGP), []);
});

// ---------------------------------------------------------------------------------------------------------------
// Packing

function slash24s(n: number): PrefixKey[] {
  return Array.from({ length: n }, (_, i) => makePrefixKey(Uint8Array.of(10, i >> 8, i & 0xff, 0), 24));
}

test('packing: 1000 /24s with one attribute set use the fewest 4096-byte UPDATEs', () => {
  const prefixes = slash24s(1000);
  const msgs = encodeUpdates({ family: 'ipv4-unicast', attributes: ATTRS, nextHop: '192.0.2.1', prefixes }, IBGP);
  const attrLen = encodeAttributes(ATTRS, IBGP).length + 7; // + NEXT_HOP
  const perMessage = Math.floor((MAX_MESSAGE_SIZE - 23 - attrLen) / 4);
  assert.equal(msgs.length, Math.ceil(1000 / perMessage));
  assert.equal(msgs.length, 1000 * 4 > 4096 - 23 - attrLen ? 2 : 1);
  for (const m of msgs) assert.ok(m.length <= MAX_MESSAGE_SIZE);
  const back = msgs.flatMap((m) => decodeMessage(m, IBGP).announced[0]!.prefixes);
  assert.deepEqual(back, prefixes);
  // All but the last message are full to within one prefix.
  for (const m of msgs.slice(0, -1)) assert.ok(m.length > MAX_MESSAGE_SIZE - 4);
});

test('packing: IPv6 announcements and withdrawals stay within the message size', () => {
  const prefixes = Array.from({ length: 3000 }, (_, i) =>
    makePrefixKey(Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, i >> 8, i & 0xff, ...new Array(10).fill(0)), 48),
  );
  for (const max of [MAX_MESSAGE_SIZE, MAX_EXTENDED_MESSAGE_SIZE]) {
    const ctx = defaultCodecContext({ ebgp: false, maxMessageSize: max });
    const ann = encodeUpdates({ family: 'ipv6-unicast', attributes: ATTRS, nextHop: '2001:db8::1', prefixes }, ctx);
    const wd = encodeWithdrawals('ipv6-unicast', prefixes, null, ctx);
    for (const m of [...ann, ...wd]) assert.ok(m.length <= max);
    assert.deepEqual(
      ann.flatMap((m) => decodeMessage(m, ctx).announced[0]!.prefixes),
      prefixes,
    );
    assert.deepEqual(
      wd.flatMap((m) => decodeMessage(m, ctx).withdrawn[0]!.prefixes),
      prefixes,
    );
    // 7 bytes per /48: the minimum count for the room each message leaves.
    const room = max - 23 - 4 - 5 - 16 - encodeAttributes(ATTRS, ctx).length;
    assert.equal(ann.length, Math.ceil(3000 / Math.floor(room / 7)));
  }
  const v4 = encodeWithdrawals('ipv4-unicast', slash24s(2000), null, IBGP);
  assert.equal(v4.length, Math.ceil(2000 / Math.floor((4096 - 23) / 4)));
});

test('an attribute set too large for the message size is an Error, not a broken message', () => {
  const huge: PathAttributes = { origin: 0, asPath: [], communities: Array.from({ length: 1100 }, (_, i) => i) };
  assert.throws(
    () =>
      encodeUpdates(
        { family: 'ipv4-unicast', attributes: huge, nextHop: '192.0.2.1', prefixes: [key('10.0.0.0/8')] },
        IBGP,
      ),
    /no room/,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// RFC 7606 behaviour through decodeUpdate (the corpus in update-corpus.test.ts covers each rule; these check results)

test('treat-as-withdraw: announced prefixes are reported, attributes withheld', () => {
  // ORIGIN value 9, AS_PATH, NEXT_HOP, NLRI 10.0.0.0/24
  const m = decodeUpdate(hex('0000 0014 40010109 40020602010000fde9 400304c0000201 180a0000'), IBGP);
  assert.equal(m.treatAsWithdraw, true);
  assert.equal(m.attributes, null);
  assert.deepEqual(m.announced[0]!.prefixes, [key('10.0.0.0/24')]);
  assert.equal(m.errors[0]!.subcode, 6);
  assert.equal(toHex(m.errors[0]!.data), '40010109');
});

test('withdrawn routes and MP_UNREACH of the same family are merged into one block', () => {
  const m = decodeUpdate(hex('0003 100a01 0009 800f06000101100a02'), IBGP);
  assert.deepEqual(m.withdrawn, [
    { family: 'ipv4-unicast', prefixes: [key('10.1.0.0/16'), key('10.2.0.0/16')], pathIds: null },
  ]);
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests

const asn = fc.integer({ min: 1, max: 0xffffffff });
const asn2 = fc.integer({ min: 1, max: 0xffff });
const ipv4 = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.uint8Array({ minLength: 3, maxLength: 3 }))
  .map(([a, r]) => formatIPv4(Uint8Array.of(a, ...r)));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b));
const UNKNOWN_CODES = Array.from({ length: 256 }, (_, i) => i).filter(
  (c) => ![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32, 35].includes(c),
);

function asPathArb(asn4: boolean): fc.Arbitrary<AsPathSegment[]> {
  const confed = fc.record(
    {
      type: fc.constantFrom(3 as const, 4 as const),
      asns: fc.array(asn4 ? asn : asn2, { minLength: 1, maxLength: 4 }),
    },
    { noNullPrototype: true },
  );
  const seq = (max: number) =>
    fc.record(
      { type: fc.constant(2 as const), asns: fc.array(asn, { minLength: 1, maxLength: max, size: 'max' }) },
      { noNullPrototype: true },
    );
  const set = fc.record(
    { type: fc.constant(1 as const), asns: fc.array(asn, { minLength: 1, maxLength: 8 }) },
    { noNullPrototype: true },
  );
  return fc
    .tuple(
      fc.option(confed, { nil: undefined }),
      fc.option(seq(300), { nil: undefined }),
      fc.array(fc.oneof(seq(8), set), { maxLength: 3 }),
    )
    .map(([c, long, rest]) => [...(c ? [c] : []), ...(long ? [long] : []), ...rest]);
}

function attrsArb(asn4: boolean): fc.Arbitrary<PathAttributes> {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const unknown = fc
    .uniqueArray(fc.constantFrom(...UNKNOWN_CODES), { maxLength: 3 })
    .chain((codes) =>
      fc.tuple(
        ...codes
          .sort((a, b) => a - b)
          .map((code) =>
            fc
              .uint8Array({ maxLength: 100, size: 'max' })
              .map((value): UnknownAttribute => ({ flags: 0xe0, code, value })),
          ),
      ),
    );
  return fc
    .record(
      {
        origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
        asPath: asPathArb(asn4),
        med: u32,
        localPref: u32,
        atomicAggregate: fc.constant(true),
        aggregator: fc.record({ asn, address: ipv4 }, { noNullPrototype: true }),
        communities: fc.array(u32, { minLength: 1, maxLength: 20 }),
        originatorId: ipv4,
        clusterList: fc.array(ipv4, { minLength: 1, maxLength: 4 }),
        extCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 8 }),
        largeCommunities: fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 8 }),
        otc: u32,
        unknown: unknown.filter((u) => u.length > 0),
      },
      { requiredKeys: ['origin', 'asPath'], noNullPrototype: true },
    )
    .map((a) => a as PathAttributes);
}

/** What decoding gives back: adjacent AS_SEQUENCE (and AS_CONFED_SEQUENCE) segments joined. */
function normalize(a: PathAttributes): Record<string, unknown> {
  const path: AsPathSegment[] = [];
  for (const s of a.asPath) {
    const last = path[path.length - 1];
    if (last && last.type === s.type && (s.type === 2 || s.type === 3)) last.asns = [...last.asns, ...s.asns];
    else path.push({ type: s.type, asns: [...s.asns] });
  }
  return clean({ ...a, asPath: path })!;
}

function prefixArb(family: Family): fc.Arbitrary<PrefixKey> {
  const bytes = family === 'ipv4-unicast' ? 4 : 16;
  return fc
    .tuple(fc.uint8Array({ minLength: bytes, maxLength: bytes }), fc.integer({ min: 0, max: bytes * 8 }))
    .map(([addr, bits]) => makePrefixKey(addr, bits));
}

for (const asn4 of [true, false]) {
  for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
    test(`property: encodeUpdates → decodeUpdate returns the input (asn4=${asn4}, ${family})`, () => {
      fc.assert(
        fc.property(
          attrsArb(asn4),
          fc.array(fc.tuple(prefixArb(family), fc.integer({ min: 0, max: 0xffffffff })), {
            minLength: 1,
            maxLength: 1500,
            size: 'max',
          }),
          fc.boolean(),
          fc.constantFrom(MAX_MESSAGE_SIZE, MAX_EXTENDED_MESSAGE_SIZE),
          family === 'ipv4-unicast' ? fc.oneof(ipv4, ipv6) : ipv6,
          fc.option(fc.constant('fe80::1'), { nil: undefined }),
          (attributes, routes, addPath, max, nextHop, ll) => {
            const fams = new Set<Family>(addPath ? [family] : []);
            const ctx = defaultCodecContext({
              asn4,
              ebgp: false,
              maxMessageSize: max,
              addPathTx: fams,
              addPathRx: fams,
              extendedNextHop: new Set(['ipv4-unicast']),
            });
            const prefixes = routes.map((r) => r[0]);
            const pathIds = routes.map((r) => r[1]);
            const v6nh = nextHop.includes(':');
            const nextHopLinkLocal = v6nh ? ll : undefined;
            const msgs = encodeUpdates({ family, attributes, nextHop, nextHopLinkLocal, prefixes, pathIds }, ctx);
            const gotPrefixes: PrefixKey[] = [];
            const gotIds: number[] = [];
            const expected = normalize(attributes);
            for (const m of msgs) {
              assert.ok(m.length <= max);
              const d = decodeMessage(m, ctx);
              assert.deepEqual(d.errors, []);
              assert.equal(d.treatAsWithdraw, false);
              assert.deepEqual(clean(d.attributes), expected);
              assert.equal(d.announced.length, 1);
              const a = d.announced[0]!;
              assert.equal(a.family, family);
              assert.equal(a.nextHop, nextHop);
              assert.equal(a.nextHopLinkLocal, nextHopLinkLocal === undefined ? undefined : 'fe80::1');
              gotPrefixes.push(...a.prefixes);
              if (addPath) gotIds.push(...a.pathIds!);
              else assert.equal(a.pathIds, null);
            }
            assert.deepEqual(gotPrefixes, prefixes);
            if (addPath) assert.deepEqual(gotIds, pathIds);
          },
        ),
        { numRuns: 60 },
      );
    });
  }
}

test('property: encodeWithdrawals → decodeUpdate returns the input', () => {
  fc.assert(
    fc.property(
      fc
        .constantFrom('ipv4-unicast' as const, 'ipv6-unicast' as const)
        .chain((family) =>
          fc.tuple(fc.constant(family), fc.array(prefixArb(family), { minLength: 1, maxLength: 2000, size: 'max' })),
        ),
      fc.boolean(),
      fc.constantFrom(MAX_MESSAGE_SIZE, MAX_EXTENDED_MESSAGE_SIZE),
      ([family, prefixes], addPath, max) => {
        const fams = new Set<Family>(addPath ? [family] : []);
        const ctx = defaultCodecContext({ maxMessageSize: max, addPathTx: fams, addPathRx: fams });
        const ids = addPath ? prefixes.map((_, i) => i) : null;
        const got: PrefixKey[] = [];
        for (const m of encodeWithdrawals(family, prefixes, ids, ctx)) {
          assert.ok(m.length <= max);
          const d = decodeMessage(m, ctx);
          assert.equal(d.withdrawn.length, 1);
          assert.equal(d.withdrawn[0]!.family, family);
          got.push(...d.withdrawn[0]!.prefixes);
        }
        assert.deepEqual(got, prefixes);
      },
    ),
    { numRuns: 100 },
  );
});

const fuzzCtx = fc.record({
  asn4: fc.boolean(),
  ebgp: fc.boolean(),
  addPath: fc.boolean(),
});

function onlyWireErrors(body: Uint8Array, c: { asn4: boolean; ebgp: boolean; addPath: boolean }): void {
  const fams = new Set<Family>(c.addPath ? ['ipv4-unicast', 'ipv6-unicast'] : []);
  const ctx = defaultCodecContext({ asn4: c.asn4, ebgp: c.ebgp, addPathRx: fams });
  try {
    const m = decodeUpdate(body, ctx);
    // A returned message is consistent: treat-as-withdraw never comes with attributes.
    if (m.treatAsWithdraw) assert.equal(m.attributes, null);
    for (const e of m.errors) assert.notEqual(e.action, 'session-reset');
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    assert.equal(e.action, 'session-reset');
  }
}

test('property: random bytes into decodeUpdate only ever throw WireError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fuzzCtx, (b, c) => onlyWireErrors(b, c)),
    {
      numRuns: 5000,
    },
  );
});

test('property: corrupted valid UPDATEs only ever throw WireError', () => {
  const ctx = defaultCodecContext({ ebgp: false });
  const seeds = [
    ...encodeUpdates(
      {
        family: 'ipv4-unicast',
        attributes: {
          ...ATTRS,
          communities: [1, 2],
          largeCommunities: [[1, 2, 3]],
          extCommunities: [new Uint8Array(8)],
          aggregator: { asn: 70000, address: '10.0.0.1' },
        },
        nextHop: '192.0.2.1',
        prefixes: slash24s(5),
      },
      ctx,
    ),
    ...encodeUpdates(
      { family: 'ipv6-unicast', attributes: ATTRS, nextHop: '2001:db8::1', prefixes: [key('2001:db8::/32')] },
      ctx,
    ),
    ...encodeWithdrawals('ipv6-unicast', [key('2001:db8::/32')], null, ctx),
  ].map((m) => m.slice(19));
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      fuzzCtx,
      (seed, flips, cut, c) => {
        const b = seed.slice();
        for (const [at, v] of flips) b[at % b.length] = v;
        onlyWireErrors(b, c);
        onlyWireErrors(b.subarray(0, cut % (b.length + 1)), c);
      },
    ),
    { numRuns: 5000 },
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Community text forms

test('communities: format and parse', () => {
  assert.equal(formatCommunity(((65000 << 16) | 100) >>> 0), '65000:100');
  assert.equal(formatCommunity(0xffffff01), 'no-export');
  assert.equal(parseCommunity('65000:100'), ((65000 << 16) | 100) >>> 0);
  assert.equal(parseCommunity('0:0'), 0);
  for (const name of [
    'no-export',
    'no-advertise',
    'no-export-subconfed',
    'no-peer',
    'blackhole',
    'graceful-shutdown',
  ]) {
    assert.equal(formatCommunity(parseCommunity(name)), name);
  }
  assert.equal(parseCommunity('graceful-shutdown'), 0xffff0000);
  assert.equal(parseCommunity('blackhole'), 0xffff029a);
  assert.throws(() => parseCommunity('65536:1'), /65535/);
  assert.throws(() => parseCommunity('1:2:3'), /community/);
  assert.throws(() => parseCommunity('a:b'), /not a number/);
  assert.throws(() => parseCommunity('no-such-name'), /community/);
});

test('large communities: format and parse', () => {
  assert.equal(formatLargeCommunity([4200000000, 1, 2]), '4200000000:1:2');
  assert.deepEqual(parseLargeCommunity('4200000000:1:2'), [4200000000, 1, 2]);
  assert.throws(() => parseLargeCommunity('1:2'), /a:b:c/);
  assert.throws(() => parseLargeCommunity('4294967296:1:2'), /larger/);
});

test('extended communities: format and parse (RFC 4360 §4, RFC 5668)', () => {
  assert.equal(toHex(parseExtCommunity('rt:65000:100')), '0002fde800000064');
  assert.equal(toHex(parseExtCommunity('ro:65000:100')), '0003fde800000064');
  assert.equal(toHex(parseExtCommunity('rt:192.0.2.1:5')), '0102c00002010005');
  assert.equal(toHex(parseExtCommunity('ro:192.0.2.1:5')), '0103c00002010005');
  assert.equal(toHex(parseExtCommunity('rt:4200000000:5')), '0202fa56ea000005');
  assert.equal(toHex(parseExtCommunity('rt:65000L:5')), '0202 0000fde8 0005'.replace(/ /g, ''));
  assert.equal(toHex(parseExtCommunity('0x0102030405060708')), '0102030405060708');
  for (const t of [
    'rt:65000:100',
    'ro:65000:4294967295',
    'rt:192.0.2.1:5',
    'rt:4200000000:5',
    'rt:65000L:5',
    '0x4300000000000001',
  ]) {
    assert.equal(formatExtCommunity(parseExtCommunity(t)), t);
  }
  assert.throws(() => parseExtCommunity('xx:1:2'), /kind/);
  assert.throws(() => parseExtCommunity('rt:4200000000:70000'), /65535/);
  assert.throws(() => parseExtCommunity('rt:300.0.0.1:1'), /IPv4/);
  assert.throws(() => parseExtCommunity('rt:1'), /extended community/);
});

test('property: extended community text round-trips any 8 bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (b) => {
      assert.deepEqual(parseExtCommunity(formatExtCommunity(b)), b);
    }),
  );
});
