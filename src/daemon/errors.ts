// Errors of the daemon's write operations (DaemonControl). Each carries a fixed code that the API maps, one to one,
// onto an entry of its error registry (src/api/errors.ts, same names), and the request field that is wrong.
// The daemon does not import the API (api → daemon), so the codes are repeated here as a union.

export type ControlErrorCode =
  | 'bad_request'
  | 'bad_family'
  | 'bad_prefix'
  | 'bad_address'
  | 'neighbor_not_found'
  | 'neighbor_exists'
  | 'neighbor_disabled'
  | 'neighbor_not_established'
  | 'route_refresh_unsupported'
  | 'overlay_not_found'
  | 'state_store_error';

export class ControlError extends Error {
  readonly code: ControlErrorCode;
  readonly field: string | undefined;
  constructor(code: ControlErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'ControlError';
    this.code = code;
    this.field = field;
  }
}
