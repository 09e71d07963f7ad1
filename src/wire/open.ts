// OPEN message (RFC 4271 §4.2) with capabilities in optional parameter type 2 (RFC 5492) and the extended
// optional parameters encoding of RFC 9072 for capability lists longer than 255 bytes.
//
// Decoding checks what can be checked without configuration (RFC 4271 §6.2): version, a zero AS (RFC 7607),
// hold time 1 or 2, a zero BGP identifier (RFC 6286 §2.2), the optional parameter structure. Checks against the
// configuration (expected peer AS, our own identifier, collisions) belong to the session.

import { formatIPv4, parseIPv4 } from './addr.ts';
import { decodeCapabilities, encodeCapability, malformedOpen } from './capabilities.ts';
import { ErrorCode, HEADER_LENGTH, MAX_MESSAGE_SIZE, MessageType, OpenSubcode } from './constants.ts';
import { WireError } from './errors.ts';
import { endMessage, startMessage } from './header.ts';
import { Reader } from './reader.ts';
import type { Capability, OpenMessage } from './types.ts';
import { Writer } from './writer.ts';

/** The BGP version we speak; also the data of an Unsupported Version Number error (RFC 4271 §6.2). */
const BGP_VERSION = 4;
/** RFC 5492 §4: optional parameter type 2 carries capabilities. */
const PARAM_CAPABILITIES = 2;
/** RFC 9072 §2: a first parameter type of 255 announces the extended optional parameters encoding. */
const PARAM_EXTENDED_LENGTH = 255;
/** Bytes of capabilities that still fit one classic parameter inside a 255-byte optional parameters field. */
const MAX_CLASSIC_CAPABILITIES = 255 - 2;

function openError(message: string, subcode: number, data?: Uint8Array): WireError {
  return new WireError(message, ErrorCode.OPEN_MESSAGE, subcode, data);
}

/**
 * Decodes an OPEN. `msg` is the whole message (header included) and the dispatcher has checked that it has at
 * least the 29 bytes of the fixed part.
 */
export function decodeOpen(msg: Uint8Array): OpenMessage {
  const r = new Reader(msg, HEADER_LENGTH, msg.length, (what) => malformedOpen(`OPEN too short reading ${what}`));
  const version = r.u8();
  // RFC 4271 §6.2: data is the largest locally supported version number as 2 octets.
  if (version !== BGP_VERSION) {
    throw openError(
      `unsupported BGP version ${version}`,
      OpenSubcode.UNSUPPORTED_VERSION,
      Uint8Array.of(0, BGP_VERSION),
    );
  }
  const myAs = r.u16();
  // RFC 7607 §2: AS 0 in an OPEN is Bad Peer AS.
  if (myAs === 0) throw openError('peer AS 0 in OPEN', OpenSubcode.BAD_PEER_AS);
  const holdTime = r.u16();
  // RFC 4271 §6.2: a hold time of 1 or 2 seconds MUST be rejected (0 and ≥ 3 are valid).
  if (holdTime === 1 || holdTime === 2) {
    throw openError(`unacceptable hold time ${holdTime}`, OpenSubcode.UNACCEPTABLE_HOLD_TIME);
  }
  const idAt = r.pos;
  const id = r.u32();
  // RFC 6286 §2.2: the identifier is any non-zero 32-bit value.
  if (id === 0) throw openError('BGP identifier 0.0.0.0', OpenSubcode.BAD_BGP_IDENTIFIER);
  const routerId = formatIPv4(msg, idAt);

  const capabilities: Capability[] = [];
  let optLen = r.u8();
  // RFC 9072 §2: a non-zero Non-Ext OP Len followed by parameter type 255 means the real length follows in two
  // bytes and every parameter has a 2-byte length. The Non-Ext OP Len value itself is then ignored.
  const extended = optLen > 0 && r.remaining > 0 && msg[r.pos] === PARAM_EXTENDED_LENGTH;
  if (extended) {
    r.pos++;
    if (r.remaining < 2) throw malformedOpen('extended optional parameters length missing');
    optLen = r.u16();
  }
  if (optLen !== r.remaining) {
    throw malformedOpen(`optional parameters length ${optLen} but ${r.remaining} bytes follow`);
  }
  while (r.remaining > 0) {
    const headLen = extended ? 3 : 2;
    if (r.remaining < headLen) throw malformedOpen('optional parameter header runs past the end of the OPEN');
    const type = r.u8();
    const len = extended ? r.u16() : r.u8();
    if (len > r.remaining) {
      throw malformedOpen(`optional parameter ${type} of length ${len} runs past the end of the OPEN`);
    }
    // RFC 4271 §6.2 / RFC 5492: capabilities are the only optional parameter in use; anything else
    // (including the deprecated authentication parameter, type 1) is Unsupported Optional Parameter.
    if (type !== PARAM_CAPABILITIES) {
      throw openError(`unsupported optional parameter type ${type}`, OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER);
    }
    decodeCapabilities(r.sub(len, 'a capability parameter'), capabilities);
  }
  for (const c of capabilities) {
    // RFC 7607 §2 again: a 4-octet AS of 0 is as bad as a 2-octet one.
    if (c.kind === 'four-octet-as' && c.asn === 0) throw openError('4-octet AS 0 in OPEN', OpenSubcode.BAD_PEER_AS);
  }
  return { type: 'open', version, myAs, holdTime, routerId, capabilities };
}

/**
 * Encodes an OPEN. All capabilities go into one optional parameter (as BIRD and FRR send them); when they do not
 * fit the 255-byte optional parameters field, the RFC 9072 extended encoding is used.
 * Throws a RangeError on values that cannot be encoded (myAs above 65535: send AS_TRANS; a bad router ID).
 */
export function encodeOpen(o: Omit<OpenMessage, 'type'>): Uint8Array {
  if (!Number.isInteger(o.myAs) || o.myAs < 0 || o.myAs > 0xffff) {
    throw new RangeError(`OPEN myAs ${o.myAs} does not fit 2 octets (use AS_TRANS and the 4-octet AS capability)`);
  }
  if (!Number.isInteger(o.holdTime) || o.holdTime < 0 || o.holdTime > 0xffff) {
    throw new RangeError(`OPEN hold time ${o.holdTime} out of range`);
  }
  const id = parseIPv4(o.routerId);
  if (!id) throw new RangeError(`BGP identifier ${JSON.stringify(o.routerId)} is not a dotted quad`);

  const caps = new Writer(128);
  for (const c of o.capabilities) encodeCapability(caps, c);
  const capLen = caps.pos;

  const w = new Writer(HEADER_LENGTH + 16 + capLen);
  const start = startMessage(w, MessageType.OPEN);
  w.u8(o.version).u16(o.myAs).u16(o.holdTime).bytes(id);
  if (capLen === 0) {
    w.u8(0);
  } else if (capLen <= MAX_CLASSIC_CAPABILITIES) {
    w.u8(capLen + 2)
      .u8(PARAM_CAPABILITIES)
      .u8(capLen);
  } else {
    // RFC 9072 §2: Non-Ext OP Len 255, Non-Ext OP Type 255, 2-byte total length, parameters with 2-byte lengths.
    w.u8(255)
      .u8(PARAM_EXTENDED_LENGTH)
      .u16(capLen + 3)
      .u8(PARAM_CAPABILITIES)
      .u16(capLen);
  }
  w.bytes(caps.view());
  endMessage(w, start);
  // RFC 8654 §4: an OPEN is never larger than 4096 bytes, Extended Message or not.
  if (w.pos > MAX_MESSAGE_SIZE) throw new RangeError(`OPEN of ${w.pos} bytes exceeds ${MAX_MESSAGE_SIZE}`);
  return w.finish();
}
