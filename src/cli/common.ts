// What every client command shares: option parsing with usage errors, the connection options (--api, the token,
// --ca), families, paged listings, and output helpers.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiClient, type ClientOptions, DEFAULT_API_URL, UsageError } from './client.ts';

export const FAMILY_NAMES = ['ipv4-unicast', 'ipv6-unicast'] as const;
export type FamilyName = (typeof FAMILY_NAMES)[number];
const FAMILY_ALIASES: Record<string, FamilyName> = {
  'ipv4-unicast': 'ipv4-unicast',
  'ipv6-unicast': 'ipv6-unicast',
  ipv4: 'ipv4-unicast',
  ipv6: 'ipv6-unicast',
  v4: 'ipv4-unicast',
  v6: 'ipv6-unicast',
};

export function family(text: string, topic: string): FamilyName {
  const f = FAMILY_ALIASES[text.toLowerCase()];
  if (!f) usage(`unknown family "${text}" (expected ipv4-unicast or ipv6-unicast)`, topic);
  return f;
}

export function usage(message: string, topic = 'main'): never {
  throw new UsageError(`${message}\nRun 'tsbgp help${topic === 'main' ? '' : ` ${topic}`}' for usage.`);
}

export type OptionSpec = NonNullable<Parameters<typeof parseArgs>[0]>['options'];
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Parsed {
  values: Values;
  positionals: string[];
}

/** Options every client command takes. */
export const CLIENT_OPTIONS = {
  api: { type: 'string' },
  json: { type: 'boolean' },
  'token-file': { type: 'string' },
  ca: { type: 'string' },
} as const satisfies OptionSpec;

export function parse(args: string[], options: OptionSpec, topic: string): Parsed {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as Parsed;
  } catch (err) {
    // parseArgs says e.g. "Unknown option '--foo'. To specify a positional argument starting with a '-', …".
    const msg = (err as Error).message.split('. ')[0]!.replace(/'/g, '');
    return usage(msg.charAt(0).toLowerCase() + msg.slice(1), topic);
  }
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function strings(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${what}: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/**
 * The token: --token-file (its first line that is not a comment; a `<role> <token>` line of the daemon's tokens
 * file works too), else $TSBGP_TOKEN.
 */
export function tokenFrom(values: Values): string | undefined {
  const file = str(values, 'token-file');
  if (file !== undefined) {
    const line = readSecretFile(file, '--token-file')
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .find((l) => l !== '');
    if (!line) throw new UsageError(`--token-file: ${file} holds no token`);
    return line.split(/\s+/).at(-1);
  }
  const env = process.env.TSBGP_TOKEN;
  return env ? env.trim() : undefined;
}

export function client(values: Values): ApiClient {
  const url = str(values, 'api') ?? (process.env.TSBGP_API || DEFAULT_API_URL);
  const opts: ClientOptions = {};
  const token = tokenFrom(values);
  if (token) opts.token = token;
  const ca = str(values, 'ca') ?? (process.env.TSBGP_CA || undefined);
  if (ca) opts.ca = Buffer.from(readSecretFile(ca, '--ca'));
  return new ApiClient(url, opts);
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/** Positive integer option (exit 2 otherwise). */
export function positiveInt(text: string | undefined, name: string, topic: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text)) usage(`${name} must be a positive integer`, topic);
  return Number(text);
}

/** Throws a usage error when more positionals were given than `max`. */
export function noMore(positionals: string[], max: number, topic: string): void {
  if (positionals.length > max) usage(`unexpected argument "${positionals[max]}"`, topic);
}

/** Most pages --all follows (a million routes at the API's largest page is 10). */
const MAX_PAGES = 100_000;

/**
 * GET `path` with `query`, a paged listing ({routes, next_cursor}). With `all`, follows next_cursor (at most
 * MAX_PAGES more pages) and appends each page's routes to the first page, whose next_cursor is then where it stopped
 * (null at the end).
 */
export async function getPages<P extends { routes: unknown[]; next_cursor: string | null }>(
  api: ApiClient,
  path: string,
  query: URLSearchParams,
  all: boolean,
): Promise<P> {
  const first = await api.get<P>(`${path}${query.size > 0 ? `?${query}` : ''}`);
  let cursor = first.next_cursor;
  for (let n = 0; all && cursor !== null && n < MAX_PAGES; n++) {
    const next = new URLSearchParams(query);
    next.set('cursor', cursor);
    const page = await api.get<P>(`${path}?${next}`);
    for (const r of page.routes) first.routes.push(r);
    cursor = page.next_cursor;
  }
  first.next_cursor = cursor;
  return first;
}
