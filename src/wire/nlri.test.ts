// NLRI fields (RFC 4271 §4.3) and Add-Path path identifiers (RFC 7911 §3).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  blockSize,
  copyNlri,
  decodeNlriExact,
  exactPathIds,
  exactPrefixes,
  nlriFit,
  nlriSize,
  WireNlriBlock,
  writeNlri,
} from './nlri.ts';
import { formatPrefix, type PrefixKey, parsePrefix } from './prefix.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const v4 = (t: string) => parsePrefix(t).key;

function decode(h: string, maxBits = 32, addPath = false) {
  const b = hex(h);
  const err = decodeNlriExact(b, 0, b.length, maxBits, addPath);
  return err === null
    ? { err, prefixes: exactPrefixes, pathIds: exactPathIds }
    : { err, prefixes: [] as PrefixKey[], pathIds: null };
}

test('decodes prefixes of every byte length, /0 included', () => {
  const r = decode('00 08 0a 10 0a01 18 0a0102 20 0a010203 19 0a010280');
  assert.equal(r.err, null);
  assert.deepEqual(
    r.prefixes.map((k) => formatPrefix('ipv4-unicast', k)),
    ['0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.3/32', '10.1.2.128/25'],
  );
});

test('host bits beyond the prefix length are cleared (RFC 4271 §4.3)', () => {
  const r = decode('17 0a0103');
  assert.equal(formatPrefix('ipv4-unicast', r.prefixes[0]!), '10.1.2.0/23');
});

test('Add-Path: a 4-byte path identifier before each prefix', () => {
  const r = decode('00000001 18 0a0000 ffffffff 00', 32, true);
  assert.equal(r.err, null);
  assert.deepEqual(r.pathIds, [1, 0xffffffff]);
  assert.deepEqual(r.prefixes, [v4('10.0.0.0/24'), v4('0.0.0.0/0')]);
});

test('errors: length above the maximum, entry past the end, short path id', () => {
  assert.match(decode('21 0a000000 00').err!, /exceeds 32/);
  assert.match(decode('18 0a00').err!, /past the end/);
  assert.match(decode('000001', 32, true).err!, /path identifier/);
  assert.match(decode('81 00', 128).err!, /exceeds 128/);
  assert.equal(decode('80 20010db8000000000000000000000001', 128).err, null);
});

test('nlriFit / nlriSize / writeNlri agree', () => {
  const keys = [v4('10.0.0.0/24'), v4('10.0.0.0/8'), v4('0.0.0.0/0')];
  assert.equal(nlriSize(keys, 0, 3, false), 4 + 2 + 1);
  assert.equal(nlriSize(keys, 0, 3, true), 7 + 12);
  assert.equal(nlriFit(keys, 0, 6, false), 2);
  assert.equal(nlriFit(keys, 1, 3, false), 2);
  assert.equal(nlriFit(keys, 0, 3, false), 0);
  const buf = new Uint8Array(19);
  const end = writeNlri(buf, 0, keys, [7, 8, 9], 0, 3);
  assert.equal(end, 19);
  assert.equal(Buffer.from(buf).toString('hex'), '00000007180a000000000008080a0000000900');
});

test('property: copyNlri keeps what decodeNlriExact reads — the same errors, and entries as canonical key bytes', () => {
  // Random fields: prefix lengths beyond the family's maximum, truncated entries, host bits set, Add-Path or not.
  const entry = fc.record({
    id: fc.integer({ min: 0, max: 0xffffffff }),
    bits: fc.integer({ min: 0, max: 140 }),
    addr: fc.uint8Array({ minLength: 17, maxLength: 17 }),
  });
  fc.assert(
    fc.property(
      fc.array(entry, { maxLength: 12 }),
      fc.boolean(),
      fc.constantFrom(32, 128),
      fc.integer({ min: 0, max: 6 }),
      (entries, addPath, maxBits, cut) => {
        const parts: number[] = [0xee]; // a byte before the field: offsets must be honoured
        for (const e of entries) {
          if (addPath) parts.push(e.id >>> 24, (e.id >>> 16) & 0xff, (e.id >>> 8) & 0xff, e.id & 0xff);
          parts.push(e.bits, ...e.addr.subarray(0, Math.min(16, (e.bits + 7) >> 3)));
        }
        const buf = Uint8Array.from(parts);
        const end = Math.max(1, buf.length - (entries.length > 0 ? cut : 0));
        const want = decodeNlriExact(buf, 1, end, maxBits, addPath);
        const prefixes = exactPrefixes;
        const pathIds = exactPathIds;
        const got = copyNlri(buf, 1, end, maxBits, addPath);
        assert.equal(got, want);
        if (want !== null) return;
        const block = new WireNlriBlock(maxBits === 32 ? 'ipv4-unicast' : 'ipv6-unicast', 'nh', addPath);
        assert.equal(blockSize(block), prefixes.length);
        // The bytes, walked as the RIB walks them, are each key's characters (host bits cleared) and path id.
        const raw = block.raw;
        let p = block.rawStart;
        for (let i = 0; i < prefixes.length; i++) {
          if (addPath) {
            assert.equal(((raw[p]! << 24) | (raw[p + 1]! << 16) | (raw[p + 2]! << 8) | raw[p + 3]!) >>> 0, pathIds![i]);
            p += 4;
          }
          const n = 1 + ((raw[p]! + 7) >> 3);
          assert.equal(String.fromCharCode(...raw.subarray(p, p + n)), prefixes[i]);
          p += n;
        }
        assert.equal(p, block.rawEnd);
        // And the prefixes made on demand are those keys.
        assert.deepEqual(block.prefixes, prefixes);
        assert.deepEqual(block.pathIds, addPath ? pathIds : null);
        assert.equal(block.decoded, true);
      },
    ),
    { numRuns: 2000 },
  );
});
