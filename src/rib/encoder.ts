// The three codec functions the RIB uses to turn its output into UPDATE messages, behind an interface so that
// tests can watch what the RIB asks for. The default is the wire codec's.

import {
  type CodecContext,
  encodeEndOfRib,
  encodeUpdates,
  encodeWithdrawals,
  type Family,
  type PrefixKey,
  type RouteBatch,
} from '../wire/index.ts';

export interface UpdateEncoder {
  encodeUpdates(batch: RouteBatch, ctx: CodecContext): Uint8Array[];
  encodeWithdrawals(family: Family, prefixes: PrefixKey[], pathIds: number[] | null, ctx: CodecContext): Uint8Array[];
  encodeEndOfRib(family: Family): Uint8Array;
}

export const wireEncoder: UpdateEncoder = { encodeUpdates, encodeWithdrawals, encodeEndOfRib };
