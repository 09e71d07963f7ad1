// What the RIB puts on the wire: pulled UPDATEs decoded with the codec's own decoder.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AsPathSegmentType,
  type CodecContext,
  decodeUpdate,
  defaultCodecContext,
  formatPrefix,
  HEADER_LENGTH,
  ipv4ToNumber,
  type UpdateMessage,
} from '../wire/index.ts';
import { Rib } from './rib.ts';
import { announce, attrs, ribPeer, withdraw } from './test-helpers.ts';

const LOCAL_ASN = 65000;

function decodeAll(msgs: Uint8Array[], ctx: CodecContext): UpdateMessage[] {
  return msgs.map((m) => {
    assert.equal((m[16]! << 8) | m[17]!, m.length, 'length field');
    assert.ok(m.length <= ctx.maxMessageSize);
    return decodeUpdate(m.subarray(HEADER_LENGTH), ctx);
  });
}

/** The decoder fills every field (undefined when absent); compare only the present ones. */
function defined(o: object | null): object {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
}

function setup(codec: Partial<CodecContext> = {}) {
  const rib = new Rib({ localAsn: LOCAL_ASN, routerId: ipv4ToNumber('10.0.0.1')! });
  rib.addPeer(ribPeer('192.0.2.1', 65001, LOCAL_ASN));
  rib.peerUp('192.0.2.1', {
    families: ['ipv4-unicast', 'ipv6-unicast'],
    codec: defaultCodecContext(),
    localAddress: '192.0.2.100',
    routerId: 1,
  });
  rib.addPeer(ribPeer('192.0.2.3', 4200000003, LOCAL_ASN));
  const ctx = defaultCodecContext(codec);
  rib.peerUp('192.0.2.3', {
    families: ['ipv4-unicast', 'ipv6-unicast'],
    codec: ctx,
    localAddress: '198.51.100.1',
    routerId: 3,
  });
  const pullAll = (maxBytes = 1 << 20): UpdateMessage[] => {
    const out: UpdateMessage[] = [];
    for (let i = 0; i < 10_000; i++) {
      const m = rib.pull('192.0.2.3', maxBytes);
      if (m.length === 0) return out;
      out.push(...decodeAll(m, ctx));
    }
    throw new Error('pull never ran dry');
  };
  return { rib, ctx, pullAll };
}

describe('pulled UPDATEs on the wire', () => {
  it('announces IPv4 and IPv6 with our ASN prepended and next hop self, then End-of-RIB', () => {
    const { rib, pullAll } = setup();
    assert.deepEqual(
      pullAll()
        .map((u) => u.endOfRib)
        .sort(),
      ['ipv4-unicast', 'ipv6-unicast'],
    );
    rib.applyUpdate(
      '192.0.2.1',
      announce(['203.0.113.0/24', '203.0.114.0/23'], '192.0.2.1', attrs([65001, 7], { communities: [0x00010002] })),
    );
    rib.applyUpdate('192.0.2.1', announce(['2001:db8:1::/48'], '2001:db8::1', attrs([65001])));
    const got = pullAll();
    const v4 = got.find((u) => u.announced[0]?.family === 'ipv4-unicast')!;
    assert.deepEqual(
      v4.announced[0]?.prefixes.map((p) => formatPrefix('ipv4-unicast', p)),
      ['203.0.113.0/24', '203.0.114.0/23'],
    );
    assert.equal(v4.announced[0]?.nextHop, '198.51.100.1');
    assert.deepEqual(defined(v4.attributes), {
      origin: 0,
      asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65000, 65001, 7] }],
      communities: [0x00010002],
    });
    const v6 = got.find((u) => u.announced[0]?.family === 'ipv6-unicast')!;
    assert.equal(v6.announced[0]?.nextHop, '::ffff:198.51.100.1');
    assert.deepEqual(
      v6.announced[0]?.prefixes.map((p) => formatPrefix('ipv6-unicast', p)),
      ['2001:db8:1::/48'],
    );

    rib.applyUpdate('192.0.2.1', withdraw(['203.0.113.0/24']));
    rib.applyUpdate('192.0.2.1', withdraw(['2001:db8:1::/48']));
    const w = pullAll();
    assert.deepEqual(
      w
        .flatMap((u) => u.withdrawn.map((b) => `${b.family} ${b.prefixes.map((p) => formatPrefix(b.family, p))}`))
        .sort(),
      ['ipv4-unicast 203.0.113.0/24', 'ipv6-unicast 2001:db8:1::/48'],
    );
    assert.ok(w.every((u) => u.announced.length === 0));
  });

  it('packs a large batch into full messages, within about maxBytes per pull', () => {
    const { rib, pullAll } = setup();
    pullAll();
    const prefixes = Array.from({ length: 3000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    for (let i = 0; i < 3000; i += 500) {
      rib.applyUpdate('192.0.2.1', announce(prefixes.slice(i, i + 500), '192.0.2.1', attrs([65001])));
    }
    let pulls = 0;
    const seen = new Set<string>();
    for (;;) {
      const m = rib.pull('192.0.2.3', 16384);
      if (m.length === 0) break;
      pulls++;
      assert.ok(m.reduce((n, x) => n + x.length, 0) <= 16384 + 4096);
      for (const u of decodeAll(m, defaultCodecContext())) {
        for (const p of u.announced[0]?.prefixes ?? []) seen.add(formatPrefix('ipv4-unicast', p));
      }
    }
    assert.equal(seen.size, 3000);
    // 3000 × 4 bytes of NLRI: three full 4096-byte messages hold them, so a handful of pulls suffice.
    assert.ok(pulls >= 1 && pulls <= 4, `${pulls} pulls`);
  });

  it('speaks to a 2-octet-AS peer with AS_TRANS and AS4_PATH', () => {
    const { rib, pullAll } = setup({ asn4: false });
    pullAll();
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001, 4200000000])));
    const [u] = pullAll();
    assert.deepEqual(u?.attributes?.asPath, [
      { type: AsPathSegmentType.AS_SEQUENCE, asns: [65000, 65001, 4200000000] },
    ]);
  });

  it('withdraws a route whose exported attributes leave no room for it, and announces the rest', () => {
    const { rib, pullAll } = setup();
    pullAll();
    // 1100 communities: 4400 bytes, more than a 4096-byte UPDATE holds (received over Extended Message, RFC 8654).
    const big = attrs([65001], { communities: Array.from({ length: 1100 }, (_, i) => 0x10000 + i) });
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001])));
    rib.applyUpdate('192.0.2.1', announce(['198.51.100.0/24', '198.51.101.0/24'], '192.0.2.1', big));
    rib.applyUpdate('192.0.2.1', announce(['2001:db8:1::/48'], '2001:db8::1', big));
    rib.applyUpdate('192.0.2.1', announce(['2001:db8:2::/48'], '2001:db8::1', attrs([65001])));
    const got = pullAll();
    const list = (f: (u: UpdateMessage) => { family: 'ipv4-unicast' | 'ipv6-unicast'; prefixes: string[] }[]) =>
      got.flatMap((u) => f(u).flatMap((b) => b.prefixes.map((p) => formatPrefix(b.family, p)))).sort();
    assert.deepEqual(
      list((u) => u.announced),
      ['2001:db8:2::/48', '203.0.113.0/24'],
    );
    assert.deepEqual(
      list((u) => u.withdrawn),
      ['198.51.100.0/24', '198.51.101.0/24', '2001:db8:1::/48'],
    );
  });

  it('sends path identifiers when Add-Path send is negotiated', () => {
    const { rib, pullAll } = setup({ addPathTx: new Set(['ipv4-unicast']) });
    pullAll();
    rib.applyUpdate('192.0.2.1', announce(['203.0.113.0/24'], '192.0.2.1', attrs([65001])));
    const rx = defaultCodecContext({ addPathRx: new Set(['ipv4-unicast']) });
    const m = rib.pull('192.0.2.3', 4096);
    const [u] = decodeAll(m, rx);
    assert.deepEqual(u?.announced[0]?.pathIds, [1]);
  });
});
