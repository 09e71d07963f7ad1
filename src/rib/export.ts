// Export rules: whether the best path of a prefix goes to a given peer (canExport, cheap, asked per prefix), and
// what it looks like there (exportRoute, asked once per attribute set and pull).
//
// Rules (RFC 4271 §9.1.3, RFC 4456 §6, RFC 1997):
//   - never back to the peer it came from;
//   - NO_ADVERTISE: to nobody; NO_EXPORT / NO_EXPORT_SUBCONFED: not to eBGP peers (no confederations here);
//   - iBGP-learned to iBGP only by route reflection: from a client to every other iBGP peer, from a non-client to
//     clients only (RFC 4456 §6); ORIGINATOR_ID is set if absent and our cluster id prepended to CLUSTER_LIST;
//   - to eBGP: our ASN prepended, next hop self, LOCAL_PREF / ORIGINATOR_ID / CLUSTER_LIST removed, confederation
//     segments removed, non-transitive extended communities removed (RFC 4360 §6), MED removed unless the route is
//     our own (RFC 4271 §5.1.4 forbids passing on a MED received from a neighbouring AS; an iBGP-learned MED may
//     be one, so it is removed too, as BIRD does);
//   - to iBGP: next hop kept (local routes with next hop "self" get ours), LOCAL_PREF always present (100 when
//     unset), MED kept;
//   - a route whose AS_PATH already holds the eBGP peer's ASN is still sent (the receiver drops it, RFC 4271
//     §9.1.2); this is what BIRD does, and it keeps the export a function of the route alone;
//   - local routes with an explicit next hop keep it towards every peer (the operator chose it, as in ExaBGP);
//   - unrecognised optional transitive attributes pass with the Partial bit set (RFC 4271 §5, §9.1.4 of RFC 4271
//     and RFC 7606 §3); unrecognised non-transitive ones are not passed on;
//   - OTC (RFC 9234) passes unchanged; an IPv6 link-local next hop is never passed on (RFC 2545 §3: it only
//     means something on the link it was learned on);
//   - a local route may carry export restrictions (LocalExport, from LocalRoute.targets / prependToEbgp): sent only
//     to the listed peers, and with our AS prepended extra times towards eBGP peers only (an iBGP peer would see
//     its own AS in the path and drop the route, RFC 4271 §9.1.2).

import {
  type AsPathSegment,
  AsPathSegmentType,
  AttrFlag,
  type Family,
  numberToIPv4,
  type PathAttributes,
} from '../wire/index.ts';
import { type RouteSource, SourceFlag, SourceKind } from './intern.ts';

/** What the export rules need to know about a peer (both the one a route came from and the one it goes to). */
export interface ExportPeer {
  idx: number;
  ibgp: boolean;
  routeReflectorClient: boolean;
  /** The ASN we use towards this peer (prepended towards eBGP). */
  localAsn: number;
  routerId: number;
  /** Our next hop towards this peer per family; null when the session gives no usable one for the family. */
  selfIpv4: string | null;
  selfIpv6: string | null;
}

export interface ExportedRoute {
  attributes: PathAttributes;
  nextHop: string;
}

/**
 * Export restrictions of one local route (LocalRoute.targets and prependToEbgp), kept by the RIB per interned source
 * of such routes only, so ordinary routes pay nothing.
 */
export interface LocalExport {
  /** Ids of the peers the route goes to; null: every peer. */
  targets: ReadonlySet<string> | null;
  /** Extra copies of our AS in front of the AS path towards eBGP peers (after the one every eBGP export gets). */
  prependToEbgp: number;
}

/** Whether a local route with restrictions `x` goes to the peer with id `toId` (on top of canExport). */
export function localTargets(x: LocalExport, toId: string): boolean {
  return x.targets === null || x.targets.has(toId);
}

/** The maximum number of ASes in one AS_PATH segment (the count is one byte; RFC 4271 §4.3). */
const MAX_SEGMENT = 255;

function selfNextHop(to: ExportPeer, family: Family): string | null {
  return family === 'ipv4-unicast' ? to.selfIpv4 : to.selfIpv6;
}

/** Whether `src` (the best path of a prefix, learned from `from`) is advertised to `to`. */
export function canExport(src: RouteSource, from: ExportPeer, to: ExportPeer): boolean {
  if (src.peer === to.idx) return false;
  const flags = src.flags;
  if ((flags & SourceFlag.NO_ADVERTISE) !== 0) return false;
  if (to.ibgp) {
    // RFC 4456 §6: iBGP-learned routes are reflected from clients to everybody, from non-clients to clients.
    if (src.kind === SourceKind.IBGP && !from.routeReflectorClient && !to.routeReflectorClient) return false;
    if ((flags & SourceFlag.NEXT_HOP_SELF) !== 0 && selfNextHop(to, src.family) === null) return false;
    return true;
  }
  if ((flags & SourceFlag.NO_EXPORT) !== 0) return false;
  if (src.kind === SourceKind.LOCAL && (flags & SourceFlag.NEXT_HOP_SELF) === 0) return true;
  return selfNextHop(to, src.family) !== null;
}

/** AS_PATH with `asn` prepended: merged into a leading AS_SEQUENCE unless it is full (RFC 4271 §5.1.2 b). */
export function prependAs(path: readonly AsPathSegment[], asn: number): AsPathSegment[] {
  const first = path[0];
  if (first !== undefined && first.type === AsPathSegmentType.AS_SEQUENCE && first.asns.length < MAX_SEGMENT) {
    const out: AsPathSegment[] = [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [asn, ...first.asns] }];
    for (let i = 1; i < path.length; i++) out.push(path[i]!);
    return out;
  }
  return [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [asn] }, ...path];
}

function withoutConfed(path: readonly AsPathSegment[]): readonly AsPathSegment[] {
  for (const seg of path) {
    if (seg.type === AsPathSegmentType.AS_CONFED_SEQUENCE || seg.type === AsPathSegmentType.AS_CONFED_SET) {
      return path.filter((s) => s.type === AsPathSegmentType.AS_SEQUENCE || s.type === AsPathSegmentType.AS_SET);
    }
  }
  return path;
}

/** Copies the attributes every peer gets unchanged (or only filtered). */
function common(a: PathAttributes, out: PathAttributes, ebgp: boolean): void {
  if (a.atomicAggregate) out.atomicAggregate = true;
  if (a.aggregator !== undefined) out.aggregator = a.aggregator;
  if (a.communities !== undefined) out.communities = a.communities;
  if (a.extCommunities !== undefined) {
    // RFC 4360 §6: non-transitive extended communities (type bit 0x40) stay inside the AS.
    const ecs = ebgp ? a.extCommunities.filter((ec) => ((ec[0] ?? 0) & 0x40) === 0) : a.extCommunities;
    if (ecs.length > 0) out.extCommunities = ecs;
  }
  if (a.largeCommunities !== undefined) out.largeCommunities = a.largeCommunities;
  if (a.otc !== undefined) out.otc = a.otc;
  if (a.unknown !== undefined) {
    const passed = [];
    for (const u of a.unknown) {
      if ((u.flags & AttrFlag.OPTIONAL) !== 0 && (u.flags & AttrFlag.TRANSITIVE) !== 0) {
        passed.push({ flags: u.flags | AttrFlag.PARTIAL, code: u.code, value: u.value });
      }
    }
    if (passed.length > 0) out.unknown = passed;
  }
}

/**
 * The route as advertised to `to`. Call only when canExport(src, from, to) is true. `clusterId` is our
 * CLUSTER_ID as dotted quad (RFC 4456 §7). `local`: the restrictions of a local route, when it has any.
 */
export function exportRoute(
  src: RouteSource,
  from: ExportPeer,
  to: ExportPeer,
  clusterId: string,
  local?: LocalExport,
): ExportedRoute {
  const a = src.attributes();
  const self = selfNextHop(to, src.family);
  const selfNh = (src.flags & SourceFlag.NEXT_HOP_SELF) !== 0;
  if (!to.ibgp) {
    let asPath = prependAs(withoutConfed(a.asPath), to.localAsn);
    // A local route made less attractive towards other ASes (a degraded anycast service): eBGP only.
    const extra = local?.prependToEbgp ?? 0;
    for (let i = 0; i < extra; i++) asPath = prependAs(asPath, to.localAsn);
    const out: PathAttributes = { origin: a.origin, asPath };
    // RFC 4271 §5.1.4: a MED received from a neighbouring AS is not passed on; our own routes keep theirs.
    if (src.kind === SourceKind.LOCAL && a.med !== undefined) out.med = a.med;
    common(a, out, true);
    const nextHop = src.kind === SourceKind.LOCAL && !selfNh ? src.nextHop : self!;
    return { attributes: out, nextHop };
  }
  const out: PathAttributes = { origin: a.origin, asPath: a.asPath };
  if (a.med !== undefined) out.med = a.med;
  // RFC 4271 §5.1.5: LOCAL_PREF is included in every UPDATE to an internal peer.
  out.localPref = a.localPref ?? 100;
  common(a, out, false);
  if (src.kind === SourceKind.IBGP) {
    // RFC 4456 §8: the reflector sets ORIGINATOR_ID (the router id of the peer it learned the route from) if
    // absent, and prepends its CLUSTER_ID to CLUSTER_LIST.
    out.originatorId = a.originatorId ?? numberToIPv4(from.routerId);
    out.clusterList = a.clusterList === undefined ? [clusterId] : [clusterId, ...a.clusterList];
  } else if (src.kind === SourceKind.LOCAL) {
    // (From an eBGP peer these two attributes mean nothing inside our AS and are not passed on.)
    if (a.originatorId !== undefined) out.originatorId = a.originatorId;
    if (a.clusterList !== undefined) out.clusterList = a.clusterList;
  }
  return { attributes: out, nextHop: selfNh ? self! : src.nextHop };
}
