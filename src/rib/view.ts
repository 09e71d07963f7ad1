// RouteView: a path as the API shows it. Built on demand (queries, explain, best-change watchers), never stored.

import {
  type Family,
  formatCommunity,
  formatExtCommunity,
  formatLargeCommunity,
  formatPrefix,
  type PrefixKey,
} from '../wire/index.ts';
import type { Path } from './intern.ts';
import { LOCAL_PEER } from './intern.ts';
import type { RouteView } from './types.ts';

const ORIGIN_NAMES = ['igp', 'egp', 'incomplete'] as const;

export function routeView(
  family: Family,
  prefix: PrefixKey,
  path: Path,
  best: boolean,
  fromAddress: string,
  reason: string | undefined,
): RouteView {
  const src = path.src;
  const a = src.attributes();
  const asPath: number[] = [];
  for (const seg of a.asPath) for (const asn of seg.asns) asPath.push(asn);
  const view: RouteView = {
    prefix: formatPrefix(family, prefix),
    best,
    from: src.peer === LOCAL_PEER ? 'local' : fromAddress,
    next_hop: src.nextHop,
    origin: ORIGIN_NAMES[a.origin] ?? 'incomplete',
    as_path: asPath,
    med: a.med ?? null,
    local_pref: a.localPref ?? null,
    communities: a.communities?.map(formatCommunity) ?? [],
    large_communities: a.largeCommunities?.map(formatLargeCommunity) ?? [],
    ext_communities: a.extCommunities?.map(formatExtCommunity) ?? [],
  };
  if (reason !== undefined) view.reason = reason;
  return view;
}
