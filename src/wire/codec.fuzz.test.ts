// Codec-wide fuzzing: whatever bytes a peer sends, Framer + decodeMessage either return messages or throw a
// WireError (which becomes a NOTIFICATION). Never a TypeError, RangeError or any other exception, and never a
// hang. Run time is bounded by the fixed number of runs and the size of the inputs.
//
//   - 20 000 random byte strings: pure noise, and noise behind a valid header (so the decoders see it);
//   - 20 000 mutations of valid messages of every type (captured from BIRD/FRR and produced by our own
//     encoders, UPDATEs included), with the length field usually patched to match so the mutation reaches the
//     type's decoder, under varied negotiated contexts (2- and 4-octet AS, Add-Path, extended next hop, 64 KiB).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Family } from './constants.ts';
import { WireError } from './errors.ts';
import { Framer } from './framer.ts';
import { decodeMessage, encodeKeepalive } from './message.ts';
import { encodeNotification, encodeShutdownNotification } from './notification.ts';
import { encodeOpen } from './open.ts';
import { parsePrefix } from './prefix.ts';
import { encodeRouteRefresh } from './route-refresh.ts';
import { capabilityArb } from './test-arbitraries.ts';
import { CAPTURED_STREAMS } from './test-fixtures.ts';
import type { CodecContext, PathAttributes } from './types.ts';
import { defaultCodecContext } from './types.ts';
import { encodeEndOfRib, encodeUpdates, encodeWithdrawals } from './update.ts';

const RUNS = 20_000;

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** Fails the property on anything thrown that is not a WireError with a numeric code and subcode. */
function onlyWireErrors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof WireError)) throw new Error(`non-WireError thrown: ${String(e)}`, { cause: e });
    assert.ok(Number.isInteger(e.code) && Number.isInteger(e.subcode) && e.data instanceof Uint8Array);
  }
}

/** Pushes `bytes` into a Framer in two pieces and decodes every message it yields. */
function frameAndDecode(bytes: Uint8Array, cut: number, ctx: CodecContext): void {
  const f = new Framer();
  f.maxMessageSize = ctx.maxMessageSize;
  const at = Math.min(cut, bytes.length);
  onlyWireErrors(() => {
    for (const part of [bytes.subarray(0, at), bytes.subarray(at)]) {
      f.push(part);
      for (let m = f.next(); m !== null; m = f.next()) decodeMessage(m, ctx);
    }
  });
  // The decoder alone, as if the bytes were one framed message.
  onlyWireErrors(() => decodeMessage(bytes, ctx));
}

const families: Family[] = ['ipv4-unicast', 'ipv6-unicast'];
const contextArb: fc.Arbitrary<CodecContext> = fc
  .record({
    asn4: fc.boolean(),
    addPathRx: fc.subarray(families),
    addPathTx: fc.subarray(families),
    extendedNextHop: fc.subarray(families),
    ebgp: fc.boolean(),
    big: fc.boolean(),
  })
  .map((r) =>
    defaultCodecContext({
      asn4: r.asn4,
      addPathRx: new Set(r.addPathRx),
      addPathTx: new Set(r.addPathTx),
      extendedNextHop: new Set(r.extendedNextHop),
      ebgp: r.ebgp,
      maxMessageSize: r.big ? 65535 : 4096,
    }),
  );

// ---------------------------------------------------------------------------------------------------------------
// A corpus of valid messages of every type.

function validCorpus(): { bytes: Uint8Array; ctx: CodecContext }[] {
  const all: { bytes: Uint8Array; ctx: CodecContext }[] = [];
  const plain = defaultCodecContext({ maxMessageSize: 65535, ebgp: false });
  let out: Uint8Array[] = [];
  const flush = (ctx: CodecContext) => {
    for (const bytes of out) all.push({ bytes, ctx });
    out = [];
  };
  for (const s of CAPTURED_STREAMS) for (const m of s.messages) out.push(hex(m));

  out.push(encodeKeepalive(), encodeRouteRefresh(1, 1), encodeRouteRefresh(2, 1, 2));
  out.push(encodeNotification(3, 1, hex('0102')), encodeShutdownNotification(4, 'maintenance ✓'));
  for (const caps of fc.sample(fc.array(capabilityArb, { maxLength: 12 }), { numRuns: 30, seed: 7 })) {
    out.push(encodeOpen({ version: 4, myAs: 65001, holdTime: 90, routerId: '192.0.2.1', capabilities: caps }));
  }

  const attrs: PathAttributes = {
    origin: 0,
    asPath: [
      { type: 2, asns: [65001, 4200000001, 3356] },
      { type: 1, asns: [64512, 64513] },
    ],
    med: 50,
    localPref: 200,
    atomicAggregate: true,
    aggregator: { asn: 4200000001, address: '192.0.2.9' },
    communities: [0xfde80064, 0xffffff01],
    extCommunities: [hex('0002fde800000064')],
    largeCommunities: [[4200000001, 1, 2]],
    originatorId: '192.0.2.7',
    clusterList: ['192.0.2.8'],
    unknown: [{ flags: 0xc0, code: 99, value: hex('aabb') }],
  };
  flush(plain);
  const v4 = ['198.51.100.0/24', '203.0.113.128/25', '10.0.0.0/8', '0.0.0.0/0', '192.0.2.1/32'].map(
    (p) => parsePrefix(p).key,
  );
  const v6 = ['2001:db8::/32', '2001:db8:1:2::/64', '::/0', '2001:db8::1/128'].map((p) => parsePrefix(p).key);
  for (const asn4 of [true, false]) {
    for (const addPath of [false, true]) {
      const ctx = defaultCodecContext({
        asn4,
        ebgp: false,
        addPathTx: addPath ? new Set(families) : new Set(),
        extendedNextHop: new Set(['ipv4-unicast']),
      });
      const ids = (n: number) => (addPath ? Array.from({ length: n }, (_, i) => i + 1) : undefined);
      out.push(
        ...encodeUpdates(
          { family: 'ipv4-unicast', attributes: attrs, nextHop: '192.0.2.1', prefixes: v4, pathIds: ids(v4.length) },
          ctx,
        ),
        ...encodeUpdates(
          {
            family: 'ipv6-unicast',
            attributes: attrs,
            nextHop: '2001:db8::1',
            nextHopLinkLocal: 'fe80::1',
            prefixes: v6,
            pathIds: ids(v6.length),
          },
          ctx,
        ),
        ...encodeUpdates(
          { family: 'ipv4-unicast', attributes: attrs, nextHop: '2001:db8::2', prefixes: v4, pathIds: ids(v4.length) },
          ctx,
        ),
        ...encodeWithdrawals('ipv4-unicast', v4, ids(v4.length) ?? null, ctx),
        ...encodeWithdrawals('ipv6-unicast', v6, ids(v6.length) ?? null, ctx),
      );
      // The receiving side of this context: what we send with Add-Path, the peer receives with it.
      flush({ ...ctx, addPathRx: ctx.addPathTx, addPathTx: new Set() });
    }
  }
  out.push(encodeEndOfRib('ipv4-unicast'), encodeEndOfRib('ipv6-unicast'));
  flush(plain);
  return all;
}

const corpus = validCorpus();

// ---------------------------------------------------------------------------------------------------------------
// Mutations

type Mutation =
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
);

function mutate(msg: Uint8Array, muts: Mutation[], fixLength: boolean): Uint8Array {
  let b = msg.slice();
  for (const m of muts) {
    // Mutations aim past the marker most of the time: a broken marker only tests one branch.
    const at = b.length === 0 ? 0 : m.at % (b.length + (m.op === 'insert' ? 1 : 0));
    switch (m.op) {
      case 'set':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'insert': {
        const n = new Uint8Array(b.length + m.bytes.length);
        n.set(b.subarray(0, at));
        n.set(m.bytes, at);
        n.set(b.subarray(at), at + m.bytes.length);
        b = n;
        break;
      }
      case 'delete': {
        const end = Math.min(b.length, at + m.count);
        const n = new Uint8Array(b.length - (end - at));
        n.set(b.subarray(0, at));
        n.set(b.subarray(end), at);
        b = n;
        break;
      }
      case 'truncate':
        b = b.slice(0, at);
        break;
    }
  }
  if (fixLength && b.length >= 19) {
    b.fill(0xff, 0, 16);
    b[16] = (b.length >>> 8) & 0xff;
    b[17] = b.length & 0xff;
  }
  return b;
}

describe('codec fuzz: only WireError ever escapes', () => {
  it('checks the corpus itself decodes cleanly', () => {
    for (const { bytes, ctx } of corpus) {
      const m = decodeMessage(bytes, ctx);
      if (m.type === 'update') assert.deepEqual(m.errors, [], 'corpus UPDATE has errors');
    }
    assert.ok(corpus.length > 50);
  });

  it(`${RUNS} random byte strings`, () => {
    const header = fc
      .tuple(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 300 }), fc.boolean())
      .map(([type, body, exact]) => {
        const b = new Uint8Array(19 + body.length);
        b.fill(0xff, 0, 16);
        const len = exact ? b.length : (body[0] ?? 0) * 3;
        b[16] = (len >>> 8) & 0xff;
        b[17] = len & 0xff;
        b[18] = type;
        b.set(body, 19);
        return b;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), header), fc.nat(400), contextArb, (bytes, cut, ctx) =>
        frameAndDecode(bytes, cut, ctx),
      ),
      { numRuns: RUNS, seed: 0x5eed1 },
    );
  });

  it(`${RUNS} mutated valid messages (all types, UPDATEs included)`, () => {
    fc.assert(
      fc.property(
        fc.nat(corpus.length - 1),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.nat(400),
        contextArb,
        (i, muts, keepLength, cut, ctx) =>
          frameAndDecode(mutate(corpus[i]!.bytes, muts, !keepLength || i % 7 !== 0), cut, ctx),
      ),
      { numRuns: RUNS, seed: 0x5eed2 },
    );
  });

  it('sequences of valid and mutated messages in one stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(corpus.length - 1), fc.array(mutationArb, { maxLength: 2 })), {
          minLength: 2,
          maxLength: 8,
        }),
        fc.nat(4000),
        contextArb,
        (picks, cut, ctx) => {
          const parts = picks.map(([i, muts]) => mutate(corpus[i]!.bytes, muts, true));
          const total = parts.reduce((n, p) => n + p.length, 0);
          const stream = new Uint8Array(total);
          let at = 0;
          for (const p of parts) {
            stream.set(p, at);
            at += p.length;
          }
          frameAndDecode(stream, cut, ctx);
        },
      ),
      { numRuns: 2000, seed: 0x5eed3 },
    );
  });
});
