// The clock and scheduler the health engine runs on. The state machine never calls setTimeout or Date.now itself:
// it gets a Timer, so tests drive it with a ManualTimer and check every rise/fall/delay/damping step without sleeping.

/** Cancels a scheduled callback; calling it twice, or after the callback ran, does nothing. */
export type Cancel = () => void;

export interface Timer {
  /** Milliseconds since the epoch (or any fixed origin). */
  now(): number;
  /** Runs `fn` after `delayMs`. A returned promise is awaited by ManualTimer, so async work finishes within advance(). */
  schedule(delayMs: number, fn: () => void | Promise<void>): Cancel;
}

export const realTimer: Timer = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const t = setTimeout(
      () => {
        void fn();
      },
      Math.max(0, delayMs),
    );
    return () => clearTimeout(t);
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void | Promise<void>;
  cancelled: boolean;
}

/**
 * A timer for tests: time moves only in advance(). Callbacks run in time order (ties in scheduling order), each one
 * awaited before the next, so a check that resolves immediately completes inside the advance() that started it.
 */
export class ManualTimer implements Timer {
  #now: number;
  #seq = 0;
  #queue: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, fn: () => void | Promise<void>): Cancel {
    const p: Pending = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#queue.push(p);
    return () => {
      p.cancelled = true;
    };
  }

  /** Number of callbacks still waiting. */
  get pending(): number {
    return this.#queue.filter((p) => !p.cancelled).length;
  }

  /** Time of the next callback, or null. */
  nextAt(): number | null {
    let best: Pending | null = null;
    for (const p of this.#queue) if (!p.cancelled && (!best || p.at < best.at)) best = p;
    return best ? best.at : null;
  }

  /** Moves time forward by `ms`, running every callback that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    // Bounded: a callback that reschedules itself at +0 forever would otherwise spin.
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.#queue = this.#queue.filter((p) => !p.cancelled);
      let next: Pending | null = null;
      for (const p of this.#queue) {
        if (p.at <= target && (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      }
      if (!next) break;
      this.#queue.splice(this.#queue.indexOf(next), 1);
      this.#now = next.at;
      await next.fn();
      // Let promise chains the callback started but did not return settle before the next one runs.
      await new Promise<void>((r) => setImmediate(r));
    }
    this.#now = target;
  }
}
