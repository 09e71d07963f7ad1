// The three codec functions the RIB uses to turn its output into UPDATE messages, behind an interface so that
// tests can watch what the RIB asks for. The default is the wire codec's.

import {
  type CodecContext,
  encodeEndOfRib,
  encodeUpdates,
  encodeUpdatesWithBlock,
  encodeWithdrawals,
  type Family,
  type PrefixBatch,
  type PrefixKey,
  type RouteBatch,
} from '../wire/index.ts';

export interface UpdateEncoder {
  encodeUpdates(batch: RouteBatch, ctx: CodecContext): Uint8Array[];
  encodeWithdrawals(family: Family, prefixes: PrefixKey[], pathIds: number[] | null, ctx: CodecContext): Uint8Array[];
  encodeEndOfRib(family: Family): Uint8Array;
  /**
   * encodeUpdates with the attribute block already encoded (the RIB writes it straight from its interning key for
   * eBGP peers, intern.ts exportedBlockEbgp). Optional: without it the RIB always hands over the attributes.
   */
  encodeUpdatesWithBlock?(batch: PrefixBatch, block: string, ctx: CodecContext): Uint8Array[];
}

/**
 * The codec's encoding of a batch, except that a batch it cannot encode for this peer goes out as a withdrawal of its
 * prefixes.
 * That happens when the exported attributes leave no room for a single prefix in the peer's message size: 10 000
 * communities received over Extended Message (RFC 8654) and sent on to a 4096-byte peer, or a full 4096-byte UPDATE
 * once our AS is prepended. Such a route cannot be advertised to that peer; withdrawing it (as BIRD does) makes sure
 * the peer keeps no older version of it, and the rest of the peer's output still flows — an exception here would
 * abandon everything the RIB had already taken off its queue for this pull.
 */
function withdrawOnFailure(batch: PrefixBatch, ctx: CodecContext, encode: () => Uint8Array[]): Uint8Array[] {
  try {
    return encode();
  } catch {
    return encodeWithdrawals(batch.family, batch.prefixes, batch.pathIds ?? null, ctx);
  }
}

export const wireEncoder: UpdateEncoder = {
  encodeUpdates: (batch, ctx) => withdrawOnFailure(batch, ctx, () => encodeUpdates(batch, ctx)),
  encodeWithdrawals,
  encodeEndOfRib,
  encodeUpdatesWithBlock: (batch, block, ctx) =>
    withdrawOnFailure(batch, ctx, () => encodeUpdatesWithBlock(batch, block, ctx)),
};
