// Peers over real loopback TCP (and one in-memory duplex pair): establishment, UPDATE exchange, route refresh,
// OPEN errors, hold timer expiry, collisions, administrative shutdown, and keepalives under a large send.

import assert from 'node:assert/strict';
import net from 'node:net';
import { duplexPair } from 'node:stream';
import { after, describe, test } from 'node:test';
import {
  type BgpMessage,
  decodeMessage,
  defaultCodecContext,
  encodeKeepalive,
  encodeOpen,
  encodeUpdates,
  Framer,
  type NotificationMessage,
  Origin,
  parsePrefix,
  type RouteRefreshMessage,
  type UpdateMessage,
} from '../wire/index.ts';
import { routerIdToNumber } from './negotiate.ts';
import { joined, Peer, type PeerOptions, type Transport } from './peer.ts';
import type {
  NegotiatedSession,
  OutputSource,
  PeerConfig,
  PeerHandler,
  PeerLike,
  SessionDownReason,
  SessionStateName,
} from './types.ts';

const TIMEOUT = { timeout: 30_000 };

type Ev =
  | { kind: 'state'; from: SessionStateName; to: SessionStateName }
  | { kind: 'established'; session: NegotiatedSession }
  | { kind: 'update'; msg: UpdateMessage }
  | { kind: 'route-refresh'; msg: RouteRefreshMessage }
  | { kind: 'down'; reason: SessionDownReason; wasEstablished: boolean };

/** A PeerHandler that records events and lets a test await one. */
class Recorder implements PeerHandler {
  events: Ev[] = [];
  updates = 0;
  /** Keep UPDATEs (off for the bulk test). */
  keepUpdates = true;
  onUpdate: ((msg: UpdateMessage) => void) | null = null;
  private waiters: { pred: (e: Ev) => boolean; resolve: (e: Ev) => void }[] = [];

  private push(e: Ev): void {
    if (e.kind !== 'update' || this.keepUpdates) this.events.push(e);
    for (const w of this.waiters.slice()) {
      if (w.pred(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }
  waitFor<K extends Ev['kind']>(kind: K, pred: (e: Extract<Ev, { kind: K }>) => boolean = () => true) {
    const p = (e: Ev) => e.kind === kind && pred(e as Extract<Ev, { kind: K }>);
    const found = this.events.find(p);
    if (found) return Promise.resolve(found as Extract<Ev, { kind: K }>);
    return new Promise<Extract<Ev, { kind: K }>>((resolve) => {
      this.waiters.push({ pred: p, resolve: resolve as (e: Ev) => void });
    });
  }
  count(kind: Ev['kind']): number {
    return this.events.filter((e) => e.kind === kind).length;
  }
  downs(): Extract<Ev, { kind: 'down' }>[] {
    return this.events.filter((e): e is Extract<Ev, { kind: 'down' }> => e.kind === 'down');
  }

  stateChanged(_p: PeerLike, from: SessionStateName, to: SessionStateName): void {
    this.push({ kind: 'state', from, to });
  }
  established(p: PeerLike, session: NegotiatedSession): void {
    assert.equal(p.state, 'established');
    this.push({ kind: 'established', session });
  }
  update(_p: PeerLike, msg: UpdateMessage): void {
    this.updates++;
    this.onUpdate?.(msg);
    this.push({ kind: 'update', msg });
  }
  routeRefresh(_p: PeerLike, msg: RouteRefreshMessage): void {
    this.push({ kind: 'route-refresh', msg });
  }
  down(_p: PeerLike, reason: SessionDownReason, wasEstablished: boolean): void {
    this.push({ kind: 'down', reason, wasEstablished });
  }
}

/** Sends a fixed list of messages, then nothing. */
class ListSource implements OutputSource {
  pulls = 0;
  private msgs: Uint8Array[];
  constructor(msgs: Uint8Array[] = []) {
    this.msgs = msgs;
  }
  add(msgs: Uint8Array[]): void {
    this.msgs.push(...msgs);
  }
  pull(_p: PeerLike, maxBytes: number): Uint8Array[] {
    this.pulls++;
    const out: Uint8Array[] = [];
    let bytes = 0;
    while (this.msgs.length > 0 && (out.length === 0 || bytes + this.msgs[0]!.length <= maxBytes)) {
      const m = this.msgs.shift()!;
      bytes += m.length;
      out.push(m);
    }
    return out;
  }
}

const baseConfig = (over: Partial<PeerConfig>): PeerConfig => ({
  address: '127.0.0.1',
  port: 179,
  localAsn: 65001,
  remoteAsn: 65002,
  routerId: '10.0.0.1',
  holdTime: 90,
  connectRetryTime: 1,
  passive: false,
  families: ['ipv4-unicast', 'ipv6-unicast'],
  addPathReceive: [],
  gracefulRestart: null,
  ...over,
});

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function listen(
  onConn: (s: net.Socket) => void,
  host = '127.0.0.1',
): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onConn);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

interface Pair {
  a: Peer;
  b: Peer;
  ra: Recorder;
  rb: Recorder;
  /** Sockets A accepted (A is passive). */
  accepted: net.Socket[];
  stop(): Promise<void>;
}

/** A (passive, AS 65001) listens; B (AS 65002) connects to it. */
async function tcpPair(
  opts: {
    host?: string;
    a?: Partial<PeerConfig>;
    b?: Partial<PeerConfig>;
    aOut?: OutputSource;
    bOut?: OutputSource;
    aOpts?: PeerOptions;
  } = {},
): Promise<Pair> {
  const host = opts.host ?? '127.0.0.1';
  const ra = new Recorder();
  const rb = new Recorder();
  const accepted: net.Socket[] = [];
  let a!: Peer;
  const { port } = await listen((s) => {
    accepted.push(s);
    a.acceptConnection(s);
  }, host);
  a = new Peer(baseConfig({ address: host, passive: true, ...opts.a }), ra, opts.aOut ?? new ListSource(), opts.aOpts);
  const b = new Peer(
    baseConfig({ address: host, port, localAsn: 65002, remoteAsn: 65001, routerId: '10.0.0.2', ...opts.b }),
    rb,
    opts.bOut ?? new ListSource(),
  );
  a.start();
  b.start();
  return {
    a,
    b,
    ra,
    rb,
    accepted,
    async stop() {
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}

function v4Updates(prefixes: string[], ctx = defaultCodecContext()): Uint8Array[] {
  return encodeUpdates(
    {
      family: 'ipv4-unicast',
      attributes: { origin: Origin.IGP, asPath: [{ type: 2, asns: [65002] }] },
      nextHop: '198.51.100.1',
      prefixes: prefixes.map((p) => parsePrefix(p).key),
    },
    ctx,
  );
}

describe('peer over loopback TCP', () => {
  test('reaches established on both sides with the negotiated session', TIMEOUT, async () => {
    const p = await tcpPair();
    const [ea, eb] = await Promise.all([p.ra.waitFor('established'), p.rb.waitFor('established')]);
    assert.equal(p.a.state, 'established');
    assert.equal(p.b.state, 'established');
    assert.equal(ea.session.remoteAsn, 65002);
    assert.equal(eb.session.remoteAsn, 65001);
    assert.equal(ea.session.remoteRouterId, '10.0.0.2');
    assert.deepEqual(ea.session.families, ['ipv4-unicast', 'ipv6-unicast']);
    assert.equal(ea.session.holdTime, 90);
    assert.equal(ea.session.codec.maxMessageSize, 65535);
    assert.equal(ea.session.codec.asn4, true);
    assert.equal(ea.session.routeRefresh, true);
    assert.equal(ea.session.remotePort, eb.session.localPort);
    assert.equal(ea.session.localAddress, '127.0.0.1');
    assert.equal(p.a.session, ea.session);
    // State sequence of the active side.
    const states = p.rb.events.filter((e) => e.kind === 'state').map((e) => (e as { to: string }).to);
    assert.deepEqual(states, ['connect', 'opensent', 'openconfirm', 'established']);
    assert.equal(p.a.stats.messagesIn.OPEN, 1);
    assert.ok(p.a.stats.messagesOut.KEEPALIVE! >= 1);
    assert.notEqual(p.a.stats.establishedAt, null);
    await p.stop();
  });

  test('over IPv6 (::1), with extended next hop for IPv4 negotiated', TIMEOUT, async () => {
    const p = await tcpPair({ host: '::1' });
    const ea = await p.ra.waitFor('established');
    await p.rb.waitFor('established');
    assert.equal(ea.session.localAddress, '::1');
    assert.deepEqual([...ea.session.codec.extendedNextHop], ['ipv4-unicast']);
    await p.stop();
  });

  test('exchanges UPDATEs pulled from the output source, established() before any update()', TIMEOUT, async () => {
    const src = new ListSource(v4Updates(['203.0.113.0/24', '198.51.100.0/25']));
    const p = await tcpPair({ bOut: src });
    const u = await p.ra.waitFor('update');
    const iEst = p.ra.events.findIndex((e) => e.kind === 'established');
    const iUpd = p.ra.events.findIndex((e) => e.kind === 'update');
    assert.ok(iEst >= 0 && iEst < iUpd);
    assert.equal(u.msg.announced[0]!.nextHop, '198.51.100.1');
    assert.deepEqual(
      u.msg.announced[0]!.prefixes,
      ['203.0.113.0/24', '198.51.100.0/25'].map((x) => parsePrefix(x).key),
    );
    assert.equal(p.b.stats.updatesOut, 1);
    assert.equal(p.a.stats.updatesIn, 1);
    // Later output is pulled on wakeOutput().
    src.add(v4Updates(['192.0.2.0/24']));
    p.b.wakeOutput();
    await p.ra.waitFor('update', (e) => e.msg.announced[0]?.prefixes[0] === parsePrefix('192.0.2.0/24').key);
    assert.equal(p.a.stats.updatesIn, 2);
    await p.stop();
  });

  test('route refresh both ways', TIMEOUT, async () => {
    const p = await tcpPair();
    await Promise.all([p.ra.waitFor('established'), p.rb.waitFor('established')]);
    assert.equal(p.a.sendRouteRefresh('ipv6-unicast'), true);
    const rr = await p.rb.waitFor('route-refresh');
    assert.deepEqual(rr.msg, { type: 'route-refresh', afi: 2, safi: 1, subtype: 0 });
    // Soft reset = ROUTE-REFRESH for every family, session stays up.
    p.b.reset(false);
    await p.ra.waitFor('route-refresh', (e) => e.msg.afi === 1);
    await p.ra.waitFor('route-refresh', (e) => e.msg.afi === 2);
    assert.equal(p.b.state, 'established');
    assert.equal(p.a.stats.messagesIn['ROUTE-REFRESH'], 2);
    await p.stop();
  });

  test('bad peer AS: both sides see NOTIFICATION 2/2', TIMEOUT, async () => {
    // B expects AS 65009 but A is 65001.
    const p = await tcpPair({ b: { remoteAsn: 65009, connectRetryTime: 60 } });
    const db = await p.rb.waitFor('down');
    const da = await p.ra.waitFor('down');
    assert.equal(db.reason.message, 'bad peer AS: expected 65009, got 65001');
    assert.deepEqual(db.reason.notification, { direction: 'sent', code: 2, subcode: 2 });
    assert.deepEqual(da.reason.notification, { direction: 'received', code: 2, subcode: 2 });
    assert.match(da.reason.message, /received NOTIFICATION 2\/2/);
    assert.equal(db.wasEstablished, false);
    assert.equal(p.ra.count('established') + p.rb.count('established'), 0);
    assert.equal(p.b.state, 'active');
    assert.deepEqual(p.b.lastError, db.reason);
    await p.stop();
  });

  test('hold timer expiry when the other side stops reading', TIMEOUT, async () => {
    const p = await tcpPair({ a: { holdTime: 3 }, b: { holdTime: 3, connectRetryTime: 60 } });
    await Promise.all([p.ra.waitFor('established'), p.rb.waitFor('established')]);
    // A no longer reads from its socket: it sees nothing from B, so A's hold timer expires.
    p.accepted[0]!.pause();
    const da = await p.ra.waitFor('down');
    assert.equal(da.reason.message, 'hold timer expired');
    assert.deepEqual(da.reason.notification, { direction: 'sent', code: 4, subcode: 0 });
    assert.equal(da.wasEstablished, true);
    const db = await p.rb.waitFor('down');
    assert.deepEqual(db.reason.notification, { direction: 'received', code: 4, subcode: 0 });
    assert.equal(p.a.stats.flaps, 1);
    assert.equal(p.a.session, null);
    await p.stop();
  });

  test('stop() sends Cease 2 with the shutdown text; the other side reports it', TIMEOUT, async () => {
    const p = await tcpPair({ a: { connectRetryTime: 60 } });
    await Promise.all([p.ra.waitFor('established'), p.rb.waitFor('established')]);
    await p.b.stop({ message: 'maintenance window' });
    assert.equal(p.b.state, 'idle');
    const da = await p.ra.waitFor('down');
    assert.deepEqual(da.reason.notification, {
      direction: 'received',
      code: 6,
      subcode: 2,
      shutdownMessage: 'maintenance window',
    });
    assert.match(da.reason.message, /Cease.*: maintenance window$/);
    const db = p.rb.downs()[0]!;
    assert.deepEqual(db.reason.notification, {
      direction: 'sent',
      code: 6,
      subcode: 2,
      shutdownMessage: 'maintenance window',
    });
    assert.equal(db.wasEstablished, true);
    // B stays down: no reconnect until start().
    assert.equal(p.b.state, 'idle');
    p.b.start();
    await p.ra.waitFor('established', () => p.ra.count('established') === 2);
    await p.stop();
  });

  test('a connection to a peer that is not started is refused with Cease 5', TIMEOUT, async () => {
    const r = new Recorder();
    const peer = new Peer(baseConfig({ passive: true }), r, new ListSource());
    const { port } = await listen((s) => peer.acceptConnection(s));
    const msgs = await rawExchange(port, []);
    assert.deepEqual(
      msgs.map((m) => m.type),
      ['notification'],
    );
    const n = msgs[0] as NotificationMessage;
    assert.deepEqual([n.code, n.subcode], [6, 5]);
    assert.equal(peer.state, 'idle');
  });

  test('a header error from the codec is answered with its NOTIFICATION before the close', TIMEOUT, async () => {
    const r = new Recorder();
    const peer = new Peer(baseConfig({ passive: true }), r, new ListSource());
    const { port } = await listen((s) => peer.acceptConnection(s));
    peer.start();
    const open = encodeOpen({
      version: 4,
      myAs: 65002,
      holdTime: 90,
      routerId: '10.0.0.9',
      capabilities: [{ kind: 'four-octet-as', asn: 65002 }],
    });
    const bad = encodeKeepalive();
    bad[0] = 0; // broken marker: 1/1 Connection Not Synchronized
    const msgs = await rawExchange(port, [open, encodeKeepalive(), bad]);
    assert.deepEqual(
      msgs.map((m) => m.type),
      ['open', 'keepalive', 'notification'],
    );
    const n = msgs[2] as NotificationMessage;
    assert.deepEqual([n.code, n.subcode], [1, 1]);
    const d = await r.waitFor('down');
    assert.equal(d.wasEstablished, true);
    assert.deepEqual(d.reason.notification, { direction: 'sent', code: 1, subcode: 1 });
    await peer.stop();
  });

  test('an UPDATE before Established is an FSM error 5/1 (RFC 6608)', TIMEOUT, async () => {
    const r = new Recorder();
    const peer = new Peer(baseConfig({ passive: true }), r, new ListSource());
    const { port } = await listen((s) => peer.acceptConnection(s));
    peer.start();
    const msgs = await rawExchange(port, v4Updates(['192.0.2.0/24']));
    const n = msgs.at(-1) as NotificationMessage;
    assert.deepEqual([n.type, n.code, n.subcode], ['notification', 5, 1]);
    await peer.stop();
  });

  test('an incoming connection while established gets Cease 7; the session stays', TIMEOUT, async () => {
    let a!: Peer;
    const p = await tcpPair();
    a = p.a;
    await Promise.all([p.ra.waitFor('established'), p.rb.waitFor('established')]);
    const { port } = await listen((s) => a.acceptConnection(s));
    const msgs = await rawExchange(port, []);
    const n = msgs[0] as NotificationMessage;
    assert.deepEqual([n.type, n.code, n.subcode], ['notification', 6, 7]);
    assert.equal(p.a.state, 'established');
    assert.equal(p.ra.count('down'), 0);
    await p.stop();
  });

  for (const [idA, idB] of [
    ['10.0.0.1', '10.0.0.2'],
    ['10.0.0.2', '10.0.0.1'],
    ['200.0.0.1', '10.0.0.1'],
  ] as const) {
    test(`collision with both sides active (IDs ${idA} / ${idB}) ends with exactly one session`, TIMEOUT, async () => {
      const ra = new Recorder();
      const rb = new Recorder();
      let a!: Peer;
      let b!: Peer;
      const la = await listen((s) => a.acceptConnection(s));
      const lb = await listen((s) => b.acceptConnection(s));
      a = new Peer(baseConfig({ routerId: idA, port: lb.port }), ra, new ListSource());
      b = new Peer(
        baseConfig({ routerId: idB, port: la.port, localAsn: 65002, remoteAsn: 65001 }),
        rb,
        new ListSource(),
      );
      a.start();
      b.start();
      const [ea, eb] = await Promise.all([ra.waitFor('established'), rb.waitFor('established')]);
      // Let losing connections finish closing, then check that both ends agree on the one TCP connection.
      await Promise.all([a.settled(), b.settled()]);
      await new Promise((r) => setImmediate(r));
      assert.equal(a.state, 'established');
      assert.equal(b.state, 'established');
      assert.equal(ra.count('established'), 1);
      assert.equal(rb.count('established'), 1);
      assert.equal(ea.session.localPort, eb.session.remotePort);
      assert.equal(ea.session.remotePort, eb.session.localPort);
      assert.ok(!ra.downs().some((d) => d.wasEstablished));
      assert.ok(!rb.downs().some((d) => d.wasEstablished));
      // When both connections got as far as an OPEN, RFC 4271 §6.8 decided: the survivor is the connection the
      // side with the higher BGP Identifier initiated, i.e. its remote port is the other side's listener.
      if (a.stats.messagesOut.OPEN === 2 && b.stats.messagesOut.OPEN === 2) {
        const aHigher = routerIdToNumber(idA) > routerIdToNumber(idB);
        if (aHigher) assert.equal(ea.session.remotePort, lb.port);
        else assert.equal(eb.session.remotePort, la.port);
      }
      await Promise.all([a.stop(), b.stop()]);
    });
  }

  test('keepalives keep flowing while 200k UPDATEs are pulled (3 s hold time)', { timeout: 120_000 }, async () => {
    const N = 200_000;
    const template = v4Updates(['10.0.0.0/24'])[0]!;
    let made = 0;
    const source: OutputSource = {
      pull(_p, maxBytes) {
        const out: Uint8Array[] = [];
        for (let bytes = 0; made < N && bytes < maxBytes; bytes += template.length) {
          const m = template.slice();
          // The last three bytes are the /24's address: 10.x.y.0 → distinct prefixes.
          const i = made++;
          m[m.length - 3] = 10 + (i >> 16);
          m[m.length - 2] = (i >> 8) & 0xff;
          m[m.length - 1] = i & 0xff;
          out.push(m);
        }
        return out;
      },
    };
    const p = await tcpPair({ a: { holdTime: 3 }, b: { holdTime: 3 }, bOut: source });
    p.ra.keepUpdates = false;
    // A slow consumer: 1 ms of work every 40 UPDATEs (≥ 5 s in all), so the transfer outlasts the hold time
    // several times over and only survives if KEEPALIVEs flow both ways meanwhile.
    p.ra.onUpdate = () => {
      if (p.ra.updates % 40 === 0) {
        const until = performance.now() + 1;
        while (performance.now() < until) {}
      }
    };
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (p.ra.updates >= N || p.ra.count('down') + p.rb.count('down') > 0) {
          clearInterval(t);
          resolve();
        }
      }, 50);
    });
    assert.deepEqual(p.ra.downs(), []);
    assert.deepEqual(p.rb.downs(), []);
    assert.equal(p.ra.updates, N);
    assert.equal(p.b.stats.updatesOut, N);
    // The initial KEEPALIVE plus periodic ones (every second) during the ≥ 5 s transfer.
    assert.ok(p.a.stats.messagesIn.KEEPALIVE! >= 3, `A got ${p.a.stats.messagesIn.KEEPALIVE} KEEPALIVEs`);
    assert.ok(p.b.stats.messagesIn.KEEPALIVE! >= 3, `B got ${p.b.stats.messagesIn.KEEPALIVE} KEEPALIVEs`);
    assert.equal(p.a.state, 'established');
    assert.equal(p.b.state, 'established');
    await p.stop();
  });
});

describe('peer over an in-memory duplex pair', () => {
  test('establishes, carries an UPDATE and shuts down', TIMEOUT, async () => {
    const ra = new Recorder();
    const rb = new Recorder();
    const a = new Peer(baseConfig({ passive: true }), ra, new ListSource());
    const b = new Peer(
      baseConfig({ localAsn: 65002, remoteAsn: 65001, routerId: '10.0.0.2' }),
      rb,
      new ListSource(v4Updates(['192.0.2.0/24'])),
      {
        connect: () => {
          const [x, y] = duplexPair();
          process.nextTick(() => {
            a.acceptConnection(y as Transport);
            x.emit('connect');
          });
          return x as Transport;
        },
      },
    );
    a.start();
    b.start();
    const u = await ra.waitFor('update');
    assert.equal(u.msg.announced[0]!.prefixes[0], parsePrefix('192.0.2.0/24').key);
    assert.equal(b.state, 'established');
    await b.stop({ message: 'bye' });
    const d = await ra.waitFor('down');
    assert.equal(d.reason.notification?.shutdownMessage, 'bye');
    await a.stop();
    assert.equal(a.state, 'idle');
  });
});

/**
 * A hand-driven peer: connects, writes `send`, and collects decoded messages until the other side closes.
 */
async function rawExchange(port: number, send: Uint8Array[]): Promise<BgpMessage[]> {
  const s = net.connect({ host: '127.0.0.1', port });
  const framer = new Framer();
  framer.maxMessageSize = 65535;
  const out: BgpMessage[] = [];
  await new Promise<void>((resolve) => s.once('connect', resolve));
  for (const m of send) s.write(m);
  s.on('data', (chunk: Buffer) => {
    framer.push(chunk);
    for (let m = framer.next(); m; m = framer.next()) {
      out.push(decodeMessage(m, defaultCodecContext({ maxMessageSize: 65535 })));
    }
  });
  s.on('error', () => {});
  await new Promise<void>((resolve) => s.once('close', () => resolve()));
  return out;
}

describe('joined (one write per output step)', () => {
  test('consecutive views of one slab become one view of it, without a copy', () => {
    const slab = new Uint8Array(64);
    for (let i = 0; i < slab.length; i++) slab[i] = i;
    const parts = [slab.subarray(4, 10), slab.subarray(10, 30), slab.subarray(30, 31)];
    const j = joined(parts, 27);
    assert.equal(j.buffer, slab.buffer);
    assert.equal(j.byteOffset, 4);
    assert.deepEqual([...j], [...slab.subarray(4, 31)]);
  });

  test('a gap, an overlap or another buffer is copied, in order', () => {
    const slab = new Uint8Array(64).map((_, i) => i);
    const other = new Uint8Array([200, 201]);
    for (const parts of [
      [slab.subarray(0, 4), slab.subarray(5, 8)],
      [slab.subarray(0, 4), slab.subarray(3, 8)],
      [slab.subarray(0, 4), other],
      [slab.subarray(8, 12), slab.subarray(4, 8)],
    ]) {
      const bytes = parts.reduce((n, p) => n + p.length, 0);
      const j = joined(parts, bytes);
      assert.notEqual(j.buffer, slab.buffer);
      assert.deepEqual(
        [...j],
        parts.flatMap((p) => [...p]),
      );
    }
  });
});
