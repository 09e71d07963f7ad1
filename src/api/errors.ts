// Every error the API can return, in one registry: a fixed machine-readable `code` and the HTTP status it maps
// to. Handlers throw ApiError(code, message, field?); the server turns it into `{code, message, field?}` with
// the registered status. docs/api.md lists the same table, and api.test.ts checks the two agree.

export const API_ERRORS = {
  /** The request is malformed: an unknown query parameter, a value of the wrong shape. `field` names it. */
  bad_request: 400,
  /** The {family} path segment is not a family tsbgp carries. */
  bad_family: 400,
  /** ?prefix= is not a prefix, or not one of the requested family. */
  bad_prefix: 400,
  /** The {address} path segment is not an IPv4 or IPv6 address. */
  bad_address: 400,
  /** A token file is configured and the request has no valid `Authorization: Bearer <token>`. */
  unauthorized: 401,
  /** The token's role does not allow this request (a `read` token on a write endpoint). */
  forbidden: 403,
  /** No neighbour with that address is configured. */
  neighbor_not_found: 404,
  /** The neighbour has no changes made through the API to revert. */
  overlay_not_found: 404,
  /** POST /neighbors: a neighbour with that address is already configured. */
  neighbor_exists: 409,
  /** A reset of a neighbour that is disabled. */
  neighbor_disabled: 409,
  /** A soft reset of a neighbour whose session is not established. */
  neighbor_not_established: 409,
  /** A soft reset in (ROUTE-REFRESH) of a neighbour that did not advertise route refresh (RFC 2918). */
  route_refresh_unsupported: 409,
  /** The request body is larger than `[api] body_limit`. */
  payload_too_large: 413,
  /** GET /rib/{family}/explain: the prefix is not in the Loc-RIB. */
  prefix_not_found: 404,
  /** No [[services]] entry with that name. */
  service_not_found: 404,
  /** No such endpoint. */
  not_found: 404,
  /** A bug: the daemon failed to answer. The log has the details. */
  internal_error: 500,
  /** The state store could not commit the change (disk full, I/O error): nothing was changed. */
  state_store_error: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  /** The request field that is wrong (query parameter or path segment), when one is. */
  readonly field: string | undefined;

  constructor(code: ApiErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = API_ERRORS[code];
    this.field = field;
  }

  toJSON(): { code: ApiErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}
