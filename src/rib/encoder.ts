// The codec functions the RIB uses to turn its output into UPDATE messages, behind an interface so that tests can
// watch what the RIB asks for. The default is the wire codec's.

import {
  type CodecContext,
  encodeEndOfRib,
  encodeSlotUpdates,
  encodeUpdates,
  encodeWithdrawals,
  type Family,
  type PrefixKey,
  type RouteBatch,
  readPrefixKey,
  type SlotBatch,
} from '../wire/index.ts';

export interface UpdateEncoder {
  encodeUpdates(batch: RouteBatch, ctx: CodecContext): Uint8Array[];
  encodeWithdrawals(family: Family, prefixes: PrefixKey[], pathIds: number[] | null, ctx: CodecContext): Uint8Array[];
  encodeEndOfRib(family: Family): Uint8Array;
  /**
   * encodeUpdates with the attribute block already encoded and the prefixes as the prefix table's key bytes (the
   * RIB writes the block straight from its interning key for eBGP peers, intern.ts writeExportedBlockEbgp), the
   * messages appended to `out`; returns their bytes. Optional: without it the RIB always hands over the attributes.
   */
  encodeSlotUpdates?(batch: SlotBatch, ctx: CodecContext, out: Uint8Array[]): number;
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
function encodeOrWithdraw(batch: RouteBatch, ctx: CodecContext): Uint8Array[] {
  try {
    return encodeUpdates(batch, ctx);
  } catch {
    return encodeWithdrawals(batch.family, batch.prefixes, batch.pathIds ?? null, ctx);
  }
}

/** encodeOrWithdraw for a SlotBatch (encodeSlotUpdates appends nothing when it throws). */
function encodeSlotsOrWithdraw(batch: SlotBatch, ctx: CodecContext, out: Uint8Array[]): number {
  try {
    return encodeSlotUpdates(batch, ctx, out);
  } catch {
    const prefixes: PrefixKey[] = [];
    for (let i = 0; i < batch.count; i++) {
      const o = batch.slots[i]! * batch.stride;
      prefixes.push(readPrefixKey(batch.keys, o + 1, batch.keys[o]!));
    }
    const ids = ctx.addPathTx.has(batch.family) ? prefixes.map(() => batch.pathId) : null;
    let bytes = 0;
    for (const m of encodeWithdrawals(batch.family, prefixes, ids, ctx)) {
      out.push(m);
      bytes += m.length;
    }
    return bytes;
  }
}

export const wireEncoder: UpdateEncoder = {
  encodeUpdates: encodeOrWithdraw,
  encodeWithdrawals,
  encodeEndOfRib,
  encodeSlotUpdates: encodeSlotsOrWithdraw,
};
