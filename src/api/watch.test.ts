// GET /api/v1/watch over a real listening socket, read with fetch: route and session events, filters, heartbeat,
// and a client that stops reading being cut off with `overflow` instead of growing the daemon's memory.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { announce, type FakePeer, fakeSpeaker, GLOBAL_TOML, neighborToml, withdraw } from '../daemon/testing.ts';
import { buildApi } from './server.ts';

const TOML = `${GLOBAL_TOML}
${neighborToml('192.0.2.2', 65001)}
${neighborToml('192.0.2.3', 65003)}`;

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads a text/event-stream response event by event; comments are collected separately. */
class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buf = '';
  private readonly ready: SseEvent[] = [];
  comments: string[] = [];
  ended = false;

  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  /** The next event; null when the stream ended. */
  async next(): Promise<SseEvent | null> {
    for (;;) {
      const e = this.ready.shift();
      if (e) return e;
      if (this.ended) return null;
      const r = await this.reader.read();
      if (r.done) {
        this.ended = true;
        continue;
      }
      this.buf += this.decoder.decode(r.value, { stream: true });
      let i = this.buf.indexOf('\n\n');
      while (i >= 0) {
        const block = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        i = this.buf.indexOf('\n\n');
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
          else if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data !== '') this.ready.push({ event, data: JSON.parse(data) });
      }
    }
  }

  /** The next `n` events (fails the test if the stream ends first). */
  async take(n: number): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    for (let i = 0; i < n; i++) {
      const e = await this.next();
      assert.ok(e, `stream ended after ${out.length} of ${n} events`);
      out.push(e);
    }
    return out;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

describe('GET /api/v1/watch (real socket)', () => {
  let app: FastifyInstance;
  let base: string;
  let a: FakePeer;
  let b: FakePeer;

  before(async () => {
    const { speaker, peers } = fakeSpeaker(TOML);
    await speaker.start();
    a = peers.latest('192.0.2.2');
    b = peers.latest('192.0.2.3');
    a.up();
    app = buildApi(speaker, { watch: { queueLimit: 50, heartbeatMs: 100 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    assert.ok(addr && typeof addr === 'object');
    base = `http://127.0.0.1:${addr.port}`;
  });
  after(async () => {
    await app.close();
  });

  const watch = async (query = '') => {
    const res = await fetch(`${base}/api/v1/watch${query}`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/event-stream/);
    return new SseReader(res);
  };

  const watchClients = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return Number(/^tsbgp_watch_clients (\d+)$/m.exec(text)?.[1]);
  };
  /** The server learns of a closed stream a moment after the client closed it: poll, bounded. */
  const untilClients = async (n: number) => {
    for (let i = 0; i < 200; i++) {
      if ((await watchClients()) === n) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await watchClients(), n);
  };

  it('streams best-path changes and withdrawals, with where the previous best came from', async () => {
    const w = await watch();
    a.receive(announce(['198.51.100.0/24'], '192.0.2.2', [65001, 65010]));
    const [first] = await w.take(1);
    assert.equal(first!.event, 'route');
    assert.deepEqual(
      { ...(first!.data as object), route: undefined },
      { family: 'ipv4-unicast', prefix: '198.51.100.0/24', action: 'best', route: undefined, previous_from: null },
    );
    const route = (first!.data as { route: { from: string; as_path: number[]; best: boolean } }).route;
    assert.equal(route.from, '192.0.2.2');
    assert.deepEqual(route.as_path, [65001, 65010]);
    assert.equal(route.best, true);

    a.receive(withdraw(['198.51.100.0/24']));
    const [gone] = await w.take(1);
    assert.deepEqual(gone!.data, {
      family: 'ipv4-unicast',
      prefix: '198.51.100.0/24',
      action: 'withdraw',
      route: null,
      previous_from: '192.0.2.2',
    });
    await w.cancel();
  });

  it('session events carry the reason; a session that goes down is reported before its routes leave', async () => {
    const w = await watch();
    b.up();
    const up = await w.take(3);
    assert.deepEqual(
      up.map((e) => [e.event, (e.data as { from: string }).from, (e.data as { to: string }).to]),
      [
        ['session', 'active', 'opensent'],
        ['session', 'opensent', 'openconfirm'],
        ['session', 'openconfirm', 'established'],
      ],
    );
    assert.equal((up[2]!.data as { reason: string | null }).reason, null);
    b.receive(announce(['203.0.113.0/24'], '192.0.2.3', [65003]));
    assert.equal((await w.take(1))[0]!.event, 'route');
    b.drop({ message: 'hold timer expired' });
    const down = await w.take(2);
    assert.deepEqual(down[0], {
      event: 'session',
      data: { neighbor: '192.0.2.3', from: 'established', to: 'idle', reason: 'hold timer expired' },
    });
    assert.equal(down[1]!.event, 'route');
    assert.equal((down[1]!.data as { action: string }).action, 'withdraw');
    await w.cancel();
  });

  it('filters by family, neighbour and type', async () => {
    const v6 = await watch('?family=ipv6-unicast&types=route');
    const fromA = await watch('?neighbor=192.0.2.2&types=route');
    const sessions = await watch('?types=session');
    a.receive(announce(['10.1.0.0/16'], '192.0.2.2', [65001]));
    a.receive(announce(['2001:db8:1::/48'], '2001:db8::2', [65001]));
    b.up();
    b.receive(announce(['10.3.0.0/16'], '192.0.2.3', [65003]));
    a.receive(withdraw(['10.1.0.0/16']));

    const [only6] = await v6.take(1);
    assert.equal((only6!.data as { prefix: string }).prefix, '2001:db8:1::/48');
    const a3 = await fromA.take(3);
    assert.deepEqual(
      a3.map((e) => `${(e.data as { prefix: string }).prefix} ${(e.data as { action: string }).action}`),
      ['10.1.0.0/16 best', '2001:db8:1::/48 best', '10.1.0.0/16 withdraw'],
    );
    const s3 = await sessions.take(3);
    assert.ok(s3.every((e) => e.event === 'session'));
    // Nothing else arrived for the filtered streams: the next event of each is the one sent now.
    a.receive(announce(['2001:db8:2::/48'], '2001:db8::2', [65001]));
    assert.equal(((await v6.take(1))[0]!.data as { prefix: string }).prefix, '2001:db8:2::/48');
    assert.equal(((await fromA.take(1))[0]!.data as { prefix: string }).prefix, '2001:db8:2::/48');
    b.drop({ message: 'bye' });
    assert.equal(((await sessions.take(1))[0]!.data as { reason: string }).reason, 'bye');
    await Promise.all([v6.cancel(), fromA.cancel(), sessions.cancel()]);
  });

  it('sends heartbeat comments', async () => {
    const w = await watch('?types=session');
    const pending = w.next();
    // The heartbeat is a comment, not an event: wait until one is seen (bounded by the test's own timeout).
    while (!w.comments.includes('heartbeat')) await new Promise((r) => setTimeout(r, 20));
    await w.cancel();
    await pending.catch(() => {});
  });

  it('bad filters are 400s before any stream starts', async () => {
    for (const [q, field] of [
      ['?family=ipv4-flowspec', 'family'],
      ['?neighbor=nobody', 'neighbor'],
      ['?types=route,everything', 'types'],
      ['?since=0', 'since'],
    ]) {
      const res = await fetch(`${base}/api/v1/watch${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(((await res.json()) as { field: string }).field, field);
    }
  });

  it('a client that stops reading is sent overflow and disconnected; the daemon forgets it', async () => {
    await untilClients(0);
    const res = await fetch(`${base}/api/v1/watch?types=route`);
    assert.equal(await watchClients(), 1);
    // 20 000 route events (≈ 6 MB) while the client reads nothing: the socket pushes back, the queue passes 50.
    const ps: string[] = [];
    for (let i = 0; i < 20_000; i++) ps.push(`10.${100 + (i >> 8)}.${i & 255}.0/24`);
    a.receive(announce(ps, '192.0.2.2', [65001]));
    const r = new SseReader(res);
    let routes = 0;
    let overflow: SseEvent | null = null;
    for (let e = await r.next(); e !== null; e = await r.next()) {
      if (e.event === 'route') routes++;
      else if (e.event === 'overflow') overflow = e;
    }
    assert.ok(overflow, 'no overflow event');
    assert.match((overflow.data as { message: string }).message, /fell more than 50 events behind/);
    assert.ok(routes < 20_000, `all ${routes} events were delivered`);
    await untilClients(0);
    a.receive(withdraw(ps));
  });
});
