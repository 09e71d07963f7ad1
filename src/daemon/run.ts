// `tsbgp daemon`: builds the speaker and the API from a configuration, prints the ready line, and handles
// signals — SIGTERM/SIGINT shut down cleanly (Cease to every peer), SIGHUP reloads the configuration file.
// Logs are JSON lines from pino on stderr; stdout carries only the one "tsbgp ready: …" line.

import pino, { type Logger } from 'pino';
import { type ApiSecurity, loadApiSecurity } from '../api/auth.ts';
import { buildApi } from '../api/server.ts';
import { type DaemonConfig, loadConfigFile } from './config.ts';
import { formatHostPort, Speaker } from './speaker.ts';
import { StateStore } from './store.ts';
import { VERSION } from './version.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface RunOptions {
  config: DaemonConfig;
  /** The file to re-read on SIGHUP; null when running the built-in default. */
  configPath: string | null;
  logLevel: LogLevel;
}

export function createLogger(level: LogLevel): Logger {
  // Synchronous writes: log lines written just before exit (a failed bind, the shutdown) must not be lost.
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 2, sync: true }),
  );
}

/** Runs the daemon until a signal stops it. Resolves with the process exit code. */
export async function runDaemon(opts: RunOptions): Promise<number> {
  const log = createLogger(opts.logLevel);
  // The API's tokens and TLS certificate are read first: a missing or broken file stops the start at once.
  let security: ApiSecurity;
  try {
    security = loadApiSecurity(opts.config.api);
  } catch (err) {
    log.fatal((err as Error).message);
    process.stderr.write(`tsbgp: ${(err as Error).message}\n`);
    return 1;
  }
  // The durable state is opened and loaded (injected routes into the RIB, the neighbour overlay) before anything
  // listens, so a store that cannot be used stops the start with one clear line naming the file.
  let store: StateStore | null = null;
  let speaker: Speaker;
  try {
    store = StateStore.open(opts.config.state.path);
    const t0 = performance.now();
    speaker = new Speaker(opts.config, { logger: log.child({ component: 'bgp' }), store });
    log.info({ store: store.path, ms: Math.round(performance.now() - t0) }, 'state loaded');
  } catch (err) {
    store?.close();
    log.fatal((err as Error).message);
    process.stderr.write(`tsbgp: ${(err as Error).message}\n`);
    return 1;
  }
  const closeStore = () => store?.close();
  const api = buildApi(speaker, { logger: log.child({ component: 'api' }), ...security });

  // Signal handlers go in first: SIGHUP's default action would kill a daemon that is still opening its sockets.
  let ready = false;
  let stopping: string | null = null;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await speaker.shutdown('tsbgp shutting down');
    await api.close();
    closeStore();
    log.info('stopped');
    finish(0);
  };
  const stop = (signal: string) => {
    if (stopping !== null) {
      // A second signal while the Ceases are being sent: stop waiting.
      log.warn({ signal }, 'second signal: exiting now');
      finish(1);
      return;
    }
    stopping = signal;
    // Before the listeners are open the start-up path below sees `stopping` and shuts down itself.
    if (ready) void shutdown(signal);
  };
  const reload = () => {
    if (stopping !== null) return;
    if (opts.configPath === null) {
      log.warn('SIGHUP: running on the built-in default configuration, nothing to reload');
      return;
    }
    const r = loadConfigFile(opts.configPath);
    if (!r.ok) {
      for (const e of r.errors) log.error({ config: opts.configPath }, `config error: ${e}`);
      log.error({ errors: r.errors.length }, 'SIGHUP: configuration invalid, keeping the running one');
      return;
    }
    const s = speaker.reload(r.config);
    if (security.tokens) {
      try {
        log.info({ tokens: security.tokens.reload(), file: security.tokens.path }, 'API tokens re-read');
      } catch (err) {
        log.error((err as Error).message);
        log.error('SIGHUP: tokens file invalid, keeping the tokens in force');
      }
    }
    for (const w of s.warnings) log.warn(w);
    log.info(
      {
        added: s.added,
        removed: s.removed,
        reset: s.reset,
        updated: s.updated,
        routesOriginated: s.routesOriginated,
        routesWithdrawn: s.routesWithdrawn,
        globalReset: s.globalReset,
        services: s.services,
        processes: s.processes,
      },
      'configuration reloaded',
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', reload);

  let bgp: string[];
  try {
    bgp = await speaker.start();
  } catch (err) {
    log.fatal((err as Error).message);
    process.stderr.write(`tsbgp: ${(err as Error).message}\n`);
    closeStore();
    return 1;
  }
  const apiListen = opts.config.api.listen;
  let apiAddress: string;
  try {
    await api.listen({ host: apiListen.host, port: apiListen.port });
    const a = api.server.address();
    apiAddress = a && typeof a === 'object' ? formatHostPort(a.address, a.port) : apiListen.text;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
    const msg = `cannot listen for the API on ${apiListen.text}: ${why}`;
    log.fatal(msg);
    process.stderr.write(`tsbgp: ${msg}\n`);
    await speaker.shutdown();
    closeStore();
    return 1;
  }

  ready = true;
  if (stopping !== null) {
    void shutdown(stopping);
    return await done;
  }
  log.info(
    { version: VERSION, config: opts.config.source ?? '(built-in default)', bgp, api: apiAddress },
    'tsbgp started',
  );
  const apiUrl = security.https ? `https://${apiAddress}` : apiAddress;
  process.stdout.write(`tsbgp ready: bgp on ${bgp.length > 0 ? bgp.join(', ') : 'none'}, api on ${apiUrl}\n`);
  return await done;
}
