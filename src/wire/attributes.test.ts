// Path attributes: every attribute encoded to hand-computed bytes (RFC 4271 §4.3 and each attribute's RFC),
// decoded back, and mirrored; RFC 6793 AS4 handling in both directions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AttrDecodeState,
  asPathLength,
  decodeAsPath,
  decodeAttributeBlock,
  encodeAttributes,
  finishAttributes,
  mergeAs4Path,
} from './attributes.ts';
import { AS_TRANS } from './constants.ts';
import type { AsPathSegment, CodecContext, PathAttributes } from './types.ts';
import { defaultCodecContext } from './types.ts';
import { decodeUpdate } from './update.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Drops keys whose value is undefined, so decoded sets compare with literals. */
function clean(a: PathAttributes): Record<string, unknown> {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined));
}

function decodeBlock(block: Uint8Array, ctx: CodecContext) {
  const st = new AttrDecodeState(block, ctx);
  decodeAttributeBlock(st, 0, block.length);
  finishAttributes(st, false);
  return st;
}

const IBGP4 = defaultCodecContext({ asn4: true, ebgp: false });
const IBGP2 = defaultCodecContext({ asn4: false, ebgp: false });
const ORIGIN_IGP = '40 01 01 00';
const EMPTY_PATH = '40 02 00';

const seq = (...asns: number[]): AsPathSegment => ({ type: 2, asns });
const set = (...asns: number[]): AsPathSegment => ({ type: 1, asns });

// Each case: attributes, context, and the attribute block RFC 4271 §4.3 lays out for them, computed by hand.
const cases: { name: string; ctx: CodecContext; attrs: PathAttributes; hex: string }[] = [
  { name: 'ORIGIN EGP, empty AS_PATH', ctx: IBGP4, attrs: { origin: 1, asPath: [] }, hex: `40 01 01 01 ${EMPTY_PATH}` },
  {
    name: 'AS_PATH sequence + set, 4-octet',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [seq(65001, 65002), set(3, 4)] },
    hex: `${ORIGIN_IGP} 40 02 14 02 02 0000fde9 0000fdea 01 02 00000003 00000004`,
  },
  {
    name: 'AS_PATH confederation sequence then sequence',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [{ type: 3, asns: [65000] }, seq(65001)] },
    hex: `${ORIGIN_IGP} 40 02 0c 03 01 0000fde8 02 01 0000fde9`,
  },
  {
    name: 'AS_PATH confederation set',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [{ type: 4, asns: [65000, 65003] }] },
    hex: `${ORIGIN_IGP} 40 02 0a 04 02 0000fde8 0000fdeb`,
  },
  {
    name: 'AS_PATH 2-octet session, small ASNs: no AS4_PATH',
    ctx: IBGP2,
    attrs: { origin: 0, asPath: [seq(65001, 65002)] },
    hex: `${ORIGIN_IGP} 40 02 06 02 02 fde9 fdea`,
  },
  {
    name: 'AS_PATH 2-octet session, 4-octet ASN: AS_TRANS + AS4_PATH (RFC 6793 §4.2.2)',
    ctx: IBGP2,
    attrs: { origin: 0, asPath: [seq(65001, 4200000000)] },
    hex: `${ORIGIN_IGP} 40 02 06 02 02 fde9 5ba0  c0 11 0a 02 02 0000fde9 fa56ea00`,
  },
  {
    name: 'AS_PATH 2-octet session: confederation segment kept out of AS4_PATH (RFC 6793 §3)',
    ctx: IBGP2,
    attrs: { origin: 0, asPath: [{ type: 3, asns: [65000] }, seq(4200000000)] },
    hex: `${ORIGIN_IGP} 40 02 08 03 01 fde8 02 01 5ba0  c0 11 06 02 01 fa56ea00`,
  },
  {
    name: 'MULTI_EXIT_DISC',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], med: 100 },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} 80 04 04 00000064`,
  },
  {
    name: 'LOCAL_PREF',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], localPref: 200 },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} 40 05 04 000000c8`,
  },
  {
    name: 'ATOMIC_AGGREGATE',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], atomicAggregate: true },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} 40 06 00`,
  },
  {
    name: 'AGGREGATOR 4-octet',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], aggregator: { asn: 65001, address: '192.0.2.1' } },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} c0 07 08 0000fde9 c0000201`,
  },
  {
    name: 'AGGREGATOR 2-octet',
    ctx: IBGP2,
    attrs: { origin: 0, asPath: [], aggregator: { asn: 65001, address: '192.0.2.1' } },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} c0 07 06 fde9 c0000201`,
  },
  {
    name: 'AGGREGATOR 2-octet session, 4-octet ASN: AS_TRANS + AS4_AGGREGATOR',
    ctx: IBGP2,
    attrs: { origin: 0, asPath: [], aggregator: { asn: 4200000000, address: '192.0.2.1' } },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} c0 07 06 5ba0 c0000201 c0 12 08 fa56ea00 c0000201`,
  },
  {
    name: 'COMMUNITIES',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], communities: [((65001 << 16) | 1) >>> 0, 0xffffff01] },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} c0 08 08 fde90001 ffffff01`,
  },
  {
    name: 'ORIGINATOR_ID',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], originatorId: '192.0.2.9' },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} 80 09 04 c0000209`,
  },
  {
    name: 'CLUSTER_LIST',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], clusterList: ['192.0.2.1', '10.0.0.1'] },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} 80 0a 08 c0000201 0a000001`,
  },
  {
    name: 'EXTENDED_COMMUNITIES route target 65001:100',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], extCommunities: [hex('0002fde900000064')] },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} c0 10 08 0002fde900000064`,
  },
  {
    name: 'LARGE_COMMUNITIES',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], largeCommunities: [[65001, 1, 2]] },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} c0 20 0c 0000fde9 00000001 00000002`,
  },
  {
    name: 'OTC',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], otc: 65001 },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} c0 23 04 0000fde9`,
  },
  {
    name: 'unknown optional transitive attribute passed on with Partial',
    ctx: IBGP4,
    attrs: { origin: 0, asPath: [], med: 1, unknown: [{ flags: 0xe0, code: 99, value: hex('0102') }] },
    hex: `${ORIGIN_IGP} ${EMPTY_PATH} 80 04 04 00000001 e0 63 02 0102`,
  },
];

for (const c of cases) {
  test(`attribute encode/decode/mirror: ${c.name}`, () => {
    const encoded = encodeAttributes(c.attrs, c.ctx);
    assert.equal(toHex(encoded), c.hex.replace(/\s+/g, ''), 'encoded bytes');
    const st = decodeBlock(hex(c.hex), c.ctx);
    assert.deepEqual(st.errors, []);
    assert.deepEqual(clean(st.attrs), c.attrs, 'decoded attributes');
    assert.equal(toHex(encodeAttributes(st.attrs, c.ctx)), toHex(encoded), 'mirror');
  });
}

test('extended length flag only when the value exceeds 255 bytes', () => {
  const communities = Array.from({ length: 64 }, (_, i) => i + 1);
  const b = encodeAttributes({ origin: 0, asPath: [], communities }, IBGP4);
  // ORIGIN (4) + AS_PATH (3), then COMMUNITIES: flags 0xd0 (optional, transitive, extended length), 0x0100 bytes.
  assert.equal(toHex(b.subarray(7, 11)), 'd0080100');
  assert.equal(b.length, 7 + 4 + 256);
  const short = encodeAttributes({ origin: 0, asPath: [], communities: communities.slice(0, 63) }, IBGP4);
  assert.equal(toHex(short.subarray(7, 10)), 'c008fc');
  assert.deepEqual(decodeBlock(b, IBGP4).attrs.communities, communities);
});

test('AS_SEQUENCE longer than 255 is split into segments and joined again on decode', () => {
  const asns = Array.from({ length: 300 }, (_, i) => 64512 + i);
  const b = encodeAttributes({ origin: 0, asPath: [seq(...asns)] }, IBGP4);
  // AS_PATH value: 2 + 255*4 + 2 + 45*4 = 1204 bytes, extended length.
  assert.equal(toHex(b.subarray(4, 8)), '500204b4');
  assert.equal(b[8], 2);
  assert.equal(b[9], 255);
  assert.equal(b[10 + 255 * 4], 2);
  assert.equal(b[11 + 255 * 4], 45);
  assert.deepEqual(decodeBlock(b, IBGP4).attrs.asPath, [seq(...asns)]);
});

test('attributes go out in ascending type code order', () => {
  const b = encodeAttributes(
    {
      origin: 0,
      asPath: [seq(1)],
      med: 1,
      localPref: 1,
      atomicAggregate: true,
      aggregator: { asn: 1, address: '10.0.0.1' },
      communities: [1],
      originatorId: '10.0.0.1',
      clusterList: ['10.0.0.1'],
      extCommunities: [new Uint8Array(8)],
      largeCommunities: [[1, 2, 3]],
      otc: 1,
      unknown: [
        { flags: 0xe0, code: 40, value: new Uint8Array(1) },
        { flags: 0xe0, code: 11, value: new Uint8Array(1) },
      ],
    },
    IBGP4,
  );
  const codes: number[] = [];
  for (let p = 0; p < b.length; ) {
    const ext = b[p]! & 0x10;
    codes.push(b[p + 1]!);
    const len = ext ? (b[p + 2]! << 8) | b[p + 3]! : b[p + 2]!;
    p += (ext ? 4 : 3) + len;
  }
  assert.deepEqual(codes, [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 16, 32, 35, 40]);
});

test('unknown optional transitive attribute: Partial set on decode; non-transitive dropped', () => {
  const st = decodeBlock(hex(`${ORIGIN_IGP} ${EMPTY_PATH} c0 63 01 07 80 64 01 08`), IBGP4);
  assert.deepEqual(st.attrs.unknown, [{ flags: 0xe0, code: 99, value: hex('07') }]);
  assert.deepEqual(st.errors, []);
});

test('decoded values do not alias the input buffer', () => {
  // The decode state keeps offsets into the message; the decoded UPDATE has its attributes' key written apart.
  const block = `${ORIGIN_IGP} ${EMPTY_PATH} 40 03 04 0a000001 c0 10 08 0002fde900000064 c0 63 01 07`;
  const body = hex(`0000 ${hex(block).length.toString(16).padStart(4, '0')} ${block} 18 0a0000`);
  const m = decodeUpdate(body, IBGP4);
  body.fill(0);
  assert.equal(toHex(m.attributes!.extCommunities![0]!), '0002fde900000064');
  assert.equal(toHex(m.attributes!.unknown![0]!.value), '07');
});

test('LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST from an eBGP peer are discarded (RFC 7606 §7.5, 7.9, 7.10)', () => {
  const ebgp = defaultCodecContext({ ebgp: true });
  const st = decodeBlock(
    hex(`${ORIGIN_IGP} ${EMPTY_PATH} 40 05 04 00000064 80 09 04 0a000001 80 0a 04 0a000001`),
    ebgp,
  );
  assert.equal(st.attrs.localPref, undefined);
  assert.equal(st.attrs.originatorId, undefined);
  assert.equal(st.attrs.clusterList, undefined);
  assert.deepEqual(
    st.errors.map((e) => e.action),
    ['attribute-discard', 'attribute-discard', 'attribute-discard'],
  );
});

test('repeated attribute: the first one is kept (RFC 7606 §3 g)', () => {
  const st = decodeBlock(hex(`${ORIGIN_IGP} ${EMPTY_PATH} 80 04 04 00000001 80 04 04 00000002`), IBGP4);
  assert.equal(st.attrs.med, 1);
  assert.equal(st.errors.length, 1);
  assert.equal(st.errors[0]!.action, 'attribute-discard');
});

test('NOTIFICATION data of a malformed attribute is the whole attribute (RFC 4271 §6.3)', () => {
  const st = decodeBlock(hex(`40 01 01 05 ${EMPTY_PATH}`), IBGP4);
  assert.equal(st.errors.length, 1);
  assert.equal(st.errors[0]!.subcode, 6);
  assert.equal(toHex(st.errors[0]!.data), '40010105');
});

// RFC 6793 §4.2.3 on a 2-octet session.
test('AS4_PATH merged into AS_PATH with AS_TRANS', () => {
  const st = decodeBlock(hex(`${ORIGIN_IGP} 40 02 08 02 03 fde9 5ba0 5ba0  c0 11 0a 02 02 fa56ea01 fa56ea02`), IBGP2);
  assert.deepEqual(st.attrs.asPath, [seq(65001, 4200000001, 4200000002)]);
});

test('AS4_PATH with more AS numbers than AS_PATH is ignored', () => {
  const st = decodeBlock(hex(`${ORIGIN_IGP} 40 02 04 02 01 5ba0  c0 11 0a 02 02 fa56ea01 fa56ea02`), IBGP2);
  assert.deepEqual(st.attrs.asPath, [seq(AS_TRANS)]);
});

test('AGGREGATOR other than AS_TRANS with AS4_AGGREGATOR: both AS4 attributes ignored', () => {
  const st = decodeBlock(
    hex(
      `${ORIGIN_IGP} 40 02 06 02 02 fde9 5ba0 c0 07 06 fdea 0a000001 c0 11 06 02 01 fa56ea01 c0 12 08 fa56ea02 0a000002`,
    ),
    IBGP2,
  );
  assert.deepEqual(st.attrs.asPath, [seq(65001, AS_TRANS)]);
  assert.deepEqual(st.attrs.aggregator, { asn: 65002, address: '10.0.0.1' });
});

test('AGGREGATOR AS_TRANS with AS4_AGGREGATOR: the AS4 values are used', () => {
  const st = decodeBlock(
    hex(
      `${ORIGIN_IGP} 40 02 06 02 02 fde9 5ba0 c0 07 06 5ba0 0a000001 c0 11 06 02 01 fa56ea01 c0 12 08 fa56ea02 0a000002`,
    ),
    IBGP2,
  );
  assert.deepEqual(st.attrs.asPath, [seq(65001, 4200000001)]);
  assert.deepEqual(st.attrs.aggregator, { asn: 4200000002, address: '10.0.0.2' });
});

test('4-octet session: received AS4_PATH and AS4_AGGREGATOR are discarded (RFC 6793 §6)', () => {
  const st = decodeBlock(
    hex(`${ORIGIN_IGP} 40 02 06 02 01 0000fde9 c0 11 06 02 01 fa56ea01 c0 12 08 fa56ea02 0a000002`),
    IBGP4,
  );
  assert.deepEqual(st.attrs.asPath, [seq(65001)]);
  assert.equal(st.attrs.aggregator, undefined);
  assert.deepEqual(st.errors, []);
});

test('mergeAs4Path: AS_SET counts as one, leading confederation segments are kept', () => {
  // AS_PATH: confed(1) seq(10, T, T) set(T, 20)   AS4_PATH: seq(100000, 100001) set(100002, 20)
  const merged = mergeAs4Path(
    [{ type: 3, asns: [1] }, seq(10, AS_TRANS, AS_TRANS), set(AS_TRANS, 20)],
    [seq(100000, 100001), set(100002, 20)],
  );
  assert.deepEqual(merged, [{ type: 3, asns: [1] }, seq(10, 100000, 100001), set(100002, 20)]);
  assert.equal(asPathLength(merged), 4);
});

test('decodeAsPath reports malformed paths', () => {
  assert.equal(typeof decodeAsPath(hex('02 01 0000'), 0, 4, 4), 'string');
  assert.equal(typeof decodeAsPath(hex('02'), 0, 1, 4), 'string');
  assert.equal(typeof decodeAsPath(hex('00 01 0001'), 0, 4, 2), 'string');
  assert.deepEqual(decodeAsPath(hex('02 01 0001 02 01 0002'), 0, 8, 2), [seq(1, 2)]);
});

test('encoder rejects values it cannot put on the wire', () => {
  assert.throws(() => encodeAttributes({ origin: 0, asPath: [], originatorId: 'x' }, IBGP4), /ORIGINATOR_ID/);
  assert.throws(() => encodeAttributes({ origin: 5 as 0, asPath: [] }, IBGP4), /ORIGIN/);
  assert.throws(() => encodeAttributes({ origin: 0, asPath: [], extCommunities: [new Uint8Array(3)] }, IBGP4), /8/);
});
