// `tsbgp rib [FAMILY] [filters] [--explain]`: the Loc-RIB through GET /api/v1/rib/{family} (following next_cursor
// with --all), or one prefix's candidates with the decision explained (GET /api/v1/rib/{family}/explain).

import type { RouteView } from '../rib/types.ts';
import {
  CLIENT_OPTIONS,
  client,
  FAMILY_NAMES,
  type FamilyName,
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
import { type ExplainJson, formatExplain, formatRoutes } from './format.ts';

interface Page {
  total: number;
  routes: RouteView[];
  next_cursor: string | null;
}

export async function cmdRib(args: string[], help: (topic: string[]) => number): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...CLIENT_OPTIONS,
      prefix: { type: 'string', short: 'p' },
      longer: { type: 'boolean' },
      community: { type: 'string', multiple: true },
      'large-community': { type: 'string', multiple: true },
      'as-path': { type: 'string' },
      from: { type: 'string' },
      limit: { type: 'string' },
      all: { type: 'boolean' },
      explain: { type: 'boolean' },
    },
    'rib',
  );
  if (values.help) return help(['rib']);
  noMore(positionals, 1, 'rib');
  const prefix = str(values, 'prefix');
  const limit = positiveInt(str(values, 'limit'), '--limit', 'rib');
  let families: FamilyName[];
  if (positionals[0] !== undefined) families = [family(positionals[0], 'rib')];
  else if (prefix !== undefined) families = [prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast'];
  else families = [...FAMILY_NAMES];
  if (values.longer && prefix === undefined) usage('--longer needs --prefix', 'rib');
  const api = client(values);

  if (values.explain) {
    if (prefix === undefined) usage('--explain needs --prefix PREFIX', 'rib');
    for (const o of ['longer', 'community', 'large-community', 'as-path', 'from', 'limit', 'all']) {
      if (values[o] !== undefined) usage(`--explain takes no --${o}`, 'rib');
    }
    const x = await api.get<ExplainJson>(
      `/api/v1/rib/${families[0]}/explain?${new URLSearchParams({ prefix }).toString()}`,
    );
    if (values.json) printJson(x);
    else print(formatExplain(x));
    return 0;
  }

  const q = new URLSearchParams();
  if (prefix !== undefined) q.set('prefix', prefix);
  if (values.longer) q.set('longer', 'true');
  for (const c of strings(values, 'community')) q.append('community', c);
  for (const c of strings(values, 'large-community')) q.append('large_community', c);
  const asPath = str(values, 'as-path');
  if (asPath !== undefined) q.set('as_path', asPath);
  const from = str(values, 'from');
  if (from !== undefined) q.set('from', from);
  if (limit !== undefined) q.set('limit', String(limit));

  const results: Record<string, Page> = {};
  for (const f of families) {
    results[f] = await getPages<Page>(api, `/api/v1/rib/${f}`, q, Boolean(values.all));
  }
  if (values.json) printJson(families.length === 1 ? results[families[0]!] : results);
  else print(families.map((f) => formatRoutes(f, results[f]!)).join('\n\n'));
  return 0;
}
