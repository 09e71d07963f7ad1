// NOTIFICATION message (RFC 4271 §4.5): error code, subcode, data. Also the RFC 9003 shutdown communication
// carried in Cease / Administrative Shutdown and Administrative Reset, and readable names for every code.

import { CeaseSubcode, ErrorCode, HEADER_LENGTH, MAX_MESSAGE_SIZE, MessageType } from './constants.ts';
import { allocMessage } from './header.ts';
import type { NotificationMessage } from './types.ts';

/** RFC 9003 §2: the shutdown communication is at most 255 bytes of UTF-8. */
const MAX_SHUTDOWN_BYTES = 255;
/** Data that fits a NOTIFICATION a peer without Extended Message accepts (RFC 8654 §4). */
const MAX_DATA = MAX_MESSAGE_SIZE - HEADER_LENGTH - 2;

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Encodes a NOTIFICATION. Data longer than fits 4096 bytes (e.g. a whole 64 KiB UPDATE echoed back) is cut:
 * the data is diagnostic, and a peer that did not negotiate Extended Message would reject a longer message.
 */
export function encodeNotification(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const d = data.length > MAX_DATA ? data.subarray(0, MAX_DATA) : data;
  const b = allocMessage(MessageType.NOTIFICATION, 2 + d.length);
  b[HEADER_LENGTH] = code;
  b[HEADER_LENGTH + 1] = subcode;
  b.set(d, HEADER_LENGTH + 2);
  return b;
}

/**
 * Cease / Administrative Shutdown (2) or Administrative Reset (4) with a shutdown communication (RFC 9003 §2):
 * one length byte and up to 255 bytes of UTF-8, cut on a character boundary if the text is longer.
 */
export function encodeShutdownNotification(subcode: 2 | 4, message: string): Uint8Array {
  const text = utf8Encoder.encode(message);
  let n = Math.min(text.length, MAX_SHUTDOWN_BYTES);
  // Back up over continuation bytes (10xxxxxx) so that no character is split.
  if (n < text.length) while (n > 0 && (text[n]! & 0xc0) === 0x80) n--;
  const data = new Uint8Array(1 + n);
  data[0] = n;
  data.set(text.subarray(0, n), 1);
  return encodeNotification(ErrorCode.CEASE, subcode, data);
}

/** Decodes a NOTIFICATION whose whole message (≥ 21 bytes, checked by the dispatcher) is `msg`. */
export function decodeNotification(msg: Uint8Array): NotificationMessage {
  const code = msg[HEADER_LENGTH]!;
  const subcode = msg[HEADER_LENGTH + 1]!;
  const data = msg.subarray(HEADER_LENGTH + 2);
  const n: NotificationMessage = { type: 'notification', code, subcode, data };
  if (
    code === ErrorCode.CEASE &&
    (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET)
  ) {
    const text = shutdownCommunication(data);
    if (text !== undefined) n.shutdownMessage = text;
  }
  return n;
}

/**
 * RFC 9003 §2: data = length byte + that many bytes of UTF-8. Anything else (no data, a length that does not
 * match, invalid UTF-8: RFC 8203 §4 says those must not be interpreted) yields undefined.
 */
function shutdownCommunication(data: Uint8Array): string | undefined {
  if (data.length === 0 || data[0]! + 1 !== data.length) return undefined;
  try {
    return utf8Fatal.decode(data.subarray(1));
  } catch {
    return undefined;
  }
}

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  // RFC 4271 §4.5
  1: { 1: 'connection not synchronized', 2: 'bad message length', 3: 'bad message type' },
  // RFC 4271 §4.5, RFC 5492 §5 (7), RFC 9234 §4.2 (11); 5, 8, 9, 10 are deprecated
  2: {
    0: 'unspecific',
    1: 'unsupported version number',
    2: 'bad peer AS',
    3: 'bad BGP identifier',
    4: 'unsupported optional parameter',
    5: 'authentication failure (deprecated)',
    6: 'unacceptable hold time',
    7: 'unsupported capability',
    8: 'deprecated subcode 8',
    9: 'deprecated subcode 9',
    10: 'deprecated subcode 10',
    11: 'role mismatch',
  },
  // RFC 4271 §4.5; 7 (AS routing loop) is deprecated
  3: {
    0: 'unspecific',
    1: 'malformed attribute list',
    2: 'unrecognized well-known attribute',
    3: 'missing well-known attribute',
    4: 'attribute flags error',
    5: 'attribute length error',
    6: 'invalid ORIGIN attribute',
    7: 'AS routing loop (deprecated)',
    8: 'invalid NEXT_HOP attribute',
    9: 'optional attribute error',
    10: 'invalid network field',
    11: 'malformed AS_PATH',
  },
  // RFC 6608 §4
  5: {
    0: 'unspecified error',
    1: 'unexpected message in OpenSent state',
    2: 'unexpected message in OpenConfirm state',
    3: 'unexpected message in Established state',
  },
  // RFC 4486 §4 (1-8), RFC 8538 §5 (9), RFC 9384 §4 (10)
  6: {
    1: 'maximum number of prefixes reached',
    2: 'administrative shutdown',
    3: 'peer de-configured',
    4: 'administrative reset',
    5: 'connection rejected',
    6: 'other configuration change',
    7: 'connection collision resolution',
    8: 'out of resources',
    9: 'hard reset',
    10: 'BFD down',
  },
  // RFC 7313 §5
  7: { 1: 'invalid message length' },
};

/**
 * A readable name for a NOTIFICATION code/subcode: "Cease/administrative shutdown", "Hold Timer Expired",
 * "OPEN Message Error/subcode 42", "error code 9/subcode 1".
 */
export function describeNotification(code: number, subcode: number): string {
  const name = CODE_NAMES[code];
  if (name === undefined) return `error code ${code}/subcode ${subcode}`;
  const sub = SUBCODE_NAMES[code]?.[subcode];
  if (sub !== undefined) return `${name}/${sub}`;
  // Codes without subcodes (Hold Timer Expired), and "no subcode" Cease, read best without one.
  if (subcode === 0) return name;
  return `${name}/subcode ${subcode}`;
}
