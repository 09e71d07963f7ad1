// The daemon's configuration: TOML text → a validated, normalised DaemonConfig.
//
// Validation reports every problem at once, each naming its key path the way an operator would write it
// (`neighbors[2].asn: expected an integer 1..4294967295`; array indexes count from 0). Field shapes are checked
// by zod schemas; the rules that span fields (duplicate neighbours, next-hop family, local_address family, …)
// run in a second pass over the raw document, guarded, so they are reported even when other fields are wrong.
// Unknown keys are errors: a typo such as `hold_tme` must never be silently ignored.
// docs/config.md documents every key; keep the two in step.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { normalizeProcesses, processesSchema, processSchema } from '../exabgp/config.ts';
import type { ProcessConfig } from '../exabgp/process.ts';
import { normalizeServices, type ServiceConfig, serviceSchema, servicesSchema } from '../health/config.ts';
import { parseCommunity, parseExtCommunity, parseLargeCommunity } from '../wire/attr-communities.ts';
import {
  type ExtCommunity,
  FAMILIES,
  type Family,
  formatIP,
  formatPrefix,
  Origin,
  type OriginCode,
  type PrefixKey,
  parseIP,
  parseIPv4,
  parseIPv6,
  parsePrefix,
} from '../wire/index.ts';

// ---------------------------------------------------------------------------------------------------------------
// The validated configuration.

export interface ListenAddress {
  /** Address to bind, without brackets ("0.0.0.0", "::", "127.0.0.1"). */
  host: string;
  port: number;
  /** As written: "0.0.0.0:179", "[::]:179". */
  text: string;
}

export interface GlobalConfig {
  asn: number;
  routerId: string;
  listen: ListenAddress[];
  hostname?: string;
  /** RFC 4456 cluster ID (dotted quad); the router ID is used when unset. */
  clusterId?: string;
}

export interface ApiConfig {
  listen: ListenAddress;
  /** Largest request body accepted by the write endpoints, in bytes (a batch of routes). */
  bodyLimit: number;
  /** Bearer tokens file (`<role> <token>` lines, src/api/auth.ts); absolute, or as written for the built-in config. */
  tokensFile?: string;
  /** PEM certificate and private key: the API serves HTTPS when both are set. */
  tlsCert?: string;
  tlsKey?: string;
}

export interface StateConfig {
  /** The SQLite file of durable runtime state (store.ts); absolute unless the built-in default config is used. */
  path: string;
}

export interface NeighborConfig {
  /** Normalised address text (RFC 5952 form for IPv6), the neighbour's identity. */
  address: string;
  asn: number;
  description?: string;
  localAddress?: string;
  port: number;
  passive: boolean;
  holdTime: number;
  connectRetry: number;
  families: Family[];
  nextHopIpv6?: string;
  nextHopIpv4?: string;
  enabled: boolean;
  routeReflectorClient: boolean;
  addPathReceive: boolean;
  gracefulRestart: boolean;
  restartTime: number;
  /** RFC 4486 Cease 1: the most paths accepted from the neighbour per family; a family not listed has no limit. */
  maxPrefixes: Partial<Record<Family, number>>;
  /** Seconds before reconnecting after the limit tripped; 0: stay down until reset or enabled. */
  maxPrefixesRestart: number;
  /** Only log a warning when a limit is exceeded; the session stays up. */
  maxPrefixesWarningOnly: boolean;
}

export interface RouteConfig {
  family: Family;
  prefix: PrefixKey;
  /** Canonical prefix text, e.g. "203.0.113.0/24". */
  prefixText: string;
  /** "self" or a normalised address of the prefix's family. */
  nextHop: string;
  origin: OriginCode;
  asPath: number[];
  med?: number;
  localPref?: number;
  communities: number[];
  largeCommunities: [number, number, number][];
  extCommunities: ExtCommunity[];
  /** The route as written (normalised), for diffing on reload and for display. */
  text: {
    communities: string[];
    large_communities: string[];
    ext_communities: string[];
  };
}

export interface DaemonConfig {
  /** The file it came from, or null for the built-in default. */
  source: string | null;
  global: GlobalConfig;
  api: ApiConfig;
  state: StateConfig;
  neighbors: NeighborConfig[];
  routes: RouteConfig[];
  /** [[services]]: health-checked announcements (src/health, docs/health.md). */
  services: ServiceConfig[];
  /** [[processes]]: ExaBGP helper programs (src/exabgp, docs/exabgp.md). */
  processes: ProcessConfig[];
}

export type ConfigResult = { ok: true; config: DaemonConfig } | { ok: false; errors: string[] };

// ---------------------------------------------------------------------------------------------------------------
// Defaults.

export const DEFAULT_BGP_LISTEN = ['0.0.0.0:179', '[::]:179'] as const;
export const DEFAULT_API_LISTEN = '127.0.0.1:8179';
/** 256 MiB: a batch of a million routes in one POST /api/v1/routes. */
export const DEFAULT_API_BODY_LIMIT = 256 * 1024 * 1024;
export const DEFAULT_STATE_PATH = 'data/tsbgp.db';

/**
 * The built-in configuration used when `tsbgp daemon` runs without --config: a private AS, BGP on an
 * unprivileged loopback port (so it runs without root and does not collide with a real router's :179),
 * the API on loopback, no neighbours and no routes.
 */
export const BUILTIN_CONFIG_TOML = `# tsbgp built-in default configuration
[global]
asn = 65000
router_id = "127.0.0.1"
listen = ["127.0.0.1:1179"]

[api]
listen = "127.0.0.1:8179"
`;

export function builtinConfig(): DaemonConfig {
  const r = parseConfig(BUILTIN_CONFIG_TOML, null);
  if (!r.ok) throw new Error(`built-in config is invalid: ${r.errors.join('; ')}`);
  return r.config;
}

// ---------------------------------------------------------------------------------------------------------------
// Small parsers shared with the schemas.

/** "0.0.0.0:179", "[::]:179", "127.0.0.1:0" → ListenAddress, or an error message. */
export function parseListen(text: string): ListenAddress | string {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return 'expected "[IPv6]:port"';
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!parseIPv6(host)) return `"${host}" is not an IPv6 address`;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return 'expected "address:port" (IPv6 in brackets: "[::]:179")';
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return 'an IPv6 address needs brackets: "[::1]:179"';
    if (!parseIPv4(host)) return `"${host}" is not an IPv4 address`;
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return `port must be 0..65535`;
  const bytes = parseIP(host)!;
  return { host: formatIP(bytes), port: Number(portText), text };
}

/** Normalised address text (RFC 5952 for IPv6; IPv4-mapped IPv6 becomes plain IPv4), or null. */
export function normalizeAddress(text: string): string | null {
  const b = parseIP(text);
  if (!b) return null;
  if (b.length === 16 && isV4Mapped(b)) return formatIP(b.subarray(12));
  return formatIP(b);
}

/** 127.0.0.0/8, ::1, or an IPv4-mapped 127/8 address. */
export function isLoopback(host: string): boolean {
  const b = parseIP(host);
  if (!b) return false;
  if (b.length === 4) return b[0] === 127;
  if (isV4Mapped(b)) return b[12] === 127;
  for (let i = 0; i < 15; i++) if (b[i] !== 0) return false;
  return b[15] === 1;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

function familyOfAddress(text: string): Family {
  return text.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

/** Runs a wire text parser; returns its value, or the message of the error it threw. */
function tryParse<T>(parse: (text: string) => T, text: string): T | string {
  try {
    return parse(text);
  } catch (e) {
    return (e as Error).message;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas. Every leaf carries the message an operator sees; objects are strict (unknown keys are errors).

function int(min: number, max: number, message = `expected an integer ${min}..${max}`) {
  return z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

const bool = () => z.boolean({ error: 'expected true or false' });
const str = (what = 'a string') => z.string({ error: `expected ${what}` });

function checked<T>(base: z.ZodType<T>, check: (v: T) => string | null) {
  return base.superRefine((v, ctx) => {
    const msg = check(v);
    if (msg) ctx.addIssue({ code: 'custom', message: msg });
  });
}

const ipAddress = () =>
  checked(str('an IPv4 or IPv6 address'), (v) => (parseIP(v) ? null : `"${v}" is not an IPv4 or IPv6 address`));
const ipv4Address = () =>
  checked(str('an IPv4 address'), (v) => (parseIPv4(v) ? null : `"${v}" is not an IPv4 address`));
const ipv6Address = () =>
  checked(str('an IPv6 address'), (v) => (parseIPv6(v) ? null : `"${v}" is not an IPv6 address`));
const listenAddress = () =>
  checked(str('a listen address "address:port"'), (v) => {
    const r = parseListen(v);
    return typeof r === 'string' ? `"${v}": ${r}` : null;
  });
const listOf = <T extends z.ZodType>(item: T, what: string) => z.array(item, { error: `expected an array of ${what}` });
const table = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, { error: 'expected a table' });

const ASN = int(1, 4294967295);

const globalSchema = table({
  asn: ASN,
  router_id: checked(str('an IPv4 address'), (v) => {
    const b = parseIPv4(v);
    if (!b) return `"${v}" is not an IPv4 address (the BGP Identifier is written as a dotted quad)`;
    // RFC 6286 §2.1: the BGP Identifier is a non-zero 32-bit number.
    if (b.every((x) => x === 0)) return 'must not be 0.0.0.0 (RFC 6286: the BGP Identifier is non-zero)';
    return null;
  }),
  listen: listOf(listenAddress(), 'listen addresses ("0.0.0.0:179", "[::]:179")').optional(),
  hostname: checked(str('a hostname'), (v) =>
    v.length >= 1 && v.length <= 255 && /^[A-Za-z0-9.-]+$/.test(v)
      ? null
      : 'expected a hostname (letters, digits, ".", "-")',
  ).optional(),
  cluster_id: checked(str('an IPv4 address'), (v) =>
    parseIPv4(v) ? null : `"${v}" is not an IPv4 address (a cluster ID is written as a dotted quad)`,
  ).optional(),
});

const filePath = () =>
  checked(str('a file path'), (v) => (v.length > 0 && !v.includes('\0') ? null : 'expected a file path'));

const apiSchema = table({
  listen: listenAddress().optional(),
  // V8 strings stop at 2^29 characters: a larger JSON body could not be parsed anyway.
  body_limit: int(1024, 512 * 1024 * 1024, 'expected an integer number of bytes 1024..536870912').optional(),
  tokens_file: filePath().optional(),
  tls_cert: filePath().optional(),
  tls_key: filePath().optional(),
});

const stateSchema = table({
  path: checked(str('a file path'), (v) => (v.length > 0 && !v.includes('\0') ? null : 'expected a file path')),
});

const familySchema = z.enum(FAMILIES, { error: `expected one of ${FAMILIES.map((f) => `"${f}"`).join(', ')}` });

const neighborSchema = table({
  address: ipAddress(),
  asn: ASN,
  description: str().optional(),
  local_address: ipAddress().optional(),
  port: int(1, 65535).optional(),
  passive: bool().optional(),
  // RFC 4271 §4.2: the hold time is zero or at least three seconds.
  hold_time: checked(int(0, 65535, 'expected 0 or an integer 3..65535'), (v) =>
    v === 1 || v === 2 ? 'expected 0 or an integer 3..65535' : null,
  ).optional(),
  connect_retry: int(1, 65535).optional(),
  families: checked(listOf(familySchema, 'families'), (v) => {
    if (v.length === 0) return 'expected at least one family';
    return new Set(v).size === v.length ? null : 'a family is listed twice';
  }).optional(),
  next_hop_ipv6: ipv6Address().optional(),
  next_hop_ipv4: ipv4Address().optional(),
  enabled: bool().optional(),
  route_reflector_client: bool().optional(),
  add_path_receive: bool().optional(),
  graceful_restart: bool().optional(),
  // RFC 4724 §3: the Restart Time field is 12 bits.
  restart_time: int(0, 4095).optional(),
  // RFC 4486 §4: the limit travels in the Cease data as 4 octets.
  max_prefixes: table({
    'ipv4-unicast': int(1, 4294967295).optional(),
    'ipv6-unicast': int(1, 4294967295).optional(),
  }).optional(),
  max_prefixes_restart: int(0, 4294967).optional(),
  max_prefixes_warning_only: bool().optional(),
});

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

const routeSchema = table({
  prefix: checked(str('a prefix "address/length"'), (v) => {
    try {
      parsePrefix(v, true);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }),
  next_hop: checked(str('"self" or an IP address'), (v) =>
    v === 'self' || parseIP(v) ? null : `"${v}" is not "self" or an IPv4 or IPv6 address`,
  ).optional(),
  communities: listOf(
    checked(str('a community string "A:B"'), (v) => {
      const r = tryParse(parseCommunity, v);
      return typeof r === 'string' ? r : null;
    }),
    'communities',
  ).optional(),
  large_communities: listOf(
    checked(str('a large community string "A:B:C"'), (v) => {
      const r = tryParse(parseLargeCommunity, v);
      return typeof r === 'string' ? r : null;
    }),
    'large communities',
  ).optional(),
  ext_communities: listOf(
    checked(str('an extended community string "rt:A:B"'), (v) => {
      const r = tryParse(parseExtCommunity, v);
      return typeof r === 'string' ? r : null;
    }),
    'extended communities',
  ).optional(),
  med: int(0, 4294967295).optional(),
  local_pref: int(0, 4294967295).optional(),
  origin: z.enum(ORIGINS, { error: 'expected "igp", "egp" or "incomplete"' }).optional(),
  as_path: listOf(ASN, 'AS numbers').optional(),
});

const configSchema = z.strictObject(
  {
    global: globalSchema,
    api: apiSchema.optional(),
    state: stateSchema.optional(),
    neighbors: listOf(neighborSchema, 'neighbor tables ([[neighbors]])').optional(),
    routes: listOf(routeSchema, 'route tables ([[routes]])').optional(),
    services: servicesSchema.optional(),
    processes: processesSchema.optional(),
  },
  { error: 'expected a table' },
);

type RawConfig = z.infer<typeof configSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsing.

/** Formats a zod issue path as `neighbors[2].asn`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function knownKeys(path: readonly PropertyKey[]): string[] {
  const shapes: Record<string, z.ZodRawShape> = {
    '': configSchema.shape,
    global: globalSchema.shape,
    api: apiSchema.shape,
    state: stateSchema.shape,
    neighbors: neighborSchema.shape,
    routes: routeSchema.shape,
  };
  const top = path.length === 0 ? '' : String(path[0]);
  // services[i] / processes[i]: their own keys; deeper tables (services[i].checks[j], …) get no suggestion.
  if (top === 'services' || top === 'processes') {
    if (path.length !== 2) return [];
    return Object.keys(top === 'services' ? serviceSchema.shape : processSchema.shape);
  }
  return Object.keys(shapes[top] ?? {});
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

function unknownKeyMessage(path: readonly PropertyKey[], key: string): string {
  const candidates = knownKeys(path);
  let best: string | null = null;
  let bestD = 3;
  for (const c of candidates) {
    const d = distance(key, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  const where = formatPath([...path, key]);
  return best ? `${where}: unknown key (did you mean "${best}"?)` : `${where}: unknown key`;
}

/** Parses and validates TOML text. `source` is the file name (for messages), or null for the built-in default. */
export function parseConfig(text: string, source: string | null): ConfigResult {
  let doc: unknown;
  try {
    doc = parseToml(text, { unsafeKeyBehaviour: 'throw' });
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
      return { ok: false, errors: [`${source ?? 'config'}:${e.line}:${e.column}: invalid TOML: ${first}`] };
    }
    return { ok: false, errors: [`${source ?? 'config'}: ${(e as Error).message}`] };
  }

  const errors: string[] = [];
  const seen = new Set<string>();
  const add = (msg: string) => {
    if (!seen.has(msg)) {
      seen.add(msg);
      errors.push(msg);
    }
  };
  const reported = new Set<string>();

  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) add(unknownKeyMessage(issue.path, k));
        continue;
      }
      const where = formatPath(issue.path);
      // One message per key: the first problem found is the one to fix.
      if (reported.has(where)) continue;
      reported.add(where);
      if (issue.path.length === 0) add(`config: ${issue.message}`);
      else if (issue.code === 'invalid_type' && valueAt(doc, issue.path) === undefined) add(`${where}: required`);
      else add(`${where}: ${issue.message}`);
    }
  }
  for (const e of crossChecks(doc)) add(e);
  if (errors.length > 0) return { ok: false, errors: sortByPath(errors) };
  return { ok: true, config: normalize(parsed.data!, source) };
}

/** Orders messages by key path (indexes numerically), keeping the order of messages about one key. */
function sortByPath(errors: string[]): string[] {
  const keyOf = (m: string) => m.slice(0, Math.max(0, m.indexOf(': ')));
  return errors
    .map((m, i) => ({ m, i, k: keyOf(m) }))
    .sort((a, b) => a.k.localeCompare(b.k, 'en', { numeric: true }) || a.i - b.i)
    .map((x) => x.m);
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Why a file could not be read, in words: "no such file", "permission denied", or the error's message. */
export function readErrorReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
}

/** Reads and parses a config file; a read error is reported as the one error. */
export function loadConfigFile(path: string): ConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, errors: [`${path}: cannot read the config file: ${readErrorReason(e)}`] };
  }
  return parseConfig(text, path);
}

// ---------------------------------------------------------------------------------------------------------------
// Rules that span fields. They run on the raw document and skip whatever the schemas already reject.

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function crossChecks(doc: unknown): string[] {
  const errors: string[] = [];
  if (!isObj(doc)) return errors;
  const g = isObj(doc.global) ? doc.global : {};
  const globalAsn = typeof g.asn === 'number' ? g.asn : null;

  // The API changes routing: reachable from beyond this host only with bearer tokens.
  const api = isObj(doc.api) ? doc.api : {};
  const apiListen = parseListen(typeof api.listen === 'string' ? api.listen : DEFAULT_API_LISTEN);
  if (typeof apiListen !== 'string' && !isLoopback(apiListen.host) && api.tokens_file === undefined) {
    errors.push(
      `api.listen: ${apiListen.text} is not a loopback address; set api.tokens_file (bearer tokens) to serve the API beyond this host`,
    );
  }
  if ((api.tls_cert === undefined) !== (api.tls_key === undefined)) {
    errors.push(
      api.tls_cert === undefined
        ? 'api.tls_cert: required with api.tls_key'
        : 'api.tls_key: required with api.tls_cert',
    );
  }

  const neighbors = Array.isArray(doc.neighbors) ? doc.neighbors : [];
  const byAddress = new Map<string, number>();
  neighbors.forEach((n, i) => {
    if (!isObj(n)) return;
    const addr = typeof n.address === 'string' ? normalizeAddress(n.address) : null;
    if (addr) {
      const b = parseIP(addr)!;
      if (b.every((x) => x === 0)) errors.push(`neighbors[${i}].address: the unspecified address cannot be a neighbor`);
      // BGP runs over a TCP connection (RFC 4271 §2): a multicast or the broadcast address cannot be the other end.
      else if (b.length === 4 ? b[0]! >= 224 : b[0] === 0xff) {
        errors.push(`neighbors[${i}].address: ${addr} is not a unicast address`);
      }
      const prev = byAddress.get(addr);
      if (prev !== undefined) errors.push(`neighbors[${i}].address: ${addr} is already neighbors[${prev}]`);
      else byAddress.set(addr, i);
    }
    if (addr && typeof n.local_address === 'string' && parseIP(n.local_address)) {
      const local = normalizeAddress(n.local_address)!;
      if (familyOfAddress(local) !== familyOfAddress(addr)) {
        errors.push(
          `neighbors[${i}].local_address: ${local} is ${familyOfAddress(local) === 'ipv4-unicast' ? 'IPv4' : 'IPv6'} but the neighbor address ${addr} is not`,
        );
      }
    }
    if (n.route_reflector_client === true && globalAsn !== null && typeof n.asn === 'number' && n.asn !== globalAsn) {
      errors.push(
        `neighbors[${i}].route_reflector_client: only an iBGP neighbor (asn equal to global.asn) can be a route-reflector client`,
      );
    }
  });

  // Names of [[services]] and [[processes]] are unique. Their schemas check it too, but only when every table is
  // otherwise valid: here it is reported whatever else is wrong (the same message, so never twice).
  for (const key of ['services', 'processes'] as const) {
    const list = Array.isArray(doc[key]) ? doc[key] : [];
    const byName = new Map<string, number>();
    list.forEach((t, i) => {
      if (!isObj(t) || typeof t.name !== 'string') return;
      const prev = byName.get(t.name);
      if (prev !== undefined) errors.push(`${key}[${i}].name: "${t.name}" is already ${key}[${prev}]`);
      else byName.set(t.name, i);
    });
  }

  const routes = Array.isArray(doc.routes) ? doc.routes : [];
  const byPrefix = new Map<string, number>();
  routes.forEach((r, i) => {
    if (!isObj(r) || typeof r.prefix !== 'string') return;
    let family: Family;
    let key: PrefixKey;
    try {
      ({ family, key } = parsePrefix(r.prefix, true));
    } catch {
      return;
    }
    const id = `${family} ${formatPrefix(family, key)}`;
    const prev = byPrefix.get(id);
    if (prev !== undefined) errors.push(`routes[${i}].prefix: ${formatPrefix(family, key)} is already routes[${prev}]`);
    else byPrefix.set(id, i);
    if (typeof r.next_hop === 'string' && r.next_hop !== 'self' && parseIP(r.next_hop)) {
      const nhFamily = familyOfAddress(r.next_hop);
      if (nhFamily !== family) {
        const v = (f: Family) => (f === 'ipv4-unicast' ? 'IPv4' : 'IPv6');
        errors.push(`routes[${i}].next_hop: an ${v(nhFamily)} next hop for an ${v(family)} prefix`);
      }
    }
  });
  return errors;
}

// ---------------------------------------------------------------------------------------------------------------
// Raw (validated) document → DaemonConfig with every default applied.

function normalize(raw: RawConfig, source: string | null): DaemonConfig {
  const g = raw.global;
  const listenTexts = g.listen ?? [...DEFAULT_BGP_LISTEN];
  const global: GlobalConfig = {
    asn: g.asn,
    routerId: g.router_id,
    listen: listenTexts.map((t) => parseListen(t) as ListenAddress),
  };
  if (g.hostname !== undefined) global.hostname = g.hostname;
  if (g.cluster_id !== undefined) global.clusterId = g.cluster_id;

  const api: ApiConfig = {
    listen: parseListen(raw.api?.listen ?? DEFAULT_API_LISTEN) as ListenAddress,
    bodyLimit: raw.api?.body_limit ?? DEFAULT_API_BODY_LIMIT,
  };
  // Like [state] path: relative to the configuration file's directory.
  const apiPath = (p: string) => (source === null || isAbsolute(p) ? p : resolve(dirname(source), p));
  if (raw.api?.tokens_file !== undefined) api.tokensFile = apiPath(raw.api.tokens_file);
  if (raw.api?.tls_cert !== undefined) api.tlsCert = apiPath(raw.api.tls_cert);
  if (raw.api?.tls_key !== undefined) api.tlsKey = apiPath(raw.api.tls_key);
  // A relative path is relative to the configuration file's directory, so two daemons with their own files never
  // share a store by accident; the built-in default (no file) uses the working directory.
  const statePath = raw.state?.path ?? DEFAULT_STATE_PATH;
  const state: StateConfig = {
    path: source === null || isAbsolute(statePath) ? statePath : resolve(dirname(source), statePath),
  };

  const neighbors = (raw.neighbors ?? []).map(normalizeNeighbor);

  const routes = (raw.routes ?? []).map((r): RouteConfig => {
    const { family, key } = parsePrefix(r.prefix, true);
    const communities = (r.communities ?? []).map((c) => parseCommunity(c));
    const large = (r.large_communities ?? []).map((c) => parseLargeCommunity(c));
    const ext = (r.ext_communities ?? []).map((c) => parseExtCommunity(c));
    const out: RouteConfig = {
      family,
      prefix: key,
      prefixText: formatPrefix(family, key),
      nextHop: r.next_hop === undefined || r.next_hop === 'self' ? 'self' : normalizeAddress(r.next_hop)!,
      origin: r.origin === 'egp' ? Origin.EGP : r.origin === 'incomplete' ? Origin.INCOMPLETE : Origin.IGP,
      asPath: r.as_path ? [...r.as_path] : [],
      communities,
      largeCommunities: large,
      extCommunities: ext,
      text: {
        communities: r.communities ?? [],
        large_communities: r.large_communities ?? [],
        ext_communities: r.ext_communities ?? [],
      },
    };
    if (r.med !== undefined) out.med = r.med;
    if (r.local_pref !== undefined) out.localPref = r.local_pref;
    return out;
  });

  const services = normalizeServices(raw.services ?? []);
  const processes = normalizeProcesses(raw.processes ?? []);
  return { source, global, api, state, neighbors, routes, services, processes };
}

// ---------------------------------------------------------------------------------------------------------------
// One neighbour at a time: the API adds and changes neighbours with the keys of a [[neighbors]] table, validated
// by the same schema and cross-field rules as the file, and the overlay (overlay.ts) merges them with the file's.

/** A [[neighbors]] table as written, after schema validation. */
export type NeighborFields = z.infer<typeof neighborSchema>;

/** Every key a [[neighbors]] table may have. */
export const NEIGHBOR_KEYS: readonly string[] = Object.keys(neighborSchema.shape);

/** A problem with one key of a request or table (`field` is e.g. "hold_time" or "families[1]"). */
export interface FieldError {
  field: string;
  message: string;
}

function normalizeNeighbor(n: NeighborFields): NeighborConfig {
  const out: NeighborConfig = {
    address: normalizeAddress(n.address)!,
    asn: n.asn,
    port: n.port ?? 179,
    passive: n.passive ?? false,
    holdTime: n.hold_time ?? 90,
    connectRetry: n.connect_retry ?? 30,
    families: n.families ? [...n.families] : [...FAMILIES],
    enabled: n.enabled ?? true,
    routeReflectorClient: n.route_reflector_client ?? false,
    addPathReceive: n.add_path_receive ?? false,
    gracefulRestart: n.graceful_restart ?? true,
    restartTime: n.restart_time ?? 120,
    maxPrefixes: {},
    maxPrefixesRestart: n.max_prefixes_restart ?? 0,
    maxPrefixesWarningOnly: n.max_prefixes_warning_only ?? false,
  };
  for (const f of FAMILIES) {
    const limit = n.max_prefixes?.[f];
    if (limit !== undefined) out.maxPrefixes[f] = limit;
  }
  if (n.description !== undefined) out.description = n.description;
  if (n.local_address !== undefined) out.localAddress = normalizeAddress(n.local_address)!;
  if (n.next_hop_ipv6 !== undefined) out.nextHopIpv6 = normalizeAddress(n.next_hop_ipv6)!;
  if (n.next_hop_ipv4 !== undefined) out.nextHopIpv4 = normalizeAddress(n.next_hop_ipv4)!;
  return out;
}

/** The table that normalizes to `n`, every key explicit (defaults written out). */
export function neighborFields(n: NeighborConfig): NeighborFields {
  const f: NeighborFields = {
    address: n.address,
    asn: n.asn,
    port: n.port,
    passive: n.passive,
    hold_time: n.holdTime,
    connect_retry: n.connectRetry,
    families: [...n.families],
    enabled: n.enabled,
    route_reflector_client: n.routeReflectorClient,
    add_path_receive: n.addPathReceive,
    graceful_restart: n.gracefulRestart,
    restart_time: n.restartTime,
    max_prefixes_restart: n.maxPrefixesRestart,
    max_prefixes_warning_only: n.maxPrefixesWarningOnly,
  };
  if (Object.keys(n.maxPrefixes).length > 0) f.max_prefixes = { ...n.maxPrefixes };
  if (n.description !== undefined) f.description = n.description;
  if (n.localAddress !== undefined) f.local_address = n.localAddress;
  if (n.nextHopIpv6 !== undefined) f.next_hop_ipv6 = n.nextHopIpv6;
  if (n.nextHopIpv4 !== undefined) f.next_hop_ipv4 = n.nextHopIpv4;
  return f;
}

/** "hold_tme: unknown key (did you mean "hold_time"?)" for a key of one neighbour table. */
function unknownNeighborKey(key: string): FieldError {
  let best: string | null = null;
  let bestD = 3;
  for (const c of NEIGHBOR_KEYS) {
    const d = distance(key, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return { field: key, message: best ? `unknown key (did you mean "${best}"?)` : 'unknown key' };
}

/**
 * Validates one neighbour table (`fields`, TOML keys) for a speaker of AS `globalAsn`: the [[neighbors]] schema and
 * the rules that span fields, exactly as in the file. Returns the normalised neighbour or every problem found.
 */
export function checkNeighbor(
  fields: unknown,
  globalAsn: number,
): { ok: true; neighbor: NeighborConfig; fields: NeighborFields } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const parsed = neighborSchema.safeParse(fields);
  if (!parsed.success) {
    const reported = new Set<string>();
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) errors.push(unknownNeighborKey(k));
        continue;
      }
      const where = formatPath(issue.path);
      if (reported.has(where)) continue;
      reported.add(where);
      if (where === '') errors.push({ field: '', message: issue.message });
      else if (issue.code === 'invalid_type' && valueAt(fields, issue.path) === undefined) {
        errors.push({ field: where, message: 'required' });
      } else errors.push({ field: where, message: issue.message });
    }
  }
  for (const e of crossChecks({ global: { asn: globalAsn }, neighbors: [fields] })) {
    // "neighbors[0].local_address: …" → field "local_address".
    const m = /^neighbors\[0\]\.([^:]+): (.*)$/s.exec(e);
    errors.push(m ? { field: m[1]!, message: m[2]! } : { field: '', message: e });
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, neighbor: normalizeNeighbor(parsed.data), fields: parsed.data };
}
