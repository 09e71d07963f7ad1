// The 19-byte message header shared by every BGP message (RFC 4271 §4.1): 16 marker bytes (all ones), a 2-byte
// length that counts the header, and a 1-byte type. Helpers to write it and to check it, used by the framer,
// the decoder and every encoder.

import { HEADER_LENGTH } from './constants.ts';
import { headerError } from './errors.ts';
import type { Writer } from './writer.ts';

const MARKER_LENGTH = 16;

/** Writes a header with a placeholder length; returns the message's start offset for `endMessage`. */
export function startMessage(w: Writer, type: number): number {
  const start = w.reserve(HEADER_LENGTH);
  w.buf.fill(0xff, start, start + MARKER_LENGTH);
  w.patchU8(start + 18, type);
  return start;
}

/** Patches the length of the message started at `start` (the writer's position is its end). */
export function endMessage(w: Writer, start: number): void {
  w.patchU16(start + MARKER_LENGTH, w.pos - start);
}

/** A whole fixed-size message: header plus `bodyLength` zero bytes to fill in from offset 19. */
export function allocMessage(type: number, bodyLength: number): Uint8Array {
  const len = HEADER_LENGTH + bodyLength;
  const b = new Uint8Array(len);
  b.fill(0xff, 0, MARKER_LENGTH);
  b[16] = len >>> 8;
  b[17] = len & 0xff;
  b[18] = type;
  return b;
}

/** True when the 16 bytes at `offset` are all ones (RFC 4271 §4.1). */
export function markerValid(b: Uint8Array, offset = 0): boolean {
  for (let i = offset; i < offset + MARKER_LENGTH; i++) if (b[i] !== 0xff) return false;
  return true;
}

/** The 2-byte length field as NOTIFICATION data (RFC 4271 §6.1: "the erroneous Length field"). */
export function lengthData(length: number): Uint8Array {
  return Uint8Array.of((length >>> 8) & 0xff, length & 0xff);
}

/**
 * Checks marker and length of a header whose 19 bytes are at `b[offset..]` and returns the length.
 * RFC 4271 §6.1: a bad marker is "Connection Not Synchronized"; a length below 19 or above the maximum is
 * "Bad Message Length" with the length field as data.
 */
export function checkHeader(b: Uint8Array, offset: number, maxMessageSize: number): number {
  if (!markerValid(b, offset)) throw headerError('message header marker is not all ones', 1);
  const length = (b[offset + 16]! << 8) | b[offset + 17]!;
  if (length < HEADER_LENGTH || length > maxMessageSize) {
    throw headerError(`message length ${length} outside ${HEADER_LENGTH}..${maxMessageSize}`, 2, lengthData(length));
  }
  return length;
}
