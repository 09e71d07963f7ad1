// The OpenAPI 3.1 document of the HTTP API, served at GET /api/v1/openapi.json.
//
// Written by hand from the handlers and docs/api.md (not generated), because the handlers validate with their own
// code rather than with fastify schemas, which gives errors that name the field the way operators write it.
// openapi.test.ts keeps the three in step: every path and method here is a registered route and a row of
// docs/api.md's endpoint table, and the other way round; every error code of errors.ts is listed here.
// `x-role` on each operation is the token role it needs (auth.ts).

import { FAMILIES } from '../wire/index.ts';
import { API_ERRORS } from './errors.ts';
import { DEFAULT_RIB_LIMIT, MAX_RIB_LIMIT } from './limits.ts';
import { arrayOf, errors, type Json, json, nullable, obj, op, ref } from './openapi-builders.ts';
import { SERVICE_PATHS, SERVICE_SCHEMAS } from './openapi-services.ts';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './routes-control.ts';

const COMMON_ERRORS = [401, 403, 500];

/** The responses of a write that changes one neighbour and answers with it (PATCH, enable, disable). */
const NEIGHBOR_CHANGED: Record<string, Json> = {
  200: json(ref('Neighbor')),
  ...errors(400, 404, 503, ...COMMON_ERRORS),
};

const familyParam: Json = { name: 'family', in: 'path', required: true, schema: ref('Family') };
const addressParam: Json = {
  name: 'address',
  in: 'path',
  required: true,
  description: 'neighbour address, IPv4 or IPv6 in any valid spelling',
  schema: { type: 'string' },
};
const limitParam = (def: number, max: number): Json => ({
  name: 'limit',
  in: 'query',
  description: `most routes per page (a prefix's paths are never split), default ${def}`,
  schema: { type: 'integer', minimum: 1, maximum: max, default: def },
});
const cursorParam: Json = {
  name: 'cursor',
  in: 'query',
  description: 'next_cursor of the previous page, unchanged',
  schema: { type: 'string' },
};
const prefixParam = (description: string, required = false): Json => ({
  name: 'prefix',
  in: 'query',
  required,
  description,
  schema: { type: 'string', examples: ['203.0.113.0/24'] },
});
/** The parameters of a neighbour's Adj-RIB-In and Adj-RIB-Out listings. */
const ADJ_RIB_PARAMS: Json[] = [
  addressParam,
  familyParam,
  prefixParam('only this exact prefix'),
  limitParam(DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT),
  cursorParam,
];

// RFC 4486 Cease 1: the most paths accepted per family; a family not listed has no limit.
const maxPrefixesSchema: Json = {
  type: 'object',
  additionalProperties: false,
  properties: {
    'ipv4-unicast': { type: 'integer', minimum: 1, maximum: 4294967295 },
    'ipv6-unicast': { type: 'integer', minimum: 1, maximum: 4294967295 },
  },
};

const neighborKeys: Record<string, Json> = {
  address: { type: 'string', description: 'IPv4 or IPv6 address; the neighbour identity' },
  asn: { type: 'integer', minimum: 1, maximum: 4294967295 },
  description: { type: 'string' },
  local_address: { type: 'string' },
  port: { type: 'integer', minimum: 1, maximum: 65535, default: 179 },
  passive: { type: 'boolean', default: false },
  hold_time: { type: 'integer', minimum: 0, maximum: 65535, default: 90, description: '0 or 3..65535' },
  connect_retry: { type: 'integer', minimum: 1, maximum: 65535, default: 30 },
  families: arrayOf(ref('Family')),
  next_hop_ipv4: { type: 'string' },
  next_hop_ipv6: { type: 'string' },
  enabled: { type: 'boolean', default: true },
  route_reflector_client: { type: 'boolean', default: false },
  add_path_receive: { type: 'boolean', default: false },
  graceful_restart: { type: 'boolean', default: true },
  restart_time: { type: 'integer', minimum: 0, maximum: 4095, default: 120 },
  max_prefixes: maxPrefixesSchema,
  max_prefixes_restart: { type: 'integer', minimum: 0, maximum: 4294967, default: 0 },
  max_prefixes_warning_only: { type: 'boolean', default: false },
};
const { address: _address, ...changeableKeys } = neighborKeys;

const routeInput: Record<string, Json> = {
  prefix: { type: 'string', examples: ['203.0.113.0/24', '2001:db8:100::/48'] },
  next_hop: { type: 'string', default: 'self', description: '"self" or an address of the prefix family' },
  origin: { enum: ['igp', 'egp', 'incomplete'], default: 'igp' },
  as_path: arrayOf({ type: 'integer', minimum: 1, maximum: 4294967295 }),
  med: { type: 'integer', minimum: 0, maximum: 4294967295 },
  local_pref: { type: 'integer', minimum: 0, maximum: 4294967295 },
  communities: arrayOf({ type: 'string', examples: ['65000:100', 'no-export'] }),
  large_communities: arrayOf({ type: 'string', examples: ['65000:1:1'] }),
  ext_communities: arrayOf({ type: 'string', examples: ['rt:65000:1'] }),
};

const schemas: Record<string, Json> = {
  Error: obj(
    {
      code: { enum: Object.keys(API_ERRORS) },
      message: { type: 'string' },
      field: { type: 'string', description: 'the request field that is wrong, e.g. "routes[3].next_hop"' },
    },
    ['code', 'message'],
  ),
  Family: { enum: [...FAMILIES] },
  SessionState: { enum: ['idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'] },
  PerFamily: obj(Object.fromEntries(FAMILIES.map((f) => [f, { type: 'integer' }]))),
  Session: obj({
    local_address: { type: 'string' },
    local_port: { type: 'integer' },
    remote_port: { type: 'integer' },
    remote_router_id: { type: 'string' },
    hold_time: { type: 'integer' },
    keepalive_time: { type: 'integer' },
    families: arrayOf(ref('Family')),
    four_octet_as: { type: 'boolean' },
    route_refresh: { type: 'boolean' },
    extended_message: { type: 'boolean' },
  }),
  Neighbor: obj(
    {
      address: { type: 'string' },
      asn: { type: 'integer' },
      description: nullable('string'),
      state: ref('SessionState'),
      enabled: { type: 'boolean' },
      uptime_s: nullable('integer'),
      families: arrayOf(ref('Family')),
      received: ref('PerFamily'),
      advertised: ref('PerFamily'),
      last_error: nullable('string'),
      max_prefixes: maxPrefixesSchema,
      session: { oneOf: [ref('Session'), { type: 'null' }] },
    },
    undefined,
    { additionalProperties: true },
  ),
  NeighborInput: obj(neighborKeys, ['address', 'asn'], { additionalProperties: false }),
  NeighborChange: {
    type: 'object',
    description: 'any neighbour key but address; null puts a key back to what the configuration file says',
    properties: Object.fromEntries(
      Object.entries(changeableKeys).map(([k, v]) => [k, { oneOf: [v, { type: 'null' }] }]),
    ),
    additionalProperties: false,
  },
  ResetRequest: obj({ mode: { enum: ['hard', 'soft-in', 'soft-out'], default: 'hard' } }, []),
  Route: obj(
    {
      prefix: { type: 'string' },
      best: { type: 'boolean' },
      from: { type: 'string', description: 'neighbour address, or "local"' },
      next_hop: { type: 'string' },
      origin: { enum: ['igp', 'egp', 'incomplete'] },
      as_path: arrayOf({ type: 'integer' }),
      med: nullable('integer'),
      local_pref: nullable('integer'),
      communities: arrayOf({ type: 'string' }),
      large_communities: arrayOf({ type: 'string' }),
      ext_communities: arrayOf({ type: 'string' }),
      reason: { type: 'string', description: 'decision step that ranked the path' },
    },
    [
      'prefix',
      'best',
      'from',
      'next_hop',
      'origin',
      'as_path',
      'med',
      'local_pref',
      'communities',
      'large_communities',
      'ext_communities',
    ],
  ),
  RoutePage: obj({
    total: { type: 'integer' },
    routes: arrayOf(ref('Route')),
    next_cursor: { ...nullable('string'), description: 'null on the last page' },
  }),
  StepComparison: obj({
    step: { type: 'string' },
    value: { type: ['string', 'integer'] },
    other: { type: ['string', 'integer'] },
    result: { enum: ['better', 'worse', 'tie', 'not-compared'] },
  }),
  ExplainedRoute: {
    allOf: [
      ref('Route'),
      obj({
        rank: { type: 'integer' },
        decided_by: { type: 'string', description: 'decision step name' },
        reason: { type: 'string', description: 'a sentence: compared with which path, at which step, both values' },
        lost_to: nullable('integer'),
        compared_with: nullable('integer'),
        steps: arrayOf(ref('StepComparison')),
      }),
    ],
  },
  Explain: obj({
    prefix: { type: 'string' },
    best: { type: 'integer' },
    candidates: arrayOf(ref('ExplainedRoute')),
  }),
  RouteInput: obj(routeInput, ['prefix'], { additionalProperties: false }),
  RouteBatch: obj({ routes: { ...arrayOf(ref('RouteInput')), maxItems: 1_000_000 } }),
  InjectedRoute: obj({ family: ref('Family'), ...routeInput }),
  InjectedRoutePage: obj({
    total: { type: 'integer' },
    routes: arrayOf(ref('InjectedRoute')),
    next_cursor: nullable('string'),
  }),
  WithdrawRequest: {
    oneOf: [
      obj({ prefix: { type: 'string' } }),
      obj({ prefixes: arrayOf({ type: 'string' }) }),
      obj({ routes: arrayOf(obj({ prefix: { type: 'string' } })) }),
    ],
  },
  Health: obj({
    status: { const: 'ok' },
    uptime_s: { type: 'integer' },
    version: { type: 'string' },
    neighbors: obj({ configured: { type: 'integer' }, established: { type: 'integer' } }),
    event_loop_delay_ms: obj({
      p99: { type: 'number', description: 'over the last one to two minutes' },
      max: { type: 'number', description: 'since the daemon started' },
    }),
    loc_rib: ref('PerFamily'),
  }),
};

const paths: Record<string, Record<string, Json>> = {
  '/api/v1/health': {
    get: op('read', 'getHealth', 'Daemon status, version, neighbour counts, event-loop delay', {
      200: json(ref('Health')),
      ...errors(...COMMON_ERRORS),
    }),
  },
  '/api/v1/openapi.json': {
    get: op('read', 'getOpenApi', 'This document', {
      200: json({ type: 'object' }),
      ...errors(...COMMON_ERRORS),
    }),
  },
  '/metrics': {
    get: op('read', 'getMetrics', 'Prometheus metrics (text exposition format)', {
      200: { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } },
      ...errors(...COMMON_ERRORS),
    }),
  },
  '/api/v1/neighbors': {
    get: op('read', 'listNeighbors', 'Every neighbour with state and route counts', {
      200: json(arrayOf(ref('Neighbor'))),
      ...errors(400, ...COMMON_ERRORS),
    }),
    post: op(
      'write',
      'addNeighbor',
      'Add a neighbour at runtime (stored durably)',
      { 201: json(ref('Neighbor'), 'Created'), ...errors(400, 409, 503, ...COMMON_ERRORS) },
      { requestBody: { required: true, content: { 'application/json': { schema: ref('NeighborInput') } } } },
    ),
  },
  '/api/v1/neighbors/{address}': {
    get: op(
      'read',
      'getNeighbor',
      'One neighbour',
      { 200: json(ref('Neighbor')), ...errors(400, 404, ...COMMON_ERRORS) },
      { parameters: [addressParam] },
    ),
    patch: op(
      'write',
      'changeNeighbor',
      'Change a neighbour (a description-only change never resets the session)',
      NEIGHBOR_CHANGED,
      {
        parameters: [addressParam],
        requestBody: { required: true, content: { 'application/json': { schema: ref('NeighborChange') } } },
      },
    ),
    delete: op(
      'write',
      'deleteNeighbor',
      'Delete a neighbour (NOTIFICATION Cease 3, peer de-configured)',
      { 204: { description: 'Deleted' }, ...errors(400, 404, 503, ...COMMON_ERRORS) },
      { parameters: [addressParam] },
    ),
  },
  '/api/v1/neighbors/{address}/enable': {
    post: op('write', 'enableNeighbor', 'Enable a neighbour', NEIGHBOR_CHANGED, { parameters: [addressParam] }),
  },
  '/api/v1/neighbors/{address}/disable': {
    post: op(
      'write',
      'disableNeighbor',
      'Disable a neighbour (NOTIFICATION Cease 2, administrative shutdown)',
      NEIGHBOR_CHANGED,
      { parameters: [addressParam] },
    ),
  },
  '/api/v1/neighbors/{address}/reset': {
    post: op(
      'write',
      'resetNeighbor',
      'Hard reset, or soft reset in (ROUTE-REFRESH) or out (re-send the Adj-RIB-Out)',
      { 200: json(obj({ ok: { const: true } })), ...errors(400, 404, 409, ...COMMON_ERRORS) },
      {
        parameters: [addressParam],
        requestBody: { required: false, content: { 'application/json': { schema: ref('ResetRequest') } } },
      },
    ),
  },
  '/api/v1/neighbors/{address}/revert': {
    post: op(
      'write',
      'revertNeighbor',
      'Drop every change made to the neighbour through the API: it is again what the configuration file says',
      {
        200: json(
          obj({
            address: { type: 'string' },
            neighbor: {
              oneOf: [ref('Neighbor'), { type: 'null' }],
              description: 'null: the file has no such neighbour',
            },
          }),
        ),
        ...errors(400, 404, 503, ...COMMON_ERRORS),
      },
      { parameters: [addressParam] },
    ),
  },
  '/api/v1/neighbors/{address}/adj-rib-in/{family}': {
    get: op(
      'read',
      'getAdjRibIn',
      'Paths accepted from the neighbour (its Adj-RIB-In)',
      { 200: json(ref('RoutePage')), ...errors(400, 404, ...COMMON_ERRORS) },
      {
        parameters: ADJ_RIB_PARAMS,
      },
    ),
  },
  '/api/v1/neighbors/{address}/adj-rib-out/{family}': {
    get: op(
      'read',
      'getAdjRibOut',
      'Routes advertised to the neighbour (its Adj-RIB-Out), as sent',
      { 200: json(ref('RoutePage')), ...errors(400, 404, ...COMMON_ERRORS) },
      {
        parameters: ADJ_RIB_PARAMS,
      },
    ),
  },
  '/api/v1/routes': {
    get: op(
      'read',
      'listRoutes',
      'Routes injected through the API',
      { 200: json(ref('InjectedRoutePage')), ...errors(400, ...COMMON_ERRORS) },
      {
        parameters: [
          { name: 'family', in: 'query', schema: ref('Family') },
          limitParam(DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT),
          cursorParam,
        ],
      },
    ),
    post: op(
      'write',
      'injectRoutes',
      'Inject one route or a batch (answers after the store committed it; re-posting a prefix replaces it)',
      { 200: json(obj({ accepted: { type: 'integer' } })), ...errors(400, 413, 503, ...COMMON_ERRORS) },
      {
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { oneOf: [ref('RouteInput'), ref('RouteBatch')] } } },
        },
      },
    ),
    delete: op(
      'write',
      'withdrawRoutes',
      'Withdraw injected routes by prefix (unknown prefixes are counted, not an error)',
      {
        200: json(obj({ withdrawn: { type: 'integer' }, not_found: { type: 'integer' } }, ['withdrawn'])),
        ...errors(400, 413, 503, ...COMMON_ERRORS),
      },
      { requestBody: { required: true, content: { 'application/json': { schema: ref('WithdrawRequest') } } } },
    ),
  },
  '/api/v1/rib/{family}': {
    get: op(
      'read',
      'getRib',
      'Loc-RIB paths, filtered and paged',
      { 200: json(ref('RoutePage')), ...errors(400, ...COMMON_ERRORS) },
      {
        parameters: [
          familyParam,
          prefixParam('an exact prefix (with longer: the prefix and every more-specific)'),
          { name: 'longer', in: 'query', schema: { type: 'boolean' } },
          {
            name: 'community',
            in: 'query',
            description: 'repeatable; every one must be on the path',
            schema: arrayOf({ type: 'string' }),
            explode: true,
          },
          {
            name: 'large_community',
            in: 'query',
            description: 'repeatable; every one must be on the path',
            schema: arrayOf({ type: 'string' }),
            explode: true,
          },
          {
            name: 'as_path',
            in: 'query',
            description:
              'JavaScript regular expression over the AS_PATH written as "65001 65002", run in linear time (no backreferences or lookarounds)',
            schema: { type: 'string', maxLength: 256 },
          },
          { name: 'from', in: 'query', description: 'neighbour address, or "local"', schema: { type: 'string' } },
          limitParam(DEFAULT_RIB_LIMIT, MAX_RIB_LIMIT),
          cursorParam,
        ],
      },
    ),
  },
  '/api/v1/rib/{family}/explain': {
    get: op(
      'read',
      'explainRib',
      'Every candidate path of a prefix with the best-path decision explained step by step',
      { 200: json(ref('Explain')), ...errors(400, 404, ...COMMON_ERRORS) },
      { parameters: [familyParam, prefixParam('the prefix', true)] },
    ),
  },
  '/api/v1/watch': {
    get: op(
      'read',
      'watch',
      'Server-Sent Events: route (best-path changes) and session (state changes); overflow when the client falls behind',
      {
        200: {
          description:
            'text/event-stream. `event: route` data {family, prefix, action: "best"|"withdraw", route, previous_from}; ' +
            '`event: session` data {neighbor, from, to, reason}; `event: overflow` data {message, limit}, then the ' +
            'stream ends; a ": heartbeat" comment every 15 s.',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        ...errors(400, ...COMMON_ERRORS),
      },
      {
        parameters: [
          { name: 'family', in: 'query', description: 'comma-separated families', schema: { type: 'string' } },
          {
            name: 'neighbor',
            in: 'query',
            description:
              'comma-separated neighbour addresses (or "local"): route events whose new or previous best path came from one, session events of one',
            schema: { type: 'string' },
          },
          {
            name: 'types',
            in: 'query',
            description: 'comma-separated event types: route, session (default both)',
            schema: { type: 'string' },
          },
        ],
      },
    ),
  },
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'tsbgp management API',
    version: '1',
    description:
      'An API-first BGP-4 speaker. Every error is {code, message, field?}; see docs/api.md. When [api] tokens_file ' +
      'is configured every request needs a bearer token; x-role names the role an operation needs.',
  },
  servers: [{ url: 'http://127.0.0.1:8179' }],
  security: [{ bearer: [] }],
  paths: { ...paths, ...SERVICE_PATHS },
  components: {
    schemas: { ...schemas, ...SERVICE_SCHEMAS },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
  },
} as const;
