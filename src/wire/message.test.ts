// The dispatcher and the non-UPDATE messages against bytes captured from BIRD 2.0.12 and FRR 8.4
// (test/fixtures/captured-streams.json), hand-written RFC layouts, and the malformed-message corpus.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { WireError } from './errors.ts';
import { Framer } from './framer.ts';
import { decodeMessage, decodeMessageAt, encodeKeepalive, messageTypeName } from './message.ts';
import { encodeNotification, encodeShutdownNotification } from './notification.ts';
import { encodeOpen } from './open.ts';
import { formatPrefix } from './prefix.ts';
import { encodeRouteRefresh } from './route-refresh.ts';
import { CAPTURED_STREAMS, type CapturedStream } from './test-fixtures.ts';
import type { BgpMessage } from './types.ts';
import { defaultCodecContext } from './types.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ctx = defaultCodecContext();
const MARKER = 'ffffffffffffffffffffffffffffffff';

const stream = (name: string): CapturedStream => CAPTURED_STREAMS.find((s) => s.name === name)!;
const bird = stream('bird-2.0.12');
const frr = stream('frr-8.4');

function decode(h: string): BgpMessage {
  return decodeMessage(hex(h), ctx);
}

/** Runs fn, which must throw a WireError; returns it. */
function wireError(fn: () => unknown): WireError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof WireError, `expected WireError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a WireError');
}

describe('OPEN from real implementations', () => {
  it('decodes BIRD 2.0.12 OPEN with all its capabilities', () => {
    const m = decode(bird.messages[0]!);
    assert.equal(m.type, 'open');
    if (m.type !== 'open') return;
    assert.deepEqual(
      { version: m.version, myAs: m.myAs, holdTime: m.holdTime, routerId: m.routerId },
      { version: 4, myAs: 65092, holdTime: 90, routerId: '10.0.0.92' },
    );
    assert.deepEqual(m.capabilities, [
      { kind: 'multiprotocol', afi: 1, safi: 1 },
      { kind: 'multiprotocol', afi: 2, safi: 1 },
      { kind: 'route-refresh' },
      { kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
      { kind: 'extended-message' },
      {
        kind: 'graceful-restart',
        flags: 0,
        restartTime: 120,
        families: [
          { afi: 1, safi: 1, forwardingPreserved: false },
          { afi: 2, safi: 1, forwardingPreserved: false },
        ],
      },
      { kind: 'four-octet-as', asn: 65092 },
      { kind: 'add-path', entries: [{ afi: 1, safi: 1, sendReceive: 1 }] },
      { kind: 'enhanced-route-refresh' },
      // Long-lived graceful restart (71) is not one tsbgp knows: kept raw.
      { kind: 'unknown', code: 71, value: hex('0001010000 0e10 0002010000 0e10') },
      { kind: 'fqdn', hostname: 'bird-fixture', domain: '' },
    ]);
  });

  it('re-encodes the BIRD OPEN byte for byte (all capabilities in one parameter, as BIRD does)', () => {
    const m = decode(bird.messages[0]!);
    assert.equal(m.type, 'open');
    if (m.type !== 'open') return;
    const { type: _t, ...rest } = m;
    assert.equal(toHex(encodeOpen(rest)), bird.messages[0]);
  });

  it('decodes FRR 8.4 OPEN (one capability per parameter, AS_TRANS + 4-octet AS)', () => {
    const m = decode(frr.messages[0]!);
    assert.equal(m.type, 'open');
    if (m.type !== 'open') return;
    assert.equal(m.myAs, 23456);
    assert.equal(m.holdTime, 180);
    assert.equal(m.routerId, '10.0.0.93');
    assert.deepEqual(m.capabilities, [
      { kind: 'multiprotocol', afi: 1, safi: 1 },
      { kind: 'multiprotocol', afi: 2, safi: 1 },
      { kind: 'route-refresh-old' },
      { kind: 'route-refresh' },
      { kind: 'enhanced-route-refresh' },
      { kind: 'four-octet-as', asn: 4200000093 },
      { kind: 'extended-message' },
      {
        kind: 'add-path',
        entries: [
          { afi: 1, safi: 1, sendReceive: 3 },
          { afi: 2, safi: 1, sendReceive: 3 },
        ],
      },
      { kind: 'fqdn', hostname: 'frr-fixture', domain: '' },
      // R and N bits set (RFC 4724 §3, RFC 8538 §2), no families.
      { kind: 'graceful-restart', flags: 0xc, restartTime: 120, families: [] },
      { kind: 'unknown', code: 71, value: hex('0001018000000000020180000000') },
    ]);
  });

  it('mirrors the FRR OPEN: encode(decode(x)) decodes to the same message', () => {
    const m = decode(frr.messages[0]!);
    assert.equal(m.type, 'open');
    if (m.type !== 'open') return;
    const { type: _t, ...rest } = m;
    assert.deepEqual(decodeMessage(encodeOpen(rest), ctx), m);
  });
});

describe('UPDATE dispatch', () => {
  it('hands type 2 to decodeUpdate: BIRD announcement, withdrawal and both End-of-RIBs', () => {
    const updates = bird.messages.filter((h) => h.slice(36, 38) === '02').map(decode);
    const [announce, eor4, withdraw6, eor6] = updates;
    assert.equal(announce?.type, 'update');
    if (announce?.type !== 'update') return;
    assert.deepEqual(
      announce.announced.map((b) => [b.family, b.nextHop, b.prefixes.map((p) => formatPrefix(b.family, p))]),
      [['ipv4-unicast', '127.0.0.92', ['198.51.100.0/24', '203.0.113.0/25']]],
    );
    assert.deepEqual(announce.attributes?.asPath, [{ type: 2, asns: [65092] }]);
    assert.equal(eor4?.type === 'update' && eor4.endOfRib, 'ipv4-unicast');
    assert.equal(withdraw6?.type === 'update' && withdraw6.withdrawn[0]?.family, 'ipv6-unicast');
    assert.equal(eor6?.type === 'update' && eor6.endOfRib, 'ipv6-unicast');
  });
});

describe('KEEPALIVE', () => {
  it('encodes as the bare 19-byte header and matches BIRD and FRR', () => {
    assert.equal(toHex(encodeKeepalive()), `${MARKER}001304`);
    assert.equal(toHex(encodeKeepalive()), bird.messages[1]);
    assert.equal(toHex(encodeKeepalive()), frr.messages[1]);
    assert.deepEqual(decodeMessage(encodeKeepalive(), ctx), { type: 'keepalive' });
  });

  it('returns a fresh buffer each time', () => {
    const a = encodeKeepalive();
    a[0] = 0;
    assert.equal(encodeKeepalive()[0], 0xff);
  });
});

describe('NOTIFICATION', () => {
  it('decodes the BIRD shutdown communication and encodes it byte for byte', () => {
    const h = bird.messages.at(-1)!;
    const m = decode(h);
    assert.equal(m.type, 'notification');
    if (m.type !== 'notification') return;
    assert.equal(m.code, 6);
    assert.equal(m.subcode, 2);
    assert.equal(m.shutdownMessage, 'maintenance window: back at 14:00 UTC ✓');
    assert.equal(toHex(encodeShutdownNotification(2, m.shutdownMessage!)), h);
  });

  it('decodes the FRR shutdown communication and encodes it byte for byte', () => {
    const h = frr.messages.at(-1)!;
    const m = decode(h);
    assert.equal(m.type, 'notification');
    if (m.type !== 'notification') return;
    assert.equal(m.shutdownMessage, 'planned maintenance, see ticket #4711');
    assert.equal(toHex(encodeShutdownNotification(2, m.shutdownMessage!)), h);
  });

  it('mirrors code, subcode and data', () => {
    const data = hex('0102030405');
    const b = encodeNotification(3, 11, data);
    assert.equal(toHex(b), `${MARKER}001a03030b0102030405`);
    assert.deepEqual(decodeMessage(b, ctx), { type: 'notification', code: 3, subcode: 11, data });
    assert.deepEqual(decodeMessage(encodeNotification(4, 0), ctx), {
      type: 'notification',
      code: 4,
      subcode: 0,
      data: new Uint8Array(0),
    });
  });

  it('cuts data so that the message fits 4096 bytes', () => {
    const b = encodeNotification(7, 1, new Uint8Array(10000));
    assert.equal(b.length, 4096);
  });

  it('truncates a shutdown communication to 255 bytes on a UTF-8 boundary (RFC 9003 §2)', () => {
    // 85 × "€" is 255 bytes; one more "é" would split nothing but exceed; "x" + 85 × "€" must drop the last "€".
    const ascii = encodeShutdownNotification(4, 'a'.repeat(300));
    assert.equal(ascii[21], 255);
    assert.equal(ascii.length, 21 + 1 + 255);
    const euro = encodeShutdownNotification(2, `x${'€'.repeat(85)}`);
    assert.equal(euro[21], 1 + 84 * 3);
    const m = decodeMessage(euro, ctx);
    assert.equal(m.type === 'notification' && m.shutdownMessage, `x${'€'.repeat(84)}`);
    const exact = encodeShutdownNotification(2, '€'.repeat(85));
    assert.equal(exact[21], 255);
  });

  it('leaves shutdownMessage unset for invalid communications and other codes', () => {
    const cases: [number, number, string][] = [
      [6, 2, ''], // no data at all (pre-RFC 8203 speakers)
      [6, 2, '05414243'], // length says 5, 3 bytes follow
      [6, 2, '0241424344'], // length says 2, 4 bytes follow
      [6, 4, '02c328'], // invalid UTF-8
      [6, 3, '03414243'], // peer de-configured: no communication defined
      [2, 2, '03414243'],
    ];
    for (const [code, sub, data] of cases) {
      const m = decodeMessage(encodeNotification(code, sub, hex(data)), ctx);
      assert.equal(m.type, 'notification');
      assert.equal(m.type === 'notification' && m.shutdownMessage, undefined, `${code}/${sub} ${data}`);
    }
    const empty = decodeMessage(encodeNotification(6, 4, hex('00')), ctx);
    assert.equal(empty.type === 'notification' && empty.shutdownMessage, '');
  });
});

describe('ROUTE-REFRESH', () => {
  it('matches BIRD BoRR and EoRR (RFC 7313) and mirrors', () => {
    const borr = bird.messages.find((h) => h.endsWith('0500010101'))!;
    const eorr = bird.messages.find((h) => h.endsWith('0500010201'))!;
    assert.equal(toHex(encodeRouteRefresh(1, 1, 1)), borr);
    assert.equal(toHex(encodeRouteRefresh(1, 1, 2)), eorr);
    assert.deepEqual(decode(borr), { type: 'route-refresh', afi: 1, safi: 1, subtype: 1 });
    assert.deepEqual(decode(eorr), { type: 'route-refresh', afi: 1, safi: 1, subtype: 2 });
    assert.deepEqual(decodeMessage(encodeRouteRefresh(2, 1), ctx), {
      type: 'route-refresh',
      afi: 2,
      safi: 1,
      subtype: 0,
    });
  });

  it('passes an unknown subtype through for the session to ignore (RFC 7313 §5)', () => {
    const m = decodeMessage(encodeRouteRefresh(1, 1, 9), ctx);
    assert.equal(m.type === 'route-refresh' && m.subtype, 9);
  });

  it('rejects a wrong length with 7/1 and the whole message as data (RFC 7313 §5)', () => {
    for (const body of ['000101', '0001010100', '0001000100000000']) {
      const len = 19 + body.length / 2;
      const msg = hex(`${MARKER}${len.toString(16).padStart(4, '0')}05${body}`);
      const e = wireError(() => decodeMessage(msg, ctx));
      assert.deepEqual([e.code, e.subcode], [7, 1]);
      assert.deepEqual(e.data, msg);
    }
  });
});

describe('header checks in decodeMessage (RFC 4271 §6.1)', () => {
  it('rejects a bad marker with 1/1', () => {
    const e = wireError(() => decode(`${'ff'.repeat(15)}fe001304`));
    assert.deepEqual([e.code, e.subcode], [1, 1]);
  });

  it('rejects a length field that disagrees with the message size with 1/2 and the length as data', () => {
    const e = wireError(() => decode(`${MARKER}001404`));
    assert.deepEqual([e.code, e.subcode, toHex(e.data)], [1, 2, '0014']);
  });

  it('rejects a message longer than the negotiated maximum', () => {
    const big = encodeNotification(6, 2, new Uint8Array(4000));
    assert.equal(decodeMessage(big, ctx).type, 'notification');
    const huge = new Uint8Array(5000).fill(0xff);
    huge.set([5000 >> 8, 5000 & 0xff, 3, 6, 2], 16);
    const e = wireError(() => decodeMessage(huge, ctx));
    assert.deepEqual([e.code, e.subcode, toHex(e.data)], [1, 2, '1388']);
    assert.equal(decodeMessage(huge, defaultCodecContext({ maxMessageSize: 65535 })).type, 'notification');
  });

  it('rejects fewer than 19 bytes', () => {
    const e = wireError(() => decode(MARKER));
    assert.deepEqual([e.code, e.subcode], [1, 2]);
  });

  it('rejects unknown types with 1/3 and the type as data', () => {
    for (const t of [0, 6, 255]) {
      const e = wireError(() => decode(`${MARKER}0013${t.toString(16).padStart(2, '0')}`));
      assert.deepEqual([e.code, e.subcode, toHex(e.data)], [1, 3, t.toString(16).padStart(2, '0')]);
    }
  });
});

describe('messageTypeName', () => {
  it('names the five types and falls back to the number', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(messageTypeName), [
      'OPEN',
      'UPDATE',
      'NOTIFICATION',
      'KEEPALIVE',
      'ROUTE-REFRESH',
      'type 6',
    ]);
  });
});

interface MalformedCase {
  name: string;
  hex: string;
  expect: { code: number; subcode: number; data?: string };
  maxMessageSize?: number;
}

describe('malformed-message corpus (test/fixtures/malformed-messages.json)', () => {
  const corpus: { cases: MalformedCase[] } = JSON.parse(
    readFileSync(new URL('../../test/fixtures/malformed-messages.json', import.meta.url), 'utf8'),
  );

  it('has at least 15 cases', () => {
    assert.ok(corpus.cases.length >= 15);
  });

  for (const c of corpus.cases) {
    it(c.name, () => {
      const max = c.maxMessageSize ?? 4096;
      const check = (e: WireError) => {
        assert.deepEqual({ code: e.code, subcode: e.subcode }, { code: c.expect.code, subcode: c.expect.subcode });
        if (c.expect.data !== undefined) assert.equal(toHex(e.data), c.expect.data);
      };
      check(wireError(() => decodeMessage(hex(c.hex), defaultCodecContext({ maxMessageSize: max }))));
      // The same bytes from a socket: the framer or the decoder must raise the same error. (A length field larger
      // than the bytes present leaves the framer waiting, which is right for a stream.)
      const f = new Framer();
      f.maxMessageSize = max;
      f.push(hex(c.hex));
      const e = wireError(() => {
        const m = f.next();
        if (m === null) throw new WireError('incomplete', -1, -1);
        decodeMessage(m, defaultCodecContext({ maxMessageSize: max }));
      });
      if (e.code !== -1) check(e);
    });
  }
});

describe('decodeMessageAt (a message where the framer found it)', () => {
  it('decodes every captured message inside a larger buffer as decodeMessage decodes it alone', () => {
    for (const s of [bird, frr]) {
      const c = { ...ctx, asn4: true, families: new Set(['ipv4-unicast', 'ipv6-unicast'] as const) } as typeof ctx;
      for (const m of s.messages) {
        const msg = hex(m);
        const buf = new Uint8Array(msg.length + 40).fill(0xab);
        buf.set(msg, 17);
        assert.deepEqual(
          JSON.parse(JSON.stringify(decodeMessageAt(buf, 17, msg.length, c))),
          JSON.parse(JSON.stringify(decodeMessage(msg, c))),
          `${s.name}: ${m.slice(36, 40)}`,
        );
      }
    }
  });

  it('reports a broken UPDATE in place as decodeMessage does, and never reads past the message', () => {
    // An UPDATE whose Total Path Attribute Length overruns the message; the bytes after it would satisfy it.
    const msg = hex(`${MARKER} 0017 02 0000 0010`);
    const buf = new Uint8Array(64).fill(0);
    buf.set(msg, 5);
    const inPlace = wireError(() => decodeMessageAt(buf, 5, msg.length, ctx));
    const alone = wireError(() => decodeMessage(msg, ctx));
    assert.equal(inPlace.message, alone.message);
    assert.equal(inPlace.subcode, alone.subcode);
  });
});
