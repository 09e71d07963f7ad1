// OPEN: the RFC 4271 §4.2 layout written out by hand, the RFC 9072 extended optional parameters in both
// directions, the checks of RFC 4271 §6.2, and a round-trip property over random capability lists.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WireError } from './errors.ts';
import { decodeMessage } from './message.ts';
import { encodeOpen } from './open.ts';
import { capabilityArb } from './test-arbitraries.ts';
import type { Capability, OpenMessage } from './types.ts';
import { defaultCodecContext } from './types.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ctx = defaultCodecContext();
const MARKER = 'ff'.repeat(16);

function decodeOpenHex(h: string): OpenMessage {
  const m = decodeMessage(hex(h), ctx);
  assert.equal(m.type, 'open');
  return m as OpenMessage;
}

function openError(h: string): WireError {
  try {
    decodeMessage(hex(h), ctx);
  } catch (e) {
    assert.ok(e instanceof WireError);
    return e;
  }
  assert.fail('expected a WireError');
}

const base = { version: 4, myAs: 65001, holdTime: 180, routerId: '192.0.2.1' };

describe('OPEN layout (RFC 4271 §4.2)', () => {
  // header | version 4 | AS 65001 | hold 180 | id 192.0.2.1 | opt len 8 | param 2 len 6: MP IPv4 unicast cap
  const bytes = `${MARKER} 0025 01  04 fde9 00b4 c0000201 08 02 06 01 04 0001 00 01`;

  it('decodes the hand-written layout', () => {
    assert.deepEqual(decodeOpenHex(bytes), {
      type: 'open',
      ...base,
      capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }],
    });
  });

  it('encodes to the same bytes', () => {
    assert.equal(
      toHex(encodeOpen({ ...base, capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }] })),
      toHex(hex(bytes)),
    );
  });

  it('encodes no capabilities as an empty optional parameters field', () => {
    const b = encodeOpen({ ...base, capabilities: [] });
    assert.equal(b.length, 29);
    assert.equal(b[28], 0);
    assert.deepEqual(decodeMessage(b, ctx), { type: 'open', ...base, capabilities: [] });
  });

  it('collects capabilities from several parameters (one per parameter, as FRR sends them)', () => {
    const m = decodeOpenHex(`${MARKER} 0029 01 04 fde9 00b4 c0000201 0c 02 06 01 04 0001 0001 02 02 02 00`);
    assert.deepEqual(m.capabilities, [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'route-refresh' }]);
  });

  it('accepts an empty capability parameter', () => {
    assert.deepEqual(decodeOpenHex(`${MARKER} 001f 01 04 fde9 00b4 c0000201 02 02 00`).capabilities, []);
  });

  it('accepts hold times 0 and 3 and any non-zero identifier (RFC 6286)', () => {
    for (const holdTime of [0, 3, 65535]) {
      assert.equal(
        (decodeMessage(encodeOpen({ ...base, holdTime, capabilities: [] }), ctx) as OpenMessage).holdTime,
        holdTime,
      );
    }
    for (const routerId of ['0.0.0.1', '255.255.255.255', '127.0.0.1']) {
      assert.equal(
        (decodeMessage(encodeOpen({ ...base, routerId, capabilities: [] }), ctx) as OpenMessage).routerId,
        routerId,
      );
    }
  });
});

describe('RFC 9072 extended optional parameters', () => {
  const many = (n: number): Capability[] =>
    Array.from({ length: n }, (_, i) => ({ kind: 'multiprotocol' as const, afi: 1, safi: i & 0xff }));

  it('keeps the classic encoding up to 253 bytes of capabilities', () => {
    // 42 × 6-byte MP capabilities = 252, plus one route-refresh (2) = 254 → extended; 252 + 0 → classic.
    const classic = encodeOpen({ ...base, capabilities: many(42) });
    assert.equal(classic[28], 254);
    assert.equal(classic[29], 2);
    assert.equal(classic[30], 252);
  });

  it('switches to the extended encoding when capabilities exceed 253 bytes', () => {
    const caps: Capability[] = [...many(42), { kind: 'route-refresh' }];
    const b = encodeOpen({ ...base, capabilities: caps });
    // Non-Ext OP Len 255, Non-Ext OP Type 255, Extended Opt. Parm. Length = 3 + 254, param 2 with 2-byte length 254.
    assert.equal(toHex(b.subarray(28, 35)), 'ffff01010200fe');
    assert.equal(b.length, 29 + 3 + 3 + 254);
    assert.deepEqual(decodeMessage(b, ctx), { type: 'open', ...base, capabilities: caps });
  });

  it('decodes the extended encoding even for short capability lists (RFC 9072 §2 allows it)', () => {
    // Non-Ext OP Len 255 (ignored), type 255, ext length 9, param 2 of length 6: 4-octet AS 4200000001.
    const m = decodeOpenHex(`${MARKER} 0029 01 04 5ba0 00b4 c0000201 ff ff 0009 02 0006 41 04 fa56ea01`);
    assert.deepEqual(m.capabilities, [{ kind: 'four-octet-as', asn: 4200000001 }]);
  });

  it('ignores the Non-Ext OP Len value when the type byte is 255', () => {
    const m = decodeOpenHex(`${MARKER} 0027 01 04 fde9 00b4 c0000201 01 ff 0007 02 0004 02 00 46 00`);
    assert.deepEqual(m.capabilities, [{ kind: 'route-refresh' }, { kind: 'enhanced-route-refresh' }]);
  });

  it('rejects a non-capability parameter in the extended encoding with 2/4', () => {
    const e = openError(`${MARKER} 0023 01 04 fde9 00b4 c0000201 ff ff 0003 01 0000`);
    assert.deepEqual([e.code, e.subcode], [2, 4]);
  });
});

describe('OPEN checks (RFC 4271 §6.2)', () => {
  it('reports version before anything else, with data 0x0004', () => {
    // Version 3 and a hold time of 1: the version wins.
    const e = openError(`${MARKER} 001d 01 03 fde9 0001 00000000 00`);
    assert.deepEqual([e.code, e.subcode, toHex(e.data)], [2, 1, '0004']);
  });

  it('hold time 1 and 2 → 2/6', () => {
    for (const h of ['0001', '0002']) {
      const e = openError(`${MARKER} 001d 01 04 fde9 ${h} c0000201 00`);
      assert.deepEqual([e.code, e.subcode], [2, 6]);
    }
  });

  it('identifier 0.0.0.0 → 2/3', () => {
    const e = openError(`${MARKER} 001d 01 04 fde9 00b4 00000000 00`);
    assert.deepEqual([e.code, e.subcode], [2, 3]);
  });

  it('every error is session-reset', () => {
    assert.equal(openError(`${MARKER} 001d 01 04 fde9 00b4 00000000 00`).action, 'session-reset');
  });
});

describe('OPEN encoding limits', () => {
  it('refuses myAs above 65535 (the caller sends AS_TRANS)', () => {
    assert.throws(() => encodeOpen({ ...base, myAs: 65536, capabilities: [] }), RangeError);
  });

  it('refuses a router ID that is not a dotted quad', () => {
    assert.throws(() => encodeOpen({ ...base, routerId: '2001:db8::1', capabilities: [] }), RangeError);
  });

  it('refuses an OPEN over 4096 bytes (RFC 8654 §4)', () => {
    const caps: Capability[] = Array.from({ length: 20 }, () => ({
      kind: 'unknown' as const,
      code: 200,
      value: new Uint8Array(250),
    }));
    assert.throws(() => encodeOpen({ ...base, capabilities: caps }), RangeError);
  });
});

describe('OPEN round trip (property)', () => {
  it('decode(encode(open)) equals open, classic or extended', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff }),
        fc.constantFrom(0, 3, 90, 180, 65535),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.array(capabilityArb, { maxLength: 30 }),
        (myAs, holdTime, id, capabilities) => {
          const routerId = `${id >>> 24}.${(id >>> 16) & 0xff}.${(id >>> 8) & 0xff}.${id & 0xff}`;
          const o = { version: 4, myAs, holdTime, routerId, capabilities };
          assert.deepEqual(decodeMessage(encodeOpen(o), ctx), { type: 'open', ...o });
        },
      ),
      { numRuns: 500 },
    );
  });
});
