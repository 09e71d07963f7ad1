// ExaBGP process API commands (the lines a helper program prints on stdout) → typed operations.
//
// Grammar, as ExaBGP 4.x reads it (reactor/api/command/*.py, configuration/static/parser.py):
//   [neighbor <ip|*> [local-ip X] [local-as N] [peer-as N] [router-id X] [family-allowed F] [, neighbor …]]
//     announce|withdraw route <prefix | bare address> <attribute>*
//     announce|withdraw attribute(s) <attribute>* nlri <prefix>+
//     announce eor [<afi> <safi>]
//     announce route-refresh <afi> <safi>
//     announce|withdraw watchdog [<name>]
//     teardown <code>
//   shutdown | version | # comment
// Attributes: next-hop <ip|self>, origin igp|egp|incomplete, as-path [ 1 2 ( 3 4 ) ], med N, local-preference N,
// community [ 65000:1 no-export … ], large-community [ a:b:c … ], extended-community [ target:65000:1 … ],
// atomic-aggregate, aggregator ( asn:ip ), originator-id ip, cluster-list [ ip … ], path-information N|ip,
// split /len, watchdog name, withdraw, name X.
// Like ExaBGP, the line is first re-spaced so brackets, parentheses and commas are tokens of their own, and trailing
// whitespace is dropped (HA2BGP prints "announce route 127.0.0.1 next-hop self "). Anything else is an error, which
// the host answers with `error`. Prefixes come back as canonical text; parsePrefix (src/wire/prefix.ts) makes keys.

import { normalizeIp } from '../health/system.ts';
import { parseCommunity, parseExtCommunity, parseLargeCommunity } from '../wire/attr-communities.ts';
import {
  type AsPathSegment,
  AsPathSegmentType,
  type ExtCommunity,
  type Family,
  familyOf,
  formatPrefix,
  ipv4ToNumber,
  makePrefixKey,
  Origin,
  type PathAttributes,
  parseIP,
  parseIPv4,
  parsePrefix,
  prefixAddress,
  prefixLength,
} from '../wire/index.ts';

/** One `neighbor …` selector. Every field given must match the neighbour. */
export interface NeighborSelector {
  /** Normalised address, or "*" for every neighbour. */
  address: string;
  localIp?: string;
  localAs?: number;
  peerAs?: number;
  routerId?: string;
  familyAllowed?: string;
}

/** Routes of one command: shared attributes, one or more prefixes. */
export interface RouteSet {
  /** Canonical prefix texts ("192.0.2.10/32"); a bare address was read as a host route; `split` is applied. */
  prefixes: string[];
  /** "self", a normalised address, or undefined (allowed for withdrawals and IPv6; IPv4 announcements need one). */
  nextHop: string | undefined;
  /** ORIGIN defaults to IGP and AS_PATH to empty, as ExaBGP sends a route without them. */
  attributes: PathAttributes;
  /** RFC 7911 path identifier (path-information). */
  pathId?: number;
  /** The route belongs to this watchdog group (announce|withdraw watchdog NAME toggles the group). */
  watchdog?: string;
  /** `withdraw` attribute: the route is known but starts withdrawn (until its watchdog is announced). */
  withdrawn?: boolean;
  /** ExaBGP's `name` attribute (a label, not sent). */
  name?: string;
}

export type Command =
  | { type: 'announce'; neighbors: NeighborSelector[]; routes: RouteSet }
  | { type: 'withdraw'; neighbors: NeighborSelector[]; routes: RouteSet }
  | { type: 'eor'; neighbors: NeighborSelector[]; afi: number; safi: number; family: Family | null }
  | { type: 'route-refresh'; neighbors: NeighborSelector[]; afi: number; safi: number; family: Family | null }
  | { type: 'watchdog'; action: 'announce' | 'withdraw'; name: string | null }
  | { type: 'teardown'; neighbors: NeighborSelector[]; code: number }
  | { type: 'shutdown' }
  | { type: 'version' }
  | { type: 'comment'; text: string };

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

class CommandError extends Error {}

function fail(message: string): never {
  throw new CommandError(message);
}

/** ExaBGP's `formated()`: one space between tokens, brackets/parens/commas as tokens. */
export function tokenize(line: string): string[] {
  const spaced = line
    .trim()
    .replace(/\t/g, ' ')
    .replace(/\]/g, ' ]')
    .replace(/\[/g, '[ ')
    .replace(/\)/g, ' )')
    .replace(/\(/g, '( ')
    .replace(/,/g, ' , ');
  return spaced.split(' ').filter((t) => t !== '');
}

/** A cursor over tokens. */
class Tokens {
  readonly #t: string[];
  #i = 0;
  constructor(t: string[]) {
    this.#t = t;
  }
  peek(): string | undefined {
    return this.#t[this.#i];
  }
  next(what: string): string {
    const v = this.#t[this.#i++];
    if (v === undefined) fail(`missing ${what}`);
    return v;
  }
  get done(): boolean {
    return this.#i >= this.#t.length;
  }
  rest(): string[] {
    return this.#t.slice(this.#i);
  }
}

/** Parses one line. Never throws. */
export function parseCommand(line: string): ParseResult {
  try {
    return { ok: true, command: parse(line) };
  } catch (e) {
    if (e instanceof CommandError) return { ok: false, error: e.message };
    return { ok: false, error: (e as Error).message };
  }
}

function parse(line: string): Command {
  const trimmed = line.trim();
  if (trimmed === '') fail('empty command');
  if (trimmed.startsWith('#')) return { type: 'comment', text: trimmed.slice(1).trim() };
  const t = new Tokens(tokenize(trimmed));
  const neighbors = t.peek() === 'neighbor' ? parseSelectors(t) : [];
  const verb = t.next('command');
  if (neighbors.length === 0) {
    if (verb === 'shutdown' && t.done) return { type: 'shutdown' };
    if (verb === 'version' && t.done) return { type: 'version' };
  }
  switch (verb) {
    case 'announce':
    case 'withdraw':
      return parseAnnounce(verb, neighbors, t);
    case 'teardown': {
      const code = t.next('teardown code');
      if (!/^\d{1,3}$/.test(code) || Number(code) > 255) fail(`teardown: "${code}" is not a subcode 0..255`);
      if (!t.done) fail(`unexpected "${t.peek()}" after teardown code`);
      return { type: 'teardown', neighbors, code: Number(code) };
    }
    case 'shutdown':
    case 'version':
      fail(`${verb} takes no arguments or neighbor selector`);
      break;
    case 'reload':
    case 'restart':
    case 'show':
    case 'flush':
    case 'clear':
      fail(`"${verb}" is not supported by tsbgp's process API (use the tsbgp API or CLI)`);
      break;
    default:
      fail(`unknown command "${verb}"`);
  }
}

const SELECTOR_KEYS = new Set(['local-ip', 'local-as', 'peer-as', 'router-id', 'family-allowed']);

function parseSelectors(t: Tokens): NeighborSelector[] {
  const out: NeighborSelector[] = [];
  for (;;) {
    if (t.next('neighbor') !== 'neighbor') fail('expected "neighbor" after ","');
    const addr = t.next('neighbor address');
    let address: string;
    if (addr === '*') address = '*';
    else address = normalizeIp(addr) ?? fail(`neighbor "${addr}" is not an IP address`);
    const sel: NeighborSelector = { address };
    while (t.peek() !== undefined && SELECTOR_KEYS.has(t.peek()!)) {
      const key = t.next('key');
      const value = t.next(`${key} value`);
      switch (key) {
        case 'local-ip':
          sel.localIp = normalizeIp(value) ?? fail(`local-ip "${value}" is not an IP address`);
          break;
        case 'router-id':
          if (!parseIPv4(value)) fail(`router-id "${value}" is not an IPv4 address`);
          sel.routerId = value;
          break;
        case 'local-as':
          sel.localAs = asn(value);
          break;
        case 'peer-as':
          sel.peerAs = asn(value);
          break;
        default:
          sel.familyAllowed = value;
      }
    }
    out.push(sel);
    if (t.peek() !== ',') return out;
    t.next(',');
  }
}

function parseAnnounce(verb: 'announce' | 'withdraw', neighbors: NeighborSelector[], t: Tokens): Command {
  const what = t.next(`what to ${verb}`);
  switch (what) {
    case 'route': {
      const prefix = t.next('prefix');
      const a = parseAttributes(t, false);
      return { type: verb, neighbors, routes: finish(verb, [canonical(prefix)], a) };
    }
    case 'attribute':
    case 'attributes': {
      const a = parseAttributes(t, true);
      if (t.next('nlri') !== 'nlri') fail('expected "nlri"');
      const prefixes = t.rest().map(canonical);
      if (prefixes.length === 0) fail('nlri needs at least one prefix');
      return { type: verb, neighbors, routes: finish(verb, prefixes, a) };
    }
    case 'eor':
    case 'route-refresh': {
      if (verb !== 'announce') fail(`"withdraw ${what}" does not exist; use "announce ${what}"`);
      const rest = t.rest();
      let afi = 1;
      let safi = 1;
      if (what === 'route-refresh' && rest.length !== 2) fail('route-refresh needs <afi> <safi>');
      if (rest.length === 2) {
        afi = AFI_NAMES[rest[0]!.toLowerCase()] ?? fail(`unknown afi "${rest[0]}"`);
        safi = SAFI_NAMES[rest[1]!.toLowerCase()] ?? fail(`unknown safi "${rest[1]}"`);
      } else if (rest.length !== 0) {
        fail('eor takes no arguments or <afi> <safi>');
      }
      return { type: what, neighbors, afi, safi, family: familyOf(afi, safi) };
    }
    case 'watchdog': {
      const rest = t.rest();
      if (rest.length > 1) fail('watchdog takes one name');
      return { type: 'watchdog', action: verb, name: rest[0] ?? null };
    }
    case 'flow':
      fail('FlowSpec is not supported yet');
      break;
    case 'vpls':
    case 'operational':
      fail(`"${verb} ${what}" is not supported`);
      break;
    default:
      fail(`unknown "${verb} ${what}"`);
  }
}

/** ExaBGP's names for AFI and SAFI (protocol/family.py). */
const AFI_NAMES: Record<string, number> = { ipv4: 1, ipv6: 2, l2vpn: 25, 'bgp-ls': 16388 };
const SAFI_NAMES: Record<string, number> = {
  unicast: 1,
  multicast: 2,
  'nlri-mpls': 4,
  vpls: 65,
  evpn: 70,
  'bgp-ls': 71,
  'bgp-ls-vpn': 72,
  'mpls-vpn': 128,
  flow: 133,
  'flow-vpn': 134,
};

function canonical(text: string): string {
  let p: ReturnType<typeof parsePrefix>;
  try {
    // ExaBGP refuses a network with host bits set ("invalid network … for netmask …").
    p = parsePrefix(text, true);
  } catch (e) {
    fail((e as Error).message);
  }
  return formatPrefix(p.family, p.key);
}

function asn(text: string): number {
  // Plain or asdot ("1.10", RFC 5396).
  const dot = /^(\d{1,5})\.(\d{1,5})$/.exec(text);
  if (dot && Number(dot[1]) <= 0xffff && Number(dot[2]) <= 0xffff) return Number(dot[1]) * 65536 + Number(dot[2]);
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) fail(`"${text}" is not an AS number`);
  return Number(text);
}

function u32(text: string, what: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) fail(`invalid ${what} "${text}"`);
  return Number(text);
}

/** A single value or a bracketed list `[ a b c ]`. */
function list(t: Tokens, what: string): string[] {
  const first = t.next(what);
  if (first !== '[') return [first];
  const out: string[] = [];
  for (;;) {
    const v = t.next(`"]" to close the ${what} list`);
    if (v === ']') return out;
    if (v === ',') continue;
    out.push(v);
  }
}

interface Parsed {
  nextHop?: string;
  attributes: PathAttributes;
  pathId?: number;
  split?: number;
  watchdog?: string;
  withdrawn?: boolean;
  name?: string;
}

const UNSUPPORTED = new Set([
  'rd',
  'route-distinguisher',
  'label',
  'aigp',
  'bgp-prefix-sid',
  'bgp-prefix-sid-srv6',
  'attribute',
]);

function parseAttributes(t: Tokens, stopAtNlri: boolean): Parsed {
  const out: Parsed = { attributes: { origin: Origin.IGP, asPath: [] } };
  const a = out.attributes;
  const seen = new Set<string>();
  while (!t.done) {
    if (stopAtNlri && t.peek() === 'nlri') break;
    const key = t.next('attribute');
    if (seen.has(key) && key !== 'community' && key !== 'large-community' && key !== 'extended-community') {
      fail(`${key} given twice`);
    }
    seen.add(key);
    switch (key) {
      case 'next-hop': {
        const v = t.next('next-hop');
        out.nextHop =
          v.toLowerCase() === 'self' ? 'self' : (normalizeIp(v) ?? fail(`next-hop "${v}" is not an IP address`));
        break;
      }
      case 'origin': {
        const v = t.next('origin').toLowerCase();
        if (v === 'igp') a.origin = Origin.IGP;
        else if (v === 'egp') a.origin = Origin.EGP;
        else if (v === 'incomplete') a.origin = Origin.INCOMPLETE;
        else fail(`unknown origin "${v}"`);
        break;
      }
      case 'as-path':
        a.asPath = asPath(t);
        break;
      case 'med':
        a.med = u32(t.next('med'), 'MED');
        break;
      case 'local-preference':
        a.localPref = u32(t.next('local-preference'), 'local preference');
        break;
      case 'atomic-aggregate':
        a.atomicAggregate = true;
        break;
      case 'aggregator':
        a.aggregator = aggregator(t);
        break;
      case 'originator-id': {
        const v = t.next('originator-id');
        if (ipv4ToNumber(v) === null) fail(`invalid originator-id "${v}"`);
        a.originatorId = v;
        break;
      }
      case 'cluster-list': {
        const ids = list(t, 'cluster-list');
        if (ids.length === 0) fail('empty cluster-list');
        for (const id of ids) if (ipv4ToNumber(id) === null) fail(`invalid cluster-id "${id}"`);
        a.clusterList = ids;
        break;
      }
      case 'community':
        a.communities = [...(a.communities ?? []), ...list(t, 'community').map(community)];
        break;
      case 'large-community':
        a.largeCommunities = [...(a.largeCommunities ?? []), ...list(t, 'large-community').map(largeCommunity)];
        break;
      case 'extended-community':
        a.extCommunities = [...(a.extCommunities ?? []), ...list(t, 'extended-community').map(extCommunity)];
        break;
      case 'path-information': {
        const v = t.next('path-information');
        if (/^\d{1,10}$/.test(v) && Number(v) <= 0xffffffff) out.pathId = Number(v);
        else out.pathId = ipv4ToNumber(v) ?? fail(`invalid path-information "${v}"`);
        break;
      }
      case 'split': {
        const v = t.next('split');
        const m = /^\/(\d{1,3})$/.exec(v);
        if (!m || Number(m[1]) > 128) fail('split needs /<length>');
        out.split = Number(m[1]);
        break;
      }
      case 'watchdog': {
        const v = t.next('watchdog name');
        if (v === 'announce' || v === 'withdraw') fail(`invalid watchdog name "${v}"`);
        out.watchdog = v;
        break;
      }
      case 'withdraw':
        out.withdrawn = true;
        break;
      case 'name':
        out.name = t.next('name');
        break;
      default:
        if (UNSUPPORTED.has(key)) fail(`${key} is not supported`);
        fail(`unknown attribute "${key}"`);
    }
  }
  return out;
}

function asPath(t: Tokens): AsPathSegment[] {
  const first = t.next('as-path');
  if (first !== '[') return [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [asn(first)] }];
  const seq: number[] = [];
  const set: number[] = [];
  for (;;) {
    const v = t.next('"]" to close the as-path');
    if (v === ']') break;
    if (v === ',') continue;
    if (v === '(' || v === '[') {
      for (;;) {
        const w = t.next('")" to close the as-set');
        if (w === ')' || w === ']') break;
        if (w === ',') continue;
        set.push(asn(w));
      }
      continue;
    }
    seq.push(asn(v));
  }
  const out: AsPathSegment[] = [];
  if (seq.length) out.push({ type: AsPathSegmentType.AS_SEQUENCE, asns: seq });
  if (set.length) out.push({ type: AsPathSegmentType.AS_SET, asns: set });
  return out;
}

function aggregator(t: Tokens): { asn: number; address: string } {
  let v = t.next('aggregator');
  const paren = v === '(';
  if (paren) v = t.next('aggregator');
  const m = /^([\d.]+):(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  if (!m || !parseIPv4(m[2]!)) fail(`invalid aggregator "${v}": expected ( asn:address )`);
  if (paren && t.next('")"') !== ')') fail('invalid aggregator: expected ")"');
  return { asn: asn(m[1]!), address: m[2]! };
}

/** ExaBGP community forms: "a:b", "0x…", a plain number, or a name (no-export, nopeer/no-peer, blackhole, …). */
function community(v: string): number {
  const low = v.toLowerCase();
  if (/^0x[0-9a-f]{1,8}$/.test(low)) return Number.parseInt(low, 16) >>> 0;
  if (/^\d{1,10}$/.test(v)) {
    const n = Number(v);
    if (n > 0xffffffff) fail(`invalid community ${v} (too large)`);
    return n;
  }
  if (low === 'nopeer') return parseCommunity('no-peer');
  try {
    return parseCommunity(v);
  } catch (e) {
    fail((e as Error).message);
  }
}

function largeCommunity(v: string): [number, number, number] {
  try {
    return parseLargeCommunity(v);
  } catch (e) {
    fail((e as Error).message);
  }
}

/** ExaBGP extended community forms: target:A:B / origin:A:B / A:B (= target), redirect:A:B, 0x + hex, and the wire's rt:/ro:. */
function extCommunity(v: string): ExtCommunity {
  const parts = v.split(':');
  if (parts.length === 2 && !v.toLowerCase().startsWith('0x')) return extCommunity(`target:${v}`);
  if (parts[0]?.toLowerCase() === 'redirect' && parts.length === 3) {
    // RFC 5575 §7 traffic redirect, 2-octet AS form (type 0x80, sub-type 0x08): AS(2) value(4).
    const as2 = u32(parts[1]!, 'redirect AS');
    const val = u32(parts[2]!, 'redirect value');
    if (as2 > 0xffff) fail(`redirect AS ${as2} does not fit 2 octets`);
    return Uint8Array.of(
      0x80,
      0x08,
      as2 >> 8,
      as2 & 0xff,
      val >>> 24,
      (val >>> 16) & 0xff,
      (val >>> 8) & 0xff,
      val & 0xff,
    );
  }
  try {
    return parseExtCommunity(v);
  } catch (e) {
    fail((e as Error).message);
  }
}

const MAX_SPLIT = 65536;

function finish(verb: 'announce' | 'withdraw', prefixes: string[], p: Parsed): RouteSet {
  let all = prefixes;
  if (p.split !== undefined) all = prefixes.flatMap((x) => split(x, p.split!));
  if (verb === 'announce' && p.nextHop === undefined) {
    // ExaBGP (ParseStaticRoute.check): an IPv4 unicast announcement without a next hop is invalid.
    const v4 = all.find((x) => !x.includes(':'));
    if (v4 !== undefined) fail(`announce ${v4} needs a next-hop (an address or "self")`);
  }
  const out: RouteSet = { prefixes: all, nextHop: p.nextHop, attributes: p.attributes };
  if (p.pathId !== undefined) out.pathId = p.pathId;
  if (p.watchdog !== undefined) out.watchdog = p.watchdog;
  if (p.withdrawn) out.withdrawn = true;
  if (p.name !== undefined) out.name = p.name;
  return out;
}

/** ExaBGP `split /len`: the prefix cut into its sub-prefixes of that length (unchanged if not longer). */
export function split(prefix: string, len: number): string[] {
  const { family, key } = parsePrefix(prefix);
  const bits = prefixLength(key);
  const max = family === 'ipv4-unicast' ? 32 : 128;
  if (len > max) fail(`split /${len} is longer than /${max}`);
  if (len <= bits) return [prefix];
  if (len - bits > 16 || 2 ** (len - bits) > MAX_SPLIT)
    fail(`split ${prefix} into /${len} makes more than ${MAX_SPLIT} routes`);
  const base = prefixAddress(family, key);
  let value = 0n;
  for (const byte of base) value = (value << 8n) | BigInt(byte);
  const step = 1n << BigInt(max - len);
  const out: string[] = [];
  const n = 2 ** (len - bits);
  for (let i = 0; i < n; i++) {
    let v = value + BigInt(i) * step;
    const addr = new Uint8Array(base.length);
    for (let j = addr.length - 1; j >= 0; j--) {
      addr[j] = Number(v & 0xffn);
      v >>= 8n;
    }
    out.push(formatPrefix(family, makePrefixKey(addr, len)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Matching selectors against neighbours.

/** A neighbour as the process host sees it (the daemon provides these). */
export interface NeighborInfo {
  address: string;
  localAddress: string;
  localAs: number;
  peerAs: number;
  /** Our router ID (ExaBGP's `router-id` in a selector names the local one). */
  routerId: string;
  /** The session is Established (eor and route-refresh go to established neighbours only). */
  established: boolean;
}

export function selectorMatches(s: NeighborSelector, n: NeighborInfo): boolean {
  if (s.address !== '*' && s.address !== n.address) return false;
  if (s.localIp !== undefined && s.localIp !== n.localAddress) return false;
  if (s.localAs !== undefined && s.localAs !== n.localAs) return false;
  if (s.peerAs !== undefined && s.peerAs !== n.peerAs) return false;
  if (s.routerId !== undefined && s.routerId !== n.routerId) return false;
  return true;
}

/** The neighbours a command addresses: all of `candidates` without selectors, else those matching one selector. */
export function matchNeighbors(selectors: NeighborSelector[], candidates: NeighborInfo[]): NeighborInfo[] {
  if (selectors.length === 0) return candidates;
  return candidates.filter((n) => selectors.some((s) => selectorMatches(s, n)));
}

/** True when the text is an IP address (used by the host to validate configured neighbour lists). */
export function isAddress(text: string): boolean {
  return parseIP(text) !== null;
}
