// The sender and receiver child processes as seen from the runner: fork with an IPC channel, send commands, and
// wait for events (each wait bounded, each event kept so a wait can match one that already arrived).

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReceiverCommand, ReceiverEvent } from './receiver.ts';
import type { SenderCommand, SenderEvent } from './sender.ts';

type AnyEvent = { ev: string };

export class Child<C, E extends AnyEvent> {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly events: E[] = [];
  exited = false;
  private waiters: { pred: (e: E) => boolean; resolve: (e: E) => void }[] = [];
  private listeners: ((e: E) => void)[] = [];

  constructor(name: string, script: string) {
    this.name = name;
    this.proc = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
      execArgv: ['--disable-warning=ExperimentalWarning', '--max-old-space-size=8192'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (m: E) => {
      this.events.push(m);
      for (const l of this.listeners) l(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
    this.proc.on('exit', () => {
      this.exited = true;
    });
  }

  send(cmd: C): void {
    if (!this.exited && this.proc.connected) this.proc.send(cmd as object);
  }

  on(fn: (e: E) => void): void {
    this.listeners.push(fn);
  }

  /** The first event (already received or future) matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (e: E) => boolean, timeoutMs: number, what: string): Promise<E> {
    const have = this.events.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (e: E) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Waits until `n` events match. */
  async waitCount(pred: (e: E) => boolean, n: number, timeoutMs: number, what: string): Promise<E[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.events.filter(pred);
      if (got.length >= n) return got;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out waiting for ${what} (${got.length}/${n})`);
      await this.waitFor((e) => pred(e) && !got.includes(e), left, what);
    }
  }

  /** Asks politely, then kills. */
  async stop(stopCmd: C): Promise<void> {
    if (this.exited) return;
    this.send(stopCmd);
    await Promise.race([new Promise((r) => this.proc.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

export type SenderChild = Child<SenderCommand, SenderEvent>;
export type ReceiverChild = Child<ReceiverCommand, ReceiverEvent>;

export function startSenderChild(): SenderChild {
  return new Child<SenderCommand, SenderEvent>('sender', './sender.ts');
}

export function startReceiverChild(): ReceiverChild {
  return new Child<ReceiverCommand, ReceiverEvent>('receiver', './receiver.ts');
}
