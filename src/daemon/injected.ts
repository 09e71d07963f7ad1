// Routes injected through the API (POST /api/v1/routes): validation of one route object, its canonical JSON form
// (what the store keeps and GET /api/v1/routes shows), and the LocalRoute the RIB originates.
//
// A batch may hold a million routes, so the work per route is kept small: a route's attributes (everything but
// the prefix) are validated once per distinct set of attribute values in the batch — RouteParser caches the
// result under the raw values — and routes with equal attributes share one PathAttributes object, which the RIB
// interns anyway. Each route still gets its own prefix parse and next-hop family check.

import type { LocalRoute } from '../rib/types.ts';
import { parseCommunity, parseExtCommunity, parseLargeCommunity } from '../wire/attr-communities.ts';
import {
  AsPathSegmentType,
  type Family,
  formatCommunity,
  formatExtCommunity,
  formatLargeCommunity,
  formatPrefix,
  Origin,
  type OriginCode,
  type PathAttributes,
  type PrefixKey,
  parseIP,
  parsePrefix,
} from '../wire/index.ts';
import { normalizeAddress } from './config.ts';
import type { InjectedRouteView } from './types.ts';

/** The keys a route object may have. */
export const ROUTE_KEYS = [
  'prefix',
  'next_hop',
  'origin',
  'as_path',
  'med',
  'local_pref',
  'communities',
  'large_communities',
  'ext_communities',
] as const;
const ROUTE_KEY_SET: ReadonlySet<string> = new Set(ROUTE_KEYS);

/** Most ASes in the injected AS_PATH: one AS_SEQUENCE segment (RFC 4271 §4.3: the count is one byte). */
export const MAX_AS_PATH = 255;
/** Most communities of each kind on one route (the attribute must fit an UPDATE of 4096 bytes). */
export const MAX_COMMUNITIES = 500;

const ORIGIN_NAMES = ['igp', 'egp', 'incomplete'] as const;

/**
 * A validated injected route: what the RIB originates (one object per route: a batch may hold a million), with
 * `attributes` shared by every route of the batch with the same attribute values, and what the store keeps.
 */
export interface InjectedRoute extends LocalRoute {
  prefixText: string;
  /** Canonical JSON of the attributes (InjectedRouteView without family and prefix), as stored. */
  attributesJson: string;
}

export class RouteInputError extends Error {
  readonly field: string;
  /** The message without the field name. */
  readonly detail: string;
  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.name = 'RouteInputError';
    this.field = field;
    this.detail = detail;
  }
}

interface ParsedAttributes {
  json: string;
  attributes: PathAttributes;
  /** "self", or a normalised address whose family the prefix must match. */
  nextHop: string;
  nextHopFamily: Family | null;
}

function isUint32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function strings(v: unknown, field: string, what: string, parse: (s: string) => void): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RouteInputError(field, `expected an array of ${what} strings`);
  if (v.length > MAX_COMMUNITIES) throw new RouteInputError(field, `at most ${MAX_COMMUNITIES} entries`);
  for (let i = 0; i < v.length; i++) {
    const s = v[i];
    if (typeof s !== 'string') throw new RouteInputError(`${field}[${i}]`, `expected a ${what} string`);
    try {
      parse(s);
    } catch (e) {
      throw new RouteInputError(`${field}[${i}]`, (e as Error).message);
    }
  }
  return v as string[];
}

/**
 * Validates the attribute keys of a route object (everything but the prefix), `at` being the field prefix for
 * messages ("routes[3]." or ""). Throws RouteInputError naming the field.
 */
function parseAttributes(o: Record<string, unknown>, at: string): ParsedAttributes {
  // next_hop: "self" (default) or an address; its family is checked against the prefix by the caller.
  let nextHop = 'self';
  let nextHopFamily: Family | null = null;
  if (o.next_hop !== undefined && o.next_hop !== null && o.next_hop !== 'self') {
    if (typeof o.next_hop !== 'string' || !parseIP(o.next_hop)) {
      throw new RouteInputError(`${at}next_hop`, `${JSON.stringify(o.next_hop)} is not "self" or an IP address`);
    }
    nextHop = normalizeAddress(o.next_hop)!;
    nextHopFamily = nextHop.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
  }
  let origin: OriginCode = Origin.IGP;
  if (o.origin !== undefined && o.origin !== null) {
    const i = ORIGIN_NAMES.indexOf(o.origin as (typeof ORIGIN_NAMES)[number]);
    if (i < 0) throw new RouteInputError(`${at}origin`, 'expected "igp", "egp" or "incomplete"');
    origin = i as OriginCode;
  }
  const asPath: number[] = [];
  if (o.as_path !== undefined && o.as_path !== null) {
    if (!Array.isArray(o.as_path)) throw new RouteInputError(`${at}as_path`, 'expected an array of AS numbers');
    if (o.as_path.length > MAX_AS_PATH) throw new RouteInputError(`${at}as_path`, `at most ${MAX_AS_PATH} AS numbers`);
    for (let i = 0; i < o.as_path.length; i++) {
      const a = o.as_path[i];
      if (!isUint32(a) || a === 0) {
        throw new RouteInputError(`${at}as_path[${i}]`, 'expected an integer 1..4294967295');
      }
      asPath.push(a);
    }
  }
  for (const k of ['med', 'local_pref'] as const) {
    const v = o[k];
    if (v !== undefined && v !== null && !isUint32(v)) {
      throw new RouteInputError(`${at}${k}`, 'expected an integer 0..4294967295');
    }
  }
  const med = (o.med ?? null) as number | null;
  const localPref = (o.local_pref ?? null) as number | null;
  const comm = strings(o.communities, `${at}communities`, 'community "A:B"', parseCommunity);
  const large = strings(o.large_communities, `${at}large_communities`, 'large community "A:B:C"', parseLargeCommunity);
  const ext = strings(o.ext_communities, `${at}ext_communities`, 'extended community "rt:A:B"', parseExtCommunity);

  const attributes: PathAttributes = {
    origin,
    asPath: asPath.length > 0 ? [{ type: AsPathSegmentType.AS_SEQUENCE, asns: asPath }] : [],
  };
  if (med !== null) attributes.med = med;
  if (localPref !== null) attributes.localPref = localPref;
  const communities = comm.map(parseCommunity);
  const larges = large.map(parseLargeCommunity);
  const exts = ext.map(parseExtCommunity);
  if (communities.length > 0) attributes.communities = communities;
  if (larges.length > 0) attributes.largeCommunities = larges;
  if (exts.length > 0) attributes.extCommunities = exts;
  // Canonical text: what the parsers give back formatted, so "NO-EXPORT" and "65535:65281" store the same.
  const json = JSON.stringify({
    next_hop: nextHop,
    origin: ORIGIN_NAMES[origin],
    as_path: asPath,
    med,
    local_pref: localPref,
    communities: communities.map(formatCommunity),
    large_communities: larges.map(formatLargeCommunity),
    ext_communities: exts.map(formatExtCommunity),
  });
  return { json, attributes, nextHop, nextHopFamily };
}

function familyName(f: Family): string {
  return f === 'ipv4-unicast' ? 'IPv4' : 'IPv6';
}

/** Validates routes of one request (or one start-up load), sharing the work between routes with equal attributes. */
export class RouteParser {
  /** Raw attribute values (as JSON) → their validated form. */
  private readonly byRaw = new Map<string, ParsedAttributes>();

  private attributesOf(o: Record<string, unknown>, at: string): ParsedAttributes {
    let raw: string;
    try {
      raw = JSON.stringify([
        o.next_hop,
        o.origin,
        o.as_path,
        o.med,
        o.local_pref,
        o.communities,
        o.large_communities,
        o.ext_communities,
      ]);
    } catch {
      // JSON.stringify overflows the stack on a value nested thousands deep (JSON.parse does not): a hostile body,
      // and never a valid route, whose values nest two levels at most. Name the key that holds it.
      const deep = ROUTE_KEYS.find((k) => {
        try {
          JSON.stringify(o[k]);
          return false;
        } catch {
          return true;
        }
      });
      throw new RouteInputError(`${at}${deep ?? 'body'}`, 'nested too deeply');
    }
    let p = this.byRaw.get(raw);
    if (p === undefined) {
      p = parseAttributes(o, at);
      this.byRaw.set(raw, p);
    }
    return p;
  }

  /**
   * One route object from a request: `index` is its place in a batch ("routes[3]." prefixes field names in
   * errors), or -1 for a single route. Throws RouteInputError.
   */
  parse(input: unknown, index: number): InjectedRoute {
    try {
      return this.parseOne(input);
    } catch (e) {
      // The batch position is added only on error: a million "routes[i]." strings per request are measurable.
      if (index < 0 || !(e instanceof RouteInputError)) throw e;
      throw new RouteInputError(e.field === 'body' ? `routes[${index}]` : `routes[${index}].${e.field}`, e.detail);
    }
  }

  private parseOne(input: unknown): InjectedRoute {
    const at = '';
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new RouteInputError('body', 'expected a route object');
    }
    const o = input as Record<string, unknown>;
    for (const k in o) {
      if (!ROUTE_KEY_SET.has(k)) {
        throw new RouteInputError(`${at}${k}`, `unknown key (a route has ${ROUTE_KEYS.join(', ')})`);
      }
    }
    if (typeof o.prefix !== 'string') throw new RouteInputError(`${at}prefix`, 'required: a prefix "address/length"');
    let family: Family;
    let prefix: PrefixKey;
    try {
      ({ family, key: prefix } = parsePrefix(o.prefix, true));
    } catch (e) {
      throw new RouteInputError(`${at}prefix`, (e as Error).message);
    }
    const a = this.attributesOf(o, at);
    if (a.nextHopFamily !== null && a.nextHopFamily !== family) {
      throw new RouteInputError(
        `${at}next_hop`,
        `${a.nextHop} is not an ${familyName(family)} address (the prefix is ${familyName(family)})`,
      );
    }
    return {
      family,
      prefix,
      attributes: a.attributes,
      nextHop: a.nextHop,
      prefixText: formatPrefix(family, prefix),
      attributesJson: a.json,
    };
  }

  /**
   * The route to originate for a stored one (start-up). Throws an Error when the stored JSON is not a valid route.
   * `into` is filled and returned (the RIB keeps no reference to it), so loading a million routes allocates none.
   */
  fromStore(family: Family, prefix: PrefixKey, attributesJson: string, into: LocalRoute): LocalRoute {
    let p = this.byRaw.get(attributesJson);
    if (p === undefined) {
      const o = JSON.parse(attributesJson) as unknown;
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('attributes are not an object');
      p = parseAttributes(o as Record<string, unknown>, '');
      this.byRaw.set(attributesJson, p);
    }
    into.family = family;
    into.prefix = prefix;
    into.attributes = p.attributes;
    into.nextHop = p.nextHop;
    return into;
  }
}

/** The GET /api/v1/routes form of a stored route. */
export function injectedRouteJson(family: Family, prefixText: string, attributesJson: string): InjectedRouteView {
  const a = JSON.parse(attributesJson) as Omit<InjectedRouteView, 'family' | 'prefix'>;
  return {
    family,
    prefix: prefixText,
    next_hop: a.next_hop,
    origin: a.origin,
    as_path: a.as_path,
    med: a.med,
    local_pref: a.local_pref,
    communities: a.communities,
    large_communities: a.large_communities,
    ext_communities: a.ext_communities,
  };
}
