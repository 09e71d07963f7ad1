// `tsbgp route add|delete|list`: routes injected through POST/DELETE/GET /api/v1/routes. One route from the
// command line, or a batch from --file (JSON or text, see routes-file.ts; `-` is standard input) sent as one
// request, so the daemon accepts or rejects it as a whole.

import { readFileSync } from 'node:fs';
import type { InjectedRouteView } from '../daemon/types.ts';
import { ApiAnswerError, CliError, ExitCode, UsageError } from './client.ts';
import {
  CLIENT_OPTIONS,
  client,
  family,
  getPages,
  noMore,
  parse,
  positiveInt,
  print,
  printJson,
  str,
  strings,
  usage,
} from './common.ts';
import { formatInjected } from './format.ts';
import { locateField, parseAsPath, parseRouteFile, type RouteBatch, TEXT_KEYS } from './routes-file.ts';

/** The API takes at most this many routes per request; a larger file goes in several. */
const MAX_BATCH = 1_000_000;
/** A batch of a million routes is validated, committed to disk and originated before the answer. */
const WRITE_TIMEOUT_MS = 10 * 60_000;

function readBatchFile(file: string, prefixOnly: boolean): RouteBatch {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--file: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const batch = parseRouteFile(text, file === '-' ? '<stdin>' : file, prefixOnly);
  if (batch.routes.length === 0) throw new UsageError(`--file: ${file} holds no routes`);
  return batch;
}

/** Sends `routes` in requests of at most MAX_BATCH; an error names the file line of the route it is about. */
async function sendBatches<T extends Record<string, number>>(
  send: (routes: Record<string, unknown>[]) => Promise<T>,
  batch: RouteBatch,
  source: string | null,
): Promise<T> {
  const total = {} as Record<string, number>;
  for (let start = 0; start < batch.routes.length; start += MAX_BATCH) {
    const chunk = batch.routes.slice(start, start + MAX_BATCH);
    let r: T;
    try {
      r = await send(chunk);
    } catch (e) {
      if (e instanceof ApiAnswerError && source !== null) {
        const shifted = e.field?.replace(
          /^(routes|prefixes)\[(\d+)\]/,
          (_m, k: string, i: string) => `${k}[${Number(i) + start}]`,
        );
        const where = locateField(shifted, batch, source);
        if (where) {
          const msg = e.apiMessage.replace(/^(routes|prefixes)\[\d+\](\.\w+)?: /, '');
          throw new CliError(`${where}: ${msg} (HTTP ${e.status} ${e.code ?? ''})`.replace(' )', ')'));
        }
      }
      if (start > 0 && e instanceof CliError) {
        throw new CliError(`${e.message}; the first ${start} routes were applied`, e.exitCode);
      }
      throw e;
    }
    for (const [k, v] of Object.entries(r)) total[k] = (total[k] ?? 0) + v;
  }
  return total as T;
}

export async function cmdRoute(args: string[], help: (topic: string[]) => number): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...CLIENT_OPTIONS,
      file: { type: 'string', short: 'f' },
      'next-hop': { type: 'string' },
      origin: { type: 'string' },
      'as-path': { type: 'string' },
      med: { type: 'string' },
      'local-pref': { type: 'string' },
      community: { type: 'string', multiple: true },
      'large-community': { type: 'string', multiple: true },
      'ext-community': { type: 'string', multiple: true },
      limit: { type: 'string' },
      all: { type: 'boolean' },
    },
    'route',
  );
  if (values.help) return help(['route']);
  const sub = positionals[0];
  const file = str(values, 'file');
  const json = values.json === true;
  // The route attribute options: the keys of a text route file, spelled the same.
  const attrOptions = TEXT_KEYS;

  if (sub === 'add') {
    const api = client(values);
    if (file !== undefined) {
      noMore(positionals, 1, 'route');
      for (const o of attrOptions) if (values[o] !== undefined) usage(`--${o} cannot be combined with --file`, 'route');
      const batch = readBatchFile(file, false);
      const r = await sendBatches(
        async (routes) =>
          (await api.request<{ accepted: number }>('POST', '/api/v1/routes', { routes }, WRITE_TIMEOUT_MS)).body,
        batch,
        file === '-' ? '<stdin>' : file,
      );
      if (json) printJson(r);
      else print(`accepted ${r.accepted} ${r.accepted === 1 ? 'route' : 'routes'}`);
      return 0;
    }
    const prefix = positionals[1];
    if (!prefix) usage('route add needs a PREFIX (or --file FILE)', 'route');
    noMore(positionals, 2, 'route');
    const route: Record<string, unknown> = { prefix };
    const nh = str(values, 'next-hop');
    if (nh !== undefined) route.next_hop = nh;
    const origin = str(values, 'origin');
    if (origin !== undefined) route.origin = origin;
    const asPath = str(values, 'as-path');
    if (asPath !== undefined) {
      const p = parseAsPath(asPath);
      if (typeof p === 'string') usage(`--as-path: ${p}`, 'route');
      route.as_path = p;
    }
    for (const [opt, key] of [
      ['med', 'med'],
      ['local-pref', 'local_pref'],
    ] as const) {
      const v = str(values, opt);
      if (v === undefined) continue;
      if (!/^\d{1,10}$/.test(v)) usage(`--${opt} must be a non-negative integer`, 'route');
      route[key] = Number(v);
    }
    for (const [opt, key] of [
      ['community', 'communities'],
      ['large-community', 'large_communities'],
      ['ext-community', 'ext_communities'],
    ] as const) {
      const list = strings(values, opt).flatMap((c) => c.split(',').filter((x) => x !== ''));
      if (list.length > 0) route[key] = list;
    }
    const r = (await api.request<{ accepted: number }>('POST', '/api/v1/routes', route)).body;
    if (json) printJson(r);
    else print(`accepted ${prefix}`);
    return 0;
  }

  if (sub === 'delete' || sub === 'del' || sub === 'withdraw') {
    for (const o of attrOptions) if (values[o] !== undefined) usage(`route delete takes no --${o}`, 'route');
    const api = client(values);
    let batch: RouteBatch;
    let source: string | null = null;
    if (file !== undefined) {
      noMore(positionals, 1, 'route');
      batch = readBatchFile(file, true);
      source = file === '-' ? '<stdin>' : file;
    } else {
      if (positionals.length < 2) usage('route delete needs a PREFIX (or --file FILE)', 'route');
      batch = { routes: positionals.slice(1).map((p) => ({ prefix: p })), lines: null };
    }
    const r = await sendBatches(
      async (routes) =>
        (
          await api.request<{ withdrawn: number; not_found?: number }>(
            'DELETE',
            '/api/v1/routes',
            { prefixes: routes.map((x) => x.prefix) },
            WRITE_TIMEOUT_MS,
          )
        ).body as { withdrawn: number; not_found: number },
      batch,
      source,
    );
    if (json) printJson(r);
    else {
      const nf = r.not_found ?? 0;
      print(`withdrew ${r.withdrawn} ${r.withdrawn === 1 ? 'route' : 'routes'}${nf > 0 ? `; ${nf} not found` : ''}`);
    }
    return 0;
  }

  if (sub === 'list' || sub === 'ls' || sub === undefined) {
    noMore(positionals, 2, 'route');
    const api = client(values);
    const q = new URLSearchParams();
    if (positionals[1] !== undefined) q.set('family', family(positionals[1], 'route'));
    const limit = positiveInt(str(values, 'limit'), '--limit', 'route');
    if (limit !== undefined) q.set('limit', String(limit));
    type Page = { total: number; routes: InjectedRouteView[]; next_cursor: string | null };
    const first = await getPages<Page>(api, '/api/v1/routes', q, Boolean(values.all));
    if (json) printJson(first);
    else print(formatInjected(first));
    return 0;
  }
  throw new CliError(
    `unknown route command "${sub}" (expected add, delete or list)\nRun 'tsbgp help route' for usage.`,
    ExitCode.USAGE,
  );
}
