// The `tsbgp` command. `tsbgp daemon` runs the speaker; every other command is a thin client of the HTTP API
// (it never touches the daemon any other way). Exit codes: 0 success, 1 error, 2 usage error.
// docs/cli.md documents the commands; keep the two in step.

import { parseArgs } from 'node:util';
import type { RouteView } from '../rib/types.ts';
import { ApiClient, CliError, DEFAULT_API_URL, UsageError } from './client.ts';
import { formatNeighbor, formatNeighbors, formatRoutes, type NeighborJson } from './format.ts';

const FAMILY_NAMES = ['ipv4-unicast', 'ipv6-unicast'] as const;
const FAMILY_ALIASES: Record<string, (typeof FAMILY_NAMES)[number]> = {
  'ipv4-unicast': 'ipv4-unicast',
  'ipv6-unicast': 'ipv6-unicast',
  ipv4: 'ipv4-unicast',
  ipv6: 'ipv6-unicast',
  v4: 'ipv4-unicast',
  v6: 'ipv6-unicast',
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const HELP: Record<string, string> = {
  main: `tsbgp — an API-first BGP-4 speaker

Usage:
  tsbgp daemon [--config FILE] [--check] [--log-level LEVEL]
  tsbgp neighbor list [--json]
  tsbgp neighbor show ADDRESS [--json]
  tsbgp rib [FAMILY] [--prefix PREFIX] [--limit N] [--json]
  tsbgp status [--json]
  tsbgp help [COMMAND]
  tsbgp --version

Client commands talk to the daemon's HTTP API: --api URL (default: $TSBGP_API, else ${DEFAULT_API_URL}).
Exit codes: 0 success, 1 error, 2 usage error. See docs/cli.md.`,
  daemon: `Usage: tsbgp daemon [--config FILE] [--check] [--log-level LEVEL]

Runs the BGP speaker and its API until SIGTERM or SIGINT. SIGHUP re-reads the configuration file.
Without --config it runs the built-in default (AS 65000, BGP on 127.0.0.1:1179, API on 127.0.0.1:8179).

  -c, --config FILE     TOML configuration (docs/config.md)
      --check           validate the configuration, print every error, and exit (0 valid, 1 invalid)
      --log-level LEVEL fatal, error, warn, info (default), debug, trace or silent; logs are JSON on stderr`,
  neighbor: `Usage: tsbgp neighbor list [--json] [--api URL]
       tsbgp neighbor show ADDRESS [--json] [--api URL]

Lists the configured neighbors with their session state, uptime and route counts, or shows one in detail.`,
  rib: `Usage: tsbgp rib [FAMILY] [--prefix PREFIX] [--limit N] [--json] [--api URL]

Shows the Loc-RIB: every path, "*>" marking the best one. FAMILY is ipv4-unicast (ipv4) or ipv6-unicast (ipv6);
without it both are shown (or the family of --prefix).`,
  status: `Usage: tsbgp status [--json] [--api URL]

Shows whether the daemon answers, its version and uptime.`,
};

function usage(message: string, topic = 'main'): never {
  throw new UsageError(`${message}\nRun 'tsbgp help${topic === 'main' ? '' : ` ${topic}`}' for usage.`);
}

type OptionSpec = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

function parse(args: string[], options: OptionSpec, topic: string): Parsed {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // parseArgs says e.g. "Unknown option '--foo'. To specify a positional argument starting with a '-', …".
    const msg = (err as Error).message.split('. ')[0]!.replace(/'/g, '');
    return usage(msg.charAt(0).toLowerCase() + msg.slice(1), topic);
  }
}

const CLIENT_OPTIONS = {
  api: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionSpec;

function client(values: { api?: string | boolean | undefined }): ApiClient {
  const url = typeof values.api === 'string' ? values.api : process.env.TSBGP_API || DEFAULT_API_URL;
  return new ApiClient(url);
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

// ---------------------------------------------------------------------------------------------------------------

async function cmdDaemon(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, 'log-level': { type: 'string' } },
    'daemon',
  );
  if (values.help) return help(['daemon']);
  if (positionals.length > 0) usage(`unexpected argument "${positionals[0]}"`, 'daemon');
  // Loaded here, not at the top: the client commands should not pay for loading fastify, pino and the codec.
  const { builtinConfig, loadConfigFile } = await import('../daemon/config.ts');
  const level = (values['log-level'] as string | undefined) ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    usage(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, 'daemon');
  }
  const configPath = (values.config as string | undefined) ?? null;
  let config: import('../daemon/config.ts').DaemonConfig;
  if (configPath === null) {
    config = builtinConfig();
  } else {
    const r = loadConfigFile(configPath);
    if (!r.ok) {
      for (const e of r.errors) process.stderr.write(`${e}\n`);
      if (!values.check) process.stderr.write(`tsbgp: ${configPath}: ${r.errors.length} error(s); not starting\n`);
      return 1;
    }
    config = r.config;
  }
  if (values.check) {
    const n = config.neighbors.length;
    const m = config.routes.length;
    print(`config OK: ${n} ${n === 1 ? 'neighbor' : 'neighbors'}, ${m} ${m === 1 ? 'route' : 'routes'}`);
    return 0;
  }
  const { runDaemon } = await import('../daemon/run.ts');
  const code = await runDaemon({ config, configPath, logLevel: level as (typeof LOG_LEVELS)[number] });
  // Sessions' sockets and timers are closed by now, but do not let a straggling handle keep the process up.
  process.exit(code);
}

async function cmdNeighbor(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, CLIENT_OPTIONS, 'neighbor');
  if (values.help) return help(['neighbor']);
  const sub = positionals[0] ?? 'list';
  const api = client(values);
  if (sub === 'list' || sub === 'ls') {
    if (positionals.length > 1) usage(`unexpected argument "${positionals[1]}"`, 'neighbor');
    const list = await api.get<NeighborJson[]>('/api/v1/neighbors');
    if (values.json) printJson(list);
    else print(formatNeighbors(list));
    return 0;
  }
  if (sub === 'show') {
    const addr = positionals[1];
    if (!addr) usage('neighbor show needs an ADDRESS', 'neighbor');
    if (positionals.length > 2) usage(`unexpected argument "${positionals[2]}"`, 'neighbor');
    const n = await api.get<NeighborJson>(`/api/v1/neighbors/${encodeURIComponent(addr)}`);
    if (values.json) printJson(n);
    else print(formatNeighbor(n));
    return 0;
  }
  return usage(`unknown neighbor command "${sub}" (expected list or show)`, 'neighbor');
}

async function cmdRib(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...CLIENT_OPTIONS, prefix: { type: 'string', short: 'p' }, limit: { type: 'string' } },
    'rib',
  );
  if (values.help) return help(['rib']);
  if (positionals.length > 1) usage(`unexpected argument "${positionals[1]}"`, 'rib');
  let families: (typeof FAMILY_NAMES)[number][];
  const prefix = values.prefix as string | undefined;
  const limit = values.limit as string | undefined;
  if (limit !== undefined && !/^[1-9]\d*$/.test(limit)) usage('--limit must be a positive integer', 'rib');
  if (positionals[0] !== undefined) {
    const f = FAMILY_ALIASES[positionals[0].toLowerCase()];
    if (!f) usage(`unknown family "${positionals[0]}" (expected ipv4-unicast or ipv6-unicast)`, 'rib');
    families = [f];
  } else if (prefix !== undefined) {
    families = [prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast'];
  } else {
    families = [...FAMILY_NAMES];
  }
  const api = client(values);
  const results: Record<string, { total: number; routes: RouteView[] }> = {};
  for (const f of families) {
    const q = new URLSearchParams();
    if (prefix !== undefined) q.set('prefix', prefix);
    if (limit !== undefined) q.set('limit', limit);
    const qs = q.size > 0 ? `?${q}` : '';
    results[f] = await api.get<{ total: number; routes: RouteView[] }>(`/api/v1/rib/${f}${qs}`);
  }
  if (values.json) printJson(families.length === 1 ? results[families[0]!] : results);
  else print(families.map((f) => formatRoutes(f, results[f]!)).join('\n\n'));
  return 0;
}

async function cmdStatus(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, CLIENT_OPTIONS, 'status');
  if (values.help) return help(['status']);
  if (positionals.length > 0) usage(`unexpected argument "${positionals[0]}"`, 'status');
  const api = client(values);
  const h = await api.get<{ status: string; uptime_s: number; version: string }>('/api/v1/health');
  if (values.json) printJson(h);
  else print(`tsbgp ${h.version} at ${api.base}: ${h.status}, up ${h.uptime_s} s`);
  return 0;
}

function help(args: string[]): number {
  const topic = args[0] === 'neighbors' ? 'neighbor' : (args[0] ?? 'main');
  const text = HELP[topic];
  if (!text) usage(`no help for "${topic}"`);
  print(text);
  return 0;
}

async function version(): Promise<number> {
  const { VERSION } = await import('../daemon/version.ts');
  print(`tsbgp ${VERSION}`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
        print(HELP.main!);
        return 2;
      case '--version':
      case '-V':
      case 'version':
        return await version();
      case 'help':
      case '--help':
      case '-h':
        return help(rest);
      case 'daemon':
        return await cmdDaemon(rest);
      case 'neighbor':
      case 'neighbors':
        return await cmdNeighbor(rest);
      case 'rib':
        return await cmdRib(rest);
      case 'status':
        return await cmdStatus(rest);
      default:
        return usage(`unknown command "${cmd}"`);
    }
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`tsbgp: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

// process.exitCode rather than process.exit(): let pending writes (stdout through a pipe) drain first.
process.exitCode = await main(process.argv.slice(2));
