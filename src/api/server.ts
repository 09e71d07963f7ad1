// The HTTP API (read-only part, issue 2): neighbours, the Loc-RIB per family, health. JSON over fastify.
//
// buildApi(daemon) returns a fastify instance that is not listening, so tests drive it with .inject() and no
// network; the daemon calls .listen() on it. Handlers only read through DaemonApi — every state change goes
// through the daemon's serial control path, never through here. Errors come from one registry (errors.ts).
// docs/api.md documents every endpoint; keep the two in step.

import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { normalizeAddress } from '../daemon/config.ts';
import type { DaemonApi, RibQuery } from '../daemon/types.ts';
import { FAMILIES, type Family, formatPrefix, type PrefixKey, parsePrefix } from '../wire/index.ts';
import { ApiError } from './errors.ts';

export const API_PREFIX = '/api/v1';
/** Routes returned by one GET /rib call unless ?limit= says otherwise. */
export const DEFAULT_RIB_LIMIT = 10_000;
export const MAX_RIB_LIMIT = 1_000_000;

export interface ApiOptions {
  logger?: FastifyBaseLogger;
}

type Query = Record<string, string | string[] | undefined>;

/** Rejects query parameters the endpoint does not know (a typo must not be silently ignored). */
function checkQuery(query: Query, allowed: readonly string[]): void {
  for (const k of Object.keys(query)) {
    if (!allowed.includes(k)) {
      const known = allowed.length > 0 ? ` (known: ${allowed.join(', ')})` : '';
      throw new ApiError('bad_request', `unknown query parameter "${k}"${known}`, k);
    }
  }
}

/** One value of a query parameter; a repeated parameter is an error. */
function single(query: Query, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) throw new ApiError('bad_request', `${name}: give it once`, name);
  return v;
}

function parseFamily(text: string): Family {
  if ((FAMILIES as readonly string[]).includes(text)) return text as Family;
  throw new ApiError('bad_family', `unknown family "${text}": expected one of ${FAMILIES.join(', ')}`, 'family');
}

function parsePrefixParam(text: string, family: Family, field: string): PrefixKey {
  let parsed: ReturnType<typeof parsePrefix>;
  try {
    parsed = parsePrefix(text, true);
  } catch (e) {
    throw new ApiError('bad_prefix', `${field}: ${(e as Error).message}`, field);
  }
  if (parsed.family !== family) {
    throw new ApiError(
      'bad_prefix',
      `${field}: ${formatPrefix(parsed.family, parsed.key)} is not an ${family} prefix`,
      field,
    );
  }
  return parsed.key;
}

function parseLimit(text: string): number {
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > MAX_RIB_LIMIT) {
    throw new ApiError('bad_request', `limit: expected an integer 1..${MAX_RIB_LIMIT}`, 'limit');
  }
  return Number(text);
}

/** Path segment → normalised address (RFC 5952 for IPv6, IPv4-mapped IPv6 as IPv4). */
function parseAddressParam(text: string): string {
  const address = normalizeAddress(text);
  if (!address) throw new ApiError('bad_address', `"${text}" is not an IPv4 or IPv6 address`, 'address');
  return address;
}

export function buildApi(daemon: DaemonApi, opts: ApiOptions = {}): FastifyInstance {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    // Per-request lines at info level would drown the BGP events; errors are still logged below.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) {
      reply.code(err.status).send(err.toJSON());
      return;
    }
    const e = err as { statusCode?: number; message?: string };
    // Errors fastify raises itself before a handler runs (e.g. a malformed URL) carry a 4xx statusCode.
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      reply.code(400).send(new ApiError('bad_request', e.message ?? 'bad request').toJSON());
      return;
    }
    req.log.error({ err }, 'API handler failed');
    reply.code(500).send(new ApiError('internal_error', 'internal error; see the daemon log').toJSON());
  });

  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError('not_found', `no endpoint ${req.method} ${req.url.split('?')[0]}`);
    reply.code(e.status).send(e.toJSON());
  });

  app.get(`${API_PREFIX}/health`, async (req) => {
    checkQuery(req.query as Query, []);
    return { status: 'ok', uptime_s: daemon.uptimeSeconds(), version: daemon.version };
  });

  app.get(`${API_PREFIX}/neighbors`, async (req) => {
    checkQuery(req.query as Query, []);
    return daemon.neighbors();
  });

  app.get<{ Params: { address: string } }>(`${API_PREFIX}/neighbors/:address`, async (req) => {
    checkQuery(req.query as Query, []);
    const address = parseAddressParam(req.params.address);
    const n = daemon.neighbor(address);
    if (!n) throw new ApiError('neighbor_not_found', `no neighbor ${address} is configured`, 'address');
    return n;
  });

  app.get<{ Params: { family: string } }>(`${API_PREFIX}/rib/:family`, async (req) => {
    const query = req.query as Query;
    checkQuery(query, ['prefix', 'limit', 'after']);
    const family = parseFamily(req.params.family);
    const prefixText = single(query, 'prefix');
    const limitText = single(query, 'limit');
    const afterText = single(query, 'after');
    const q: RibQuery = { limit: limitText === undefined ? DEFAULT_RIB_LIMIT : parseLimit(limitText) };
    if (prefixText !== undefined) q.prefix = parsePrefixParam(prefixText, family, 'prefix');
    if (afterText !== undefined) q.after = parsePrefixParam(afterText, family, 'after');
    return daemon.rib(family, q);
  });

  return app;
}
