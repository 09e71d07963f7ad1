// TEST-ONLY REFERENCE, imported by src/wire/attr-key.test.ts alone: the object-building UPDATE decoder as it was
// before attributes were decoded straight into the interning key (commit c0f9844; its encoders left out), frozen
// as the oracle the new decoder is checked against. Do not edit it to follow the codec.
//
// UPDATE messages (RFC 4271 §4.3, RFC 4760 for IPv6, RFC 7911 Add-Path, RFC 8950 IPv4 over an IPv6 next hop).
//
//   decodeUpdate(body, ctx)      the message after its 19-byte header → UpdateMessage; throws WireError when the
//                                session must be reset, else reports RFC 7606 soft errors in the result
//   encodeUpdates(batch, ctx)    one attribute set + many prefixes → as few whole UPDATEs as fit
//   encodeWithdrawals(...)       withdrawals packed the same way
//   encodeEndOfRib(family)       RFC 4724 §2 End-of-RIB marker
//   encodeAttributes(attrs, ctx) the attribute block alone (also the RIB's interning key)
//
// Layout of the body: Withdrawn Routes Length (2), Withdrawn Routes, Total Path Attribute Length (2), Path
// Attributes, NLRI. IPv4 unicast goes in the Withdrawn Routes / NLRI fields with NEXT_HOP; IPv6 (and IPv4 with
// an IPv6 next hop) in MP_REACH_NLRI / MP_UNREACH_NLRI, placed first in the attribute block (RFC 7606 §5.1).

import { ErrorCode, UpdateSubcode } from '../constants.ts';
import { ErrorAction, WireError } from '../errors.ts';
import { decodeNlriExact, exactPathIds, exactPrefixes } from '../nlri.ts';
import {
  type AnnouncedBlock,
  type CodecContext,
  defaultCodecContext,
  type NlriBlock,
  type UpdateMessage,
} from '../types.ts';
import { AttrDecodeState, checkNextHop, decodeAttributeBlock, finishAttributes } from './attributes-v1.ts';

function updateError(message: string, subcode: number): WireError {
  return new WireError(message, ErrorCode.UPDATE_MESSAGE, subcode);
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** Reused by every decodeUpdate call (decoding is synchronous; see AttrDecodeState.begin). */
const decodeState = new AttrDecodeState(new Uint8Array(0), defaultCodecContext());

/**
 * Decodes an UPDATE body (the message after its 19-byte header).
 * Throws WireError (action session-reset) for errors RFC 7606 leaves fatal: section lengths that overrun the
 * message (§3 b), NLRI that cannot be parsed (§3 j, §5.3), malformed or repeated MP_REACH/MP_UNREACH, an
 * unrecognized well-known attribute, and attribute errors in an UPDATE that announces nothing (§5.2).
 * Otherwise returns the message; `treatAsWithdraw` and `errors` report the soft errors. `attributes` is
 * non-null exactly when the mandatory attributes were present and nothing called for treat-as-withdraw.
 */
export function decodeUpdate(body: Uint8Array, ctx: CodecContext): UpdateMessage {
  const len = body.length;
  if (len < 4) throw updateError(`UPDATE body of ${len} bytes is too short`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST);
  const wlen = (body[0]! << 8) | body[1]!;
  // RFC 7606 §3 (b): lengths that overrun the message are Malformed Attribute List.
  if (4 + wlen > len) {
    throw updateError(`Withdrawn Routes Length ${wlen} overruns the message`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST);
  }
  const alen = (body[2 + wlen]! << 8) | body[3 + wlen]!;
  const aStart = 4 + wlen;
  const aEnd = aStart + alen;
  if (aEnd > len) {
    throw updateError(
      `Total Path Attribute Length ${alen} overruns the message`,
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
    );
  }

  const withdrawn: NlriBlock[] = [];
  const v4AddPath = ctx.addPathRx.has('ipv4-unicast');

  // RFC 7606 §3 (i): Withdrawn Routes are checked like the NLRI field.
  if (wlen > 0) {
    const bad = decodeNlriExact(body, 2, 2 + wlen, 32, v4AddPath);
    if (bad !== null) throw updateError(`Withdrawn Routes: ${bad}`, UpdateSubcode.INVALID_NETWORK_FIELD);
    withdrawn.push({ family: 'ipv4-unicast', prefixes: exactPrefixes, pathIds: exactPathIds });
  }

  const st = decodeState;
  st.begin(body, ctx);
  decodeAttributeBlock(st, aStart, aEnd);

  // NLRI field: RFC 4271 §6.3, Invalid Network Field when it cannot be parsed.
  let nlri: AnnouncedBlock | null = null;
  if (aEnd < len) {
    const bad = decodeNlriExact(body, aEnd, len, 32, v4AddPath);
    if (bad !== null) throw updateError(`NLRI: ${bad}`, UpdateSubcode.INVALID_NETWORK_FIELD);
    if (exactPrefixes.length > 0) {
      nlri = { family: 'ipv4-unicast', prefixes: exactPrefixes, pathIds: exactPathIds, nextHop: '' };
    }
  }

  const announces = nlri !== null || st.mpReachEntries > 0;
  finishAttributes(st, announces);
  // RFC 4760 §3: NEXT_HOP is needed (and looked at) only when the NLRI field carries prefixes.
  if (nlri !== null) {
    const nh = checkNextHop(st);
    if (nh !== null) nlri.nextHop = nh;
  }
  // Array literals of the exact length: a pushed-to empty array would get room for 17 blocks.
  const mp = st.mpReach !== null && st.mpReach.prefixes.length > 0 ? st.mpReach : null;
  const announced: AnnouncedBlock[] = nlri === null ? (mp === null ? [] : [mp]) : mp === null ? [nlri] : [nlri, mp];
  const un = st.mpUnreach;
  if (un !== null && un.prefixes.length > 0) {
    const same = withdrawn.find((w) => w.family === un.family);
    if (same) {
      for (const p of un.prefixes) same.prefixes.push(p);
      if (same.pathIds && un.pathIds) for (const id of un.pathIds) same.pathIds.push(id);
    } else {
      withdrawn.push(un);
    }
  }

  const treatAsWithdraw = st.action === ErrorAction.TREAT_AS_WITHDRAW || st.action === ErrorAction.AFI_SAFI_DISABLE;
  if (treatAsWithdraw && !announces) {
    // RFC 7606 §5.2: attribute errors (other than attribute discard) in an UPDATE that carries attributes but
    // no reachable NLRI cannot be confined to any route: the session is reset.
    const worst = st.errors.find((e) => e.action !== ErrorAction.ATTRIBUTE_DISCARD)!;
    throw new WireError(
      `${worst.message} (in an UPDATE without reachable NLRI, RFC 7606 §5.2)`,
      worst.code,
      worst.subcode,
      worst.data,
      ErrorAction.SESSION_RESET,
    );
  }

  const msg: UpdateMessage = {
    type: 'update',
    withdrawn,
    announced,
    attributes: !treatAsWithdraw && st.hasOrigin && st.hasAsPath ? st.attrs : null,
    treatAsWithdraw,
    errors: st.errors,
  };
  // RFC 4724 §2: End-of-RIB is an UPDATE with nothing in it (IPv4 unicast), or one whose only content is an
  // empty MP_UNREACH_NLRI (other families).
  if (len === 4) msg.endOfRib = 'ipv4-unicast';
  else if (wlen === 0 && aEnd === len && st.count === 1 && st.mpUnreachEmpty && st.mpUnreachFamily !== null) {
    msg.endOfRib = st.mpUnreachFamily;
  }
  return msg;
}
