// The codec's public surface. Nothing here touches a socket or a timer.
//
//   Framer                   splits a byte stream into whole messages, rejecting a bad marker or length
//                            before the body arrives (RFC 4271 §6.1)
//   decodeMessage(buf, ctx)  one whole message (header included) → BgpMessage, or throws WireError
//   encodeOpen / encodeKeepalive / encodeNotification / encodeRouteRefresh → Uint8Array (whole message)
//   encodeUpdates(batch, ctx) → Uint8Array[]   announcements packed up to ctx.maxMessageSize
//   encodeWithdrawals(family, prefixes, pathIds, ctx) → Uint8Array[]
//   encodeEndOfRib(family) → Uint8Array

export * from './addr.ts';
export { decodeCapabilities, encodeCapability } from './capabilities.ts';
export * from './constants.ts';
export * from './errors.ts';
export { Framer } from './framer.ts';
export { decodeMessage, decodeMessageAt, encodeKeepalive, messageTypeName } from './message.ts';
export { blockSize, WireNlriBlock } from './nlri.ts';
export { describeNotification, encodeNotification, encodeShutdownNotification } from './notification.ts';
export { encodeOpen } from './open.ts';
export * from './prefix.ts';
export { encodeRouteRefresh } from './route-refresh.ts';
export * from './types.ts';
export * from './update.ts';
