// The HTTP API: neighbours, the Loc-RIB (filters, cursor paging, explain), watch (SSE), health, metrics and
// the OpenAPI document; the write endpoints (routes-control.ts) register themselves here too. JSON over fastify.
//
// buildApi(daemon) returns a fastify instance that is not listening, so tests drive it with .inject() and no
// network; the daemon calls .listen() on it. Handlers only read through DaemonApi — every state change goes
// through the daemon's serial control path, never through here. Errors come from one registry (errors.ts).
// Every route declares `config.role` ('read' for GET, 'write' otherwise), which the token check enforces
// (auth.ts). docs/api.md and openapi.ts document every endpoint; a test keeps the three in step.

import { setFlagsFromString } from 'node:v8';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { normalizeAddress } from '../daemon/config.ts';
import type { DaemonApi } from '../daemon/types.ts';
import { CursorError, type RibFilter, type RibPage } from '../rib/query.ts';
import { parseCommunity, parseLargeCommunity } from '../wire/attr-communities.ts';
import { FAMILIES, type Family, formatPrefix, type PrefixKey, parsePrefix } from '../wire/index.ts';
import { registerAuth, type TokenStore } from './auth.ts';
import { ApiError } from './errors.ts';
import { DEFAULT_RIB_LIMIT, MAX_RIB_LIMIT } from './limits.ts';
import { ApiMetrics, health, LoopMonitor, registerMetrics } from './metrics.ts';
import { OPENAPI } from './openapi.ts';
import { registerControlRoutes } from './routes-control.ts';
import { registerServiceRoutes } from './routes-services.ts';
import { registerWatch, type WatchOptions } from './watch.ts';

export const API_PREFIX = '/api/v1';
export { DEFAULT_RIB_LIMIT, MAX_RIB_LIMIT };
/** Longest ?as_path= pattern accepted (a regular expression runs once per distinct attribute set). */
export const MAX_AS_PATH_REGEX = 256;

// ?as_path= patterns run on V8's linear-time engine (the `l` flag): with the default backtracking engine a pattern
// such as ^(\d+ ?)+X$ takes exponential time on a path of a few dozen ASNs, and one GET would freeze the event loop
// and with it every BGP session. The flag only makes `l` available; other regular expressions are unaffected.
setFlagsFromString('--enable-experimental-regexp-engine');

export interface ApiOptions {
  logger?: FastifyBaseLogger;
  /** Bearer tokens ([api] tokens_file); without them every request is allowed (loopback only, see config). */
  tokens?: TokenStore;
  /** PEM certificate and key ([api] tls_cert, tls_key): serve HTTPS. */
  https?: { cert: string | Buffer; key: string | Buffer };
  watch?: WatchOptions;
}

type Query = Record<string, string | string[] | undefined>;

export interface RegisteredRoute {
  method: string;
  url: string;
  role: 'read' | 'write' | undefined;
}

/** Every route of each instance buildApi made, as registered (for the OpenAPI agreement test). */
const routeLists = new WeakMap<FastifyInstance, RegisteredRoute[]>();

export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  return routeLists.get(app) ?? [];
}

/** Rejects query parameters the endpoint does not know (a typo must not be silently ignored). */
export function checkQuery(query: Query, allowed: readonly string[]): void {
  for (const k of Object.keys(query)) {
    if (!allowed.includes(k)) {
      const known = allowed.length > 0 ? ` (known: ${allowed.join(', ')})` : '';
      throw new ApiError('bad_request', `unknown query parameter "${k}"${known}`, k);
    }
  }
}

/** One value of a query parameter; a repeated parameter is an error. */
export function single(query: Query, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) throw new ApiError('bad_request', `${name}: give it once`, name);
  return v;
}

/** Every value of a repeatable query parameter. */
function many(query: Query, name: string): string[] {
  const v = query[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Every value of a repeated query key through `parse`; one it throws on is a bad_request naming the key. */
function manyParsed<T>(query: Query, name: string, parse: (text: string) => T): T[] {
  return many(query, name).map((text) => {
    try {
      return parse(text);
    } catch (e) {
      throw new ApiError('bad_request', `${name}: ${(e as Error).message}`, name);
    }
  });
}

export function parseFamily(text: string): Family {
  if ((FAMILIES as readonly string[]).includes(text)) return text as Family;
  throw new ApiError('bad_family', `unknown family "${text}": expected one of ${FAMILIES.join(', ')}`, 'family');
}

export function parsePrefixParam(text: string, family: Family, field: string): PrefixKey {
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

export function parseLimit(text: string | undefined, def = DEFAULT_RIB_LIMIT, max = MAX_RIB_LIMIT): number {
  if (text === undefined) return def;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new ApiError('bad_request', `limit: expected an integer 1..${max}`, 'limit');
  }
  return Number(text);
}

function parseBool(text: string | undefined, field: string): boolean {
  if (text === undefined) return false;
  if (text === '' || text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new ApiError('bad_request', `${field}: expected true or false`, field);
}

/** Path segment → normalised address (RFC 5952 for IPv6, IPv4-mapped IPv6 as IPv4). */
export function parseAddressParam(text: string, field = 'address'): string {
  const address = normalizeAddress(text);
  if (!address) throw new ApiError('bad_address', `"${text}" is not an IPv4 or IPv6 address`, field);
  return address;
}

const RIB_QUERY = ['prefix', 'longer', 'community', 'large_community', 'as_path', 'from', 'limit', 'cursor'] as const;

/** The Loc-RIB filters of GET /rib/{family}: every value checked, each error naming its parameter. */
function ribFilter(query: Query, family: Family): RibFilter {
  const filter: RibFilter = {};
  const prefix = single(query, 'prefix');
  if (prefix !== undefined) filter.prefix = parsePrefixParam(prefix, family, 'prefix');
  if (parseBool(single(query, 'longer'), 'longer')) {
    if (filter.prefix === undefined) throw new ApiError('bad_request', 'longer: needs ?prefix=', 'longer');
    filter.longer = true;
  }
  const communities = manyParsed(query, 'community', parseCommunity);
  if (communities.length > 0) filter.communities = communities;
  const large = manyParsed(query, 'large_community', parseLargeCommunity);
  if (large.length > 0) filter.largeCommunities = large;
  const asPath = single(query, 'as_path');
  if (asPath !== undefined) {
    if (asPath.length > MAX_AS_PATH_REGEX) {
      throw new ApiError('bad_request', `as_path: at most ${MAX_AS_PATH_REGEX} characters`, 'as_path');
    }
    try {
      filter.asPath = new RegExp(asPath, 'l');
    } catch (e) {
      const why = (e as Error).message.includes('linear time')
        ? `backreferences, lookarounds and large bounded repeats are not supported (the pattern must run in linear time): ${(e as Error).message}`
        : (e as Error).message;
      throw new ApiError('bad_request', `as_path: ${why}`, 'as_path');
    }
  }
  const from = single(query, 'from');
  if (from !== undefined) filter.from = from === 'local' ? 'local' : parseAddressParam(from, 'from');
  return filter;
}

export function buildApi(daemon: DaemonApi, opts: ApiOptions = {}): FastifyInstance {
  // The HTTPS variant of the instance has another server type parameter; nothing here depends on it.
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
    // Per-request lines at info level would drown the BGP events; errors are still logged below.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  const routes: RegisteredRoute[] = [];
  routeLists.set(app, routes);
  app.addHook('onRoute', (r) => {
    const role = (r.config as { role?: 'read' | 'write' } | undefined)?.role;
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method: m, url: r.url, role });
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

  if (opts.tokens) registerAuth(app, opts.tokens);

  const loop = new LoopMonitor();
  app.addHook('onClose', async () => loop.close());
  const metrics = new ApiMetrics(daemon, loop);
  registerMetrics(app, metrics);
  const read = { config: { role: 'read' } } as const;

  app.get(`${API_PREFIX}/health`, read, async (req) => {
    checkQuery(req.query as Query, []);
    return health(daemon, loop);
  });

  app.get(`${API_PREFIX}/openapi.json`, read, async (req) => {
    checkQuery(req.query as Query, []);
    return OPENAPI;
  });

  app.get(`${API_PREFIX}/neighbors`, read, async (req) => {
    checkQuery(req.query as Query, []);
    return daemon.neighbors();
  });

  app.get<{ Params: { address: string } }>(`${API_PREFIX}/neighbors/:address`, read, async (req) => {
    checkQuery(req.query as Query, []);
    const address = parseAddressParam(req.params.address);
    const n = daemon.neighbor(address);
    if (!n) throw new ApiError('neighbor_not_found', `no neighbor ${address} is configured`, 'address');
    return n;
  });

  app.get<{ Params: { family: string } }>(`${API_PREFIX}/rib/:family`, read, async (req) => {
    const query = req.query as Query;
    checkQuery(query, RIB_QUERY);
    const family = parseFamily(req.params.family);
    const filter = ribFilter(query, family);
    const page: RibPage = { limit: parseLimit(single(query, 'limit')) };
    const cursor = single(query, 'cursor');
    if (cursor !== undefined) page.cursor = cursor;
    try {
      return daemon.ribSearch(family, filter, page);
    } catch (e) {
      if (e instanceof CursorError) throw new ApiError('bad_request', `cursor: ${e.message}`, 'cursor');
      throw e;
    }
  });

  app.get<{ Params: { family: string } }>(`${API_PREFIX}/rib/:family/explain`, read, async (req) => {
    const query = req.query as Query;
    checkQuery(query, ['prefix']);
    const family = parseFamily(req.params.family);
    const text = single(query, 'prefix');
    if (text === undefined) throw new ApiError('bad_request', 'prefix: required', 'prefix');
    const key = parsePrefixParam(text, family, 'prefix');
    const x = daemon.explain(family, key);
    if (!x) {
      throw new ApiError('prefix_not_found', `${formatPrefix(family, key)} is not in the ${family} Loc-RIB`, 'prefix');
    }
    return x;
  });

  const watchers = registerWatch(app, daemon, opts.watch);
  metrics.addGauge('tsbgp_watch_clients', 'Clients connected to GET /api/v1/watch', () => watchers.clients.size);
  // The write endpoints and the per-neighbour Adj-RIBs (helper "control"): registered when the daemon implements them.
  registerControlRoutes(app, daemon);
  // Services and ExaBGP processes (issue 5).
  registerServiceRoutes(app, daemon);

  return app;
}
