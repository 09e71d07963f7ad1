// GET /api/v1/watch: best-path and session changes as Server-Sent Events (text/event-stream).
//
//   event: route      data: {family, prefix, action: "best"|"withdraw", route: RouteView|null, previous_from}
//   event: session    data: {neighbor, from, to, reason}
//   event: overflow   data: {message, limit} — the client fell behind; the server closes the stream after it
//   ": heartbeat" comment lines every 15 s keep proxies from closing an idle stream.
//
// The daemon builds a RouteView per best-path change only while at least one watcher is connected
// (DaemonObserve.watch), so a full-table load without watchers costs nothing here. Each event is serialised
// once and the same frame goes to every client.
//
// Memory is bounded per client: frames go straight to the socket while it takes them; once it pushes back
// (res.write() returns false) they wait in the client's own queue until 'drain'. A client whose queue grows past
// `queueLimit` events is sent an `overflow` event and disconnected: it must reconnect and re-read the Loc-RIB,
// rather than make the daemon hold an unbounded backlog for it.

import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { normalizeAddress } from '../daemon/config.ts';
import type { DaemonApi, RouteEvent, SessionEvent } from '../daemon/types.ts';
import { FAMILIES, type Family } from '../wire/index.ts';
import { ApiError } from './errors.ts';

export const DEFAULT_WATCH_QUEUE_LIMIT = 10_000;
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** A client that was told `overflow` but never reads is cut off after this long. */
const OVERFLOW_GRACE_MS = 5_000;

export interface WatchOptions {
  /** Events a client may fall behind by before it is disconnected with `overflow`. */
  queueLimit?: number;
  heartbeatMs?: number;
}

const EVENT_TYPES = ['route', 'session'] as const;
type EventType = (typeof EVENT_TYPES)[number];

/** One serialised frame per event object, shared by every client. */
const frames = new WeakMap<object, string>();
function frame(type: EventType, ev: RouteEvent | SessionEvent): string {
  let f = frames.get(ev);
  if (f === undefined) {
    f = `event: ${type}\ndata: ${JSON.stringify(ev)}\n\n`;
    frames.set(ev, f);
  }
  return f;
}

class WatchClient {
  private readonly res: ServerResponse;
  private readonly limit: number;
  private queue: string[] = [];
  private head = 0;
  private blocked = false;
  closed = false;
  onClose: () => void = () => {};

  constructor(res: ServerResponse, limit: number) {
    this.res = res;
    this.limit = limit;
  }

  send(f: string): void {
    if (this.closed) return;
    if (this.blocked) {
      this.queue.push(f);
      if (this.queue.length - this.head > this.limit) this.overflow();
      return;
    }
    if (!this.res.write(f)) this.block();
  }

  private block(): void {
    this.blocked = true;
    this.res.once('drain', () => this.flush());
  }

  private flush(): void {
    this.blocked = false;
    while (this.head < this.queue.length && !this.closed) {
      const f = this.queue[this.head]!;
      this.head++;
      if (!this.res.write(f)) {
        this.block();
        break;
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
  }

  private overflow(): void {
    const behind = this.queue.length - this.head;
    this.queue = [];
    this.head = 0;
    const msg = {
      message: `the client fell more than ${this.limit} events behind (${behind}); reconnect and re-read the Loc-RIB`,
      limit: this.limit,
    };
    this.end(`event: overflow\ndata: ${JSON.stringify(msg)}\n\n`);
    setTimeout(() => this.res.destroy(), OVERFLOW_GRACE_MS).unref();
  }

  end(last?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.res.end(last);
  }
}

function list(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).filter((x) => x !== '');
}

/** The watch endpoint and the clients it serves (ended when the server closes). */
export class Watchers {
  readonly clients = new Set<WatchClient>();

  endAll(): void {
    for (const c of [...this.clients]) c.end();
  }
}

export function registerWatch(app: FastifyInstance, daemon: DaemonApi, opts: WatchOptions = {}): Watchers {
  const queueLimit = opts.queueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const watchers = new Watchers();
  app.addHook('preClose', async () => watchers.endAll());

  app.get('/api/v1/watch', { config: { role: 'read' } }, (req, reply) => {
    const query = req.query as Record<string, string | string[] | undefined>;
    for (const k of Object.keys(query)) {
      if (k !== 'family' && k !== 'neighbor' && k !== 'types') {
        throw new ApiError('bad_request', `unknown query parameter "${k}" (known: family, neighbor, types)`, k);
      }
    }
    const families = new Set<Family>();
    for (const f of list(query.family)) {
      if (!(FAMILIES as readonly string[]).includes(f)) {
        throw new ApiError('bad_family', `unknown family "${f}": expected one of ${FAMILIES.join(', ')}`, 'family');
      }
      families.add(f as Family);
    }
    const neighbors = new Set<string>();
    for (const n of list(query.neighbor)) {
      const a = n === 'local' ? 'local' : normalizeAddress(n);
      if (!a) throw new ApiError('bad_address', `"${n}" is not an IPv4 or IPv6 address (or "local")`, 'neighbor');
      neighbors.add(a);
    }
    const types = new Set<EventType>();
    for (const t of list(query.types)) {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) {
        throw new ApiError('bad_request', `types: unknown event type "${t}" (expected route, session)`, 'types');
      }
      types.add(t as EventType);
    }
    if (types.size === 0) for (const t of EVENT_TYPES) types.add(t);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    // The subscription is live once the client has the headers; this comment makes sure they go out now.
    res.write(': tsbgp watch\n\n');
    const client = new WatchClient(res, queueLimit);
    watchers.clients.add(client);

    const stop = daemon.watch({
      route: types.has('route')
        ? (e) => {
            if (families.size > 0 && !families.has(e.family)) return;
            if (neighbors.size > 0) {
              const from = e.route?.from;
              const prev = e.previous_from;
              if (!(from !== undefined && neighbors.has(from)) && !(prev !== null && neighbors.has(prev))) return;
            }
            client.send(frame('route', e));
          }
        : undefined,
      session: types.has('session')
        ? (e) => {
            if (neighbors.size > 0 && !neighbors.has(e.neighbor)) return;
            client.send(frame('session', e));
          }
        : undefined,
    });
    const heartbeat = setInterval(() => client.send(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
    const cleanup = () => {
      clearInterval(heartbeat);
      stop();
      watchers.clients.delete(client);
    };
    client.onClose = cleanup;
    res.on('close', () => {
      client.closed = true;
      cleanup();
    });
  });
  return watchers;
}
