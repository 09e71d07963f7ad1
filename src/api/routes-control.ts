// The write half of the HTTP API (issue 3): runtime neighbours, route injection, per-neighbour Adj-RIB-In/Out.
// docs/api.md documents every endpoint here; keep the two in step.
//
// Handlers only parse the HTTP request (path, query, body shape) and call one DaemonControl method; the daemon
// validates the content, commits it to the state store and applies it synchronously on its serial control path, so
// a 2xx answer means the change is durable, and a 4xx means nothing changed. Every route declares its role
// (`config.role`: GET is read, everything else write) for the auth hook.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeAddress } from '../daemon/config.ts';
import { ControlError, type ControlErrorCode } from '../daemon/errors.ts';
import { type DaemonApi, type DaemonControl, type PageQuery, RESET_MODES, type ResetMode } from '../daemon/types.ts';
import { FAMILIES, type Family, formatPrefix, type PrefixKey, parsePrefix } from '../wire/index.ts';
import { ApiError, type ApiErrorCode } from './errors.ts';

const PREFIX = '/api/v1';
/** Routes returned by one listing unless ?limit= says otherwise. */
export const DEFAULT_PAGE_LIMIT = 10_000;
export const MAX_PAGE_LIMIT = 1_000_000;

// Every daemon error code is an API error code (checked at compile time).
const _codesAreApiCodes: ControlErrorCode extends ApiErrorCode ? true : never = true;
void _codesAreApiCodes;

type Query = Record<string, string | string[] | undefined>;

/** True when the daemon implements the write surface (the real Speaker does; read-only test fakes may not). */
export function isDaemonControl(d: DaemonApi): d is DaemonApi & DaemonControl {
  return typeof (d as Partial<DaemonControl>).injectRoutes === 'function';
}

function checkQuery(query: Query, allowed: readonly string[]): void {
  for (const k of Object.keys(query)) {
    if (!allowed.includes(k)) {
      const known = allowed.length > 0 ? ` (known: ${allowed.join(', ')})` : '';
      throw new ApiError('bad_request', `unknown query parameter "${k}"${known}`, k);
    }
  }
}

function single(query: Query, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) throw new ApiError('bad_request', `${name}: give it once`, name);
  return v;
}

function parseFamily(text: string, field = 'family'): Family {
  if ((FAMILIES as readonly string[]).includes(text)) return text as Family;
  throw new ApiError('bad_family', `unknown family "${text}": expected one of ${FAMILIES.join(', ')}`, field);
}

function parseAddress(text: string): string {
  const address = normalizeAddress(text);
  if (!address) throw new ApiError('bad_address', `"${text}" is not an IPv4 or IPv6 address`, 'address');
  return address;
}

function parsePrefixOf(text: string, family: Family, field: string): PrefixKey {
  let p: ReturnType<typeof parsePrefix>;
  try {
    p = parsePrefix(text, true);
  } catch (e) {
    throw new ApiError('bad_prefix', `${field}: ${(e as Error).message}`, field);
  }
  if (p.family !== family) {
    throw new ApiError('bad_prefix', `${field}: ${formatPrefix(p.family, p.key)} is not an ${family} prefix`, field);
  }
  return p.key;
}

function page(query: Query): PageQuery {
  const limitText = single(query, 'limit');
  const cursor = single(query, 'cursor');
  let limit = DEFAULT_PAGE_LIMIT;
  if (limitText !== undefined) {
    if (!/^\d{1,7}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_PAGE_LIMIT) {
      throw new ApiError('bad_request', `limit: expected an integer 1..${MAX_PAGE_LIMIT}`, 'limit');
    }
    limit = Number(limitText);
  }
  return cursor === undefined ? { limit } : { limit, cursor };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Runs a daemon operation, turning its ControlError into the API error of the same code. */
function control<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw apiErrorOf(err);
  }
}

async function controlAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw apiErrorOf(err);
  }
}

function apiErrorOf(err: unknown): unknown {
  return err instanceof ControlError ? new ApiError(err.code, err.message, err.field) : err;
}

/**
 * A body too large for `[api] body_limit` is a 413; everything else goes to the server's error handler. (A route
 * error handler, because fastify rejects the body before the handler runs.)
 */
function errorHandlerOf(app: FastifyInstance, limit: number) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const e = new ApiError('payload_too_large', `request body larger than ${limit} bytes ([api] body_limit)`, 'body');
      reply.code(e.status).send(e.toJSON());
      return;
    }
    // The body could not be parsed (not JSON, empty, a forbidden __proto__ key, an unsupported content type):
    // a 400 that names the body, like every other rejected request field.
    if (typeof err.code === 'string' && err.code.startsWith('FST_ERR_CTP_')) {
      const e = new ApiError('bad_request', `body: ${err.message}`, 'body');
      reply.code(e.status).send(e.toJSON());
      return;
    }
    return app.errorHandler(err, req, reply);
  };
}

/** Registers the write endpoints (and the Adj-RIB reads) on `app`, if `daemon` implements DaemonControl. */
export function registerControlRoutes(app: FastifyInstance, daemon: DaemonApi): void {
  if (!isDaemonControl(daemon)) return;
  const d = daemon;
  const write = {
    config: { role: 'write' as const },
    bodyLimit: d.apiBodyLimit,
    errorHandler: errorHandlerOf(app, d.apiBodyLimit),
  };
  const read = { config: { role: 'read' as const } };

  // ---------------------------------------------------------------------------------------------------------------
  // Neighbours

  app.post(`${PREFIX}/neighbors`, write, async (req, reply) => {
    checkQuery(req.query as Query, []);
    const view = control(() => d.addNeighbor(req.body));
    reply.code(201);
    return view;
  });

  app.patch<{ Params: { address: string } }>(`${PREFIX}/neighbors/:address`, write, async (req) => {
    checkQuery(req.query as Query, []);
    const address = parseAddress(req.params.address);
    return control(() => d.changeNeighbor(address, req.body));
  });

  app.delete<{ Params: { address: string } }>(`${PREFIX}/neighbors/:address`, write, async (req, reply) => {
    checkQuery(req.query as Query, []);
    const address = parseAddress(req.params.address);
    control(() => d.deleteNeighbor(address));
    reply.code(204).send();
  });

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post<{ Params: { address: string } }>(`${PREFIX}/neighbors/:address/${action}`, write, async (req) => {
      checkQuery(req.query as Query, []);
      const address = parseAddress(req.params.address);
      return control(() => d.setNeighborEnabled(address, enabled));
    });
  }

  app.post<{ Params: { address: string } }>(`${PREFIX}/neighbors/:address/reset`, write, async (req) => {
    checkQuery(req.query as Query, []);
    const address = parseAddress(req.params.address);
    let mode: ResetMode = 'hard';
    const body = req.body;
    if (body !== undefined && body !== null) {
      if (!isObject(body))
        throw new ApiError('bad_request', 'expected {"mode": "hard" | "soft-in" | "soft-out"}', 'body');
      for (const k of Object.keys(body)) {
        if (k !== 'mode') throw new ApiError('bad_request', `${k}: unknown key (expected "mode")`, k);
      }
      if (body.mode !== undefined) {
        if (!(RESET_MODES as readonly unknown[]).includes(body.mode)) {
          throw new ApiError('bad_request', `mode: expected one of ${RESET_MODES.join(', ')}`, 'mode');
        }
        mode = body.mode as ResetMode;
      }
    }
    control(() => d.resetNeighbor(address, mode));
    return { ok: true };
  });

  app.post<{ Params: { address: string } }>(`${PREFIX}/neighbors/:address/revert`, write, async (req) => {
    checkQuery(req.query as Query, []);
    const address = parseAddress(req.params.address);
    const neighbor = control(() => d.revertNeighbor(address));
    return { address, neighbor };
  });

  for (const which of ['in', 'out'] as const) {
    app.get<{ Params: { address: string; family: string } }>(
      `${PREFIX}/neighbors/:address/adj-rib-${which}/:family`,
      read,
      async (req) => {
        const query = req.query as Query;
        checkQuery(query, ['prefix', 'limit', 'cursor']);
        const address = parseAddress(req.params.address);
        const family = parseFamily(req.params.family);
        const prefixText = single(query, 'prefix');
        const prefix = prefixText === undefined ? undefined : parsePrefixOf(prefixText, family, 'prefix');
        const p = page(query);
        return control(() =>
          which === 'in' ? d.adjRibIn(address, family, prefix, p) : d.adjRibOut(address, family, prefix, p),
        );
      },
    );
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Injected routes

  app.post(`${PREFIX}/routes`, write, async (req) => {
    checkQuery(req.query as Query, []);
    const body = req.body;
    if (!isObject(body)) {
      throw new ApiError('bad_request', 'expected a route object or {"routes": [route, …]}', 'body');
    }
    if ('routes' in body) {
      for (const k of Object.keys(body)) {
        if (k !== 'routes') throw new ApiError('bad_request', `${k}: unknown key next to "routes"`, k);
      }
      if (!Array.isArray(body.routes)) throw new ApiError('bad_request', 'routes: expected an array', 'routes');
      const routes = body.routes;
      return controlAsync(() => d.injectRoutes(routes, false));
    }
    return controlAsync(() => d.injectRoutes([body], true));
  });

  app.delete(`${PREFIX}/routes`, write, async (req) => {
    checkQuery(req.query as Query, []);
    const body = req.body;
    const shape = 'expected {"prefix": P}, {"prefixes": [P, …]} or {"routes": [{"prefix": P}, …]}';
    if (!isObject(body)) throw new ApiError('bad_request', shape, 'body');
    const keys = Object.keys(body);
    if (keys.length !== 1) throw new ApiError('bad_request', shape, keys.length === 0 ? 'body' : keys[1]);
    if ('prefix' in body) return control(() => d.withdrawRoutes([body.prefix], () => 'prefix'));
    if ('prefixes' in body) {
      if (!Array.isArray(body.prefixes)) throw new ApiError('bad_request', 'prefixes: expected an array', 'prefixes');
      const list = body.prefixes;
      return control(() => d.withdrawRoutes(list, (i) => `prefixes[${i}]`));
    }
    if ('routes' in body) {
      if (!Array.isArray(body.routes)) throw new ApiError('bad_request', 'routes: expected an array', 'routes');
      const list: unknown[] = new Array(body.routes.length);
      for (let i = 0; i < list.length; i++) {
        const r = body.routes[i] as unknown;
        if (!isObject(r)) throw new ApiError('bad_request', `routes[${i}]: expected {"prefix": P}`, `routes[${i}]`);
        list[i] = r.prefix;
      }
      return control(() => d.withdrawRoutes(list, (i) => `routes[${i}].prefix`));
    }
    throw new ApiError('bad_request', shape, keys[0]);
  });

  app.get(`${PREFIX}/routes`, read, async (req) => {
    const query = req.query as Query;
    checkQuery(query, ['family', 'limit', 'cursor']);
    const familyText = single(query, 'family');
    const family = familyText === undefined ? undefined : parseFamily(familyText);
    const p = page(query);
    return control(() => d.injectedRoutes(family, p));
  });
}
