// Paging limits shared by the API's handlers and its OpenAPI document.

/** Routes returned by one page (GET /rib, /routes, /adj-rib-*) unless ?limit= says otherwise. */
export const DEFAULT_RIB_LIMIT = 1000;
export const MAX_RIB_LIMIT = 100_000;
