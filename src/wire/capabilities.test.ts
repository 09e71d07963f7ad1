// Capabilities: each known capability against hand-written bytes from its RFC's layout, mirrored, and a
// property that encode → decode returns any capability list unchanged.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeCapabilities, encodeCapability } from './capabilities.ts';
import { WireError } from './errors.ts';
import { Reader } from './reader.ts';
import { capabilityArb } from './test-arbitraries.ts';
import type { Capability } from './types.ts';
import { Writer } from './writer.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function decodeAll(bytes: Uint8Array): Capability[] {
  const out: Capability[] = [];
  decodeCapabilities(new Reader(bytes), out);
  return out;
}

function encodeAll(caps: Capability[]): Uint8Array {
  const w = new Writer(8);
  for (const c of caps) encodeCapability(w, c);
  return w.finish();
}

// [name, TLV bytes (code, length, value), decoded]
const vectors: [string, string, Capability][] = [
  ['multiprotocol IPv6 unicast (RFC 4760 §8)', '01 04 0002 00 01', { kind: 'multiprotocol', afi: 2, safi: 1 }],
  ['route refresh (RFC 2918 §2)', '02 00', { kind: 'route-refresh' }],
  ['route refresh, pre-standard code 128', '80 00', { kind: 'route-refresh-old' }],
  ['enhanced route refresh (RFC 7313 §3.1)', '46 00', { kind: 'enhanced-route-refresh' }],
  ['extended message (RFC 8654 §3)', '06 00', { kind: 'extended-message' }],
  ['4-octet AS 4200000000 (RFC 6793 §3)', '41 04 fa56ea00', { kind: 'four-octet-as', asn: 4200000000 }],
  [
    'extended next hop, IPv4 unicast over IPv6 (RFC 8950 §3)',
    '05 0c 0001 0001 0002  0001 0080 0002',
    {
      kind: 'extended-next-hop',
      entries: [
        { afi: 1, safi: 1, nextHopAfi: 2 },
        { afi: 1, safi: 128, nextHopAfi: 2 },
      ],
    },
  ],
  [
    'graceful restart, R bit, 300 s, IPv4 forwarding preserved (RFC 4724 §3)',
    '40 0a 812c 0001 01 80 0002 01 00',
    {
      kind: 'graceful-restart',
      flags: 8,
      restartTime: 300,
      families: [
        { afi: 1, safi: 1, forwardingPreserved: true },
        { afi: 2, safi: 1, forwardingPreserved: false },
      ],
    },
  ],
  [
    'add-path receive IPv4, send+receive IPv6 (RFC 7911 §4)',
    '45 08 0001 01 01 0002 01 03',
    {
      kind: 'add-path',
      entries: [
        { afi: 1, safi: 1, sendReceive: 1 },
        { afi: 2, safi: 1, sendReceive: 3 },
      ],
    },
  ],
  [
    'FQDN r1 / example.net (draft-walton-bgp-hostname-capability)',
    '49 0f 02 7231 0b 6578616d706c652e6e6574',
    { kind: 'fqdn', hostname: 'r1', domain: 'example.net' },
  ],
  [
    'unknown capability 71 (long-lived GR) kept raw',
    '47 03 aabbcc',
    { kind: 'unknown', code: 71, value: hex('aabbcc') },
  ],
  ['unknown capability 0 with no value', '00 00', { kind: 'unknown', code: 0, value: new Uint8Array(0) }],
];

describe('capability vectors', () => {
  for (const [name, bytes, cap] of vectors) {
    it(name, () => {
      assert.deepEqual(decodeAll(hex(bytes)), [cap]);
      assert.equal(toHex(encodeAll([cap])), toHex(hex(bytes)));
    });
  }

  it('decodes several capabilities in one parameter, in order', () => {
    const all = vectors.map((v) => v[2]);
    assert.deepEqual(decodeAll(hex(vectors.map((v) => v[1]).join(''))), all);
  });

  it('returns views for unknown capability values', () => {
    const buf = hex('4703aabbcc');
    const [c] = decodeAll(buf);
    assert.equal(c?.kind === 'unknown' && c.value.buffer, buf.buffer);
  });
});

describe('capability leniency where the RFCs allow it', () => {
  it('drops add-path entries with a Send/Receive value other than 1–3', () => {
    assert.deepEqual(decodeAll(hex('45 08 0001 01 00 0002 01 02')), [
      { kind: 'add-path', entries: [{ afi: 2, safi: 1, sendReceive: 2 }] },
    ]);
  });

  it('reads an FQDN capability without a domain part as an empty domain', () => {
    assert.deepEqual(decodeAll(hex('49 03 02 7231')), [{ kind: 'fqdn', hostname: 'r1', domain: '' }]);
  });

  it('accepts a graceful-restart capability with no families', () => {
    assert.deepEqual(decodeAll(hex('40 02 0078')), [
      { kind: 'graceful-restart', flags: 0, restartTime: 120, families: [] },
    ]);
  });
});

describe('malformed capabilities → OPEN Message Error / Unspecific', () => {
  const bad: [string, string][] = [
    ['multiprotocol of length 5', '01 05 0001000100'],
    ['4-octet AS of length 3', '41 03 000001'],
    ['enhanced route refresh with a value', '46 01 00'],
    ['route refresh (old) with a value', '80 01 00'],
    ['graceful restart of length 1', '40 01 00'],
    ['graceful restart of length 8', '40 08 0078 0001 0100 00'],
    ['extended next hop of length 7', '05 07 00010001000200'],
    ['add-path of length 6', '45 06 000101010002'],
    ['FQDN with trailing bytes', '49 05 01 61 01 62 63'],
    ['FQDN domain length past the end', '49 04 01 61 05 62'],
    ['value longer than the parameter', '02 01'],
    ['lone code byte', '02'],
  ];
  for (const [name, bytes] of bad) {
    it(name, () => {
      assert.throws(
        () => decodeAll(hex(bytes)),
        (e: unknown) => e instanceof WireError && e.code === 2 && e.subcode === 0,
      );
    });
  }
});

describe('capability encoding limits', () => {
  it('refuses a value over 255 bytes and leaves the writer where it was', () => {
    const w = new Writer(8);
    encodeCapability(w, { kind: 'route-refresh' });
    assert.throws(() => encodeCapability(w, { kind: 'unknown', code: 99, value: new Uint8Array(256) }), RangeError);
    assert.throws(
      () => encodeCapability(w, { kind: 'fqdn', hostname: 'h'.repeat(200), domain: 'd'.repeat(60) }),
      RangeError,
    );
    assert.equal(toHex(w.view()), '0200');
  });
});

/** Arbitrary capabilities whose encoding fits a TLV, in the shape the decoder returns. */
describe('capability round trip (property)', () => {
  it('decode(encode(caps)) equals caps', () => {
    fc.assert(
      fc.property(fc.array(capabilityArb, { maxLength: 8 }), (caps) => {
        assert.deepEqual(decodeAll(encodeAll(caps)), caps);
      }),
      { numRuns: 1000 },
    );
  });
});
