// Route batches for `tsbgp route add|delete --file F` (`-` reads standard input), in one of two formats:
//
//   JSON: the body of POST /api/v1/routes — an array of route objects, or {"routes": [...]}, or one route object.
//         For delete, also an array of prefix strings or {"prefixes": [...]}.
//   Text: one route per line, the prefix first, then `key value` pairs; `#` starts a comment:
//
//         203.0.113.0/24 next-hop 192.0.2.1 as-path 65001,65002 med 10 community 65000:1,65000:2
//         2001:db8:100::/48 origin incomplete large-community 65000:1:1
//
//         keys: next-hop, origin, as-path (comma-separated), med, local-pref, community, large-community,
//         ext-community (comma-separated lists; a key may be repeated). For delete only the prefix is read.
//
// The CLI checks only the shape (so that a typo of a key names its line); the daemon checks the values and
// rejects the whole batch naming `routes[i].field`, which the CLI turns back into `FILE:LINE`.

import { UsageError } from './client.ts';

export type RouteObject = Record<string, unknown>;

export interface RouteBatch {
  routes: RouteObject[];
  /** Source line of each route (text files), or null for JSON. */
  lines: number[] | null;
}

const LIST_KEYS: Record<string, string> = {
  community: 'communities',
  communities: 'communities',
  'large-community': 'large_communities',
  large_communities: 'large_communities',
  'ext-community': 'ext_communities',
  ext_communities: 'ext_communities',
};
const SCALAR_KEYS: Record<string, string> = {
  'next-hop': 'next_hop',
  next_hop: 'next_hop',
  origin: 'origin',
  med: 'med',
  'local-pref': 'local_pref',
  local_pref: 'local_pref',
};
export const TEXT_KEYS = [
  'next-hop',
  'origin',
  'as-path',
  'med',
  'local-pref',
  'community',
  'large-community',
  'ext-community',
];

/** "65001 65002", "65001,65002" → [65001, 65002]; a non-number is an error message. */
export function parseAsPath(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,10}$/.test(p)) return `"${p}" is not an AS number`;
    out.push(Number(p));
  }
  return out;
}

function parseInteger(text: string): number | null {
  return /^\d{1,10}$/.test(text) ? Number(text) : null;
}

/** Parses the text format (see the module comment). Throws UsageError naming FILE:LINE. */
export function parseRouteText(text: string, source: string, prefixOnly: boolean): RouteBatch {
  const routes: RouteObject[] = [];
  const lines: number[] = [];
  const all = text.split('\n');
  for (let n = 0; n < all.length; n++) {
    const line = all[n]!.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const where = `${source}:${n + 1}`;
    const tokens = line.split(/\s+/);
    const route: RouteObject = { prefix: tokens[0] };
    if (!prefixOnly) {
      if ((tokens.length - 1) % 2 !== 0) {
        throw new UsageError(`${where}: expected "PREFIX [key value]..." (key "${tokens.at(-1)}" has no value)`);
      }
      for (let i = 1; i < tokens.length; i += 2) {
        const key = tokens[i]!;
        const value = tokens[i + 1]!;
        const list = LIST_KEYS[key];
        const scalar = SCALAR_KEYS[key];
        if (list !== undefined) {
          const have = (route[list] as string[] | undefined) ?? [];
          route[list] = [...have, ...value.split(',').filter((v) => v !== '')];
        } else if (key === 'as-path' || key === 'as_path') {
          const p = parseAsPath(value);
          if (typeof p === 'string') throw new UsageError(`${where}: as-path: ${p}`);
          route.as_path = p;
        } else if (scalar === 'med' || scalar === 'local_pref') {
          const v = parseInteger(value);
          if (v === null) throw new UsageError(`${where}: ${key}: "${value}" is not a non-negative integer`);
          route[scalar] = v;
        } else if (scalar !== undefined) {
          route[scalar] = value;
        } else {
          throw new UsageError(`${where}: unknown key "${key}" (expected ${TEXT_KEYS.join(', ')})`);
        }
      }
    }
    routes.push(route);
    lines.push(n + 1);
  }
  return { routes, lines };
}

/** Parses a route file, JSON or text (decided by the first character). */
export function parseRouteFile(text: string, source: string, prefixOnly: boolean): RouteBatch {
  const first = text.trimStart()[0];
  if (first !== '[' && first !== '{') return parseRouteText(text, source, prefixOnly);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  let list: unknown[];
  if (Array.isArray(doc)) list = doc;
  else if (doc && typeof doc === 'object' && Array.isArray((doc as { routes?: unknown }).routes)) {
    list = (doc as { routes: unknown[] }).routes;
  } else if (prefixOnly && doc && typeof doc === 'object' && Array.isArray((doc as { prefixes?: unknown }).prefixes)) {
    list = (doc as { prefixes: unknown[] }).prefixes;
  } else if (doc && typeof doc === 'object') list = [doc];
  else throw new UsageError(`${source}: expected an array of routes, {"routes": [...]} or one route object`);
  const routes = list.map((r, i): RouteObject => {
    if (typeof r === 'string' && prefixOnly) return { prefix: r };
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      throw new UsageError(`${source}: routes[${i}]: expected a route object`);
    }
    return prefixOnly ? { prefix: (r as RouteObject).prefix } : (r as RouteObject);
  });
  return { routes, lines: null };
}

/** "routes[12].next_hop" → "FILE:LINE: next_hop" context for an error the daemon reported about a batch. */
export function locateField(field: string | undefined, batch: RouteBatch, source: string): string | null {
  const m = field === undefined ? null : /^(?:routes|prefixes)\[(\d+)\](?:\.(.*))?$/.exec(field);
  if (!m) return null;
  const i = Number(m[1]);
  const where = batch.lines ? `${source}:${batch.lines[i] ?? '?'}` : `${source}: routes[${i}]`;
  return m[2] ? `${where}: ${m[2]}` : where;
}
