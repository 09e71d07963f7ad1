// `tsbgp neighbor …`: list, show, add, set, delete, enable, disable, reset, revert, and the per-neighbour
// Adj-RIB-In / Adj-RIB-Out — each one request to the API.
//
// `add` and `set` take the keys of a [[neighbors]] table as options, spelled with dashes (`--hold-time 30`,
// `--families ipv4,ipv6`). A boolean key may stand alone (`--passive`), take a value (`--passive false`), or be
// negated (`--no-passive`); `set --unset KEY` puts a key back to what the configuration file says.

import type { RouteView } from '../rib/types.ts';
import { UsageError } from './client.ts';
import {
  CLIENT_OPTIONS,
  client,
  FAMILY_NAMES,
  family,
  noMore,
  parse,
  positiveInt,
  print,
  printJson,
  str,
  usage,
  type Values,
} from './common.ts';
import { formatNeighbor, formatNeighbors, formatRoutes, type NeighborJson } from './format.ts';

type KeyType = 'int' | 'bool' | 'string' | 'families';

/** [[neighbors]] keys as CLI options (dashes) → API keys (underscores). `address` is the positional. */
export const NEIGHBOR_OPTIONS: Record<string, KeyType> = {
  asn: 'int',
  description: 'string',
  'local-address': 'string',
  port: 'int',
  passive: 'bool',
  'hold-time': 'int',
  'connect-retry': 'int',
  families: 'families',
  'next-hop-ipv4': 'string',
  'next-hop-ipv6': 'string',
  enabled: 'bool',
  'route-reflector-client': 'bool',
  'add-path-receive': 'bool',
  'graceful-restart': 'bool',
  'restart-time': 'int',
};

const BOOL_WORDS: Record<string, boolean> = { true: true, yes: true, on: true, false: false, no: false, off: false };

interface KeyArgs {
  body: Record<string, unknown>;
  positionals: string[];
  values: Values;
}

/** Parses `add`/`set` arguments: neighbour keys, the client options, positionals. */
function parseKeys(args: string[], allowUnset: boolean): KeyArgs {
  const body: Record<string, unknown> = {};
  const positionals: string[] = [];
  const values: Values = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      if (a === '-h') values.help = true;
      else positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    const next = (): string => {
      if (inline !== undefined) return inline;
      const v = args[i + 1];
      if (v === undefined || v.startsWith('--')) usage(`--${name} needs a value`, 'neighbor');
      i++;
      return v;
    };
    if (name === 'help') {
      values.help = true;
      continue;
    }
    if (name === 'json') {
      values.json = true;
      continue;
    }
    if (name in CLIENT_OPTIONS) {
      values[name] = next();
      continue;
    }
    if (name === 'disabled') {
      body.enabled = false;
      continue;
    }
    if (name === 'unset' && allowUnset) {
      const key = next();
      if (!(key in NEIGHBOR_OPTIONS)) usage(`--unset: unknown neighbor key "${key}"`, 'neighbor');
      body[key.replaceAll('-', '_')] = null;
      continue;
    }
    const negated = name.startsWith('no-') ? name.slice(3) : null;
    if (negated !== null && NEIGHBOR_OPTIONS[negated] === 'bool') {
      body[negated.replaceAll('-', '_')] = false;
      continue;
    }
    const type = NEIGHBOR_OPTIONS[name];
    if (type === undefined) usage(`unknown option --${name}`, 'neighbor');
    const key = name.replaceAll('-', '_');
    if (type === 'bool') {
      const v = inline ?? args[i + 1];
      if (v !== undefined && v.toLowerCase() in BOOL_WORDS) {
        body[key] = BOOL_WORDS[v.toLowerCase()];
        if (inline === undefined) i++;
      } else if (inline !== undefined) {
        usage(`--${name}: expected true or false`, 'neighbor');
      } else {
        body[key] = true;
      }
      continue;
    }
    const v = next();
    if (type === 'int') {
      if (!/^\d{1,10}$/.test(v)) usage(`--${name} must be a non-negative integer`, 'neighbor');
      body[key] = Number(v);
    } else if (type === 'families') {
      body[key] = v
        .split(',')
        .filter((f) => f !== '')
        .map((f) => family(f, 'neighbor'));
    } else {
      body[key] = v;
    }
  }
  return { body, positionals, values };
}

function address(positionals: string[], sub: string): string {
  const a = positionals[1];
  if (!a) usage(`neighbor ${sub} needs an ADDRESS`, 'neighbor');
  return a;
}

/** The subcommand: the first argument that is neither an option nor the value of one. */
function firstPositional(args: string[]): string | undefined {
  const takesValue = new Set(['--api', '--token-file', '--ca', '--soft', '--limit', '--prefix', '-p']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (takesValue.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

const path = (addr: string, rest = '') => `/api/v1/neighbors/${encodeURIComponent(addr)}${rest}`;

export async function cmdNeighbor(args: string[], help: (topic: string[]) => number): Promise<number> {
  const sub = firstPositional(args) ?? 'list';
  if (sub === 'add' || sub === 'set') {
    const { body, positionals, values } = parseKeys(args, sub === 'set');
    if (values.help) return help(['neighbor']);
    const addr = address(positionals, sub);
    noMore(positionals, 2, 'neighbor');
    const api = client(values);
    let n: NeighborJson;
    if (sub === 'add') {
      if (body.asn === undefined) usage('neighbor add needs --asn N', 'neighbor');
      n = (await api.request<NeighborJson>('POST', '/api/v1/neighbors', { address: addr, ...body })).body;
    } else {
      if (Object.keys(body).length === 0) usage('neighbor set needs at least one --KEY VALUE', 'neighbor');
      n = (await api.request<NeighborJson>('PATCH', path(addr), body)).body;
    }
    if (values.json) printJson(n);
    else print(`${sub === 'add' ? 'added' : 'changed'} neighbor ${n.address} (AS ${n.asn}): ${n.state}`);
    return 0;
  }

  const { values, positionals } = parse(
    args,
    { ...CLIENT_OPTIONS, soft: { type: 'string' }, limit: { type: 'string' }, prefix: { type: 'string', short: 'p' } },
    'neighbor',
  );
  if (values.help) return help(['neighbor']);
  const api = client(values);
  const json = values.json === true;
  switch (sub) {
    case 'list':
    case 'ls': {
      noMore(positionals, 1, 'neighbor');
      const list = await api.get<NeighborJson[]>('/api/v1/neighbors');
      if (json) printJson(list);
      else print(formatNeighbors(list));
      return 0;
    }
    case 'show': {
      const addr = address(positionals, sub);
      noMore(positionals, 2, 'neighbor');
      const n = await api.get<NeighborJson>(path(addr));
      if (json) printJson(n);
      else print(formatNeighbor(n));
      return 0;
    }
    case 'delete':
    case 'del':
    case 'remove': {
      const addr = address(positionals, sub);
      noMore(positionals, 2, 'neighbor');
      await api.request('DELETE', path(addr));
      if (json) printJson({ deleted: addr });
      else print(`deleted neighbor ${addr}`);
      return 0;
    }
    case 'enable':
    case 'disable': {
      const addr = address(positionals, sub);
      noMore(positionals, 2, 'neighbor');
      const n = (await api.request<NeighborJson>('POST', path(addr, `/${sub}`))).body;
      if (json) printJson(n);
      else print(`${sub}d neighbor ${n.address}: ${n.state}`);
      return 0;
    }
    case 'reset': {
      const addr = address(positionals, sub);
      noMore(positionals, 2, 'neighbor');
      const soft = str(values, 'soft');
      if (soft !== undefined && soft !== 'in' && soft !== 'out') usage('--soft must be "in" or "out"', 'neighbor');
      const mode = soft === undefined ? 'hard' : `soft-${soft}`;
      const r = (await api.request<unknown>('POST', path(addr, '/reset'), { mode })).body;
      if (json) printJson(r);
      else print(`${mode} reset of neighbor ${addr} done`);
      return 0;
    }
    case 'revert': {
      const addr = address(positionals, sub);
      noMore(positionals, 2, 'neighbor');
      const r = (await api.request<{ neighbor: NeighborJson | null }>('POST', path(addr, '/revert'))).body;
      if (json) printJson(r);
      else
        print(
          r.neighbor
            ? `neighbor ${addr} is again as the configuration file says`
            : `neighbor ${addr} removed (not in the configuration file)`,
        );
      return 0;
    }
    case 'adj-in':
    case 'adj-out': {
      const addr = address(positionals, sub);
      noMore(positionals, 3, 'neighbor');
      const prefix = str(values, 'prefix');
      const fams = positionals[2]
        ? [family(positionals[2], 'neighbor')]
        : prefix !== undefined
          ? [prefix.includes(':') ? ('ipv6-unicast' as const) : ('ipv4-unicast' as const)]
          : [...FAMILY_NAMES];
      const limit = positiveInt(str(values, 'limit'), '--limit', 'neighbor');
      const results: Record<string, { total: number; routes: RouteView[] }> = {};
      for (const f of fams) {
        const q = new URLSearchParams();
        if (prefix !== undefined) q.set('prefix', prefix);
        if (limit !== undefined) q.set('limit', String(limit));
        const qs = q.size > 0 ? `?${q}` : '';
        results[f] = await api.get(path(addr, `/adj-rib-${sub === 'adj-in' ? 'in' : 'out'}/${f}${qs}`));
      }
      if (json) printJson(fams.length === 1 ? results[fams[0]!] : results);
      else print(fams.map((f) => formatRoutes(f, results[f]!)).join('\n\n'));
      return 0;
    }
    default:
      throw new UsageError(
        `unknown neighbor command "${sub}" (expected list, show, add, set, delete, enable, disable, reset, revert, adj-in, adj-out)\nRun 'tsbgp help neighbor' for usage.`,
      );
  }
}
