// RouteView: a path as the API shows it, from the Loc-RIB or as exported to one peer. Built on demand (queries,
// explain, best-change watchers, Adj-RIB-Out reads), never stored.

import {
  type Family,
  formatCommunity,
  formatExtCommunity,
  formatLargeCommunity,
  formatPrefix,
  type PathAttributes,
  type PrefixKey,
} from '../wire/index.ts';
import type { ExportedRoute } from './export.ts';
import type { Path } from './intern.ts';
import { LOCAL_PEER } from './intern.ts';
import type { RouteView } from './types.ts';

const ORIGIN_NAMES = ['igp', 'egp', 'incomplete'] as const;

/** The view of one route: its attributes and next hop as given, attributed to `from` (a peer address or "local"). */
export function attributesView(
  family: Family,
  prefix: PrefixKey,
  a: PathAttributes,
  nextHop: string,
  best: boolean,
  from: string,
): RouteView {
  const asPath: number[] = [];
  for (const seg of a.asPath) for (const asn of seg.asns) asPath.push(asn);
  return {
    prefix: formatPrefix(family, prefix),
    best,
    from,
    next_hop: nextHop,
    origin: ORIGIN_NAMES[a.origin] ?? 'incomplete',
    as_path: asPath,
    med: a.med ?? null,
    local_pref: a.localPref ?? null,
    communities: a.communities?.map(formatCommunity) ?? [],
    large_communities: a.largeCommunities?.map(formatLargeCommunity) ?? [],
    ext_communities: a.extCommunities?.map(formatExtCommunity) ?? [],
  };
}

/** A Loc-RIB path. */
export function routeView(
  family: Family,
  prefix: PrefixKey,
  path: Path,
  best: boolean,
  fromAddress: string,
  reason: string | undefined,
): RouteView {
  const src = path.src;
  const from = src.peer === LOCAL_PEER ? 'local' : fromAddress;
  const view = attributesView(family, prefix, src.attributes(), src.nextHop, best, from);
  if (reason !== undefined) view.reason = reason;
  return view;
}

/**
 * A route as advertised to one peer (GET /api/v1/neighbors/{address}/adj-rib-out/{family}): the exported attributes
 * (our AS prepended towards eBGP, next hop self resolved, LOCAL_PREF only towards iBGP), not the Loc-RIB path they
 * were made from. `from` is the address of the peer the route was learned from, or "local".
 */
export function exportedRouteView(family: Family, prefix: PrefixKey, e: ExportedRoute, from: string): RouteView {
  return attributesView(family, prefix, e.attributes, e.nextHop, true, from);
}
