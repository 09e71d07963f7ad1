// Replays test/fixtures/malformed-updates.json: hand-built UPDATEs, one per RFC 7606 / RFC 4271 / RFC 6793 rule,
// each with the action (and NOTIFICATION code/subcode) the RFCs call for.
//
// Corpus entry: { name, kind: "body" (after the 19-byte header) | "message" (header included), hex,
//   ctx: partial CodecContext (addPathRx as an array of families), expect: { action, code?, subcode? } }
// where action is "none", "attribute-discard", "treat-as-withdraw" or "session-reset".

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Family } from './constants.ts';
import { WireError } from './errors.ts';
import { defaultCodecContext } from './types.ts';
import { decodeUpdate } from './update.ts';

interface Case {
  name: string;
  kind: 'body' | 'message';
  hex: string;
  ctx: { asn4?: boolean; ebgp?: boolean; addPathRx?: Family[] };
  expect: { action: string; code?: number; subcode?: number };
}

const corpus: Case[] = JSON.parse(
  readFileSync(new URL('../../test/fixtures/malformed-updates.json', import.meta.url), 'utf8'),
) as Case[];

test('corpus covers at least 25 cases', () => {
  assert.ok(corpus.length >= 25, `only ${corpus.length} cases`);
});

for (const c of corpus) {
  test(`corpus: ${c.name}`, () => {
    const ctx = defaultCodecContext({
      asn4: c.ctx.asn4 ?? true,
      ebgp: c.ctx.ebgp ?? true,
      addPathRx: new Set(c.ctx.addPathRx ?? []),
    });
    let bytes = Uint8Array.from(Buffer.from(c.hex, 'hex'));
    if (c.kind === 'message') {
      assert.equal((bytes[16]! << 8) | bytes[17]!, bytes.length, 'header length field');
      bytes = bytes.subarray(19);
    }
    let action = 'none';
    let found: WireError | undefined;
    try {
      const msg = decodeUpdate(bytes, ctx);
      if (msg.treatAsWithdraw) {
        action = 'treat-as-withdraw';
        found = msg.errors.find((e) => e.action === 'treat-as-withdraw');
        assert.equal(msg.attributes, null, 'no attributes to install under treat-as-withdraw');
      } else if (msg.errors.length > 0) {
        action = 'attribute-discard';
        found = msg.errors[0];
        assert.ok(msg.errors.every((e) => e.action === 'attribute-discard'));
      }
    } catch (e) {
      assert.ok(e instanceof WireError, `threw a non-WireError: ${e}`);
      assert.equal(e.action, 'session-reset');
      action = 'session-reset';
      found = e;
    }
    assert.equal(action, c.expect.action, `${c.name}: action (${found?.message ?? 'no error'})`);
    if (c.expect.code !== undefined) assert.equal(found?.code, c.expect.code, 'code');
    if (c.expect.subcode !== undefined) assert.equal(found?.subcode, c.expect.subcode, `subcode (${found?.message})`);
  });
}
