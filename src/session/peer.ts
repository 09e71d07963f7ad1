// One BGP neighbour: sockets, timers and the send path around the pure FSM of fsm.ts.
//
// Everything that changes the session goes through dispatch(): events are queued and stepped through the FSM
// one at a time (a handler that calls stop() from inside update() gets its event handled after the current
// one), and the actions that come out are carried out here: connect, write OPEN/KEEPALIVE/NOTIFICATION, close,
// and call the PeerHandler, synchronously, in event order.
//
// Timers: the FSM keeps deadlines; one setTimeout per peer is armed for the earliest and feeds a `tick`. The
// tick is run from setImmediate, i.e. after the event loop's I/O phase, so that when the process was busy for a
// while, data that arrived meanwhile (and restarts the hold timer) is read before the hold timer is judged.
//
// Sending routes is pull-based (BIRD's model): when the RIB has something for this peer it calls wakeOutput();
// the peer then calls output.pull() while the socket's buffered bytes are under a high-water mark and again on
// 'drain'. KEEPALIVEs and NOTIFICATIONs are written directly, never waiting behind the RIB's queue.
//
// Keeping the event loop breathing (a full table is ≈ 500 000 UPDATEs in, as many out, times the peers):
//   - all sessions of the process share one work queue (`work` below), run from setImmediate for at most
//     TURN_BUDGET_MS per turn of the event loop, round robin: a step of a session reads up to INPUT_STEP
//     messages, or pulls and writes one batch of output. Twenty peers sending (or receiving) at once therefore
//     cost the loop one budget per turn, not twenty: timers, keepalives and the API run in between;
//   - a 'data' event only buffers the chunk; a socket with more than INPUT_BUFFER_LIMIT bytes waiting is paused
//     until its backlog is read, so TCP pushes back on a sender that is faster than we are;
//   - output is pulled from the queue, not from inside wakeOutput(): the wakes of every UPDATE handled in a
//     turn coalesce into one pull, and a pull's messages go out as one Buffer in one write() — rather than one
//     small write (one syscall, one TCP segment, one read at the receiver) per incoming UPDATE.

import net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  afiSafiOf,
  type BgpMessage,
  type CodecContext,
  decodeMessageAt,
  defaultCodecContext,
  describeNotification,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  encodeRouteRefresh,
  encodeShutdownNotification,
  type Family,
  Framer,
  MessageType,
  messageTypeName,
  type OpenMessage,
  WireError,
} from '../wire/index.ts';
import { type FsmAction, type FsmEvent, type FsmState, initialState, nextDeadline, step } from './fsm.ts';
import { buildOpen, isIPv6Transport, negotiate, routerIdToNumber, type TransportInfo } from './negotiate.ts';
import type {
  NegotiatedSession,
  OutputSource,
  PeerConfig,
  PeerHandler,
  PeerLike,
  SessionDownReason,
  SessionStateName,
} from './types.ts';

/** A connected byte stream: a net.Socket, or any Duplex (tests use an in-memory pair). */
export type Transport = Duplex & {
  localAddress?: string | undefined;
  localPort?: number | undefined;
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  connecting?: boolean;
  setNoDelay?: (noDelay?: boolean) => unknown;
};

/** The subset of pino's interface the session uses. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PeerOptions {
  /** Milliseconds clock for timer deadlines and the established time (default: monotonic whole milliseconds for
   * the timers, Date.now for the established time). */
  clock?: () => number;
  logger?: Logger;
  /** Opens outgoing connections (default net.connect); the returned stream must emit 'connect'. */
  connect?: (opts: net.NetConnectOpts) => Transport;
  /** Source of the connect-retry jitter (default Math.random). */
  random?: () => number;
  /** Buffered bytes above which the peer stops pulling UPDATEs until 'drain' (default 256 KiB). */
  highWaterMark?: number;
  /** How long a closing connection may take to flush its last NOTIFICATION before it is destroyed (default 2 s). */
  closeTimeoutMs?: number;
}

export interface PeerStats {
  /** Messages received and sent, by type name ("OPEN", "UPDATE", "NOTIFICATION", "KEEPALIVE", "ROUTE-REFRESH"). */
  messagesIn: Record<string, number>;
  messagesOut: Record<string, number>;
  /** UPDATE messages (End-of-RIB included) received and sent. */
  updatesIn: number;
  updatesOut: number;
  lastError: SessionDownReason | null;
  /** Clock time the current session reached Established; null when not established. */
  establishedAt: number | null;
  /** How many times an Established session went down. */
  flaps: number;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const DEFAULT_HIGH_WATER_MARK = 256 * 1024;
/** Session work (input and output of every peer together) per turn of the event loop. */
const TURN_BUDGET_MS = 8;
/** Messages one input step handles. */
const INPUT_STEP = 64;
/** Buffered input above which the socket is paused. */
const INPUT_BUFFER_LIMIT = 256 * 1024;
/** Encoded bytes one output step pulls at most (the rest of the room is pulled by the next steps). */
const OUTPUT_STEP_BYTES = 64 * 1024;
/** Rounds of the work queue an output step waits while some session's input is being handled (at most 8 input
 * steps of 64 messages: a few milliseconds). */
const OUTPUT_DEFER_STEPS = 8;

/** A step of some session's work; returns true when it has more to do. */
type Step = () => boolean;

/**
 * The process-wide work queue of all sessions (see the module comment): steps run round robin from one
 * setImmediate, for at most TURN_BUDGET_MS, then the event loop turns.
 */
const work = {
  queue: [] as Step[],
  scheduled: false,
  /** Input steps in the queue (sessions with received messages still to handle). */
  inputs: 0,
  add(step: Step): void {
    this.queue.push(step);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(runWork);
    }
  },
};

/**
 * The FSM's default clock: whole milliseconds of a monotonic clock (a wall-clock step must not fire or delay a
 * hold timer). A small integer for the first 24 days of the process, so that the per-UPDATE timer arithmetic
 * allocates nothing (Date.now's value is a heap number: ≈ 35 MB of garbage per full table).
 */
function monotonicMs(): number {
  return Math.floor(performance.now());
}

/**
 * The messages as one buffer for one write. The RIB's encoder carves consecutive messages out of one slab, so a
 * batch is usually one contiguous range already: then it is a view of that range, not a copy.
 */
export function joined(batch: readonly Uint8Array[], bytes: number): Uint8Array {
  const first = batch[0]!;
  if (batch.length === 1) return first;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < batch.length; i++) {
    const m = batch[i]!;
    if (m.buffer !== first.buffer || m.byteOffset !== end) return Buffer.concat(batch, bytes);
    end += m.length;
  }
  return new Uint8Array(first.buffer, first.byteOffset, bytes);
}

function runWork(): void {
  work.scheduled = false;
  const deadline = performance.now() + TURN_BUDGET_MS;
  const q = work.queue;
  while (q.length > 0) {
    // One round over the steps queued now; those with more to do go to the back.
    const n = q.length;
    for (let i = 0; i < n; i++) {
      const step = q.shift()!;
      if (step()) q.push(step);
    }
    if (performance.now() >= deadline) break;
  }
  if (q.length > 0 && !work.scheduled) {
    work.scheduled = true;
    setImmediate(runWork);
  }
}
const DEFAULT_CLOSE_TIMEOUT_MS = 2000;

interface Conn {
  readonly id: number;
  readonly socket: Transport;
  readonly framer: Framer;
  ctx: CodecContext;
  openSent: OpenMessage | null;
  /** What this connection's OPEN exchange negotiated (set when the peer's OPEN passed the checks). */
  session: NegotiatedSession | null;
  connected: boolean;
  closing: boolean;
  waitingDrain: boolean;
  /** The socket was paused because too much input is waiting. */
  inputPaused: boolean;
  /** The input step is in the work queue. */
  inputQueued: boolean;
  error: string | undefined;
  readonly done: Promise<void>;
  /** The FSM event of every UPDATE on this connection (events are only read: one object, not one per UPDATE). */
  readonly updateEvent: FsmEvent;
}

interface Queued {
  ev: FsmEvent;
  socket?: Transport | undefined;
  msg?: BgpMessage | undefined;
}

function newStats(): PeerStats {
  const counts = () => ({ OPEN: 0, UPDATE: 0, NOTIFICATION: 0, KEEPALIVE: 0, 'ROUTE-REFRESH': 0 });
  return {
    messagesIn: counts(),
    messagesOut: counts(),
    updatesIn: 0,
    updatesOut: 0,
    lastError: null,
    establishedAt: null,
    flaps: 0,
  };
}

/** Node reports IPv4 peers of a dual-stack listener as ::ffff:a.b.c.d; show them as IPv4. */
function plainAddress(a: string | undefined): string {
  if (!a) return '';
  return a.toLowerCase().startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export class Peer implements PeerLike {
  readonly config: PeerConfig;
  readonly stats: PeerStats = newStats();

  private readonly handler: PeerHandler;
  private readonly output: OutputSource;
  private readonly clock: () => number;
  private readonly wallClock: () => number;
  private readonly log: Logger;
  private readonly connectFn: (opts: net.NetConnectOpts) => Transport;
  private readonly random: () => number;
  private readonly hwm: number;
  private readonly closeTimeoutMs: number;

  private fsm: FsmState;
  private readonly conns = new Map<number, Conn>();
  private readonly closing = new Set<Promise<void>>();
  private estConn: Conn | null = null;
  private sessionInfo: NegotiatedSession | null = null;

  private readonly queue: Queued[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;

  /** Bumped by every wakeOutput(), so a wake that arrives while pull() runs is not lost. */
  private wakeSeq = 0;
  private outputPending = false;
  private pumping = false;
  /** The output step is in the work queue. */
  private pumpQueued = false;
  /** Output steps skipped in a row while input was being handled (see OUTPUT_DEFER_STEPS). */
  private deferred = 0;
  private readonly pumpStep: Step = () => {
    // While UPDATEs are still coming in, let a few input steps add to what this peer has to send before
    // pulling: one 64-message input step yields ≈ 6 KB of output, and a write per input step costs a syscall
    // and a TCP segment on both sides. When the input stops, the output goes at once.
    if (work.inputs > 0 && this.deferred < OUTPUT_DEFER_STEPS) {
      this.deferred++;
      return true;
    }
    this.deferred = 0;
    const more = this.pump();
    if (!more) this.pumpQueued = false;
    return more;
  };

  constructor(config: PeerConfig, handler: PeerHandler, output: OutputSource, opts: PeerOptions = {}) {
    this.config = config;
    this.handler = handler;
    this.output = output;
    this.clock = opts.clock ?? monotonicMs;
    this.wallClock = opts.clock ?? Date.now;
    this.log = opts.logger ?? silent;
    this.connectFn = opts.connect ?? ((o) => net.connect(o));
    this.random = opts.random ?? Math.random;
    this.hwm = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.fsm = initialState({
      localId: routerIdToNumber(config.routerId),
      localAsn: config.localAsn,
      remoteAsn: config.remoteAsn,
      passive: config.passive,
      connectRetryTime: config.connectRetryTime,
    });
  }

  get state(): SessionStateName {
    return this.fsm.state;
  }

  get session(): NegotiatedSession | null {
    return this.sessionInfo;
  }

  get lastError(): SessionDownReason | null {
    return this.stats.lastError;
  }

  /** Bytes handed to the established connection's socket and not yet sent (for metrics; 0 when not established). */
  get outQueueBytes(): number {
    return this.estConn?.socket.writableLength ?? 0;
  }

  /** Administratively up: connect (unless passive) and accept connections. */
  start(): void {
    this.dispatch({ type: 'start' });
  }

  /**
   * Administratively down: Cease (default subcode 2, Administrative Shutdown, with `message` as the RFC 9003
   * shutdown communication) on every connection, then close. Stays Idle until start(). Resolves when the
   * sockets are closed.
   */
  async stop(reason: { subcode?: number; message?: string; data?: Uint8Array } = {}): Promise<void> {
    const ev: FsmEvent = { type: 'stop' };
    if (reason.subcode !== undefined) ev.subcode = reason.subcode;
    if (reason.data !== undefined) ev.data = reason.data;
    if (reason.message !== undefined) ev.message = reason.message;
    this.dispatch(ev);
    await this.settled();
  }

  /**
   * Administrative reset. Hard (default): Cease 4 (Administrative Reset), close, and connect again. Soft: ask the
   * peer to send its routes again (ROUTE-REFRESH for every negotiated family) and keep the session; when the
   * peer does not support route refresh, a soft reset falls back to a hard one.
   */
  reset(hard = true, message?: string): void {
    const s = this.sessionInfo;
    if (!hard && s?.routeRefresh) {
      for (const f of s.families) this.sendRouteRefresh(f);
      return;
    }
    const ev: FsmEvent = { type: 'reset' };
    if (message !== undefined) ev.message = message;
    this.dispatch(ev);
  }

  /** Hands the peer a connection the daemon accepted from this neighbour's address. */
  acceptConnection(socket: Transport): void {
    socket.on('error', () => {});
    this.dispatch({ type: 'incoming' }, socket);
  }

  /**
   * The RIB has something to send: pull it while the socket can take it — from setImmediate, so that the wakes
   * of everything handled in this turn of the event loop make one pull (and one write) instead of one each.
   */
  wakeOutput(): void {
    this.wakeSeq++;
    this.outputPending = true;
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    work.add(this.pumpStep);
  }

  /** Sends ROUTE-REFRESH (RFC 2918) for a family; false when the session cannot carry one. */
  sendRouteRefresh(family: Family): boolean {
    const c = this.estConn;
    const s = this.sessionInfo;
    if (!c || !s?.routeRefresh || !s.families.includes(family) || c.closing) return false;
    const { afi, safi } = afiSafiOf(family);
    this.write(c, encodeRouteRefresh(afi, safi, 0));
    return true;
  }

  /** Resolves when every connection this peer closed has finished closing. */
  async settled(): Promise<void> {
    // Let a dispatch that is running further up the stack (stop() called from a handler) finish first.
    await null;
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  // ---------------------------------------------------------------------------------------------------------
  // The serial path: events in, actions out.

  private dispatch(ev: FsmEvent, socket?: Transport, msg?: BgpMessage): void {
    if (this.busy) {
      // A handler further up the stack caused this event: it runs once the current one is done.
      this.queue.push({ ev, socket, msg });
      return;
    }
    this.busy = true;
    const before = this.fsm;
    try {
      // The common case (every UPDATE) runs at once without a queue entry.
      this.run(ev, socket, msg);
      for (let q = this.queue.shift(); q; q = this.queue.shift()) this.run(q.ev, q.socket, q.msg);
    } finally {
      this.busy = false;
    }
    // The same state has the same timers (an UPDATE mostly leaves the state as it was; see fsm.ts).
    if (this.fsm !== before || ev.type === 'tick') this.schedule();
  }

  private run(ev: FsmEvent, socket: Transport | undefined, msg: BgpMessage | undefined): void {
    const before = this.fsm;
    const from = before.state;
    const r = step(before, ev, this.clock(), this.random);
    this.fsm = r.state;
    const est = this.estConn;
    if (est && r.state !== before && !r.state.conns.some((c) => c.id === est.id)) {
      this.estConn = null;
      this.sessionInfo = null;
      this.stats.establishedAt = null;
    }
    const to = r.state.state;
    if (from !== to) {
      this.log.info({ peer: this.config.address, from, to }, 'session state');
      this.callHandler(() => this.handler.stateChanged(this, from, to));
    }
    const actions = r.actions;
    for (let i = 0; i < actions.length; i++) this.exec(actions[i]!, socket, msg);
  }

  private exec(a: FsmAction, socket: Transport | undefined, msg: BgpMessage | undefined): void {
    switch (a.type) {
      case 'connect':
        this.openConnection(a.id);
        return;
      case 'adopt':
        if (socket) this.adopt(a.id, socket);
        return;
      case 'reject':
        if (socket) this.reject(socket, a.subcode);
        return;
      case 'send-open': {
        const c = this.conns.get(a.id);
        if (!c) return;
        c.openSent = buildOpen(this.config, isIPv6Transport(c.socket.localAddress ?? ''));
        this.write(c, encodeOpen(c.openSent));
        return;
      }
      case 'send-keepalive': {
        const c = this.conns.get(a.id);
        if (c && !c.closing) this.write(c, encodeKeepalive());
        return;
      }
      case 'send-notification': {
        const c = this.conns.get(a.id);
        if (!c || c.closing) return;
        const bytes =
          a.shutdownMessage !== undefined && a.code === 6 && (a.subcode === 2 || a.subcode === 4)
            ? encodeShutdownNotification(a.subcode, a.shutdownMessage)
            : encodeNotification(a.code, a.subcode, a.data);
        this.log.info(
          { peer: this.config.address, code: a.code, subcode: a.subcode },
          `sending NOTIFICATION ${a.code}/${a.subcode} (${describeNotification(a.code, a.subcode)})`,
        );
        this.write(c, bytes);
        return;
      }
      case 'close': {
        const c = this.conns.get(a.id);
        if (c) this.closeConn(c);
        return;
      }
      case 'established': {
        const c = this.conns.get(a.id);
        if (!c?.session) return;
        this.estConn = c;
        this.sessionInfo = c.session;
        this.stats.establishedAt = this.wallClock();
        const s = c.session;
        this.log.info(
          {
            peer: this.config.address,
            remoteAsn: s.remoteAsn,
            remoteRouterId: s.remoteRouterId,
            holdTime: s.holdTime,
            families: s.families,
          },
          'session established',
        );
        this.callHandler(() => this.handler.established(this, s));
        // The RIB sends the initial table and End-of-RIB through pull().
        this.wakeOutput();
        return;
      }
      case 'deliver': {
        if (msg?.type === 'update') {
          this.stats.updatesIn++;
          if (msg.errors.length > 0) {
            this.log.warn(
              {
                peer: this.config.address,
                errors: msg.errors.map((e) => e.message),
                treatAsWithdraw: msg.treatAsWithdraw,
              },
              'UPDATE with errors (RFC 7606)',
            );
          }
          // Not through callHandler: a closure per UPDATE is garbage for nothing.
          try {
            this.handler.update(this, msg);
          } catch (err) {
            this.handlerThrew(err);
          }
        } else if (msg?.type === 'route-refresh') {
          this.callHandler(() => this.handler.routeRefresh(this, msg));
        }
        return;
      }
      case 'down': {
        const reason: SessionDownReason = { message: a.message };
        if (a.notification) reason.notification = a.notification;
        this.stats.lastError = reason;
        if (a.wasEstablished) {
          this.stats.flaps++;
          this.stats.establishedAt = null;
        }
        const level = a.wasEstablished ? 'warn' : 'info';
        this.log[level]({ peer: this.config.address, wasEstablished: a.wasEstablished }, `session down: ${a.message}`);
        this.callHandler(() => this.handler.down(this, reason, a.wasEstablished));
        return;
      }
    }
  }

  private callHandler(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.handlerThrew(err);
    }
  }

  private handlerThrew(err: unknown): void {
    this.log.error({ peer: this.config.address, err }, 'peer handler threw');
  }

  // ---------------------------------------------------------------------------------------------------------
  // Timers

  private schedule(): void {
    const d = nextDeadline(this.fsm);
    if (d === null) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      return;
    }
    // A later deadline (the hold timer pushed back by an UPDATE) is left to the armed timer: its tick finds
    // nothing due and re-arms. This keeps the per-UPDATE cost free of timer churn.
    if (this.timer && this.timerAt <= d) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = d;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        setImmediate(() => this.dispatch({ type: 'tick' }));
      },
      Math.max(0, d - this.clock()),
    );
    this.timer.unref();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Connections

  private newConn(id: number, socket: Transport, connected: boolean): Conn {
    let resolve!: () => void;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const c: Conn = {
      id,
      socket,
      framer: new Framer(),
      ctx: defaultCodecContext(),
      openSent: null,
      session: null,
      connected,
      closing: false,
      waitingDrain: false,
      inputPaused: false,
      inputQueued: false,
      error: undefined,
      done,
      updateEvent: { type: 'update', id },
    };
    this.conns.set(id, c);
    socket.on('data', (chunk: Uint8Array) => this.onData(c, chunk));
    socket.on('error', (err: Error) => {
      c.error = (err as NodeJS.ErrnoException).code ?? err.message;
    });
    socket.on('end', () => {
      // What arrived before the close (a NOTIFICATION, say) is handled before the close itself.
      this.readAll(c);
      // The peer closed its side. End ours too (a generic Duplex allows half-open streams).
      if (!c.closing) this.dispatch({ type: 'tcp-closed', id: c.id, ...(c.error ? { error: c.error } : {}) });
      socket.end();
    });
    socket.on('close', () => {
      this.readAll(c);
      this.conns.delete(c.id);
      if (!c.closing) this.dispatch({ type: 'tcp-closed', id: c.id, ...(c.error ? { error: c.error } : {}) });
      resolve();
    });
    socket.on('drain', () => {
      c.waitingDrain = false;
      if (c === this.estConn && this.outputPending) this.wakeOutput();
    });
    return c;
  }

  private openConnection(id: number): void {
    const opts: net.NetConnectOpts = { host: this.config.address, port: this.config.port, noDelay: true };
    if (this.config.localAddress) opts.localAddress = this.config.localAddress;
    let socket: Transport;
    try {
      socket = this.connectFn(opts);
    } catch (err) {
      this.dispatch({ type: 'tcp-closed', id, error: (err as Error).message });
      return;
    }
    const c = this.newConn(id, socket, false);
    socket.once('connect', () => {
      c.connected = true;
      socket.setNoDelay?.(true);
      this.log.debug(
        { peer: this.config.address, local: socket.localAddress, localPort: socket.localPort },
        'connected',
      );
      this.dispatch({ type: 'tcp-connected', id });
    });
  }

  private adopt(id: number, socket: Transport): void {
    socket.setNoDelay?.(true);
    const c = this.newConn(id, socket, true);
    this.log.debug({ peer: this.config.address, remotePort: socket.remotePort }, 'accepted connection');
    if (socket.destroyed) this.dispatch({ type: 'tcp-closed', id: c.id, error: 'closed before it was adopted' });
  }

  /** Refuses a connection: a Cease NOTIFICATION without reading anything, then close. */
  private reject(socket: Transport, subcode: number): void {
    this.log.info({ peer: this.config.address, subcode }, 'rejecting incoming connection');
    this.stats.messagesOut.NOTIFICATION = (this.stats.messagesOut.NOTIFICATION ?? 0) + 1;
    const done = new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
    });
    this.track(done);
    socket.end(encodeNotification(6, subcode));
    // Discard whatever the peer sent so its FIN is seen and the socket closes.
    socket.resume();
    this.destroyLater(socket);
  }

  private closeConn(c: Conn): void {
    if (c.closing) return;
    c.closing = true;
    c.waitingDrain = false;
    this.track(c.done);
    const s = c.socket;
    if (!c.connected) {
      s.destroy();
      return;
    }
    // socket.end() flushes what was written (the NOTIFICATION) before the FIN; destroy() after a bounded wait
    // covers a peer that stopped reading.
    s.end();
    s.resume();
    this.destroyLater(s);
  }

  private destroyLater(s: Transport): void {
    if (s.destroyed) return;
    const t = setTimeout(() => s.destroy(), this.closeTimeoutMs);
    t.unref();
    s.once('close', () => clearTimeout(t));
  }

  private track(p: Promise<void>): void {
    this.closing.add(p);
    void p.then(() => this.closing.delete(p));
  }

  private transportInfo(c: Conn): TransportInfo {
    return {
      localAddress: plainAddress(c.socket.localAddress),
      localPort: c.socket.localPort ?? 0,
      remoteAddress: plainAddress(c.socket.remoteAddress) || this.config.address,
      remotePort: c.socket.remotePort ?? 0,
    };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Reading

  private onData(c: Conn, chunk: Uint8Array): void {
    if (c.closing) return;
    c.framer.push(chunk);
    if (!c.inputPaused && c.framer.buffered > INPUT_BUFFER_LIMIT) {
      c.inputPaused = true;
      c.socket.pause();
    }
    if (!c.inputQueued) {
      c.inputQueued = true;
      work.inputs++;
      work.add(() => {
        const more = this.readMessages(c);
        if (!more) {
          c.inputQueued = false;
          work.inputs--;
        }
        return more;
      });
    }
  }

  /** Handles every buffered message now (the connection is closing: its last messages come first). */
  private readAll(c: Conn): void {
    for (let i = 0; i < 1_000_000 && this.readMessages(c); i++);
  }

  /** Handles up to INPUT_STEP buffered messages; true when more may be waiting. */
  private readMessages(c: Conn): boolean {
    for (let n = 0; n < INPUT_STEP; n++) {
      if (c.closing) return false;
      const f = c.framer;
      let length: number;
      try {
        length = f.nextAt();
      } catch (err) {
        this.decodeFailed(c, err);
        return false;
      }
      if (length < 0) {
        if (c.inputPaused) {
          c.inputPaused = false;
          c.socket.resume();
        }
        return false;
      }
      this.onMessage(c, f.buf, f.start, length);
    }
    if (c.inputPaused && c.framer.buffered <= INPUT_BUFFER_LIMIT / 2) {
      c.inputPaused = false;
      if (!c.closing) c.socket.resume();
    }
    return true;
  }

  /** The message at buf[start, start + length) (where the framer found it: not copied, no view made). */
  private onMessage(c: Conn, buf: Uint8Array, start: number, length: number): void {
    const type = buf[start + 18]!;
    const name = messageTypeName(type);
    this.stats.messagesIn[name] = (this.stats.messagesIn[name] ?? 0) + 1;
    let m: BgpMessage;
    try {
      m = decodeMessageAt(buf, start, length, c.ctx);
    } catch (err) {
      this.decodeFailed(c, err);
      return;
    }
    switch (m.type) {
      case 'open':
        this.onOpen(c, m);
        return;
      case 'keepalive':
        this.dispatch({ type: 'keepalive', id: c.id });
        return;
      case 'update':
        this.dispatch(c.updateEvent, undefined, m);
        return;
      case 'route-refresh':
        this.dispatch({ type: 'route-refresh', id: c.id }, undefined, m);
        return;
      case 'notification': {
        const text = m.shutdownMessage ? `: ${m.shutdownMessage}` : '';
        const ev: FsmEvent = {
          type: 'notification',
          id: c.id,
          code: m.code,
          subcode: m.subcode,
          message: `received NOTIFICATION ${m.code}/${m.subcode} (${describeNotification(m.code, m.subcode)})${text}`,
        };
        if (m.shutdownMessage !== undefined) ev.shutdownMessage = m.shutdownMessage;
        this.dispatch(ev);
        return;
      }
    }
  }

  private onOpen(c: Conn, m: OpenMessage): void {
    if (!c.openSent) {
      // Cannot happen: OPEN is sent as soon as a connection is up. Treat as an FSM error by state.
      this.dispatch({ type: 'open', id: c.id, holdTime: 0, remoteId: routerIdToNumber(m.routerId) });
      return;
    }
    const r = negotiate(this.config, c.openSent, m, this.transportInfo(c));
    if (!r.ok) {
      const ev: FsmEvent = { type: 'open-rejected', id: c.id, code: r.code, subcode: r.subcode, message: r.message };
      if (r.data) ev.data = r.data;
      this.dispatch(ev);
      return;
    }
    c.session = r.session;
    // RFC 8654: once both sides advertised Extended Message, messages up to 65535 bytes are allowed.
    c.ctx = r.session.codec;
    c.framer.maxMessageSize = r.session.codec.maxMessageSize;
    this.dispatch({
      type: 'open',
      id: c.id,
      holdTime: r.session.holdTime,
      remoteId: routerIdToNumber(m.routerId),
    });
  }

  private decodeFailed(c: Conn, err: unknown): void {
    if (err instanceof WireError) {
      const ev: FsmEvent = {
        type: 'message-error',
        id: c.id,
        code: err.code,
        subcode: err.subcode,
        message: err.message,
      };
      if (err.data.length > 0) ev.data = err.data;
      this.dispatch(ev);
      return;
    }
    // Not a wire error: a bug in the codec. Reset the session rather than run on in an unknown state.
    this.log.error({ peer: this.config.address, err }, 'internal error decoding a message');
    this.dispatch({ type: 'message-error', id: c.id, code: 6, subcode: 0, message: `internal error: ${String(err)}` });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Writing

  private write(c: Conn, bytes: Uint8Array): void {
    const name = messageTypeName(bytes[18]!);
    this.stats.messagesOut[name] = (this.stats.messagesOut[name] ?? 0) + 1;
    c.socket.write(bytes);
  }

  /**
   * One output step: pulls up to OUTPUT_STEP_BYTES of UPDATEs (less when the socket's buffer is nearer its
   * high-water mark) and writes them as one Buffer (one syscall, full TCP segments). True when more is pending
   * and the socket can take it; when it cannot, 'drain' wakes the output again.
   */
  private pump(): boolean {
    const c = this.estConn;
    if (this.pumping || !this.outputPending || !c || c.closing || c.waitingDrain) return false;
    this.pumping = true;
    const s = c.socket;
    const batch: Uint8Array[] = [];
    let bytes = 0;
    try {
      // Never below the socket's own mark: write() must have returned false for 'drain' to come.
      const limit = Math.max(this.hwm, s.writableHighWaterMark);
      while (this.outputPending && !c.closing) {
        const room = Math.min(limit - s.writableLength, OUTPUT_STEP_BYTES) - bytes;
        if (room <= 0) break;
        const seq = this.wakeSeq;
        const msgs = this.output.pull(this, room);
        if (msgs.length === 0) {
          if (seq === this.wakeSeq) this.outputPending = false;
          continue;
        }
        let updates = 0;
        for (const m of msgs) {
          if (m[18] === MessageType.UPDATE) updates++;
          batch.push(m);
          bytes += m.length;
        }
        this.stats.updatesOut += updates;
        this.stats.messagesOut.UPDATE = (this.stats.messagesOut.UPDATE ?? 0) + updates;
      }
    } catch (err) {
      this.outputPending = false;
      this.log.error({ peer: this.config.address, err }, 'output source threw');
    } finally {
      this.pumping = false;
    }
    if (batch.length === 0 || c.closing) return false;
    for (const m of batch) {
      if (m[18] !== MessageType.UPDATE) {
        const name = messageTypeName(m[18]!);
        this.stats.messagesOut[name] = (this.stats.messagesOut[name] ?? 0) + 1;
      }
    }
    const ok = s.write(joined(batch, bytes));
    // write() returning false promises a 'drain'; until then nothing more is pulled.
    if (!ok) {
      c.waitingDrain = true;
      return false;
    }
    return this.outputPending;
  }
}
