// The BGP finite state machine (RFC 4271 §8) as a pure function: step(state, event, now, random) returns the
// next state and the actions the caller (peer.ts) must carry out. No sockets, no timers, no clock of its own:
// timers are deadlines (milliseconds on the caller's clock) kept in the state, and the caller feeds a `tick`
// event when the earliest one (nextDeadline) is due. That makes every transition testable with a fake clock.
//
// One peer may have two TCP connections at once: the one we initiated ('out') and one the peer initiated
// ('in'); RFC 4271 §6.8 collision detection picks one. Each connection has its own phase; the peer's state
// (SessionStateName) is the most advanced phase of any connection, else Connect while an outgoing TCP
// connection is being set up, else Active while administratively up, else Idle.
//
// Departures from the letter of §8, with reasons:
// - After an error we go to Active (listening, with the ConnectRetry deadline for the next outgoing attempt),
//   not Idle: a peer that flapped can reconnect to us at once, while our own attempts back off. Idle means
//   administratively down.
// - The keepalive timer runs at a fixed interval and is not restarted by each UPDATE we send (§8.2.2 allows
//   that optimisation, it does not require it); this keeps KEEPALIVEs flowing while a large table is sent
//   without one FSM event per UPDATE written.
// - DelayOpen and the optional session attributes of §8.1 are not implemented; OPEN is sent on connect.

import type { SessionStateName } from './types.ts';

/** RFC 4271 §8.2.2: "a large value" for the HoldTimer in OpenSent; 4 minutes is suggested. */
export const LARGE_HOLD_TIME = 240;
/** ConnectRetry backoff doubles per consecutive failure up to this multiple of the configured time. */
export const MAX_BACKOFF_FACTOR = 8;
/** ConnectRetry interval jitter: ±25%. */
export const JITTER = 0.25;

const CEASE = 6;
const CEASE_ADMIN_SHUTDOWN = 2;
const CEASE_ADMIN_RESET = 4;
const CEASE_CONNECTION_REJECTED = 5;
const CEASE_COLLISION = 7;
const FSM_ERROR = 5;
const HOLD_TIMER_EXPIRED = 4;

export interface FsmConfig {
  /** Our BGP Identifier as an unsigned 32-bit number. */
  localId: number;
  localAsn: number;
  remoteAsn: number;
  /** Never connect out; wait for the peer. */
  passive: boolean;
  /** Base ConnectRetry time, seconds. */
  connectRetryTime: number;
}

export type ConnDir = 'out' | 'in';
/** Where one TCP connection is: 'connecting' is the TCP handshake of an outgoing connection (state Connect). */
export type ConnPhase = 'connecting' | 'opensent' | 'openconfirm' | 'established';

export interface ConnState {
  readonly id: number;
  readonly dir: ConnDir;
  readonly phase: ConnPhase;
  /** Negotiated hold time in seconds once the OPEN is in (0 = no hold timer, no keepalives). */
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** Deadlines in ms on the caller's clock; null = timer not running. */
  readonly holdAt: number | null;
  readonly keepaliveAt: number | null;
  /** The peer's BGP Identifier from its OPEN (unsigned 32-bit), null before. */
  readonly remoteId: number | null;
}

export interface FsmState {
  readonly config: FsmConfig;
  readonly adminUp: boolean;
  readonly state: SessionStateName;
  readonly conns: readonly ConnState[];
  /** Consecutive failed attempts since the last Established; drives the ConnectRetry backoff. */
  readonly failures: number;
  /** When to make the next outgoing attempt (in Connect: when to give up on the current one). */
  readonly connectRetryAt: number | null;
  readonly nextConnId: number;
}

export type FsmEvent =
  /** Administrative start (RFC 4271 §8.1.2 Event 1/3/4/5). */
  | { type: 'start' }
  /** Administrative stop: Cease `subcode` (default 2) with an optional RFC 9003 shutdown communication. */
  | { type: 'stop'; subcode?: number; message?: string; data?: Uint8Array }
  /** Administrative reset: Cease 4 (or `subcode`) on every connection, then start over at once. */
  | { type: 'reset'; subcode?: number; message?: string }
  | { type: 'tcp-connected'; id: number }
  /** The connection's socket closed or failed (for 'connecting': the connect attempt failed). */
  | { type: 'tcp-closed'; id: number; error?: string }
  /** The peer connected to us. The FSM either adopts it (action 'adopt') or rejects it ('reject'). */
  | { type: 'incoming' }
  /** A valid OPEN arrived and passed the configuration checks. */
  | { type: 'open'; id: number; holdTime: number; remoteId: number }
  /** An OPEN arrived and failed a check: send this NOTIFICATION. */
  | { type: 'open-rejected'; id: number; code: number; subcode: number; data?: Uint8Array; message: string }
  | { type: 'keepalive'; id: number }
  | { type: 'update'; id: number }
  | { type: 'route-refresh'; id: number }
  | { type: 'notification'; id: number; code: number; subcode: number; shutdownMessage?: string; message: string }
  /** The codec rejected a message (or a header): send this NOTIFICATION and close. */
  | { type: 'message-error'; id: number; code: number; subcode: number; data?: Uint8Array; message: string }
  /** Timer deadlines may have passed. */
  | { type: 'tick' };

export type FsmAction =
  /** Open an outgoing TCP connection; report it as connection `id`. */
  | { type: 'connect'; id: number }
  /** Take the socket of the 'incoming' event as connection `id`. */
  | { type: 'adopt'; id: number }
  /** Refuse the socket of the 'incoming' event: send Cease `subcode` on it and close it. */
  | { type: 'reject'; subcode: number }
  | { type: 'send-open'; id: number }
  | { type: 'send-keepalive'; id: number }
  /** `shutdownMessage` set: an RFC 9003 shutdown communication (Cease 2 or 4) carries it. */
  | {
      type: 'send-notification';
      id: number;
      code: number;
      subcode: number;
      data?: Uint8Array;
      shutdownMessage?: string;
    }
  /** Close the connection (after flushing whatever was written to it). */
  | { type: 'close'; id: number }
  /** Connection `id` reached Established. */
  | { type: 'established'; id: number }
  /** Pass the received message of this event (UPDATE, ROUTE-REFRESH) to the handler. */
  | { type: 'deliver'; id: number }
  /** A session or an attempt ended. */
  | {
      type: 'down';
      id: number;
      wasEstablished: boolean;
      message: string;
      notification?: { direction: 'sent' | 'received'; code: number; subcode: number; shutdownMessage?: string };
    };

export interface StepResult {
  state: FsmState;
  actions: FsmAction[];
}

export function initialState(config: FsmConfig): FsmState {
  return { config, adminUp: false, state: 'idle', conns: [], failures: 0, connectRetryAt: null, nextConnId: 1 };
}

/** The earliest timer deadline in the state, or null when no timer runs. */
export function nextDeadline(s: FsmState): number | null {
  let d = s.connectRetryAt;
  for (const c of s.conns) {
    if (c.holdAt !== null && (d === null || c.holdAt < d)) d = c.holdAt;
    if (c.keepaliveAt !== null && (d === null || c.keepaliveAt < d)) d = c.keepaliveAt;
  }
  return d;
}

/**
 * ConnectRetry interval after `failures` consecutive failures: the configured time, doubled per further
 * failure up to 8×, times a jitter factor in [0.75, 1.25) (RFC 4271 §10 asks for jitter on this timer).
 */
export function retryDelayMs(connectRetryTime: number, failures: number, random: number): number {
  const factor = Math.min(2 ** Math.max(failures - 1, 0), MAX_BACKOFF_FACTOR);
  return Math.round(connectRetryTime * 1000 * factor * (1 - JITTER + 2 * JITTER * random));
}

/**
 * RFC 4271 §6.8: which connection survives a collision. The side with the higher BGP Identifier keeps the
 * connection it initiated. RFC 6286 §2.3: with equal identifiers (allowed between ASes), the side with the
 * larger AS number keeps the connection it initiated.
 */
export function collisionWinner(localId: number, remoteId: number, localAsn: number, remoteAsn: number): ConnDir {
  if (localId !== remoteId) return localId >>> 0 > remoteId >>> 0 ? 'out' : 'in';
  return localAsn > remoteAsn ? 'out' : 'in';
}

const PHASE_RANK: Record<ConnPhase, number> = { connecting: 0, opensent: 1, openconfirm: 2, established: 3 };

function deriveState(adminUp: boolean, conns: readonly ConnState[]): SessionStateName {
  let best = -1;
  for (const c of conns) best = Math.max(best, PHASE_RANK[c.phase]);
  switch (best) {
    case 3:
      return 'established';
    case 2:
      return 'openconfirm';
    case 1:
      return 'opensent';
    case 0:
      return 'connect';
    default:
      return adminUp ? 'active' : 'idle';
  }
}

/** Builder for one step: collects actions and keeps the state consistent. */
class Step {
  s: {
    -readonly [K in keyof FsmState]: FsmState[K];
  };
  conns: ConnState[];
  actions: FsmAction[] = [];
  readonly now: number;
  readonly random: () => number;

  constructor(state: FsmState, now: number, random: () => number) {
    this.s = { ...state };
    this.conns = state.conns.slice();
    this.now = now;
    this.random = random;
  }

  find(id: number): ConnState | undefined {
    return this.conns.find((c) => c.id === id);
  }

  set(c: ConnState, patch: Partial<ConnState>): ConnState {
    const n = { ...c, ...patch };
    this.conns[this.conns.indexOf(c)] = n;
    return n;
  }

  remove(c: ConnState): void {
    const i = this.conns.indexOf(c);
    if (i >= 0) this.conns.splice(i, 1);
  }

  newConn(dir: ConnDir, phase: ConnPhase): ConnState {
    const c: ConnState = {
      id: this.s.nextConnId++,
      dir,
      phase,
      holdTime: LARGE_HOLD_TIME,
      keepaliveTime: 0,
      holdAt: phase === 'opensent' ? this.now + LARGE_HOLD_TIME * 1000 : null,
      keepaliveAt: null,
      remoteId: null,
    };
    this.conns.push(c);
    return c;
  }

  connectOut(): void {
    const c = this.newConn('out', 'connecting');
    this.actions.push({ type: 'connect', id: c.id });
    // RFC 4271 §8.2.2 Connect state: the ConnectRetryTimer also bounds the TCP connection attempt.
    this.s.connectRetryAt = this.now + retryDelayMs(this.s.config.connectRetryTime, this.s.failures, this.random());
  }

  /** Closes `c` without counting a failure (collision loser, admin action). */
  drop(c: ConnState, ceaseSubcode: number | null, shutdownMessage?: string, data?: Uint8Array): void {
    if (ceaseSubcode !== null && c.phase !== 'connecting') {
      const n: FsmAction = { type: 'send-notification', id: c.id, code: CEASE, subcode: ceaseSubcode };
      if (shutdownMessage !== undefined) n.shutdownMessage = shutdownMessage;
      if (data !== undefined) n.data = data;
      this.actions.push(n);
    }
    this.actions.push({ type: 'close', id: c.id });
    this.remove(c);
  }

  /**
   * Connection `c` failed: optionally send a NOTIFICATION, close it, report it, and schedule the next
   * outgoing attempt with backoff when no other connection is left to carry the session.
   */
  fail(
    c: ConnState,
    message: string,
    sent?: { code: number; subcode: number; data?: Uint8Array },
    received?: { code: number; subcode: number; shutdownMessage?: string },
  ): void {
    if (sent && c.phase !== 'connecting') {
      const n: FsmAction = { type: 'send-notification', id: c.id, code: sent.code, subcode: sent.subcode };
      if (sent.data) n.data = sent.data;
      this.actions.push(n);
    }
    this.actions.push({ type: 'close', id: c.id });
    const down: FsmAction = { type: 'down', id: c.id, wasEstablished: c.phase === 'established', message };
    if (sent) down.notification = { direction: 'sent', code: sent.code, subcode: sent.subcode };
    if (received) {
      down.notification = { direction: 'received', code: received.code, subcode: received.subcode };
      if (received.shutdownMessage !== undefined) down.notification.shutdownMessage = received.shutdownMessage;
    }
    this.actions.push(down);
    this.remove(c);
    this.s.failures++;
    if (this.conns.length === 0 && this.s.adminUp && !this.s.config.passive) {
      this.s.connectRetryAt = this.now + retryDelayMs(this.s.config.connectRetryTime, this.s.failures, this.random());
    }
  }

  /** RFC 6608: an unexpected message in OpenSent (1), OpenConfirm (2) or Established (3). */
  fsmError(c: ConnState, what: string): void {
    const subcode = c.phase === 'opensent' ? 1 : c.phase === 'openconfirm' ? 2 : 3;
    this.fail(c, `unexpected ${what} in ${c.phase}`, { code: FSM_ERROR, subcode });
  }

  /** Timers of a connection whose OPEN has been accepted: hold and keepalive restart now. */
  timersFor(holdTime: number): Pick<ConnState, 'holdTime' | 'keepaliveTime' | 'holdAt' | 'keepaliveAt'> {
    // RFC 4271 §4.4: keepalive at a third of the hold time; none at all when the hold time is zero.
    const keepaliveTime = Math.floor(holdTime / 3);
    return {
      holdTime,
      keepaliveTime,
      holdAt: holdTime > 0 ? this.now + holdTime * 1000 : null,
      keepaliveAt: holdTime > 0 ? this.now + keepaliveTime * 1000 : null,
    };
  }

  finish(): StepResult {
    this.s.conns = this.conns;
    this.s.state = deriveState(this.s.adminUp, this.conns);
    return { state: this.s, actions: this.actions };
  }
}

/** The action list of the hot path (UPDATE in Established), shared while the connection id stays the same
 * (actions are only read, so the shared lists are frozen). */
let deliverCache: readonly FsmAction[] = Object.freeze([Object.freeze({ type: 'deliver', id: -1 } as FsmAction)]);
function deliverOnly(id: number): FsmAction[] {
  const a = deliverCache[0] as { id: number };
  if (a.id !== id) deliverCache = Object.freeze([Object.freeze({ type: 'deliver', id } as FsmAction)]);
  return deliverCache as FsmAction[];
}
const NO_ACTIONS = Object.freeze([]) as readonly FsmAction[] as FsmAction[];

/** The result of the hot path, reused while the state and actions are the same (results are only read). */
let hotResult: StepResult = { state: initialState({} as FsmConfig), actions: NO_ACTIONS };
function hot(state: FsmState, actions: FsmAction[]): StepResult {
  if (hotResult.state !== state || hotResult.actions !== actions) hotResult = { state, actions };
  return hotResult;
}

/** A hold timer restarted by a message is moved only when it would move by more than this (ms): at a full table's
 * 100 000 UPDATEs per second, a new state per UPDATE is garbage for nothing. */
const HOLD_RESTART_GRANULARITY_MS = 50;

/**
 * The FSM's transition function: the next state and the actions to take. Pure: `state` is not changed, and the
 * result must be treated as read-only (the hot path hands out one shared result while nothing changes).
 */
export function step(state: FsmState, ev: FsmEvent, now: number, random: () => number = Math.random): StepResult {
  return (
    (ev.type === 'update' || ev.type === 'keepalive' ? hotStep(state, ev.id, ev.type, now) : null) ??
    fullStep(state, ev, now, random)
  );
}

/**
 * The hot path: an UPDATE or KEEPALIVE on the established connection only restarts the hold timer (RFC 4271
 * §8.2.2 Event 26/27) and, for an UPDATE, is delivered. Null when the connection is not established. A function
 * of its own, small enough for V8 to optimise at once (in the large step function, each time computation
 * would allocate a heap number).
 */
function hotStep(state: FsmState, id: number, type: 'update' | 'keepalive', now: number): StepResult | null {
  const conns = state.conns;
  let c: ConnState | undefined;
  for (let i = 0; i < conns.length; i++) {
    if (conns[i]!.id === id) {
      c = conns[i];
      break;
    }
  }
  if (c === undefined || c.phase !== 'established') return null;
  const actions = type === 'update' ? deliverOnly(c.id) : NO_ACTIONS;
  const holdAt = now + c.holdTime * 1000;
  if (c.holdAt === null || c.holdAt > holdAt - HOLD_RESTART_GRANULARITY_MS) return hot(state, actions);
  const moved = c;
  const next = conns.map((x) => (x === moved ? { ...moved, holdAt } : x));
  return hot({ ...state, conns: next }, actions);
}

function fullStep(state: FsmState, ev: FsmEvent, now: number, random: () => number): StepResult {
  const st = new Step(state, now, random);
  const s = st.s;
  switch (ev.type) {
    case 'start': {
      if (s.adminUp) break;
      s.adminUp = true;
      s.failures = 0;
      s.connectRetryAt = null;
      if (!s.config.passive && st.conns.length === 0) st.connectOut();
      break;
    }

    case 'stop':
    case 'reset': {
      const subcode = ev.subcode ?? (ev.type === 'stop' ? CEASE_ADMIN_SHUTDOWN : CEASE_ADMIN_RESET);
      // RFC 9003: the shutdown communication belongs to Cease 2 and 4 only.
      const text = subcode === CEASE_ADMIN_SHUTDOWN || subcode === CEASE_ADMIN_RESET ? (ev.message ?? '') : undefined;
      for (const c of st.conns.slice()) {
        const sent = c.phase !== 'connecting';
        st.drop(c, subcode, text, ev.type === 'stop' ? ev.data : undefined);
        if (sent) {
          const down: FsmAction = {
            type: 'down',
            id: c.id,
            wasEstablished: c.phase === 'established',
            message: ev.type === 'stop' ? 'administratively stopped' : 'administratively reset',
            notification: { direction: 'sent', code: CEASE, subcode },
          };
          if (text !== undefined && text !== '') down.notification!.shutdownMessage = text;
          st.actions.push(down);
        }
      }
      s.failures = 0;
      s.connectRetryAt = null;
      if (ev.type === 'stop') {
        s.adminUp = false;
      } else if (s.adminUp && !s.config.passive) {
        st.connectOut();
      }
      break;
    }

    case 'tcp-connected': {
      const c = st.find(ev.id);
      if (c?.phase !== 'connecting') break;
      if (st.conns.some((x) => x.phase === 'established')) {
        // Already Established on the other connection (RFC 4271 §6.8): this one is surplus.
        st.drop(c, null);
        break;
      }
      st.set(c, { phase: 'opensent', holdTime: LARGE_HOLD_TIME, holdAt: now + LARGE_HOLD_TIME * 1000 });
      // RFC 4271 §8.2.2 Connect, Event 16/17: stop the ConnectRetryTimer, send OPEN, go to OpenSent.
      s.connectRetryAt = null;
      st.actions.push({ type: 'send-open', id: c.id });
      break;
    }

    case 'tcp-closed': {
      const c = st.find(ev.id);
      if (!c) break;
      const detail = ev.error ? `: ${ev.error}` : '';
      st.fail(c, c.phase === 'connecting' ? `connect failed${detail}` : `connection closed by peer${detail}`);
      break;
    }

    case 'incoming': {
      if (!s.adminUp) {
        // RFC 4486: Cease 5 (Connection Rejected) for a connection we do not want.
        st.actions.push({ type: 'reject', subcode: CEASE_CONNECTION_REJECTED });
        break;
      }
      if (st.conns.some((x) => x.phase === 'established')) {
        // RFC 4271 §6.8, last paragraph: a connection collision with an Established session is resolved in
        // favour of the Established one.
        st.actions.push({ type: 'reject', subcode: CEASE_COLLISION });
        break;
      }
      // A second incoming connection replaces the first: the peer has evidently given up on the old one
      // (e.g. it restarted), and the old one would otherwise linger until its 240 s OpenSent hold timer.
      const old = st.conns.find((x) => x.dir === 'in');
      if (old) st.drop(old, CEASE_COLLISION);
      const c = st.newConn('in', 'opensent');
      st.actions.push({ type: 'adopt', id: c.id }, { type: 'send-open', id: c.id });
      break;
    }

    case 'open': {
      const c = st.find(ev.id);
      if (!c) break;
      if (c.phase !== 'opensent') {
        st.fsmError(c, 'OPEN');
        break;
      }
      // RFC 4271 §6.8: collision detection against every other connection that has an OPEN in hand.
      const other = st.conns.find((x) => x !== c && (x.phase === 'openconfirm' || x.phase === 'established'));
      if (other) {
        if (other.phase === 'established') {
          st.drop(c, CEASE_COLLISION);
          break;
        }
        const keep = collisionWinner(s.config.localId, ev.remoteId, s.config.localAsn, s.config.remoteAsn);
        if (c.dir !== keep) {
          st.drop(c, CEASE_COLLISION);
          break;
        }
        st.drop(other, CEASE_COLLISION);
      }
      st.set(c, { phase: 'openconfirm', remoteId: ev.remoteId, ...st.timersFor(ev.holdTime) });
      // RFC 4271 §8.2.2 OpenSent, Event 19: send KEEPALIVE, go to OpenConfirm.
      st.actions.push({ type: 'send-keepalive', id: c.id });
      break;
    }

    case 'keepalive': {
      const c = st.find(ev.id);
      if (!c) break;
      if (c.phase === 'opensent') {
        st.fsmError(c, 'KEEPALIVE');
        break;
      }
      if (c.phase !== 'openconfirm') break;
      // RFC 4271 §8.2.2 OpenConfirm, Event 26: restart the hold timer, go to Established.
      st.set(c, { phase: 'established', holdAt: c.holdTime > 0 ? now + c.holdTime * 1000 : null });
      for (const x of st.conns.slice()) if (x.id !== c.id) st.drop(x, CEASE_COLLISION);
      s.failures = 0;
      s.connectRetryAt = null;
      st.actions.push({ type: 'established', id: c.id });
      break;
    }

    case 'update':
    case 'route-refresh': {
      const c = st.find(ev.id);
      if (!c) break;
      if (c.phase === 'established') {
        st.actions.push({ type: 'deliver', id: c.id });
        break;
      }
      st.fsmError(c, ev.type === 'update' ? 'UPDATE' : 'ROUTE-REFRESH');
      break;
    }

    case 'notification': {
      const c = st.find(ev.id);
      if (!c) break;
      // The other side resolved a collision against this connection while another one carries on: not a failure.
      if (ev.code === CEASE && ev.subcode === CEASE_COLLISION && st.conns.some((x) => x !== c)) {
        st.drop(c, null);
        break;
      }
      const received: { code: number; subcode: number; shutdownMessage?: string } = {
        code: ev.code,
        subcode: ev.subcode,
      };
      if (ev.shutdownMessage !== undefined) received.shutdownMessage = ev.shutdownMessage;
      st.fail(c, ev.message, undefined, received);
      break;
    }

    // An OPEN refused (RFC 4271 §6.2) or any other message error: NOTIFICATION with the given code, then down.
    case 'open-rejected':
    case 'message-error': {
      const c = st.find(ev.id);
      if (!c) break;
      const sent: { code: number; subcode: number; data?: Uint8Array } = { code: ev.code, subcode: ev.subcode };
      if (ev.data) sent.data = ev.data;
      st.fail(c, ev.message, sent);
      break;
    }

    case 'tick': {
      for (const c of st.conns.slice()) {
        if (c.holdAt !== null && c.holdAt <= now) {
          // RFC 4271 §6.5: Hold Timer Expired, NOTIFICATION 4/0.
          st.fail(c, 'hold timer expired', { code: HOLD_TIMER_EXPIRED, subcode: 0 });
          continue;
        }
        if (c.keepaliveAt !== null && c.keepaliveAt <= now) {
          st.actions.push({ type: 'send-keepalive', id: c.id });
          st.set(c, { keepaliveAt: now + c.keepaliveTime * 1000 });
        }
      }
      if (s.connectRetryAt !== null && s.connectRetryAt <= now) {
        s.connectRetryAt = null;
        if (!s.adminUp || s.config.passive) break;
        const attempt = st.conns.find((x) => x.phase === 'connecting');
        if (attempt) {
          // RFC 4271 §8.2.2 Connect, Event 9: give up on this attempt and start a new one.
          st.fail(attempt, 'connect timed out');
          s.connectRetryAt = null;
          if (st.conns.length === 0) st.connectOut();
        } else if (st.conns.length === 0) {
          st.connectOut();
        }
        // Otherwise an incoming connection is in progress; its failure schedules the next attempt.
      }
      break;
    }
  }
  return st.finish();
}
