// Framer: every fixture stream split at every byte offset, fed one byte at a time, and cut at random places
// gives the same messages; bad headers are rejected as soon as 19 bytes are in.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WireError } from './errors.ts';
import { Framer } from './framer.ts';
import { encodeKeepalive } from './message.ts';
import { encodeNotification, encodeShutdownNotification } from './notification.ts';
import { encodeOpen } from './open.ts';
import { encodeRouteRefresh } from './route-refresh.ts';
import { CAPTURED_STREAMS, type CapturedStream } from './test-fixtures.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `chunks` one by one, draining after each; returns the messages as hex. */
function frame(chunks: Uint8Array[], max = 65535): string[] {
  const f = new Framer();
  f.maxMessageSize = max;
  const out: string[] = [];
  for (const c of chunks) {
    f.push(c);
    for (let m = f.next(); m !== null; m = f.next()) out.push(toHex(m));
  }
  assert.equal(f.buffered, 0, 'bytes left over');
  return out;
}

// A synthetic stream of every message type tsbgp encodes, including one larger than 4096 bytes.
const synthetic: CapturedStream = (() => {
  const msgs = [
    encodeOpen({
      version: 4,
      myAs: 65001,
      holdTime: 90,
      routerId: '192.0.2.1',
      capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'extended-message' }],
    }),
    encodeKeepalive(),
    encodeRouteRefresh(2, 1, 1),
    encodeRouteRefresh(2, 1, 2),
    encodeShutdownNotification(4, 'bye'),
    encodeNotification(6, 7),
  ];
  const big = new Uint8Array(5000).fill(0xff);
  big.set([5000 >> 8, 5000 & 0xff, 3, 6, 0], 16);
  msgs.splice(2, 0, big);
  const all = msgs.map(toHex);
  return { name: 'synthetic', chunks: [toHex(concat(msgs))], messages: all };
})();

const streams = [...CAPTURED_STREAMS, synthetic];

describe('Framer on fixture streams', () => {
  for (const s of streams) {
    const whole = hex(s.chunks.join(''));

    it(`${s.name}: chunks as captured`, () => {
      assert.equal(s.chunks.join(''), s.messages.join(''), 'fixture chunks and messages disagree');
      assert.deepEqual(frame(s.chunks.map(hex)), s.messages);
    });

    it(`${s.name}: split in two at every byte offset (${whole.length + 1} splits)`, () => {
      for (let k = 0; k <= whole.length; k++) {
        assert.deepEqual(frame([whole.subarray(0, k), whole.subarray(k)]), s.messages, `split at ${k}`);
      }
    });

    it(`${s.name}: one byte at a time`, () => {
      const bytes: Uint8Array[] = [];
      for (let i = 0; i < whole.length; i++) bytes.push(whole.subarray(i, i + 1));
      assert.deepEqual(frame(bytes), s.messages);
    });

    it(`${s.name}: random cuts (property)`, () => {
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 40 }), (cuts) => {
          cuts.sort((a, b) => a - b);
          const parts: Uint8Array[] = [];
          let prev = 0;
          for (const c of [...cuts, whole.length]) {
            parts.push(whole.subarray(prev, c));
            prev = c;
          }
          assert.deepEqual(frame(parts), s.messages);
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('Framer buffering', () => {
  it('returns a view (no copy) for a message inside one chunk, a copy for one that straddles', () => {
    const ka = encodeKeepalive();
    const chunk = concat([ka, ka, ka.subarray(0, 10)]);
    const f = new Framer();
    f.push(chunk);
    const a = f.next()!;
    assert.equal(a.buffer, chunk.buffer);
    assert.equal(a.byteOffset, 0);
    const b = f.next()!;
    assert.equal(b.buffer, chunk.buffer);
    assert.equal(b.byteOffset, 19);
    assert.equal(f.next(), null);
    assert.equal(f.buffered, 10);
    const rest = ka.slice(10);
    f.push(rest);
    const c = f.next()!;
    assert.notEqual(c.buffer, chunk.buffer);
    assert.deepEqual(c, ka);
    assert.equal(f.buffered, 0);
  });

  it('ignores empty chunks and reports buffered bytes', () => {
    const f = new Framer();
    f.push(new Uint8Array(0));
    assert.equal(f.next(), null);
    f.push(encodeKeepalive().subarray(0, 18));
    assert.equal(f.buffered, 18);
    assert.equal(f.next(), null);
  });

  it('drains many small chunks (spent chunks are dropped as it goes)', () => {
    const f = new Framer();
    const ka = encodeKeepalive();
    let n = 0;
    for (let i = 0; i < 5000; i++) {
      f.push(ka.subarray(0, 7));
      f.push(ka.subarray(7));
      for (let m = f.next(); m !== null; m = f.next()) n++;
    }
    assert.equal(n, 5000);
    assert.equal(f.buffered, 0);
  });
});

describe('Framer header checks before the body (RFC 4271 §6.1)', () => {
  function headerOnly(marker: string, length: number, type = 2): Uint8Array {
    return hex(`${marker}${length.toString(16).padStart(4, '0')}${type.toString(16).padStart(2, '0')}`);
  }

  /** Feeds the header one byte at a time: nothing may happen before byte 19; byte 19 must throw. */
  function rejectsAt19(header: Uint8Array, max = 4096): WireError {
    const f = new Framer();
    f.maxMessageSize = max;
    for (let i = 0; i < 18; i++) {
      f.push(header.subarray(i, i + 1));
      assert.equal(f.next(), null);
    }
    f.push(header.subarray(18, 19));
    try {
      f.next();
    } catch (e) {
      assert.ok(e instanceof WireError);
      return e;
    }
    assert.fail('expected a WireError after 19 bytes');
  }

  it('bad marker → 1/1 with only the header received', () => {
    const e = rejectsAt19(headerOnly(`${'ff'.repeat(8)}00${'ff'.repeat(7)}`, 4000));
    assert.deepEqual([e.code, e.subcode], [1, 1]);
  });

  it('length below 19 → 1/2 with the length field as data', () => {
    const e = rejectsAt19(headerOnly('ff'.repeat(16), 18));
    assert.deepEqual([e.code, e.subcode, toHex(e.data)], [1, 2, '0012']);
  });

  it('length above maxMessageSize → 1/2 before the body arrives', () => {
    const e = rejectsAt19(headerOnly('ff'.repeat(16), 4097));
    assert.deepEqual([e.code, e.subcode, toHex(e.data)], [1, 2, '1001']);
    const e2 = rejectsAt19(headerOnly('ff'.repeat(16), 65535), 4096);
    assert.equal(e2.subcode, 2);
  });

  it('accepts up to 65535 once maxMessageSize is raised (RFC 8654)', () => {
    const f = new Framer();
    f.maxMessageSize = 65535;
    f.push(headerOnly('ff'.repeat(16), 65535));
    assert.equal(f.next(), null);
    f.push(new Uint8Array(65535 - 19));
    assert.equal(f.next()?.length, 65535);
  });

  it('rejects a header split across chunks the same way', () => {
    const h = headerOnly(`${'ff'.repeat(15)}fe`, 19, 4);
    const f = new Framer();
    f.push(h.subarray(0, 5));
    f.push(h.subarray(5, 12));
    f.push(h.subarray(12));
    assert.throws(
      () => f.next(),
      (e: unknown) => e instanceof WireError && e.code === 1 && e.subcode === 1,
    );
  });

  it('finds a bad header that follows good messages in the same chunk', () => {
    const f = new Framer();
    f.push(concat([encodeKeepalive(), headerOnly('ff'.repeat(16), 5)]));
    assert.notEqual(f.next(), null);
    assert.throws(
      () => f.next(),
      (e: unknown) => e instanceof WireError && e.subcode === 2,
    );
  });
});
