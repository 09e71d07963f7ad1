// NLRI fields (RFC 4271 §4.3) and Add-Path path identifiers (RFC 7911 §3).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeNlri, nlriFit, nlriSize, writeNlri } from './nlri.ts';
import { formatPrefix, type PrefixKey, parsePrefix } from './prefix.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const v4 = (t: string) => parsePrefix(t).key;

function decode(h: string, maxBits = 32, addPath = false) {
  const prefixes: PrefixKey[] = [];
  const pathIds = addPath ? ([] as number[]) : null;
  const b = hex(h);
  const err = decodeNlri(b, 0, b.length, maxBits, prefixes, pathIds);
  return { err, prefixes, pathIds };
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
