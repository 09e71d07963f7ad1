// Test helpers for src/exabgp: a ProcessSink that records every call, and waiting for events with a bound.

import { EventEmitter } from 'node:events';
import type { Family } from '../wire/index.ts';
import type { NeighborInfo, RouteSet } from './commands.ts';
import { OK, type ProcessRef, type ProcessSink, type SinkResult, type Target } from './process.ts';

export interface SinkCall {
  method: string;
  proc: ProcessRef;
  target?: Target;
  routes?: RouteSet;
  detail?: string;
}

/** Records calls; announce/withdraw answer `result` (ok unless a test changes it). */
export class RecordingSink extends EventEmitter<{ call: [SinkCall] }> implements ProcessSink {
  calls: SinkCall[] = [];
  result: SinkResult = OK;
  peers: NeighborInfo[];

  constructor(peers: NeighborInfo[] = []) {
    super();
    this.peers = peers;
  }

  #record(c: SinkCall): SinkResult {
    this.calls.push(c);
    this.emit('call', c);
    return this.result;
  }

  neighbors(): NeighborInfo[] {
    return this.peers;
  }
  announce(proc: ProcessRef, target: Target, routes: RouteSet): SinkResult {
    return this.#record({ method: 'announce', proc, target, routes });
  }
  withdraw(proc: ProcessRef, target: Target, routes: RouteSet): SinkResult {
    return this.#record({ method: 'withdraw', proc, target, routes });
  }
  eor(proc: ProcessRef, target: Target, afi: number, safi: number, family: Family | null): SinkResult {
    return this.#record({ method: 'eor', proc, target, detail: `${afi}/${safi} ${family}` });
  }
  routeRefresh(proc: ProcessRef, target: Target, afi: number, safi: number): SinkResult {
    return this.#record({ method: 'route-refresh', proc, target, detail: `${afi}/${safi}` });
  }
  withdrawAll(proc: ProcessRef): void {
    this.#record({ method: 'withdrawAll', proc });
  }

  /** Short text of each call, e.g. "announce 192.0.2.1/32 nh=self med=100". */
  summary(): string[] {
    return this.calls.map(summarize);
  }
}

export function summarize(c: SinkCall): string {
  if (!c.routes) return `${c.method}${c.detail ? ` ${c.detail}` : ''}`;
  const a = c.routes.attributes;
  const parts = [c.method, c.routes.prefixes.join(',')];
  if (c.routes.nextHop) parts.push(`nh=${c.routes.nextHop}`);
  if (a.med !== undefined) parts.push(`med=${a.med}`);
  return parts.join(' ');
}

/** Resolves with the first event args for which `pred` holds; rejects after `ms` (so a broken test fails, not hangs). */
export function waitFor<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  pred: (...args: T) => boolean,
  ms = 15_000,
  what = event,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const on = (...args: unknown[]) => {
      if (!pred(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args as T);
    };
    emitter.on(event, on);
  });
}
