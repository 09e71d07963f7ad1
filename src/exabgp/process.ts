// ProcessHost: runs one ExaBGP helper program and speaks ExaBGP's process API with it.
//
//   - spawns `run` (a string through /bin/sh -c, or an argv array) in its own process group, with pipes on
//     stdin/stdout; stderr lines go to the logger
//   - reads stdout line by line (trailing whitespace stripped), parses each command (commands.ts) and hands it to
//     the ProcessSink — one at a time, in order — then answers `done` or `error` on the program's stdin (ack on)
//   - sends neighbour state changes and received updates in the program's encoder (encoder.ts), when configured
//   - when the program dies: the sink withdraws everything it announced (withdrawAll), and the program is started
//     again — unless it died more than `respawnLimit` times (5) within `respawnWindowMs` (64 s), ExaBGP's rule
//   - stop(): writes the encoder's `shutdown` message, SIGTERMs the process group shortly after (ExaBGP does the
//     same), still answering its commands meanwhile (ExaBGP's healthcheck withdraws on SIGTERM and waits for
//     the acks), SIGKILLs after stopTimeoutMs, then withdrawAll.

import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Family, UpdateMessage } from '../wire/index.ts';
import { type Command, matchNeighbors, type NeighborInfo, parseCommand, type RouteSet } from './commands.ts';
import {
  API_VERSION,
  createEncoder,
  type Direction,
  type EncoderKind,
  type EncoderOptions,
  type NeighborState,
  type PeerIdentity,
  type ProcessEncoder,
} from './encoder.ts';

export interface ProcessConfig {
  name: string;
  /** A command line (run through /bin/sh -c) or an argv array (run directly). */
  run: string | string[];
  encoder: EncoderKind;
  /** Neighbour addresses the program speaks for; empty = all neighbours. */
  neighbors: string[];
  /** Answer `done`/`error` after each command (ExaBGP's exabgp.api.ack, default on). */
  ack: boolean;
  /** Send neighbour up/connected/down messages (ExaBGP's api { neighbor-changes; }). */
  neighborChanges: boolean;
  /** Send received UPDATEs (ExaBGP's api { receive { parsed; update; } }). */
  receiveUpdates: boolean;
  /** Start the program again when it dies (ExaBGP's api.respawn, default on). */
  respawn: boolean;
}

export type SinkResult = { ok: true } | { ok: false; error: string };
export const OK: SinkResult = { ok: true };

/** Which program a call comes from. `generation` counts starts (1 for the first). */
export interface ProcessRef {
  name: string;
  pid: number | null;
  generation: number;
}

/**
 * Which neighbours a command is for. `all` is true when neither the command nor the process config narrows it:
 * the routes are for every neighbour, present and future. Otherwise `neighbors` lists the matched addresses.
 */
export interface Target {
  all: boolean;
  neighbors: string[];
}

/** What the daemon implements for the host. A method may return a promise; commands are handled one at a time. */
export interface ProcessSink {
  /** The configured neighbours, for selector matching. */
  neighbors(): NeighborInfo[];
  announce(proc: ProcessRef, target: Target, routes: RouteSet): SinkResult | Promise<SinkResult>;
  /** Withdrawing a route that is not there is still ok (ExaBGP answers done). */
  withdraw(proc: ProcessRef, target: Target, routes: RouteSet): SinkResult | Promise<SinkResult>;
  /** End-of-RIB to established neighbours (RFC 4724 §2). */
  eor(
    proc: ProcessRef,
    target: Target,
    afi: number,
    safi: number,
    family: Family | null,
  ): SinkResult | Promise<SinkResult>;
  /** Ask established neighbours for a ROUTE-REFRESH (RFC 2918). */
  routeRefresh(
    proc: ProcessRef,
    target: Target,
    afi: number,
    safi: number,
    family: Family | null,
  ): SinkResult | Promise<SinkResult>;
  /** `teardown <subcode>`: Cease the sessions. Optional: without it the command gets `error`. */
  teardown?(proc: ProcessRef, target: Target, subcode: number): SinkResult | Promise<SinkResult>;
  /** `announce|withdraw watchdog [name]`: name null means the process name. Optional. */
  watchdog?(proc: ProcessRef, action: 'announce' | 'withdraw', name: string): SinkResult | Promise<SinkResult>;
  /** The program asked the daemon to shut down. Optional: without it the command gets `error`. */
  shutdown?(proc: ProcessRef): SinkResult | Promise<SinkResult>;
  /** The program died or was stopped: remove every route it announced. */
  withdrawAll(proc: ProcessRef): void | Promise<void>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type HostLogger = (level: LogLevel, message: string) => void;

export interface HostOptions extends EncoderOptions {
  /** More deaths than this within respawnWindowMs stop respawning (ExaBGP: 5 within 64 s). */
  respawnLimit?: number;
  respawnWindowMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** Delay between the shutdown message and SIGTERM (ExaBGP: 0.1 s). */
  termDelayMs?: number;
  /** Answer to `version` (without the trailing `done`). */
  versionText?: string;
  /** A command line longer than this is answered `error` and dropped. */
  maxLineLength?: number;
  /** Event messages are dropped (and counted) while this much is already waiting for the program to read. */
  maxPendingBytes?: number;
  logger?: HostLogger;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ProcessStatus {
  name: string;
  pid: number | null;
  running: boolean;
  /** Times started. */
  starts: number;
  /** Respawning stopped after too many deaths. */
  gaveUp: boolean;
  commands: { ok: number; error: number };
  /** Event messages dropped because the program did not read its stdin. */
  dropped: number;
  lastError: string | null;
  lastExit: { code: number | null; signal: string | null; at: number } | null;
}

export interface HostEvents {
  spawn: [pid: number];
  exit: [code: number | null, signal: string | null];
  /** A command was handled: the line and the answer (`done` or `error: reason`). */
  command: [line: string, answer: string];
  'gave-up': [deaths: number];
}

const DEFAULTS = {
  respawnLimit: 5,
  respawnWindowMs: 64_000,
  stopTimeoutMs: 5000,
  termDelayMs: 100,
  maxLineLength: 64 * 1024,
  maxPendingBytes: 1024 * 1024,
};

type ResolvedOptions = Required<Pick<HostOptions, keyof typeof DEFAULTS>> & HostOptions;

export class ProcessHost extends EventEmitter<HostEvents> {
  readonly config: ProcessConfig;
  readonly #sink: ProcessSink;
  readonly #o: ResolvedOptions;
  readonly #encoder: ProcessEncoder;
  readonly #now: () => number;
  readonly #log: HostLogger;

  #child: ChildProcess | null = null;
  #generation = 0;
  #stopping = false;
  #started = false;
  #gaveUp = false;
  #deaths: number[] = [];
  #queue: Promise<void> = Promise.resolve();
  #stdoutBuf = '';
  #stderrBuf = '';
  #discarding = false;
  #ok = 0;
  #errors = 0;
  #dropped = 0;
  #lastError: string | null = null;
  #lastExit: ProcessStatus['lastExit'] = null;
  #exited: Promise<void> = Promise.resolve();

  constructor(config: ProcessConfig, sink: ProcessSink, options: HostOptions = {}) {
    super();
    this.config = config;
    this.#sink = sink;
    const o: HostOptions = { ...options };
    for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) o[k] = options[k] ?? DEFAULTS[k];
    this.#o = o as ResolvedOptions;
    this.#encoder = createEncoder(config.encoder, options);
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? (() => {});
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  status(): ProcessStatus {
    return {
      name: this.config.name,
      pid: this.pid,
      running: this.#child !== null,
      starts: this.#generation,
      gaveUp: this.#gaveUp,
      commands: { ok: this.#ok, error: this.#errors },
      dropped: this.#dropped,
      lastError: this.#lastError,
      lastExit: this.#lastExit,
    };
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#spawn();
  }

  /** Sends `shutdown`, terminates the program and withdraws its routes. Resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.#stopping) return this.#exited;
    this.#stopping = true;
    const child = this.#child;
    if (!child) {
      // Not running, or dead and being cleaned up: wait for that to finish (no respawn now).
      await this.#exited;
      return;
    }
    this.#write(this.#encoder.shutdown());
    const term = setTimeout(() => this.#signal(child, 'SIGTERM'), this.#o.termDelayMs);
    const kill = setTimeout(() => this.#signal(child, 'SIGKILL'), this.#o.termDelayMs + this.#o.stopTimeoutMs);
    try {
      await this.#exited;
    } finally {
      clearTimeout(term);
      clearTimeout(kill);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Messages to the program.

  #speaksFor(peer: PeerIdentity): boolean {
    return this.config.neighbors.length === 0 || this.config.neighbors.includes(peer.peerAddress);
  }

  /** Neighbour state change (sent when neighborChanges is on and the program speaks for the neighbour). */
  notifyState(peer: PeerIdentity, state: NeighborState, reason?: string): void {
    if (this.config.neighborChanges && this.#speaksFor(peer)) this.#event(this.#encoder.state(peer, state, reason));
  }

  /** A received UPDATE (sent when receiveUpdates is on). */
  notifyUpdate(peer: PeerIdentity, direction: Direction, update: UpdateMessage): void {
    if (this.config.receiveUpdates && this.#speaksFor(peer)) this.#event(this.#encoder.update(peer, direction, update));
  }

  /** A NOTIFICATION sent or received (sent with neighbour changes). */
  notifyNotification(peer: PeerIdentity, direction: Direction, code: number, subcode: number, data: Uint8Array): void {
    if (this.config.neighborChanges && this.#speaksFor(peer)) {
      this.#event(this.#encoder.notification(peer, direction, code, subcode, data));
    }
  }

  #event(text: string): void {
    if (!text || !this.#child?.stdin) return;
    // A program that never reads its stdin must not make the daemon buffer without bound.
    if (this.#child.stdin.writableLength > this.#o.maxPendingBytes) {
      this.#dropped++;
      if (this.#dropped === 1 || this.#dropped % 1000 === 0) {
        this.#log('warn', `process ${this.config.name}: not reading its stdin; ${this.#dropped} message(s) dropped`);
      }
      return;
    }
    this.#write(text);
  }

  #write(text: string): void {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return;
    stdin.write(text);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Process lifecycle.

  #ref(): ProcessRef {
    return { name: this.config.name, pid: this.pid, generation: this.#generation };
  }

  #spawn(): void {
    const run = this.config.run;
    const [cmd, args] = typeof run === 'string' ? ['/bin/sh', ['-c', run]] : [run[0]!, run.slice(1)];
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group (ExaBGP: setpgrp), so a signal reaches the program and whatever it started.
        detached: true,
        env: { ...(this.#o.env ?? process.env), TERM: 'dumb' },
        cwd: this.#o.cwd,
      });
    } catch (e) {
      this.#lastError = `cannot start: ${(e as Error).message}`;
      this.#log('error', `process ${this.config.name}: ${this.#lastError}`);
      return;
    }
    this.#generation++;
    this.#child = child;
    this.#stdoutBuf = '';
    this.#stderrBuf = '';
    this.#discarding = false;
    let resolveExit!: () => void;
    this.#exited = new Promise((r) => {
      resolveExit = r;
    });
    const ref = this.#ref();
    child.stdin!.on('error', () => {}); // EPIPE when the program is gone: its exit is handled on 'close'
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.#onStdout(d, ref));
    child.stderr!.on('data', (d: string) => this.#onStderr(d));
    child.once('error', (e) => {
      this.#lastError = `cannot start: ${e.message}`;
      this.#log('error', `process ${this.config.name}: ${this.#lastError}`);
    });
    child.once('spawn', () => {
      this.#log('info', `process ${this.config.name} started (pid ${child.pid})`);
      this.emit('spawn', child.pid!);
    });
    // 'close': exited and stdout fully read, so every command it printed has been queued.
    child.once('close', (code, signal) => {
      void this.#onClose(child, ref, code, signal).then(resolveExit);
    });
  }

  #signal(child: ChildProcess, sig: NodeJS.Signals): void {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        // gone
      }
    }
  }

  async #onClose(child: ChildProcess, ref: ProcessRef, code: number | null, signal: string | null): Promise<void> {
    if (this.#stdoutBuf.trim() !== '') this.#enqueue(this.#stdoutBuf.replace(/\s+$/, ''), ref);
    this.#stdoutBuf = '';
    if (this.#stderrBuf) this.#log('info', `process ${this.config.name}: ${this.#stderrBuf}`);
    this.#stderrBuf = '';
    await this.#queue;
    if (this.#child === child) this.#child = null;
    this.#lastExit = { code, signal, at: this.#now() };
    this.emit('exit', code, signal);
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    this.#log(this.#stopping ? 'info' : 'warn', `process ${this.config.name} ${how}; withdrawing its routes`);
    try {
      await this.#sink.withdrawAll(ref);
    } catch (e) {
      this.#log('error', `process ${this.config.name}: withdrawAll failed: ${(e as Error).message}`);
    }
    if (this.#stopping || !this.config.respawn) return;
    const now = this.#now();
    this.#deaths = this.#deaths.filter((t) => now - t < this.#o.respawnWindowMs);
    this.#deaths.push(now);
    if (this.#deaths.length > this.#o.respawnLimit) {
      this.#gaveUp = true;
      this.#lastError = `died ${this.#deaths.length} times within ${this.#o.respawnWindowMs / 1000} s; not respawning`;
      this.#log('error', `process ${this.config.name} ${this.#lastError}`);
      this.emit('gave-up', this.#deaths.length);
      return;
    }
    this.#spawn();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Commands from the program.

  #onStdout(data: string, ref: ProcessRef): void {
    this.#stdoutBuf += data;
    let nl = this.#stdoutBuf.indexOf('\n');
    while (nl >= 0) {
      const line = this.#stdoutBuf.slice(0, nl);
      this.#stdoutBuf = this.#stdoutBuf.slice(nl + 1);
      if (this.#discarding) this.#discarding = false;
      else this.#enqueue(line.replace(/\s+$/, ''), ref);
      nl = this.#stdoutBuf.indexOf('\n');
    }
    if (this.#stdoutBuf.length > this.#o.maxLineLength && !this.#discarding) {
      // Too long to be a command: answer once, then skip to the end of the line.
      this.#stdoutBuf = '';
      this.#discarding = true;
      this.#enqueue(null, ref);
    } else if (this.#discarding) {
      this.#stdoutBuf = '';
    }
  }

  #onStderr(data: string): void {
    this.#stderrBuf += data;
    let nl = this.#stderrBuf.indexOf('\n');
    while (nl >= 0) {
      const line = this.#stderrBuf.slice(0, nl).replace(/\s+$/, '');
      this.#stderrBuf = this.#stderrBuf.slice(nl + 1);
      if (line) this.#log('info', `process ${this.config.name}: ${line}`);
      nl = this.#stderrBuf.indexOf('\n');
    }
    if (this.#stderrBuf.length > this.#o.maxLineLength) this.#stderrBuf = '';
  }

  /** Commands run one at a time, in order: `await`s must not let a withdraw overtake the announce before it. */
  #enqueue(line: string | null, ref: ProcessRef): void {
    this.#queue = this.#queue.then(() => this.#handle(line, ref));
  }

  async #handle(line: string | null, ref: ProcessRef): Promise<void> {
    let answer: SinkResult;
    let reply: string | null = null;
    if (line === null) {
      answer = { ok: false, error: `line longer than ${this.#o.maxLineLength} bytes` };
    } else {
      const parsed = parseCommand(line);
      if (!parsed.ok) answer = { ok: false, error: parsed.error };
      else {
        try {
          const r = await this.#execute(parsed.command, ref);
          answer = r.result;
          reply = r.reply;
        } catch (e) {
          answer = { ok: false, error: `internal error: ${(e as Error).message}` };
        }
      }
    }
    const text = line ?? '(overlong line)';
    if (answer.ok) this.#ok++;
    else {
      this.#errors++;
      this.#lastError = `${text}: ${answer.error}`;
      this.#log('warn', `process ${this.config.name}: ${text}: ${answer.error}`);
    }
    if (reply !== null) this.#write(`${reply}\n`);
    if (this.config.ack) this.#write(answer.ok ? 'done\n' : 'error\n');
    this.emit('command', text, answer.ok ? 'done' : `error: ${answer.error}`);
  }

  #candidates(): NeighborInfo[] {
    const all = this.#sink.neighbors();
    if (this.config.neighbors.length === 0) return all;
    return all.filter((n) => this.config.neighbors.includes(n.address));
  }

  #target(selectors: Parameters<typeof matchNeighbors>[0], establishedOnly: boolean): Target | string {
    const candidates = this.#candidates().filter((n) => !establishedOnly || n.established);
    const matched = matchNeighbors(selectors, candidates);
    const all = !establishedOnly && selectors.length === 0 && this.config.neighbors.length === 0;
    if (matched.length === 0 && !all) {
      return selectors.length ? 'no neighbor matching the command' : 'no neighbor to send it to';
    }
    return { all, neighbors: matched.map((n) => n.address) };
  }

  async #execute(c: Command, ref: ProcessRef): Promise<{ result: SinkResult; reply: string | null }> {
    const s = this.#sink;
    const done = (result: SinkResult, reply: string | null = null) => ({ result, reply });
    const fail = (error: string) => done({ ok: false, error });
    switch (c.type) {
      case 'comment':
        this.#log('debug', `process ${this.config.name}: # ${c.text}`);
        return done(OK);
      case 'version':
        return done(OK, this.#o.versionText ?? `exabgp ${API_VERSION}`);
      case 'shutdown': {
        if (!s.shutdown) return fail('shutdown from a process is not enabled');
        const r = await s.shutdown(ref);
        return done(r, r.ok ? 'shutdown in progress' : null);
      }
      case 'watchdog':
        if (!s.watchdog) return fail('watchdogs are not supported');
        return done(await s.watchdog(ref, c.action, c.name ?? this.config.name));
      case 'announce':
      case 'withdraw': {
        const t = this.#target(c.neighbors, false);
        if (typeof t === 'string') return fail(t);
        return done(c.type === 'announce' ? await s.announce(ref, t, c.routes) : await s.withdraw(ref, t, c.routes));
      }
      case 'eor':
      case 'route-refresh': {
        const t = this.#target(c.neighbors, true);
        if (typeof t === 'string') return fail(t);
        return done(
          c.type === 'eor'
            ? await s.eor(ref, t, c.afi, c.safi, c.family)
            : await s.routeRefresh(ref, t, c.afi, c.safi, c.family),
        );
      }
      case 'teardown': {
        if (!s.teardown) return fail('teardown is not supported');
        const t = this.#target(c.neighbors, true);
        if (typeof t === 'string') return fail(t);
        return done(await s.teardown(ref, t, c.code));
      }
    }
  }
}
