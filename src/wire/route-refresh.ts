// ROUTE-REFRESH message (RFC 2918 §3) with the Enhanced Route Refresh subtypes of RFC 7313 §3 in the byte that
// RFC 2918 reserved: 0 normal request, 1 Beginning of Route Refresh, 2 End of Route Refresh.

import { ErrorCode, HEADER_LENGTH, MessageType, RouteRefreshSubcode } from './constants.ts';
import { WireError } from './errors.ts';
import { allocMessage } from './header.ts';
import type { RouteRefreshMessage } from './types.ts';

/** RFC 2918 §3: AFI (2), reserved/subtype (1), SAFI (1). */
export const ROUTE_REFRESH_LENGTH = HEADER_LENGTH + 4;

export function encodeRouteRefresh(afi: number, safi: number, subtype = 0): Uint8Array {
  const b = allocMessage(MessageType.ROUTE_REFRESH, 4);
  b[HEADER_LENGTH] = afi >>> 8;
  b[HEADER_LENGTH + 1] = afi & 0xff;
  b[HEADER_LENGTH + 2] = subtype;
  b[HEADER_LENGTH + 3] = safi;
  return b;
}

/**
 * Decodes a ROUTE-REFRESH (whole message). RFC 7313 §5: a length other than 4 after the header is
 * "ROUTE-REFRESH Message Error / Invalid Message Length" with the complete message as data. RFC 7313 requires it
 * for subtypes 1 and 2; for subtype 0 a longer message could only carry ORF entries (RFC 5291), which tsbgp never
 * negotiates, so the same error applies to every subtype.
 *
 * A subtype other than 0, 1, 2 is returned as is: RFC 7313 §5 says such a message MUST be ignored, which the
 * session does by acting only on the three known subtypes.
 */
export function decodeRouteRefresh(msg: Uint8Array): RouteRefreshMessage {
  if (msg.length !== ROUTE_REFRESH_LENGTH) {
    throw new WireError(
      `ROUTE-REFRESH of length ${msg.length}, expected ${ROUTE_REFRESH_LENGTH}`,
      ErrorCode.ROUTE_REFRESH,
      RouteRefreshSubcode.INVALID_MESSAGE_LENGTH,
      msg,
    );
  }
  const afi = (msg[HEADER_LENGTH]! << 8) | msg[HEADER_LENGTH + 1]!;
  const subtype = msg[HEADER_LENGTH + 2]! as RouteRefreshMessage['subtype'];
  return { type: 'route-refresh', afi, safi: msg[HEADER_LENGTH + 3]!, subtype };
}
