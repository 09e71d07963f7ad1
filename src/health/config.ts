// The `[[services]]` configuration: zod schemas for the TOML shape, and normalisation into ServiceConfig.
//
// The daemon's config embeds `servicesSchema` under the `services` key and calls normalizeServices() on the parsed
// value; messages follow the daemon's style (each names its key path, unknown keys are errors). docs/health.md
// documents every key; keep the two in step. Durations are seconds in TOML (fractions allowed), milliseconds inside.

import { z } from 'zod';
import { parseCommunity, parseLargeCommunity } from '../wire/attr-communities.ts';
import { formatPrefix, parseIP, parsePrefix, WellKnownCommunity } from '../wire/index.ts';
import { type CheckSpec, type Combine, DEFAULT_EXPECT_STATUS, type StatusRange } from './checks.ts';
import { normalizeIp } from './system.ts';

// ---------------------------------------------------------------------------------------------------------------
// The normalised configuration.

/** Attributes a service announces its prefixes with (the base set, or a state's changes to it). */
export interface AttributeChanges {
  med?: number;
  localPref?: number;
  /** Extra copies of the local AS put in front of the AS path. */
  asPathPrepend?: number;
  /** Added to the base communities. */
  communities: number[];
  largeCommunities: [number, number, number][];
}

export interface DampingConfig {
  enabled: boolean;
  /** Added on each announce ⇄ withdraw change of the service's route (not the first announcement). */
  penalty: number;
  /** Added when the announced attributes change (healthy ⇄ warning). RFC 2439 suggests 500; default 0. */
  attributePenalty: number;
  halfLifeMs: number;
  /** At or above this figure of merit the route is suppressed (held withdrawn). */
  suppress: number;
  /** A suppressed route is reused once the figure of merit has decayed to this. */
  reuse: number;
  /** Longest hold-down after the last change: the penalty is capped at reuse·2^(maxSuppress/halfLife) (RFC 2439 §4.2). */
  maxSuppressMs: number;
}

export interface DiscoverConfig {
  /** Canonical prefix texts; a listening address inside one of them is announced. */
  networks: string[];
  ports: number[];
  device?: string;
  label?: string;
}

export interface ServiceConfig {
  name: string;
  /** Canonical prefix texts ("192.0.2.10/32"). Empty in discovery mode. */
  prefixes: string[];
  discover?: DiscoverConfig;
  intervalMs: number;
  fastIntervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  withdrawDelayMs: number;
  checks: CheckSpec[];
  combine: Combine;
  /** "self" or a normalised address. */
  nextHop: string;
  /** Attributes while healthy. */
  base: AttributeChanges;
  warning: { action: 'announce' | 'withdraw' } & AttributeChanges;
  failed: { action: 'withdraw' | 'announce' } & AttributeChanges;
  drained: {
    action: 'withdraw' | 'graceful-shutdown';
    /** graceful-shutdown: announce with 65535:0 this long, then withdraw; 0 = keep announcing until undrained. */
    graceMs: number;
  };
  damping: DampingConfig;
  drainFile?: string;
  /** Transitions kept for the API. */
  historySize: number;
}

export const SERVICE_DEFAULTS = {
  interval: 5,
  fast_interval: 1,
  timeout: 5,
  rise: 3,
  fall: 3,
  withdraw_delay: 0,
  history: 50,
  warning_med: 500,
  failed_med: 1000,
  drain_grace: 30,
  damping: { penalty: 1000, attribute_penalty: 0, half_life: 60, suppress: 3000, reuse: 750, max_suppress: 600 },
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Schema helpers (same message style as src/daemon/config.ts).

function int(min: number, max: number, message = `expected an integer ${min}..${max}`) {
  return z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message });
}
function seconds(min: number, max: number) {
  const message = `expected a number of seconds ${min}..${max}`;
  return z.number({ error: message }).min(min, { error: message }).max(max, { error: message });
}
const bool = () => z.boolean({ error: 'expected true or false' });
const str = (what = 'a string') => z.string({ error: `expected ${what}` });
const table = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, { error: 'expected a table' });
const listOf = <T extends z.ZodType>(item: T, what: string) => z.array(item, { error: `expected an array of ${what}` });

function checked<T>(base: z.ZodType<T>, check: (v: T) => string | null) {
  return base.superRefine((v, ctx) => {
    const msg = check(v);
    if (msg) ctx.addIssue({ code: 'custom', message: msg });
  });
}
function tryParse<T>(parse: (text: string) => T, text: string): string | null {
  try {
    parse(text);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const PORT = int(1, 65535, 'expected a port 1..65535');
const U32 = int(0, 4294967295);
const prefixText = () => checked(str('a prefix "address/length"'), (v) => tryParse((t) => parsePrefix(t, true), v));
const address = () =>
  checked(str('an IPv4 or IPv6 address'), (v) => (parseIP(v) ? null : `"${v}" is not an IPv4 or IPv6 address`));
const communityList = () =>
  listOf(
    checked(str('a community "A:B" or a well-known name'), (v) => tryParse(parseCommunity, v)),
    'communities',
  );
const largeCommunityList = () =>
  listOf(
    checked(str('a large community "A:B:C"'), (v) => tryParse(parseLargeCommunity, v)),
    'large communities',
  );

/** "host:port" or "[v6]:port"; returns the parts or an error message. */
export function parseHostPort(text: string): { host: string; port: number } | string {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return `"${text}": expected "[IPv6]:port"`;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) return `"${text}": expected "host:port"`;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return `"${text}": an IPv6 address needs brackets: "[::1]:80"`;
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `"${text}": port must be 1..65535`;
  }
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) return `"${text}": "${host}" is not a host name or address`;
  return { host, port: Number(portText) };
}

/** 200, "2xx", "200-399" → StatusRange. */
function parseStatus(v: number | string): StatusRange | string {
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= 100 && v <= 599 ? { from: v, to: v } : `${v} is not an HTTP status 100..599`;
  }
  const m = /^([1-5])xx$/i.exec(v);
  if (m) return { from: Number(m[1]) * 100, to: Number(m[1]) * 100 + 99 };
  const r = /^(\d{3})-(\d{3})$/.exec(v);
  if (r && Number(r[1]) >= 100 && Number(r[2]) <= 599 && Number(r[1]) <= Number(r[2])) {
    return { from: Number(r[1]), to: Number(r[2]) };
  }
  return `"${v}" is not a status, "Nxx" or "from-to" range`;
}

// ---------------------------------------------------------------------------------------------------------------
// Check schemas: one strict table per type, so a key of another type (ports on a tcp check) is an error.

const CHECK_TYPES = ['tcp', 'http', 'command', 'listening', 'address'] as const;
const checkTimeout = seconds(0.001, 3600).optional();

const tcpCheck = table({
  type: z.literal('tcp'),
  target: checked(str('"host:port"'), (v) => {
    const r = parseHostPort(v);
    return typeof r === 'string' ? r : null;
  }),
  timeout: checkTimeout,
});

const httpCheck = table({
  type: z.literal('http'),
  target: checked(str('a URL'), (v) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return `"${v}" is not a URL`;
    }
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : `"${v}": only http and https URLs`;
  }),
  expect_status: listOf(
    checked(z.union([z.number(), z.string()], { error: 'expected a status code or a "2xx"/"200-399" string' }), (v) => {
      const r = parseStatus(v);
      return typeof r === 'string' ? r : null;
    }),
    'status codes',
  ).optional(),
  body_match: str().optional(),
  body_regex: checked(str('a regular expression'), (v) => tryParse((t) => new RegExp(t), v)).optional(),
  headers: z
    .record(z.string(), str('a header value'), { error: 'expected a table of header names and values' })
    .optional(),
  timeout: checkTimeout,
});

const commandCheck = table({
  type: z.literal('command'),
  target: checked(str('a command line'), (v) => (v.trim() ? null : 'expected a command line')),
  timeout: checkTimeout,
});

const listeningCheck = table({
  type: z.literal('listening'),
  ports: checked(listOf(PORT, 'ports'), (v) => (v.length ? null : 'expected at least one port')),
  addresses: listOf(address(), 'addresses').optional(),
  any_port: bool().optional(),
});

const addressCheck = table({
  type: z.literal('address'),
  address: address(),
  device: str('an interface name').optional(),
  label: str('an address label').optional(),
});

export const checkSchema = z.discriminatedUnion(
  'type',
  [tcpCheck, httpCheck, commandCheck, listeningCheck, addressCheck],
  {
    error: `expected a check table with type = ${CHECK_TYPES.map((t) => `"${t}"`).join(' | ')}`,
  },
);

// ---------------------------------------------------------------------------------------------------------------
// Service schema.

const attributeShape = {
  med: U32.optional(),
  local_pref: U32.optional(),
  as_path_prepend: int(0, 32).optional(),
  communities: communityList().optional(),
  large_communities: largeCommunityList().optional(),
};

const warningSchema = table({
  action: z.enum(['announce', 'withdraw'], { error: 'expected "announce" or "withdraw"' }).optional(),
  ...attributeShape,
});
const failedSchema = table({
  action: z.enum(['withdraw', 'announce'], { error: 'expected "withdraw" or "announce"' }).optional(),
  ...attributeShape,
});
const drainedSchema = table({
  action: z.enum(['withdraw', 'graceful-shutdown'], { error: 'expected "withdraw" or "graceful-shutdown"' }).optional(),
  grace: seconds(0, 86400).optional(),
});

const dampingSchema = table({
  enabled: bool().optional(),
  penalty: int(0, 1_000_000).optional(),
  attribute_penalty: int(0, 1_000_000).optional(),
  half_life: seconds(1, 86400).optional(),
  suppress: int(1, 1_000_000).optional(),
  reuse: int(1, 1_000_000).optional(),
  max_suppress: seconds(1, 7 * 86400).optional(),
});

const discoverSchema = table({
  networks: checked(listOf(prefixText(), 'prefixes'), (v) => (v.length ? null : 'expected at least one network')),
  ports: checked(listOf(PORT, 'ports'), (v) => (v.length ? null : 'expected at least one port')).optional(),
  device: str('an interface name').optional(),
  label: str('an address label').optional(),
});

const serviceObject = table({
  name: checked(str('a service name'), (v) =>
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(v) ? null : 'expected a name of letters, digits, "_", ".", "-" (up to 64)',
  ),
  prefixes: listOf(prefixText(), 'prefixes').optional(),
  discover: discoverSchema.optional(),
  interval: seconds(0.01, 86400).optional(),
  fast_interval: seconds(0.01, 86400).optional(),
  timeout: seconds(0.001, 3600).optional(),
  rise: int(1, 100).optional(),
  fall: int(1, 100).optional(),
  withdraw_delay: seconds(0, 86400).optional(),
  combine: z.enum(['all', 'any'], { error: 'expected "all" or "any"' }).optional(),
  checks: listOf(checkSchema, 'check tables ([[services.checks]])').optional(),
  next_hop: checked(str('"self" or an IP address'), (v) =>
    v === 'self' || parseIP(v) ? null : `"${v}" is not "self" or an IPv4 or IPv6 address`,
  ).optional(),
  med: U32.optional(),
  local_pref: U32.optional(),
  communities: communityList().optional(),
  large_communities: largeCommunityList().optional(),
  warning: warningSchema.optional(),
  failed: failedSchema.optional(),
  drained: drainedSchema.optional(),
  damping: z.union([bool(), dampingSchema], { error: 'expected false or a [services.damping] table' }).optional(),
  drain_file: checked(str('a file path'), (v) => (v.startsWith('/') ? null : 'expected an absolute path')).optional(),
  history: int(1, 10000).optional(),
});

export type RawService = z.infer<typeof serviceObject>;

/** Rules that span keys of one service; `add(pathInService, message)` reports one. */
function serviceRules(s: RawService, add: (path: PropertyKey[], message: string) => void): void {
  const hasPrefixes = s.prefixes !== undefined && s.prefixes.length > 0;
  if (!hasPrefixes && !s.discover) add(['prefixes'], 'a service needs prefixes (or a [services.discover] table)');
  if (hasPrefixes && s.discover) add(['discover'], 'use either prefixes or discover, not both');
  if (!s.discover && (s.checks === undefined || s.checks.length === 0)) {
    add(['checks'], 'a service needs at least one check ([[services.checks]])');
  }
  const seen = new Set<string>();
  (s.prefixes ?? []).forEach((p, i) => {
    const { family, key } = parsePrefix(p, true);
    const id = formatPrefix(family, key);
    if (seen.has(id)) add(['prefixes', i], `${id} is listed twice`);
    seen.add(id);
  });
  if (s.next_hop !== undefined && s.next_hop !== 'self') {
    const v6 = s.next_hop.includes(':');
    (s.prefixes ?? []).forEach((p, i) => {
      if (p.includes(':') !== v6) {
        add(
          ['prefixes', i],
          `${p} is ${v6 ? 'IPv4' : 'IPv6'} but next_hop ${s.next_hop} is not; use next_hop = "self"`,
        );
      }
    });
  }
  const interval = s.interval ?? SERVICE_DEFAULTS.interval;
  if (s.fast_interval !== undefined && s.fast_interval > interval) {
    add(['fast_interval'], `must not be longer than interval (${interval} s)`);
  }
  if (typeof s.damping === 'object') {
    const suppress = s.damping.suppress ?? SERVICE_DEFAULTS.damping.suppress;
    const reuse = s.damping.reuse ?? SERVICE_DEFAULTS.damping.reuse;
    if (reuse >= suppress) add(['damping', 'reuse'], `must be below suppress (${suppress})`);
  }
}

export const serviceSchema = serviceObject.superRefine((s, ctx) => {
  serviceRules(s, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
});

/** `[[services]]`: the list, with names unique. */
export const servicesSchema = listOf(serviceSchema, 'service tables ([[services]])').superRefine((list, ctx) => {
  const byName = new Map<string, number>();
  list.forEach((s, i) => {
    const prev = byName.get(s.name);
    if (prev !== undefined)
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${s.name}" is already services[${prev}]` });
    else byName.set(s.name, i);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Normalisation.

function changes(raw: {
  med?: number;
  local_pref?: number;
  as_path_prepend?: number;
  communities?: string[];
  large_communities?: string[];
}): AttributeChanges {
  const out: AttributeChanges = {
    communities: (raw.communities ?? []).map(parseCommunity),
    largeCommunities: (raw.large_communities ?? []).map(parseLargeCommunity),
  };
  if (raw.med !== undefined) out.med = raw.med;
  if (raw.local_pref !== undefined) out.localPref = raw.local_pref;
  if (raw.as_path_prepend !== undefined) out.asPathPrepend = raw.as_path_prepend;
  return out;
}

function normalizeCheck(c: z.infer<typeof checkSchema>): CheckSpec {
  switch (c.type) {
    case 'tcp': {
      const hp = parseHostPort(c.target) as { host: string; port: number };
      return {
        type: 'tcp',
        host: hp.host,
        port: hp.port,
        ...(c.timeout !== undefined && { timeoutMs: c.timeout * 1000 }),
      };
    }
    case 'http':
      return {
        type: 'http',
        url: c.target,
        expectStatus: c.expect_status
          ? c.expect_status.map((v) => parseStatus(v) as StatusRange)
          : DEFAULT_EXPECT_STATUS,
        ...(c.body_match !== undefined && { bodyMatch: c.body_match }),
        ...(c.body_regex !== undefined && { bodyRegex: c.body_regex }),
        ...(c.headers !== undefined && { headers: c.headers }),
        ...(c.timeout !== undefined && { timeoutMs: c.timeout * 1000 }),
      };
    case 'command':
      return { type: 'command', command: c.target, ...(c.timeout !== undefined && { timeoutMs: c.timeout * 1000 }) };
    case 'listening':
      return {
        type: 'listening',
        ports: [...c.ports],
        addresses: (c.addresses ?? []).map((a) => normalizeIp(a)!),
        ...(c.any_port === true && { anyPort: true }),
      };
    case 'address':
      return {
        type: 'address',
        address: normalizeIp(c.address)!,
        ...(c.device !== undefined && { device: c.device }),
        ...(c.label !== undefined && { label: c.label }),
      };
  }
}

function canonicalPrefix(p: string): string {
  const { family, key } = parsePrefix(p, true);
  return formatPrefix(family, key);
}

/** A validated raw service → ServiceConfig with every default applied. */
export function normalizeService(s: RawService): ServiceConfig {
  const d = SERVICE_DEFAULTS;
  const damp = typeof s.damping === 'object' ? s.damping : {};
  const warning = s.warning ?? {};
  const failed = s.failed ?? {};
  const out: ServiceConfig = {
    name: s.name,
    prefixes: (s.prefixes ?? []).map(canonicalPrefix),
    intervalMs: (s.interval ?? d.interval) * 1000,
    fastIntervalMs: Math.min(s.fast_interval ?? d.fast_interval, s.interval ?? d.interval) * 1000,
    timeoutMs: (s.timeout ?? d.timeout) * 1000,
    rise: s.rise ?? d.rise,
    fall: s.fall ?? d.fall,
    withdrawDelayMs: (s.withdraw_delay ?? d.withdraw_delay) * 1000,
    checks: (s.checks ?? []).map(normalizeCheck),
    combine: s.combine ?? 'all',
    nextHop: s.next_hop === undefined || s.next_hop === 'self' ? 'self' : normalizeIp(s.next_hop)!,
    base: changes({ ...s, as_path_prepend: 0 }),
    // A warning state with no attribute changes configured still has to look different: a higher MED.
    warning: {
      action: warning.action ?? 'announce',
      ...changes({ med: d.warning_med, ...warning }),
    },
    failed: { action: failed.action ?? 'withdraw', ...changes({ med: d.failed_med, ...failed }) },
    drained: {
      action: s.drained?.action ?? 'withdraw',
      graceMs: (s.drained?.grace ?? d.drain_grace) * 1000,
    },
    damping: {
      enabled: s.damping !== false && (typeof s.damping !== 'object' || s.damping.enabled !== false),
      penalty: damp.penalty ?? d.damping.penalty,
      attributePenalty: damp.attribute_penalty ?? d.damping.attribute_penalty,
      halfLifeMs: (damp.half_life ?? d.damping.half_life) * 1000,
      suppress: damp.suppress ?? d.damping.suppress,
      reuse: damp.reuse ?? d.damping.reuse,
      maxSuppressMs: (damp.max_suppress ?? d.damping.max_suppress) * 1000,
    },
    historySize: s.history ?? d.history,
  };
  if (s.discover) {
    out.discover = {
      networks: s.discover.networks.map(canonicalPrefix),
      ports: s.discover.ports ? [...s.discover.ports] : [80, 443],
      ...(s.discover.device !== undefined && { device: s.discover.device }),
      ...(s.discover.label !== undefined && { label: s.discover.label }),
    };
  }
  if (s.drain_file !== undefined) out.drainFile = s.drain_file;
  return out;
}

export function normalizeServices(list: RawService[]): ServiceConfig[] {
  return list.map(normalizeService);
}

/**
 * Parses one service from a plain object (for tests and tools); throws an Error listing every problem as
 * `key.path: message`.
 */
export function parseService(raw: unknown): ServiceConfig {
  const r = serviceSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(
      r.error.issues
        .map((i) => {
          const path = i.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '');
          return `${path || 'service'}: ${i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.join(', ')}` : i.message}`;
        })
        .join('\n'),
    );
  }
  return normalizeService(r.data);
}

/** RFC 8326 §4: the GRACEFUL_SHUTDOWN well-known community, 65535:0. */
export const GRACEFUL_SHUTDOWN = WellKnownCommunity.GRACEFUL_SHUTDOWN;
