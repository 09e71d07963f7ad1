// Wire errors: every decoding problem becomes a WireError that says which NOTIFICATION to send
// (code, subcode, data) and what RFC 7606 tells the receiver to do about it (action).

import { ErrorCode } from './constants.ts';

/** RFC 7606 §2 approaches, strongest last. */
export const ErrorAction = {
  /** Ignore the one attribute (RFC 7606 §2 "attribute discard"). */
  ATTRIBUTE_DISCARD: 'attribute-discard',
  /** Treat every NLRI in the UPDATE as withdrawn (RFC 7606 §2 "treat-as-withdraw"). */
  TREAT_AS_WITHDRAW: 'treat-as-withdraw',
  /** Disable the address family (RFC 4760 §7); tsbgp resets the session instead, as RFC 7606 §7.3 allows. */
  AFI_SAFI_DISABLE: 'afi-safi-disable',
  /** Send a NOTIFICATION and close the session. */
  SESSION_RESET: 'session-reset',
} as const;
export type ErrorActionName = (typeof ErrorAction)[keyof typeof ErrorAction];

const ACTION_RANK: Record<ErrorActionName, number> = {
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'afi-safi-disable': 3,
  'session-reset': 4,
};

/** Returns the stronger of two actions (RFC 7606 §3 (g): the most severe approach wins). */
export function strongerAction(a: ErrorActionName, b: ErrorActionName): ErrorActionName {
  return ACTION_RANK[a] >= ACTION_RANK[b] ? a : b;
}

export class WireError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly action: ErrorActionName;

  constructor(
    message: string,
    code: number,
    subcode: number,
    data: Uint8Array = new Uint8Array(0),
    action: ErrorActionName = ErrorAction.SESSION_RESET,
  ) {
    super(message);
    this.name = 'WireError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
    this.action = action;
  }
}

/** A header error (code 1). */
export function headerError(message: string, subcode: number, data?: Uint8Array): WireError {
  return new WireError(message, ErrorCode.MESSAGE_HEADER, subcode, data);
}
