// The three codec functions the RIB uses to turn its output into UPDATE messages, behind an interface so that
// tests can watch what the RIB asks for. The default is the wire codec's.

import type { CodecContext, Family, PrefixKey, RouteBatch } from '../wire/index.ts';
import * as wire from '../wire/index.ts';

export interface UpdateEncoder {
  encodeUpdates(batch: RouteBatch, ctx: CodecContext): Uint8Array[];
  encodeWithdrawals(family: Family, prefixes: PrefixKey[], pathIds: number[] | null, ctx: CodecContext): Uint8Array[];
  encodeEndOfRib(family: Family): Uint8Array;
}

// src/wire/update.ts is being written concurrently; until its exports are in wire/index.ts, look them up at
// call time so the rest of the RIB loads and runs.
const codec = wire as unknown as Partial<UpdateEncoder>;

function missing(name: string): never {
  throw new Error(`${name} is not exported by src/wire yet`);
}

export const wireEncoder: UpdateEncoder = {
  encodeUpdates: (batch, ctx) => (codec.encodeUpdates ?? missing('encodeUpdates'))(batch, ctx),
  encodeWithdrawals: (family, prefixes, pathIds, ctx) =>
    (codec.encodeWithdrawals ?? missing('encodeWithdrawals'))(family, prefixes, pathIds, ctx),
  encodeEndOfRib: (family) => (codec.encodeEndOfRib ?? missing('encodeEndOfRib'))(family),
};
