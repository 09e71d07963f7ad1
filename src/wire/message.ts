// The message dispatcher: one whole message (header included, as the Framer returns it) → a typed BgpMessage.
//
// It re-checks the header (so a message from anywhere, not only the Framer, is safe to decode), then the
// per-type length rules of RFC 4271 §6.1, and hands the message to its type's decoder. Decoders return views
// into `msg` where they can; whoever keeps data beyond the next socket read copies it.

import { HEADER_LENGTH, MessageType } from './constants.ts';
import { headerError } from './errors.ts';
import { allocMessage, checkHeader, lengthData } from './header.ts';
import { decodeNotification } from './notification.ts';
import { decodeOpen } from './open.ts';
import { decodeRouteRefresh } from './route-refresh.ts';
import type { BgpMessage, CodecContext, KeepaliveMessage } from './types.ts';

import { decodeUpdateAt } from './update.ts';

/** RFC 4271 §4.2: 19-byte header + version, AS, hold time, identifier, optional parameters length. */
const MIN_OPEN = 29;
/** RFC 4271 §4.3: header + withdrawn routes length + total path attribute length. */
const MIN_UPDATE = 23;
/** RFC 4271 §4.5: header + error code + error subcode. */
const MIN_NOTIFICATION = 21;
/** RFC 4271 §4.4: a KEEPALIVE is the header alone. */
const KEEPALIVE_LENGTH = HEADER_LENGTH;

function tooShortOrLong(name: string, length: number): never {
  // RFC 4271 §6.1: a length wrong for the message type is Bad Message Length with the length field as data.
  throw headerError(`${name} of invalid length ${length}`, 2, lengthData(length));
}

/**
 * Decodes one whole message. Throws WireError for anything the peer must be told about (header errors,
 * OPEN/UPDATE/ROUTE-REFRESH errors that reset the session); an UPDATE with RFC 7606 recoverable errors is
 * returned with `treatAsWithdraw` / `errors` set instead.
 */
export function decodeMessage(msg: Uint8Array, ctx: CodecContext): BgpMessage {
  if (msg.length < HEADER_LENGTH) {
    throw headerError(`message of ${msg.length} bytes is shorter than a header`, 2, lengthData(msg.length));
  }
  const length = checkHeader(msg, 0, ctx.maxMessageSize);
  if (length !== msg.length) {
    throw headerError(`length field ${length} but message has ${msg.length} bytes`, 2, lengthData(length));
  }
  const type = msg[18]!;
  switch (type) {
    case MessageType.OPEN:
      if (length < MIN_OPEN) tooShortOrLong('OPEN', length);
      return decodeOpen(msg);
    case MessageType.UPDATE:
      if (length < MIN_UPDATE) tooShortOrLong('UPDATE', length);
      return decodeUpdateAt(msg, HEADER_LENGTH, ctx);
    case MessageType.NOTIFICATION:
      if (length < MIN_NOTIFICATION) tooShortOrLong('NOTIFICATION', length);
      return decodeNotification(msg);
    case MessageType.KEEPALIVE:
      if (length !== KEEPALIVE_LENGTH) tooShortOrLong('KEEPALIVE', length);
      return { type: 'keepalive' } satisfies KeepaliveMessage;
    case MessageType.ROUTE_REFRESH:
      // RFC 7313 §5 owns this length check (error 7/1, not 1/2).
      return decodeRouteRefresh(msg);
    default:
      // RFC 4271 §6.1: unknown type is Bad Message Type with the type byte as data.
      throw headerError(`unknown message type ${type}`, 3, Uint8Array.of(type));
  }
}

/**
 * decodeMessage of the message at buf[start, start + length) (as the Framer's nextAt() finds it): an UPDATE, nearly
 * every message of a session, is decoded where it lies; the rest get a view.
 */
export function decodeMessageAt(buf: Uint8Array, start: number, length: number, ctx: CodecContext): BgpMessage {
  if (length >= MIN_UPDATE && buf[start + 18] === MessageType.UPDATE && start + length <= buf.length) {
    // The Framer checked the header (marker, length field, type) before handing the message out; checked again
    // here so that the function stands on its own, as decodeMessage does.
    if (checkHeader(buf, start, ctx.maxMessageSize) === length) {
      return decodeUpdateAt(buf, start + HEADER_LENGTH, ctx, start + length);
    }
  }
  return decodeMessage(buf.subarray(start, start + length), ctx);
}

let keepaliveBytes: Uint8Array | null = null;

/** RFC 4271 §4.4: a KEEPALIVE is a bare 19-byte header. Returns a fresh copy each call (callers may hand it off). */
export function encodeKeepalive(): Uint8Array {
  keepaliveBytes ??= allocMessage(MessageType.KEEPALIVE, 0);
  return keepaliveBytes.slice();
}

const TYPE_NAMES: Record<number, string> = {
  1: 'OPEN',
  2: 'UPDATE',
  3: 'NOTIFICATION',
  4: 'KEEPALIVE',
  5: 'ROUTE-REFRESH',
};

/** "OPEN", "UPDATE", …, or "type N" for a type BGP does not define. */
export function messageTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}
