// One health-checked service: runs its checks on a schedule, turns the results into a state with hysteresis, and
// says what to announce for its prefixes. The clock and scheduler are injected (timer.ts), so every step — rise and
// fall counts, the fast interval, the withdraw delay, damping, drain grace — is tested without real time.
//
// States (`state`; `health` is the same without the drain override):
//   init      no result yet; nothing announced
//   rising    checks pass but fewer than `rise` in a row; nothing announced yet
//   up        announced with the base attributes
//   warning   announced, degraded: the checks said WARNING `fall` times in a row (cleared by `rise` OKs in a row);
//             announced with the [services.warning] changes (or withdrawn with warning.action = "withdraw")
//   falling   checks fail but fewer than `fall` in a row, or `fall` was reached and the withdraw delay is running;
//             whatever was announced stays announced (before the first announcement: nothing is)
//   down      `fall` failures in a row (and the withdraw delay over): withdrawn, or announced with the
//             [services.failed] changes when failed.action = "announce"
//   drained   maintenance, by the drain file or the API: withdrawn — or, with drained.action = "graceful-shutdown",
//             first announced with the GRACEFUL_SHUTDOWN community 65535:0 (RFC 8326 §4) for drained.grace seconds.
//             Checks keep running while drained, so undraining a healthy service announces it at once.
//
// A pass is an OK or WARNING result, a failure is FAILED (command exit 2/3, refused connection, …). This is ExaBGP
// healthcheck's INIT/RISING/UP/FALLING/DOWN machine with WARNING as a second, degraded "up".
//
// Withdraw delay: once `fall` failures are seen the withdrawal waits withdraw_delay seconds. If the service passes
// `rise` times in a row before a failure after the delay, nothing is ever withdrawn (an application restart).
//
// Flap damping (RFC 2439 §4): a figure of merit that decays exponentially with half_life. Each announce ⇄ withdraw
// change of the service's own route adds `penalty` (the very first announcement does not), each attribute change
// adds `attribute_penalty`. At or above `suppress` the route is held withdrawn until the merit decays to `reuse`;
// the merit is capped so that hold-down never lasts more than max_suppress after the last change (RFC 2439 §4.2).

import { EventEmitter } from 'node:events';
import { access } from 'node:fs/promises';
import { AsPathSegmentType, Origin, type PathAttributes } from '../wire/index.ts';
import { type CheckEnv, type CombinedResult, defaultCheckEnv, runChecks } from './checks.ts';
import { type AttributeChanges, GRACEFUL_SHUTDOWN, type ServiceConfig } from './config.ts';
import { type Cancel, realTimer, type Timer } from './timer.ts';

export type HealthState = 'init' | 'rising' | 'up' | 'warning' | 'falling' | 'down';
export type ServiceState = HealthState | 'drained';

/** What to announce a service's prefixes with. The daemon turns it into path attributes (toPathAttributes). */
export interface AnnounceAttrs {
  /** "self" or an address. */
  nextHop: string;
  med?: number;
  localPref?: number;
  /** Extra copies of the local AS in front of the AS path (meaningful towards eBGP peers only). */
  asPathPrepend: number;
  communities: number[];
  largeCommunities: [number, number, number][];
}

export type Announcement = { action: 'announce'; attrs: AnnounceAttrs } | { action: 'withdraw' };

export interface HistoryEntry {
  /** Timer time (ms since the epoch with the real timer). */
  at: number;
  from: ServiceState;
  to: ServiceState;
  /** Whether the prefixes are announced after this transition. */
  announced: boolean;
  reason: string;
}

export interface ServiceStatus {
  name: string;
  prefixes: string[];
  state: ServiceState;
  health: HealthState;
  announced: boolean;
  announcement: Announcement;
  drained: { file: boolean; api: boolean; since: number | null };
  damping: { enabled: boolean; penalty: number; suppressed: boolean; reuseAt: number | null };
  /** Consecutive results: passes (ok or warning), failures, oks, non-oks. */
  counters: { passes: number; failures: number; ok: number; notOk: number };
  rise: number;
  fall: number;
  withdrawPendingUntil: number | null;
  lastCheck: (CombinedResult & { at: number }) | null;
  /** Oldest first; at most config.historySize entries. */
  history: HistoryEntry[];
}

export interface ServiceEvents {
  /** Announce (or re-announce with new attributes) these prefixes. */
  announce: [prefixes: string[], attrs: AnnounceAttrs];
  /** Withdraw these prefixes. */
  withdraw: [prefixes: string[]];
  transition: [entry: HistoryEntry];
  check: [result: CombinedResult & { at: number }];
}

export interface ServiceDeps {
  timer?: Timer;
  /** Runs the checks once; defaults to the configured checks combined with config.combine. */
  probe?: () => Promise<CombinedResult>;
  env?: CheckEnv;
  fileExists?: (path: string) => Promise<boolean>;
}

/** The common surface of Service and DiscoveryService, for the daemon and the API. */
export interface HealthService extends EventEmitter<ServiceEvents> {
  readonly config: ServiceConfig;
  start(): void;
  stop(): Promise<void>;
  drain(): void;
  undrain(): void;
  status(): ServiceStatus;
}

const WITHDRAW: Announcement = { action: 'withdraw' };

export async function defaultFileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function uniq<T>(list: T[], key: (v: T) => string): T[] {
  const seen = new Set<string>();
  return list.filter((v) => {
    const k = key(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function applyChanges(base: AnnounceAttrs, ch: AttributeChanges): AnnounceAttrs {
  const out: AnnounceAttrs = {
    nextHop: base.nextHop,
    asPathPrepend: ch.asPathPrepend ?? base.asPathPrepend,
    communities: uniq([...base.communities, ...ch.communities], String),
    largeCommunities: uniq([...base.largeCommunities, ...ch.largeCommunities], (l) => l.join(':')),
  };
  const med = ch.med ?? base.med;
  const localPref = ch.localPref ?? base.localPref;
  if (med !== undefined) out.med = med;
  if (localPref !== undefined) out.localPref = localPref;
  return out;
}

export function sameAnnouncement(a: Announcement, b: Announcement): boolean {
  if (a.action !== b.action) return false;
  if (a.action === 'withdraw' || b.action === 'withdraw') return true;
  const x = a.attrs;
  const y = b.attrs;
  return (
    x.nextHop === y.nextHop &&
    x.med === y.med &&
    x.localPref === y.localPref &&
    x.asPathPrepend === y.asPathPrepend &&
    x.communities.join(',') === y.communities.join(',') &&
    x.largeCommunities.map((l) => l.join(':')).join(',') === y.largeCommunities.map((l) => l.join(':')).join(',')
  );
}

function secs(ms: number): string {
  return `${Math.round(ms) / 1000} s`;
}

export class Service extends EventEmitter<ServiceEvents> implements HealthService {
  readonly config: ServiceConfig;
  readonly #timer: Timer;
  readonly #probe: () => Promise<CombinedResult>;
  readonly #fileExists: (path: string) => Promise<boolean>;

  #running = false;
  #cancelTick: Cancel | null = null;
  #inFlight: Promise<void> | null = null;

  #health: HealthState = 'init';
  #visible: ServiceState = 'init';
  /** The health machine's verdict: announce (possibly degraded) rather than withdraw. */
  #up = false;
  #degraded = false;
  #passes = 0;
  #failures = 0;
  #oks = 0;
  #notOks = 0;
  #lastResult: (CombinedResult & { at: number }) | null = null;

  #withdrawAt: number | null = null;
  #cancelWithdraw: Cancel | null = null;

  #drainFile = false;
  #drainApi = false;
  #drainSince: number | null = null;
  #graceAttrs: AnnounceAttrs | null = null;
  #graceDone = false;
  #cancelGrace: Cancel | null = null;

  #penalty = 0;
  #penaltyAt = 0;
  #suppressed = false;
  #reuseAt: number | null = null;
  #cancelReuse: Cancel | null = null;
  /** What health alone asks for, before drain and damping; its changes are what damping counts. */
  #underlying: Announcement = WITHDRAW;
  #underlyingEverAnnounced = false;

  /** Last announcement emitted. */
  #emitted: Announcement = WITHDRAW;
  #history: HistoryEntry[] = [];

  constructor(config: ServiceConfig, deps: ServiceDeps = {}) {
    super();
    this.config = config;
    this.#timer = deps.timer ?? realTimer;
    const env = deps.env ?? defaultCheckEnv;
    this.#probe = deps.probe ?? (() => runChecks(config.checks, config.combine, config.timeoutMs, env));
    this.#fileExists = deps.fileExists ?? defaultFileExists;
    this.#penaltyAt = this.#timer.now();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#scheduleTick(0);
  }

  /** Stops checking and cancels every timer. Emits nothing: the owner withdraws what it announced. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const c of [this.#cancelTick, this.#cancelWithdraw, this.#cancelGrace, this.#cancelReuse]) c?.();
    this.#cancelTick = this.#cancelWithdraw = this.#cancelGrace = this.#cancelReuse = null;
    await this.#inFlight;
  }

  /** Drains by API. The drain file, when configured and present, drains independently of this. */
  drain(): void {
    if (this.#drainApi) return;
    this.#drainApi = true;
    this.#update('drained by API');
  }

  undrain(): void {
    if (!this.#drainApi) return;
    this.#drainApi = false;
    this.#update(this.#drainFile ? 'API drain cleared (drain file still present)' : 'undrained by API');
  }

  get state(): ServiceState {
    return this.#visible;
  }

  announcement(): Announcement {
    return this.#emitted;
  }

  status(): ServiceStatus {
    return {
      name: this.config.name,
      prefixes: [...this.config.prefixes],
      state: this.#visible,
      health: this.#health,
      announced: this.#emitted.action === 'announce',
      announcement: this.#emitted,
      drained: { file: this.#drainFile, api: this.#drainApi, since: this.#drainSince },
      damping: {
        enabled: this.config.damping.enabled,
        penalty: Math.round(this.#decayed()),
        suppressed: this.#suppressed,
        reuseAt: this.#reuseAt,
      },
      counters: { passes: this.#passes, failures: this.#failures, ok: this.#oks, notOk: this.#notOks },
      rise: this.config.rise,
      fall: this.config.fall,
      withdrawPendingUntil: this.#withdrawAt,
      lastCheck: this.#lastResult,
      history: [...this.#history],
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Scheduling.

  #scheduleTick(delayMs: number): void {
    this.#cancelTick?.();
    this.#cancelTick = this.#timer.schedule(delayMs, () => {
      this.#cancelTick = null;
      const p = this.#tick();
      this.#inFlight = p;
      return p;
    });
  }

  /** True while the state is moving: checks then run every fast_interval. */
  #changing(): boolean {
    if (this.#health === 'init' || this.#health === 'rising' || this.#health === 'falling') return true;
    if (this.#withdrawAt !== null) return true;
    if (this.#up) return this.#degraded ? this.#oks > 0 : this.#notOks > 0;
    return this.#passes > 0;
  }

  async #tick(): Promise<void> {
    if (!this.#running) return;
    const started = this.#timer.now();
    if (this.config.drainFile !== undefined) {
      const exists = await this.#fileExists(this.config.drainFile);
      if (!this.#running) return;
      if (exists !== this.#drainFile) {
        this.#drainFile = exists;
        this.#update(
          exists ? `drain file ${this.config.drainFile} present` : `drain file ${this.config.drainFile} removed`,
        );
      }
    }
    let result: CombinedResult;
    try {
      result = await this.#probe();
    } catch (e) {
      result = { status: 'failed', detail: `check error: ${(e as Error).message}`, durationMs: 0, results: [] };
    }
    if (!this.#running) return;
    this.#applyResult(result);
    const delay = this.#changing() ? this.config.fastIntervalMs : this.config.intervalMs;
    this.#scheduleTick(Math.max(0, started + delay - this.#timer.now()));
  }

  // -------------------------------------------------------------------------------------------------------------
  // The health machine.

  /** Feeds one combined check result (exported for tests that bypass the schedule). */
  applyResult(result: CombinedResult): void {
    this.#applyResult(result);
  }

  #applyResult(r: CombinedResult): void {
    const c = this.config;
    const now = this.#timer.now();
    this.#lastResult = { ...r, at: now };
    this.emit('check', this.#lastResult);
    const pass = r.status !== 'failed';
    const ok = r.status === 'ok';
    if (pass) {
      this.#passes++;
      this.#failures = 0;
    } else {
      this.#failures++;
      this.#passes = 0;
    }
    if (ok) {
      this.#oks++;
      this.#notOks = 0;
    } else {
      this.#notOks++;
      this.#oks = 0;
    }
    const what = `${r.status}${r.detail ? ` (${r.detail})` : ''}`;
    let reason = `check ${what}`;

    if (!this.#up) {
      if (pass) {
        if (this.#passes >= c.rise) {
          this.#up = true;
          this.#degraded = this.#oks < c.rise;
          this.#health = this.#degraded ? 'warning' : 'up';
          reason = `${c.rise} passing check(s) in a row; last ${what}`;
        } else {
          this.#health = 'rising';
          reason = `check passed ${this.#passes}/${c.rise}: ${what}`;
        }
      } else if (this.#health !== 'down') {
        if (this.#failures >= c.fall) {
          this.#health = 'down';
          reason = `${c.fall} failed check(s) in a row; last ${what}`;
        } else {
          this.#health = 'falling';
          reason = `check failed ${this.#failures}/${c.fall}: ${what}`;
        }
      }
    } else if (this.#withdrawAt !== null) {
      if (pass && this.#passes >= c.rise) {
        this.#cancelPendingWithdraw();
        this.#degraded = this.#oks < c.rise;
        this.#health = this.#degraded ? 'warning' : 'up';
        reason = `recovered within the withdraw delay: ${c.rise} passing check(s) in a row`;
      } else if (!pass && now >= this.#withdrawAt) {
        this.#withdrawNow();
        reason = `withdraw delay of ${secs(c.withdrawDelayMs)} over and still failing: ${what}`;
      } else {
        this.#health = 'falling';
      }
    } else if (!pass) {
      if (this.#failures >= c.fall) {
        if (c.withdrawDelayMs > 0) {
          this.#withdrawAt = now + c.withdrawDelayMs;
          this.#cancelWithdraw = this.#timer.schedule(c.withdrawDelayMs, () => this.#withdrawTimer());
          this.#health = 'falling';
          reason = `${c.fall} failed check(s) in a row; withdrawal in ${secs(c.withdrawDelayMs)} unless it recovers; last ${what}`;
        } else {
          this.#withdrawNow();
          reason = `${c.fall} failed check(s) in a row; last ${what}`;
        }
      } else {
        this.#health = 'falling';
        reason = `check failed ${this.#failures}/${c.fall}: ${what}`;
      }
    } else {
      if (this.#degraded && this.#oks >= c.rise) {
        this.#degraded = false;
        reason = `${c.rise} OK check(s) in a row`;
      } else if (!this.#degraded && this.#notOks >= c.fall) {
        this.#degraded = true;
        reason = `${c.fall} non-OK check(s) in a row; last ${what}`;
      }
      this.#health = this.#degraded ? 'warning' : 'up';
    }
    this.#update(reason);
  }

  #withdrawNow(): void {
    this.#cancelPendingWithdraw();
    this.#up = false;
    this.#degraded = false;
    this.#health = 'down';
  }

  #cancelPendingWithdraw(): void {
    this.#cancelWithdraw?.();
    this.#cancelWithdraw = null;
    this.#withdrawAt = null;
  }

  #withdrawTimer(): void {
    this.#cancelWithdraw = null;
    if (this.#withdrawAt === null) return;
    // A result that passes after the fall decision keeps the route: it is coming back. The next failure decides.
    if (this.#lastResult?.status === 'failed') {
      this.#withdrawNow();
      this.#update(`withdraw delay of ${secs(this.config.withdrawDelayMs)} over and still failing`);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // What to announce.

  baseAttrs(): AnnounceAttrs {
    const b = this.config.base;
    const out: AnnounceAttrs = {
      nextHop: this.config.nextHop,
      asPathPrepend: 0,
      communities: [...b.communities],
      largeCommunities: [...b.largeCommunities],
    };
    if (b.med !== undefined) out.med = b.med;
    if (b.localPref !== undefined) out.localPref = b.localPref;
    return out;
  }

  #healthAnnouncement(): Announcement {
    const c = this.config;
    if (this.#up) {
      if (!this.#degraded) return { action: 'announce', attrs: this.baseAttrs() };
      return c.warning.action === 'announce'
        ? { action: 'announce', attrs: applyChanges(this.baseAttrs(), c.warning) }
        : WITHDRAW;
    }
    if (this.#health === 'down' && c.failed.action === 'announce') {
      return { action: 'announce', attrs: applyChanges(this.baseAttrs(), c.failed) };
    }
    return WITHDRAW;
  }

  /** Recomputes the announcement after any change; records a transition and emits when something changed. */
  #update(reason: string): void {
    const now = this.#timer.now();
    const reasons: string[] = [reason];

    // Damping counts changes of the route health asks for (drain is an operator action, not a flap).
    const under = this.#healthAnnouncement();
    if (!sameAnnouncement(under, this.#underlying)) {
      const d = this.config.damping;
      if (d.enabled) {
        const flap = under.action !== this.#underlying.action;
        const first = under.action === 'announce' && !this.#underlyingEverAnnounced;
        const add = flap ? (first ? 0 : d.penalty) : d.attributePenalty;
        if (add > 0) {
          const ceiling = d.reuse * 2 ** (d.maxSuppressMs / d.halfLifeMs);
          this.#penalty = Math.min(this.#decayed() + add, ceiling);
          this.#penaltyAt = now;
          if (!this.#suppressed && this.#penalty >= d.suppress) {
            this.#suppressed = true;
            reasons.push(`damping: penalty ${Math.round(this.#penalty)} ≥ suppress ${d.suppress}, held down`);
          }
          if (this.#suppressed) this.#scheduleReuse();
        }
      }
      if (under.action === 'announce') this.#underlyingEverAnnounced = true;
      this.#underlying = under;
    }

    const drained = this.#drainFile || this.#drainApi;
    if (drained && this.#drainSince === null) {
      this.#drainSince = now;
      this.#graceDone = false;
      const gs = this.config.drained.action === 'graceful-shutdown' && this.#emitted.action === 'announce';
      this.#graceAttrs =
        gs && this.#emitted.action === 'announce' ? this.#withGracefulShutdown(this.#emitted.attrs) : null;
      if (this.#graceAttrs && this.config.drained.graceMs > 0) {
        this.#cancelGrace = this.#timer.schedule(this.config.drained.graceMs, () => {
          this.#cancelGrace = null;
          this.#graceDone = true;
          this.#update(`graceful-shutdown period of ${secs(this.config.drained.graceMs)} over`);
        });
      }
    } else if (!drained && this.#drainSince !== null) {
      this.#drainSince = null;
      this.#graceAttrs = null;
      this.#cancelGrace?.();
      this.#cancelGrace = null;
    }

    let desired: Announcement;
    if (drained) {
      // RFC 8326 §4: announce with GRACEFUL_SHUTDOWN so peers move traffic away first, then withdraw. A service
      // that breaks meanwhile is withdrawn at once.
      desired =
        this.#graceAttrs && !this.#graceDone && under.action === 'announce'
          ? { action: 'announce', attrs: this.#graceAttrs }
          : WITHDRAW;
    } else {
      desired = this.#suppressed ? WITHDRAW : under;
    }

    const visible: ServiceState = drained ? 'drained' : this.#health;
    const changed = !sameAnnouncement(desired, this.#emitted);
    if (visible !== this.#visible || desired.action !== this.#emitted.action) {
      const entry: HistoryEntry = {
        at: now,
        from: this.#visible,
        to: visible,
        announced: desired.action === 'announce',
        reason: reasons.join('; '),
      };
      this.#visible = visible;
      this.#history.push(entry);
      if (this.#history.length > this.config.historySize)
        this.#history.splice(0, this.#history.length - this.config.historySize);
      this.emit('transition', entry);
    }
    if (changed) {
      this.#emitted = desired;
      if (desired.action === 'announce') this.emit('announce', [...this.config.prefixes], desired.attrs);
      else this.emit('withdraw', [...this.config.prefixes]);
    }
  }

  #withGracefulShutdown(attrs: AnnounceAttrs): AnnounceAttrs {
    return applyChanges(attrs, { communities: [GRACEFUL_SHUTDOWN], largeCommunities: [] });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Damping.

  #decayed(): number {
    const d = this.config.damping;
    const dt = this.#timer.now() - this.#penaltyAt;
    return this.#penalty * 2 ** (-dt / d.halfLifeMs);
  }

  #scheduleReuse(): void {
    const d = this.config.damping;
    this.#cancelReuse?.();
    const p = this.#decayed();
    // RFC 2439 §4.8.5: time for the merit to decay to the reuse threshold.
    const wait = p > d.reuse ? Math.ceil(d.halfLifeMs * Math.log2(p / d.reuse)) : 0;
    this.#reuseAt = this.#timer.now() + wait;
    this.#cancelReuse = this.#timer.schedule(wait, () => {
      this.#cancelReuse = null;
      const now = this.#decayed();
      if (now <= d.reuse * (1 + 1e-9)) {
        this.#suppressed = false;
        this.#reuseAt = null;
        this.#update(`damping: penalty decayed to ${Math.round(now)} ≤ reuse ${d.reuse}`);
      } else {
        this.#scheduleReuse();
      }
    });
  }
}

/** A service's announcement as wire path attributes, given the local AS (for the prepend). */
export function toPathAttributes(attrs: AnnounceAttrs, localAsn: number): PathAttributes {
  const out: PathAttributes = {
    origin: Origin.IGP,
    asPath:
      attrs.asPathPrepend > 0
        ? [{ type: AsPathSegmentType.AS_SEQUENCE, asns: new Array<number>(attrs.asPathPrepend).fill(localAsn) }]
        : [],
  };
  if (attrs.med !== undefined) out.med = attrs.med;
  if (attrs.localPref !== undefined) out.localPref = attrs.localPref;
  if (attrs.communities.length) out.communities = [...attrs.communities];
  if (attrs.largeCommunities.length) {
    out.largeCommunities = attrs.largeCommunities.map((l) => [...l] as [number, number, number]);
  }
  return out;
}
