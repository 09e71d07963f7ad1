// RouteView of a route as advertised to one peer (GET /api/v1/neighbors/{address}/adj-rib-out/{family}): the
// exported attributes (our AS prepended towards eBGP, next hop self resolved, LOCAL_PREF only towards iBGP), not
// the Loc-RIB path they were made from. Built on demand, never stored.

import {
  type Family,
  formatCommunity,
  formatExtCommunity,
  formatLargeCommunity,
  formatPrefix,
  type PrefixKey,
} from '../wire/index.ts';
import type { ExportedRoute } from './export.ts';
import type { RouteView } from './types.ts';

const ORIGIN_NAMES = ['igp', 'egp', 'incomplete'] as const;

/** `from` is the address of the peer the route was learned from, or "local". */
export function exportedRouteView(family: Family, prefix: PrefixKey, e: ExportedRoute, from: string): RouteView {
  const a = e.attributes;
  const asPath: number[] = [];
  for (const seg of a.asPath) for (const asn of seg.asns) asPath.push(asn);
  return {
    prefix: formatPrefix(family, prefix),
    best: true,
    from,
    next_hop: e.nextHop,
    origin: ORIGIN_NAMES[a.origin] ?? 'incomplete',
    as_path: asPath,
    med: a.med ?? null,
    local_pref: a.localPref ?? null,
    communities: a.communities?.map(formatCommunity) ?? [],
    large_communities: a.largeCommunities?.map(formatLargeCommunity) ?? [],
    ext_communities: a.extCommunities?.map(formatExtCommunity) ?? [],
  };
}
