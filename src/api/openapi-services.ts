// The OpenAPI description of the services and processes endpoints (routes-services.ts), merged into the document of
// openapi.ts. Kept apart so the issue-5 endpoints live next to each other; the same agreement tests apply (every path
// here is registered and in docs/api.md's endpoint table).

import { arrayOf, errors, type Json, json, nullable, obj, op, ref } from './openapi-builders.ts';

const nameParam: Json = {
  name: 'name',
  in: 'path',
  required: true,
  description: 'the service name ([[services]] name)',
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
};
const withName = (o: Json): Json => ({ ...o, parameters: [nameParam] });

const status = { enum: ['ok', 'warning', 'failed'] };

const serviceProps: Record<string, Json> = {
  name: { type: 'string' },
  mode: { enum: ['prefixes', 'discover'] },
  state: { enum: ['init', 'rising', 'up', 'warning', 'falling', 'down', 'drained'] },
  health: { enum: ['init', 'rising', 'up', 'warning', 'falling', 'down'] },
  announced: { type: 'boolean' },
  prefixes: arrayOf({ type: 'string' }),
  announcement: { oneOf: [ref('ServiceAnnouncement'), { type: 'null' }] },
  overridden: arrayOf(obj({ prefix: { type: 'string' }, by: { type: 'string' } })),
  drained: obj({ file: { type: 'boolean' }, api: { type: 'boolean' }, since: nullable('string') }),
  damping: obj({
    enabled: { type: 'boolean' },
    penalty: { type: 'integer' },
    suppressed: { type: 'boolean' },
    reuse_at: nullable('string'),
  }),
  counters: obj({
    passes: { type: 'integer' },
    failures: { type: 'integer' },
    ok: { type: 'integer' },
    not_ok: { type: 'integer' },
  }),
  rise: { type: 'integer' },
  fall: { type: 'integer' },
  withdraw_pending_until: nullable('string'),
  last_check: { oneOf: [ref('CheckResult'), { type: 'null' }] },
};

export const SERVICE_SCHEMAS: Record<string, Json> = {
  ServiceAnnouncement: obj({
    next_hop: { type: 'string' },
    med: nullable('integer'),
    local_pref: nullable('integer'),
    as_path_prepend: { type: 'integer', description: 'extra copies of our AS towards eBGP neighbours' },
    communities: arrayOf({ type: 'string' }),
    large_communities: arrayOf({ type: 'string' }),
  }),
  CheckResult: obj({
    at: { type: 'string', format: 'date-time' },
    status,
    detail: { type: 'string' },
    duration_ms: { type: 'integer' },
    results: arrayOf(
      obj({ check: { type: 'string' }, status, detail: { type: 'string' }, duration_ms: { type: 'integer' } }),
    ),
  }),
  Service: obj(serviceProps),
  ServiceDetail: {
    allOf: [
      ref('Service'),
      obj(
        {
          history: arrayOf(
            obj({
              at: { type: 'string', format: 'date-time' },
              from: { type: 'string' },
              to: { type: 'string' },
              announced: { type: 'boolean' },
              reason: { type: 'string' },
            }),
          ),
          members: arrayOf(ref('Service')),
        },
        ['history'],
      ),
    ],
  },
  Process: obj({
    name: { type: 'string' },
    run: { oneOf: [{ type: 'string' }, arrayOf({ type: 'string' })] },
    encoder: { enum: ['text', 'json'] },
    neighbors: arrayOf({ type: 'string' }),
    pid: nullable('integer'),
    state: { enum: ['running', 'restarting', 'stopped', 'gave-up'] },
    starts: { type: 'integer' },
    respawns: { type: 'integer' },
    commands: obj({ ok: { type: 'integer' }, error: { type: 'integer' } }),
    routes: { type: 'integer' },
    dropped: { type: 'integer' },
    last_error: nullable('string'),
    last_exit: {
      oneOf: [
        obj({ code: nullable('integer'), signal: nullable('string'), at: { type: 'string', format: 'date-time' } }),
        { type: 'null' },
      ],
    },
  }),
};

const COMMON = [401, 403, 500];

export const SERVICE_PATHS: Record<string, Record<string, Json>> = {
  '/api/v1/services': {
    get: op('read', 'listServices', 'Every service: state, announcement, last check, drain and damping', {
      200: json(arrayOf(ref('Service'))),
      ...errors(400, ...COMMON),
    }),
  },
  '/api/v1/services/{name}': {
    get: withName(
      op('read', 'getService', 'One service with its history of transitions (and discovered members)', {
        200: json(ref('ServiceDetail')),
        ...errors(400, 404, ...COMMON),
      }),
    ),
  },
  '/api/v1/services/{name}/drain': {
    post: withName(
      op('write', 'drainService', 'Drain a service: withdraw (or RFC 8326 graceful shutdown first)', {
        200: json(ref('ServiceDetail')),
        ...errors(400, 404, ...COMMON),
      }),
    ),
  },
  '/api/v1/services/{name}/undrain': {
    post: withName(
      op('write', 'undrainService', 'Undrain a service: announced again as soon as it is healthy', {
        200: json(ref('ServiceDetail')),
        ...errors(400, 404, ...COMMON),
      }),
    ),
  },
  '/api/v1/processes': {
    get: op('read', 'listProcesses', 'Every ExaBGP helper program: pid, state, respawns, commands, routes', {
      200: json(arrayOf(ref('Process'))),
      ...errors(400, ...COMMON),
    }),
  },
};
