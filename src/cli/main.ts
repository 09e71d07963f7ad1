// The `tsbgp` command. `tsbgp daemon` runs the speaker; every other command is a thin client of the HTTP API
// (it never touches the daemon any other way). Exit codes: 0 success, 1 error (the daemon answered with an error,
// or an invalid configuration), 2 usage error, 3 the API cannot be reached.
// docs/cli.md documents the commands; keep the two in step.

import { CliError, DEFAULT_API_URL } from './client.ts';
import { cmdNeighbor } from './cmd-neighbor.ts';
import { cmdRib } from './cmd-rib.ts';
import { cmdRoute } from './cmd-route.ts';
import { cmdProcess, cmdService, PROCESS_HELP, SERVICE_HELP } from './cmd-service.ts';
import { cmdWatch } from './cmd-watch.ts';
import { CLIENT_OPTIONS, client, noMore, parse, print, printJson, usage } from './common.ts';
import { formatStatus, type HealthJson } from './format.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const CONNECTION = `Connection (every client command):
  --api URL          the API (default: $TSBGP_API, else ${DEFAULT_API_URL}); https:// for TLS
  --token-file FILE  bearer token from FILE (default: $TSBGP_TOKEN)
  --ca FILE          CA certificate(s) to trust for https:// (default: $TSBGP_CA)
  --json             print the API's JSON instead of a table`;

const HELP: Record<string, string> = {
  main: `tsbgp — an API-first BGP-4 speaker

Usage:
  tsbgp daemon [--config FILE] [--check] [--log-level LEVEL]
  tsbgp status
  tsbgp neighbor [list | show ADDR | add ADDR --asn N [...] | set ADDR --KEY VALUE [...] | delete ADDR
                  | enable ADDR | disable ADDR | reset ADDR [--soft in|out] | revert ADDR
                  | adj-in ADDR [FAMILY] | adj-out ADDR [FAMILY]]
  tsbgp rib [FAMILY] [--prefix P [--longer]] [--community C]... [--large-community C]... [--as-path RE]
            [--from ADDR|local] [--limit N] [--all] [--explain]
  tsbgp route add PREFIX [--next-hop NH] [--origin O] [--as-path "A B"] [--med N] [--local-pref N]
                  [--community C]... [--large-community C]... [--ext-community C]...
  tsbgp route add --file FILE | delete PREFIX... | delete --file FILE | list [FAMILY] [--all]
  tsbgp watch [--family F] [--neighbor ADDR] [--types route,session]
  tsbgp service [list | show NAME | drain NAME | undrain NAME]
  tsbgp process [list]
  tsbgp help [COMMAND]
  tsbgp --version

${CONNECTION}

Exit codes: 0 success, 1 the daemon answered with an error, 2 usage error, 3 the API cannot be reached.
See docs/cli.md.`,
  daemon: `Usage: tsbgp daemon [--config FILE] [--check] [--log-level LEVEL]

Runs the BGP speaker and its API until SIGTERM or SIGINT. SIGHUP re-reads the configuration file (and the API
tokens file). Without --config it runs the built-in default (AS 65000, BGP on 127.0.0.1:1179, API on 127.0.0.1:8179).

  -c, --config FILE     TOML configuration (docs/config.md)
      --check           validate the configuration (and the API tokens and TLS files it names), print every
                        error, and exit (0 valid, 1 invalid)
      --log-level LEVEL fatal, error, warn, info (default), debug, trace or silent; logs are JSON on stderr`,
  neighbor: `Usage: tsbgp neighbor [list]                          every neighbour: state, uptime, route counts
       tsbgp neighbor show ADDR                        one neighbour in detail
       tsbgp neighbor add ADDR --asn N [--KEY VALUE]...
       tsbgp neighbor set ADDR --KEY VALUE [...] [--unset KEY]...
       tsbgp neighbor delete ADDR                      NOTIFICATION Cease (peer de-configured)
       tsbgp neighbor enable ADDR | disable ADDR
       tsbgp neighbor reset ADDR [--soft in|out]       hard reset, or ROUTE-REFRESH (in) / re-send (out)
       tsbgp neighbor revert ADDR                      drop the API's changes: back to the configuration file
       tsbgp neighbor adj-in ADDR [FAMILY] [--prefix P] [--limit N]    paths received from the neighbour
       tsbgp neighbor adj-out ADDR [FAMILY] [--prefix P] [--limit N]   routes advertised to it

Keys (the [[neighbors]] keys of docs/config.md, with dashes): --asn N, --description TEXT, --local-address A,
--port N, --passive [BOOL], --hold-time N, --connect-retry N, --families F[,F], --next-hop-ipv4 A,
--next-hop-ipv6 A, --enabled BOOL (or --disabled), --route-reflector-client [BOOL], --add-path-receive [BOOL],
--graceful-restart BOOL, --restart-time N. A boolean alone means true; --no-KEY means false.
--unset KEY (set only) puts the key back to what the configuration file says.
Changes are stored by the daemon and survive restarts; only a description change leaves the session up.

${CONNECTION}`,
  rib: `Usage: tsbgp rib [FAMILY] [--prefix P [--longer]] [--community C]... [--large-community C]...
                 [--as-path RE] [--from ADDR|local] [--limit N] [--all]
       tsbgp rib [FAMILY] --prefix P --explain

Shows the Loc-RIB: every path, "*>" marking the best one. FAMILY is ipv4-unicast (ipv4) or ipv6-unicast (ipv6);
without it both are shown (or the family of --prefix). Every filter given must hold:

  -p, --prefix P             this exact prefix; with --longer, P and every more-specific prefix
      --community C          a community the path carries (repeat for several; all must match)
      --large-community C    a large community the path carries (repeatable)
      --as-path RE           a JavaScript regular expression over the AS path "65001 65002" (e.g. '^65001 ')
      --from ADDR|local      paths learned from this neighbour, or originated here
      --limit N              paths per page (the API's default is 1000)
      --all                  follow every page
      --explain              every candidate of --prefix with the best-path decision step by step

${CONNECTION}`,
  route: `Usage: tsbgp route add PREFIX [--next-hop NH] [--origin igp|egp|incomplete] [--as-path "A B ..."]
                       [--med N] [--local-pref N] [--community C]... [--large-community C]...
                       [--ext-community C]...
       tsbgp route add --file FILE          a batch, in one request (FILE "-" is standard input)
       tsbgp route delete PREFIX [PREFIX...] | --file FILE
       tsbgp route list [FAMILY] [--limit N] [--all]

Injects routes through the API (stored by the daemon; they survive restarts). A batch is accepted or rejected
as a whole. FILE is JSON (the body of POST /api/v1/routes: [route, ...] or {"routes": [...]}) or text, one route
per line, the prefix first, then "key value" pairs (# starts a comment):

  203.0.113.0/24 next-hop 192.0.2.1 as-path 65001,65002 med 10 community 65000:1,65000:2
  2001:db8:100::/48 origin incomplete large-community 65000:1:1

keys: next-hop, origin, as-path, med, local-pref, community, large-community, ext-community. For delete only
the prefix of each line (or route object) is read.

${CONNECTION}`,
  watch: `Usage: tsbgp watch [--family F[,F]] [--neighbor ADDR[,ADDR]] [--types route,session]

Follows best-path changes (route) and session state changes (session) as they happen, one line each (with
--json one JSON object per line), until interrupted. Exits 1 if the daemon ends the stream because the client
fell behind (overflow), 3 if the connection is lost.

${CONNECTION}`,
  service: `${SERVICE_HELP}

${CONNECTION}`,
  process: `${PROCESS_HELP}

${CONNECTION}`,
  status: `Usage: tsbgp status

Shows whether the daemon answers: version, uptime, neighbours established, Loc-RIB sizes, event-loop delay.

${CONNECTION}`,
};

// ---------------------------------------------------------------------------------------------------------------

async function cmdDaemon(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, 'log-level': { type: 'string' } },
    'daemon',
  );
  if (values.help) return help(['daemon']);
  noMore(positionals, 0, 'daemon');
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
    // The files the configuration names for the API are read too: a daemon that passed --check must start.
    const { loadApiSecurity } = await import('../api/auth.ts');
    try {
      loadApiSecurity(config.api);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    const n = config.neighbors.length;
    const m = config.routes.length;
    // Services and processes are named only when there are any.
    const extra = [
      [config.services.length, 'service', 'services'],
      [config.processes.length, 'process', 'processes'],
    ]
      .filter(([k]) => (k as number) > 0)
      .map(([k, one, many]) => `, ${k} ${k === 1 ? one : many}`)
      .join('');
    print(`config OK: ${n} ${n === 1 ? 'neighbor' : 'neighbors'}, ${m} ${m === 1 ? 'route' : 'routes'}${extra}`);
    return 0;
  }
  const { runDaemon } = await import('../daemon/run.ts');
  const code = await runDaemon({ config, configPath, logLevel: level as (typeof LOG_LEVELS)[number] });
  // Sessions' sockets and timers are closed by now, but do not let a straggling handle keep the process up.
  process.exit(code);
}

async function cmdStatus(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, CLIENT_OPTIONS, 'status');
  if (values.help) return help(['status']);
  noMore(positionals, 0, 'status');
  const api = client(values);
  const h = await api.get<HealthJson>('/api/v1/health');
  if (values.json) printJson(h);
  else print(formatStatus(h, api.base));
  return 0;
}

function help(args: string[]): number {
  const aliases: Record<string, string> = {
    neighbors: 'neighbor',
    routes: 'route',
    services: 'service',
    processes: 'process',
  };
  const topic = aliases[args[0] ?? ''] ?? args[0] ?? 'main';
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
        return await cmdNeighbor(rest, help);
      case 'rib':
        return await cmdRib(rest, help);
      case 'route':
      case 'routes':
        return await cmdRoute(rest, help);
      case 'watch':
        return await cmdWatch(rest, help);
      case 'service':
      case 'services':
        return await cmdService(rest, help);
      case 'process':
      case 'processes':
        return await cmdProcess(rest, help);
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
