// Hostile byte streams and connection patterns against a running `tsbgp daemon`: garbage and broken headers before
// and after OPEN, byte-by-byte delivery, messages at the 4096-byte limit, oversized capability lists, AS paths and
// community lists, duplicate and garbage attributes, strangers, silent and storming connections, resets in the middle
// of a message and a peer that stops reading. A good neighbour stays Established throughout: after every case its
// session and routes are checked through the API and it keeps receiving KEEPALIVEs and well-formed UPDATEs.
// Loopback addresses 127.0.90.20-29 belong to this file.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  AttrFlag,
  type Capability,
  CapabilityCode,
  defaultCodecContext,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  encodeRouteRefresh,
  encodeWithdrawals,
  MessageType,
  type PathAttributes,
  parsePrefix,
} from '../../src/wire/index.ts';
import {
  announce,
  attr,
  BgpClient,
  basicAttrs,
  concat,
  fdCount,
  GOOD_PREFIXES,
  GoodNeighbor,
  type HostileDaemon,
  isAlive,
  message,
  neighbor,
  nlri4,
  type OpenOptions,
  openMessage,
  poll,
  rawUpdate,
  ribPaths,
  rssBytes,
  startDaemon,
  u16,
  u32,
} from './harness.ts';

const HOST = '127.0.90.20';
const GOOD = '127.0.90.21';
/** The attacker (eBGP, AS 65002). */
const EVIL = '127.0.90.22';
/** A second attacker (eBGP, AS 65003), for connection storms. */
const STORM = '127.0.90.23';
/** Not a configured neighbour. */
const STRANGER = '127.0.90.29';

const EVIL_OPEN = { asn: 65002, routerId: '10.90.2.22' };
const CANARY = '10.99.0.0/24';

/** mulberry32: a small seeded PRNG, so a failing garbage case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('hostile: byte streams and connections', () => {
  let hd: HostileDaemon;
  let good: GoodNeighbor;
  let fdBaseline = 0;

  before(async () => {
    hd = await startDaemon(HOST, [
      { address: GOOD, asn: 65001, extra: 'hold_time = 6' },
      { address: EVIL, asn: 65002 },
      { address: STORM, asn: 65003 },
    ]);
    good = await GoodNeighbor.start(hd, GOOD, 65001);
    fdBaseline = fdCount(hd.pid);
  });

  after(async () => {
    good?.client.destroy();
    await hd?.d.stop('SIGTERM');
  });

  /** Every attacker connection of the running case, destroyed after it (so a failed case does not leak into the next). */
  const live = new Set<BgpClient>();

  afterEach(async () => {
    const had = live.size > 0;
    for (const c of live) c.destroy();
    live.clear();
    if (had) {
      await notEstablished(EVIL);
      await notEstablished(STORM);
    }
  });

  async function connect(from: string): Promise<BgpClient> {
    const c = await BgpClient.connect({ host: hd.host, port: hd.port, localAddress: from }, `attacker ${from}`);
    live.add(c);
    return c;
  }

  async function notEstablished(address: string): Promise<void> {
    await poll(
      async () => ((await neighbor(hd, address)).state !== 'established' ? true : undefined),
      `${address} to leave Established`,
      200,
      20,
    );
  }

  /** An Established attacker session with the canary route installed. */
  async function attacker(open: OpenOptions = EVIL_OPEN): Promise<BgpClient> {
    const a = await connect(EVIL);
    await a.establish(open);
    await a.sendAll(announce([CANARY], { origin: 0, asPath: [{ type: 2, asns: [65002] }] }, '192.0.2.1'));
    await poll(async () => ((await ribPaths(hd, CANARY, EVIL)).length > 0 ? true : undefined), 'canary', 200, 20);
    return a;
  }

  async function done(a: BgpClient, what: string): Promise<void> {
    assert.deepEqual(a.violations, [], `${what}: the daemon sent the attacker well-formed messages`);
    await a.close();
    await notEstablished(EVIL);
    await good.check(what);
  }

  /** The attacker's NOTIFICATION is code/subcode (and data), the connection is closed, its routes are gone. */
  async function expectReset(a: BgpClient, code: number, subcode: number, data?: string): Promise<void> {
    const n = await a.waitNotification();
    assert.deepEqual([n.code, n.subcode], [code, subcode], `NOTIFICATION ${n.code}/${n.subcode}`);
    if (data !== undefined) assert.equal(Buffer.from(n.data).toString('hex'), data, 'NOTIFICATION data');
    assert.ok(await a.waitClosed(5000), 'closed after the NOTIFICATION');
    await poll(
      async () => ((await ribPaths(hd, CANARY, EVIL)).length === 0 ? true : undefined),
      'canary gone',
      200,
      20,
    );
  }

  /** Announces `prefix` (MED `med`) from `a` and waits until the RIB shows that MED: the session survived. */
  async function barrier(a: BgpClient, med: number): Promise<void> {
    await a.sendAll(announce(['10.99.1.0/24'], { origin: 0, asPath: [{ type: 2, asns: [65002] }], med }, '192.0.2.1'));
    await poll(
      async () => ((await ribPaths(hd, '10.99.1.0/24', EVIL))[0]?.med === med ? true : undefined),
      `barrier MED ${med}`,
      200,
      20,
    );
    assert.equal(a.notification, null);
  }

  it('garbage instead of an OPEN: 1/1 Connection Not Synchronized', async () => {
    const a = await connect(EVIL);
    await a.waitFor((m) => m.type === 'open', "the daemon's OPEN");
    await a.write(Buffer.from('GET / HTTP/1.1\r\nHost: tsbgp\r\n\r\n'));
    const n = await a.waitNotification();
    assert.deepEqual([n.code, n.subcode], [1, 1]);
    assert.ok(await a.waitClosed(5000));
    await done(a, 'garbage before OPEN');
  });

  it('a bad marker, before OPEN and in Established: 1/1', async () => {
    const bad = message(MessageType.KEEPALIVE, new Uint8Array(0));
    bad[7] = 0x7f;
    const a = await connect(EVIL);
    await a.write(bad);
    const n = await a.waitNotification();
    assert.deepEqual([n.code, n.subcode], [1, 1]);
    await done(a, 'bad marker before OPEN');

    const b = await attacker();
    await b.write(bad);
    await expectReset(b, 1, 1);
    await done(b, 'bad marker in Established');
  });

  for (const len of [0, 18, 4097, 65535]) {
    it(`a header with length ${len} and no body: 1/2 at once, before OPEN and in Established`, async () => {
      // Only the 19 header bytes are sent: the daemon must judge the length before waiting for a body.
      const head = message(MessageType.UPDATE, new Uint8Array(0), len);
      const a = await connect(EVIL);
      await a.write(head);
      const n = await a.waitNotification();
      assert.deepEqual([n.code, n.subcode, Buffer.from(n.data).toString('hex')], [1, 2, u16hex(len)]);
      await done(a, `length ${len} before OPEN`);

      const b = await attacker();
      await b.write(head);
      await expectReset(b, 1, 2, u16hex(len));
      await done(b, `length ${len} in Established`);
    });
  }

  it('OPEN, KEEPALIVE and UPDATE in 1-byte writes: Established and the route installed', async () => {
    const a = await connect(EVIL);
    await a.writeBytewise(openMessage(EVIL_OPEN));
    await a.waitFor((m) => m.type === 'open', "the daemon's OPEN");
    await a.writeBytewise(encodeKeepalive());
    await a.waitFor((m) => m.type === 'keepalive', "the daemon's KEEPALIVE");
    const [upd] = announce(['10.203.0.0/24'], { origin: 0, asPath: [{ type: 2, asns: [65002] }], med: 7 }, '192.0.2.1');
    await a.writeBytewise(upd!);
    await poll(async () => ((await ribPaths(hd, '10.203.0.0/24', EVIL))[0]?.med === 7 ? true : undefined), 'route');
    assert.equal(a.notification, null);
    await done(a, '1-byte writes');
  });

  it('a 4096-byte UPDATE of 810 /32s: all installed, and re-sent to the good neighbour within 4096-byte UPDATEs', async () => {
    const a = await attacker();
    const prefixes: string[] = [];
    for (let i = 0; i < 810; i++) prefixes.push(`10.200.${i >> 8}.${i & 255}/32`);
    // ORIGIN, AS_PATH, NEXT_HOP and ATOMIC_AGGREGATE: 23 bytes; 19 + 4 + 23 + 810 × 5 = 4096.
    const attrs = concat([basicAttrs([65002]), attr(AttrFlag.TRANSITIVE, 6, new Uint8Array(0))]);
    const upd = rawUpdate(attrs, nlri4(prefixes));
    assert.equal(upd.length, 4096);
    await a.write(upd);
    await poll(
      async () => ((await neighbor(hd, EVIL)).received['ipv4-unicast'] === 811 ? true : undefined),
      '811 routes from the attacker',
    );
    await poll(
      async () => (prefixes.every((p) => good.client.route(p)) ? true : undefined),
      'the 810 routes at the good neighbour',
    );
    const r = good.client.route('10.200.3.41/32');
    assert.deepEqual(r?.attributes?.asPath, [{ type: 2, asns: [65000, 65002] }]);
    assert.equal(r?.attributes?.atomicAggregate, true);
    assert.equal(a.notification, null);
    await done(a, 'a full UPDATE of /32s');
    await poll(
      async () => (good.client.route('10.200.3.41/32') ? undefined : true),
      'their withdrawal at the good one',
    );
  });

  it('an OPEN with 200 unknown capabilities (RFC 9072 encoding) is accepted: unknown capabilities are ignored', async () => {
    const known = new Set<number>(Object.values(CapabilityCode));
    const extra: Capability[] = [];
    for (let code = 3; extra.length < 200; code++) {
      if (known.has(code & 0xff)) continue;
      extra.push({ kind: 'unknown', code: code & 0xff, value: new Uint8Array(code % 9).fill(code & 0xff) });
    }
    const open = openMessage({ ...EVIL_OPEN, extraCapabilities: extra });
    assert.ok(open.length > 255 + 29, 'the capabilities need the extended encoding');
    const a = await connect(EVIL);
    await a.write(open);
    await a.waitFor((m) => m.type === 'open', "the daemon's OPEN");
    await a.write(encodeKeepalive());
    await a.waitFor((m) => m.type === 'keepalive', "the daemon's KEEPALIVE");
    await poll(async () => ((await neighbor(hd, EVIL)).state === 'established' ? true : undefined), 'Established');
    await done(a, '200 unknown capabilities');
  });

  it('a huge AS_PATH of 600 alternating AS_SEQUENCE/AS_SET segments is installed and re-advertised intact', async () => {
    const a = await attacker();
    const segs: Uint8Array[] = [Uint8Array.of(2, 1), u32(65002)];
    const expected: PathAttributes['asPath'] = [{ type: 2, asns: [65000, 65002] }];
    for (let i = 1; i < 600; i++) {
      const type = i % 2 === 1 ? 1 : 2;
      // Private 4-octet ASNs: never our own AS 65000, which would make the path a loop (RFC 4271 §9.1.2).
      segs.push(Uint8Array.of(type, 1), u32(4_200_000_000 + i));
      expected.push({ type, asns: [4_200_000_000 + i] });
    }
    const asPath = concat(segs);
    const attrs = concat([
      attr(AttrFlag.TRANSITIVE, 1, Uint8Array.of(0)),
      attr(AttrFlag.TRANSITIVE, 2, asPath),
      attr(AttrFlag.TRANSITIVE, 3, Uint8Array.of(192, 0, 2, 1)),
    ]);
    await a.write(rawUpdate(attrs, nlri4(['10.204.0.0/24'])));
    await poll(async () => ((await ribPaths(hd, '10.204.0.0/24', EVIL)).length > 0 ? true : undefined), 'route');
    const r = await poll(async () => good.client.route('10.204.0.0/24'), 'the route at the good neighbour');
    assert.deepEqual(r.attributes?.asPath, expected);

    // One run of 1000 ASNs, split into 255-AS segments by the sender as RFC 4271 §4.3 requires: still one path.
    const long: Uint8Array[] = [];
    const asns: number[] = [];
    for (let i = 0; i < 1000; i += 255) {
      const n = Math.min(255, 1000 - i);
      long.push(Uint8Array.of(2, n));
      for (let j = 0; j < n; j++) {
        long.push(u32(j === 0 && i === 0 ? 65002 : 4_200_000_000 + i + j));
        asns.push(j === 0 && i === 0 ? 65002 : 4_200_000_000 + i + j);
      }
    }
    const attrs2 = concat([
      attr(AttrFlag.TRANSITIVE, 1, Uint8Array.of(0)),
      attr(AttrFlag.TRANSITIVE, 2, concat(long)),
      attr(AttrFlag.TRANSITIVE, 3, Uint8Array.of(192, 0, 2, 1)),
    ]);
    await a.write(rawUpdate(attrs2, nlri4(['10.204.1.0/24'])));
    const p = await poll(async () => (await ribPaths(hd, '10.204.1.0/24', EVIL))[0], 'the long path');
    assert.equal(p.as_path.length, 1000);
    const r2 = await poll(async () => good.client.route('10.204.1.0/24'), 'the long path at the good neighbour');
    assert.deepEqual(
      r2.attributes?.asPath.flatMap((s) => s.asns),
      [65000, ...asns],
    );
    await barrier(a, 1);
    await done(a, 'huge AS_PATHs');
  });

  it('as many communities as fit a 4096-byte UPDATE (1011): installed; the good neighbour still gets later routes', async () => {
    const a = await attacker();
    // A small version first: the good neighbour has it, and must not keep it once the big one replaces it.
    await a.sendAll(announce(['10.205.0.1/32'], { origin: 0, asPath: [{ type: 2, asns: [65002] }] }, '192.0.2.1'));
    await poll(async () => good.client.route('10.205.0.1/32'), 'the small version at the good neighbour');
    const comms: Uint8Array[] = [];
    for (let i = 0; i < 1011; i++) comms.push(u32(((65002 << 16) | i) >>> 0));
    const attrs = concat([basicAttrs([65002]), attr(AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, 8, concat(comms))]);
    const upd = rawUpdate(attrs, nlri4(['10.205.0.1/32']));
    assert.equal(upd.length, 4096);
    await a.write(upd);
    // The small version is already in the RIB: wait for the big one to replace it.
    const p = await poll(async () => {
      const r = (await ribPaths(hd, '10.205.0.1/32', EVIL))[0];
      return r && r.communities.length > 0 ? r : undefined;
    }, 'the route with its communities');
    assert.equal(p.communities.length, 1011);
    // With our AS prepended the route no longer fits a 4096-byte UPDATE to the good neighbour: it cannot be sent
    // there, so the small version is withdrawn, and later routes still reach the good neighbour.
    await a.sendAll(announce(['10.205.1.0/24'], { origin: 0, asPath: [{ type: 2, asns: [65002] }] }, '192.0.2.1'));
    await poll(async () => good.client.route('10.205.1.0/24'), 'a later route at the good neighbour');
    assert.equal(good.client.route('10.205.0.1/32'), undefined, 'the stale small version was withdrawn');
    await barrier(a, 2);
    await done(a, '1011 communities');
  });

  it('10 000 communities over Extended Message (RFC 8654): installed; the 4096-byte good neighbour is unaffected', async () => {
    const a = await attacker({ ...EVIL_OPEN, extendedMessage: true });
    const comms: Uint8Array[] = [];
    for (let i = 0; i < 10_000; i++) comms.push(u32(((65002 << 16) | (i & 0xffff)) >>> 0));
    const attrs = concat([basicAttrs([65002]), attr(AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, 8, concat(comms))]);
    const upd = rawUpdate(attrs, nlri4(['10.206.0.0/24']));
    assert.ok(upd.length > 40_000 && upd.length <= 65535);
    await a.write(upd);
    const p = await poll(async () => (await ribPaths(hd, '10.206.0.0/24', EVIL))[0], 'the route');
    assert.equal(p.communities.length, 10_000);
    await a.sendAll(announce(['10.206.1.0/24'], { origin: 0, asPath: [{ type: 2, asns: [65002] }] }, '192.0.2.1'));
    await poll(async () => good.client.route('10.206.1.0/24'), 'a later route at the good neighbour');
    assert.equal(good.client.route('10.206.0.0/24'), undefined, 'too large for the good neighbour: not sent');
    await barrier(a, 3);
    await done(a, '10 000 communities');
  });

  it('duplicate attributes: the first of each is kept, the repeats discarded (RFC 7606 §3 g)', async () => {
    const a = await attacker();
    const attrs = concat([
      basicAttrs([65002]),
      attr(AttrFlag.OPTIONAL, 4, u32(10)),
      attr(AttrFlag.OPTIONAL, 4, u32(20)),
      attr(AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, 8, u32(((65002 << 16) | 1) >>> 0)),
      attr(AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, 8, u32(((65002 << 16) | 2) >>> 0)),
      attr(AttrFlag.TRANSITIVE, 2, concat([Uint8Array.of(2, 2), u32(65002), u32(65099)])),
      attr(AttrFlag.TRANSITIVE, 1, Uint8Array.of(2)),
      attr(AttrFlag.TRANSITIVE, 3, Uint8Array.of(192, 0, 2, 99)),
    ]);
    await a.write(rawUpdate(attrs, nlri4(['10.207.0.0/24'])));
    const p = await poll(async () => (await ribPaths(hd, '10.207.0.0/24', EVIL))[0], 'the route');
    assert.equal(p.med, 10);
    assert.deepEqual(p.communities, ['65002:1']);
    assert.deepEqual(p.as_path, [65002]);
    assert.equal(p.origin, 'igp');
    assert.equal(p.next_hop, '192.0.2.1');
    await barrier(a, 4);
    await done(a, 'duplicate attributes');
  });

  it('valid NLRI behind garbage attributes: never installed; a reset is always an UPDATE Message Error', async () => {
    const rnd = prng(0x7606);
    const blocks: Uint8Array[] = [
      new Uint8Array(64).fill(0xff),
      new Uint8Array(64).fill(0x00),
      Uint8Array.of(0x50, 0x02, 0xff, 0xff, 1, 2, 3),
      Uint8Array.of(0x40, 0x01),
      concat([attr(AttrFlag.TRANSITIVE, 1, Uint8Array.of(0)), Uint8Array.of(0xc0, 0x63, 0x04, 1, 2)]),
    ];
    for (let i = 0; i < 40; i++) {
      const b = new Uint8Array(1 + Math.floor(rnd() * 200));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      blocks.push(b);
    }
    let a: BgpClient | null = null;
    let resets = 0;
    for (let i = 0; i < blocks.length; i++) {
      if (!a || a.closed) {
        if (a) await notEstablished(EVIL);
        a = await attacker();
      }
      const prefix = `10.208.${i}.0/24`;
      await a.sendAll(announce([prefix], { origin: 0, asPath: [{ type: 2, asns: [65002] }] }, '192.0.2.1'));
      await poll(async () => ((await ribPaths(hd, prefix, EVIL)).length > 0 ? true : undefined), 'baseline');
      await a.write(rawUpdate(blocks[i]!, nlri4([prefix])));
      const med = 100 + i;
      await a.sendAll(
        announce(['10.99.1.0/24'], { origin: 0, asPath: [{ type: 2, asns: [65002] }], med }, '192.0.2.1'),
      );
      const cur: BgpClient = a;
      const outcome = await poll(async () => {
        if (cur.notification) return 'reset';
        return (await ribPaths(hd, '10.99.1.0/24', EVIL))[0]?.med === med ? 'survived' : undefined;
      }, `the outcome of garbage block ${i}`);
      const what = `garbage block ${i} (${Buffer.from(blocks[i]!).toString('hex')})`;
      if (outcome === 'reset') {
        resets++;
        assert.equal(cur.notification?.code, 3, `${what}: NOTIFICATION ${JSON.stringify(cur.notification)}`);
        assert.ok(await cur.waitClosed(5000));
      }
      await poll(
        async () => ((await ribPaths(hd, prefix, EVIL)).length === 0 ? true : undefined),
        `${what}: the prefix withdrawn`,
      );
      assert.deepEqual(cur.violations, []);
    }
    assert.ok(resets > 0 && resets < blocks.length, `both outcomes seen (${resets} resets of ${blocks.length})`);
    if (a) await done(a, 'garbage attributes');
    await good.check('garbage attributes');
  });

  it('FSM errors (RFC 6608) and a wrong AS: 5/1, 5/2, 5/3, 2/2', async () => {
    const a = await connect(EVIL);
    await a.write(encodeKeepalive());
    assert.deepEqual(await codeOf(a), [5, 1], 'KEEPALIVE in OpenSent');
    await done(a, 'KEEPALIVE before OPEN');

    const b = await connect(EVIL);
    await b.sendOpen(EVIL_OPEN);
    await b.waitFor((m) => m.type === 'open', "the daemon's OPEN");
    await b.write(rawUpdate(basicAttrs([65002]), nlri4(['10.210.0.0/24'])));
    assert.deepEqual(await codeOf(b), [5, 2], 'UPDATE in OpenConfirm');
    await done(b, 'UPDATE in OpenConfirm');

    const c = await attacker();
    await c.write(openMessage(EVIL_OPEN));
    assert.deepEqual(await codeOf(c), [5, 3], 'OPEN in Established');
    await done(c, 'OPEN in Established');

    const d = await connect(EVIL);
    await d.sendOpen({ ...EVIL_OPEN, asn: 65099 });
    assert.deepEqual(await codeOf(d), [2, 2], 'Bad Peer AS');
    await done(d, 'wrong AS');
  });

  it('a neighbour that goes silent after its OPEN, or once Established, is dropped by the hold timer (4/0)', async () => {
    // Hold time 3 (the smallest allowed, RFC 4271 §4.2), so the hold timer runs out within the test.
    const quiet = { ...EVIL_OPEN, holdTime: 3 };
    const a = await connect(EVIL);
    await a.sendOpen(quiet);
    await a.waitFor((m) => m.type === 'open', "the daemon's OPEN");
    const b = await connect(STORM);
    await b.establish({ asn: 65003, routerId: '10.90.2.23', holdTime: 3 });
    const [na, nb] = await Promise.all([a.waitNotification(8000), b.waitNotification(8000)]);
    assert.deepEqual([na.code, na.subcode], [4, 0], 'in OpenConfirm');
    assert.deepEqual([nb.code, nb.subcode], [4, 0], 'in Established');
    assert.ok(await a.waitClosed(5000));
    assert.ok(await b.waitClosed(5000));
    assert.ok(b.keepalives >= 2, 'the daemon kept its own KEEPALIVEs going meanwhile');
    await done(a, 'silent after OPEN');
  });

  it('routes of a family the session did not negotiate are ignored (RFC 4760 §6)', async () => {
    const route = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65002] }] };
    const onlyV4 = await connect(EVIL);
    await onlyV4.write(
      openWith(EVIL_OPEN, [
        { kind: 'multiprotocol', afi: 1, safi: 1 },
        { kind: 'four-octet-as', asn: 65002 },
      ]),
    );
    await onlyV4.waitFor((m) => m.type === 'open', "the daemon's OPEN");
    await onlyV4.write(encodeKeepalive());
    await onlyV4.waitFor((m) => m.type === 'keepalive', "the daemon's KEEPALIVE");
    await onlyV4.sendAll(announce(['2001:db8:99::/48'], route, '2001:db8::1'));
    await onlyV4.sendAll(announce(['10.211.0.0/24'], route, '192.0.2.1'));
    await poll(async () => ((await ribPaths(hd, '10.211.0.0/24', EVIL)).length > 0 ? true : undefined), 'IPv4 route');
    assert.deepEqual(await ribPaths(hd, '2001:db8:99::/48'), [], 'the IPv6 route of an IPv4-only session');
    await done(onlyV4, 'IPv6 on an IPv4-only session');

    const onlyV6 = await connect(EVIL);
    await onlyV6.write(
      openWith(EVIL_OPEN, [
        { kind: 'multiprotocol', afi: 2, safi: 1 },
        { kind: 'four-octet-as', asn: 65002 },
      ]),
    );
    await onlyV6.waitFor((m) => m.type === 'open', "the daemon's OPEN");
    await onlyV6.write(encodeKeepalive());
    await onlyV6.waitFor((m) => m.type === 'keepalive', "the daemon's KEEPALIVE");
    await onlyV6.sendAll(announce(['10.211.1.0/24'], route, '192.0.2.1'));
    await onlyV6.sendAll(announce(['2001:db8:98::/48'], route, '2001:db8::1'));
    await poll(async () => ((await ribPaths(hd, '2001:db8:98::/48', EVIL)).length > 0 ? true : undefined), 'v6 route');
    assert.deepEqual(await ribPaths(hd, '10.211.1.0/24'), [], 'the IPv4 route of an IPv6-only session');
    await done(onlyV6, 'IPv4 on an IPv6-only session');
  });

  it("a NEXT_HOP that is the daemon's own address: the route is ignored, an earlier one withdrawn (RFC 4271 §6.3)", async () => {
    const a = await attacker();
    await a.write(rawUpdate(basicAttrs([65002]), nlri4(['10.212.0.0/24'])));
    await poll(async () => ((await ribPaths(hd, '10.212.0.0/24', EVIL)).length > 0 ? true : undefined), 'route');
    await a.write(rawUpdate(basicAttrs([65002], HOST), nlri4(['10.212.0.0/24'])));
    await barrier(a, 5);
    assert.deepEqual(await ribPaths(hd, '10.212.0.0/24'), []);
    await done(a, 'own address as next hop');
  });

  it('AS_CONFED segments from an external neighbour are a malformed AS_PATH: treat-as-withdraw (RFC 5065 §5.3)', async () => {
    const a = await attacker();
    await a.write(rawUpdate(basicAttrs([65002]), nlri4(['10.213.0.0/24'])));
    await poll(async () => ((await ribPaths(hd, '10.213.0.0/24', EVIL)).length > 0 ? true : undefined), 'route');
    const confed = concat([Uint8Array.of(3, 1), u32(65050), Uint8Array.of(2, 1), u32(65002)]);
    const attrs = concat([
      attr(AttrFlag.TRANSITIVE, 1, Uint8Array.of(0)),
      attr(AttrFlag.TRANSITIVE, 2, confed),
      attr(AttrFlag.TRANSITIVE, 3, Uint8Array.of(192, 0, 2, 1)),
    ]);
    await a.write(rawUpdate(attrs, nlri4(['10.213.0.0/24'])));
    await barrier(a, 6);
    assert.deepEqual(await ribPaths(hd, '10.213.0.0/24'), []);
    await done(a, 'confederation segments');
  });

  it('NLRI with host bits set are stored canonically; a prefix repeated 700 times in one UPDATE is one route', async () => {
    const a = await attacker();
    // 10.214.1.0/23 on the wire: the host bit (bit 24) set in the last byte.
    await a.write(rawUpdate(basicAttrs([65002]), Uint8Array.of(23, 10, 214, 1)));
    const p = await poll(async () => (await ribPaths(hd, '10.214.0.0/23', EVIL))[0], 'the canonical prefix');
    assert.equal(p.prefix, '10.214.0.0/23');
    await a.write(rawUpdate(basicAttrs([65002]), nlri4(new Array(700).fill('10.214.8.0/24'))));
    await poll(async () => ((await ribPaths(hd, '10.214.8.0/24', EVIL)).length === 1 ? true : undefined), 'one route');
    // Withdrawn by its canonical form.
    await a.write(rawUpdate(new Uint8Array(0), new Uint8Array(0), nlri4(['10.214.0.0/23'])));
    await poll(async () => ((await ribPaths(hd, '10.214.0.0/23')).length === 0 ? true : undefined), 'withdrawn');
    await done(a, 'host bits and repeats');
  });

  it('3000 ROUTE-REFRESH requests, an unknown AFI and an unknown subtype: the session stays up', async () => {
    const a = await attacker();
    const rr = encodeRouteRefresh(1, 1, 0);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) parts.push(rr);
    parts.push(encodeRouteRefresh(99, 99, 0), encodeRouteRefresh(1, 1, 7), encodeRouteRefresh(2, 128, 0));
    await a.write(concat(parts));
    await barrier(a, 7);
    // The daemon answered with its Adj-RIB-Out (the good neighbour's routes), as often as it chose to.
    await poll(async () => (a.route(GOOD_PREFIXES[0]!) ? true : undefined), 'the refreshed routes');
    assert.deepEqual(a.violations, []);
    await done(a, 'ROUTE-REFRESH storm');
  });

  it('odd NOTIFICATIONs from the attacker (4000 data bytes, a broken shutdown text, code 99) end only its session', async () => {
    for (const n of [
      encodeNotification(6, 2, new Uint8Array(4000).fill(0x1b)),
      encodeNotification(6, 2, Uint8Array.of(200, 0x41, 0x1b, 0x0a)),
      encodeNotification(6, 4, concat([Uint8Array.of(12), Buffer.from('\u001b[2J\u0000evil\n\r')])),
      encodeNotification(99, 99),
    ]) {
      const a = await attacker();
      await a.write(n);
      assert.ok(await a.waitClosed(5000), 'the daemon closed the session');
      await notEstablished(EVIL);
      const nb = await neighbor(hd, EVIL);
      assert.equal(typeof nb.last_error, 'string');
      await done(a, 'an odd NOTIFICATION');
    }
  });

  it('a connection from an unconfigured address: Cease 5; a stranger that never closes, or keeps talking, is cut off', async () => {
    const s = await connect(STRANGER);
    const n = await s.waitNotification();
    assert.deepEqual([n.code, n.subcode], [6, 5]);
    assert.ok(await s.waitClosed(8000));
    assert.equal(s.received.length, 1, 'nothing but the NOTIFICATION');

    // allowHalfOpen: the daemon's FIN does not close our side, so only the daemon can end these connections. Twenty
    // stay silent (we cannot see the daemon drop them: its FIN came first; its descriptors tell), one streams garbage.
    const fds = fdCount(hd.pid);
    const silent: net.Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const sock = net.connect({ host: hd.host, port: hd.port, localAddress: STRANGER, allowHalfOpen: true });
      sock.on('error', () => {});
      sock.resume();
      silent.push(sock);
    }
    const talker = await new Promise<{ closedAfterMs: number; notification: string }>((resolve) => {
      const t0 = Date.now();
      const sock = net.connect({ host: hd.host, port: hd.port, localAddress: STRANGER, allowHalfOpen: true });
      let got = '';
      let timer: NodeJS.Timeout | undefined;
      sock.on('error', () => {});
      sock.on('data', (d: Buffer) => {
        got += d.toString('hex');
      });
      sock.once('connect', () => {
        timer = setInterval(() => sock.write(Buffer.alloc(4096, 0x41)), 10);
      });
      sock.on('close', () => {
        clearInterval(timer);
        resolve({ closedAfterMs: Date.now() - t0, notification: got.slice(36, 42) });
      });
    });
    // 03 06 05: NOTIFICATION, Cease, Connection Rejected (RFC 4486).
    assert.equal(talker.notification, '030605');
    assert.ok(talker.closedAfterMs < 10_000, `the talking stranger was dropped after ${talker.closedAfterMs} ms`);
    await poll(async () => (fdCount(hd.pid) <= fds + 1 ? true : undefined), 'the silent strangers dropped', 500, 20);
    for (const sock of silent) sock.destroy();
  });

  it('50 silent strangers at once are all refused and dropped', async () => {
    const many = await Promise.all(Array.from({ length: 50 }, () => connect(STRANGER)));
    for (const s of many) assert.deepEqual([(await s.waitNotification()).code, s.notification?.subcode], [6, 5]);
    const closed = await Promise.all(many.map((s) => s.waitClosed(8000)));
    assert.ok(closed.every(Boolean), 'every stranger dropped');
    await good.check('50 strangers');
  });

  it('a silent connection from a neighbour waits in OpenSent and is replaced by the next one (Cease 7)', async () => {
    // RFC 4271 §8.2.2: the OpenSent hold timer is "a large value" (240 s, checked in src/session/fsm.test.ts). What
    // must hold here is that silent connections do not pile up: a new one from the same address replaces the old.
    const s1 = await connect(STORM);
    await s1.waitFor((m) => m.type === 'open', "the daemon's OPEN");
    assert.equal((await neighbor(hd, STORM)).state, 'opensent');
    const s2 = await connect(STORM);
    await s2.waitFor((m) => m.type === 'open', "the daemon's OPEN");
    const n = await s1.waitNotification();
    assert.deepEqual([n.code, n.subcode], [6, 7]);
    assert.ok(await s1.waitClosed(5000));
    await s2.close();
    await s1.close();
    await poll(async () => ((await neighbor(hd, STORM)).state === 'active' ? true : undefined), 'STORM back to Active');
    await good.check('silent connection');
  });

  it('200 connections opened and closed rapidly from a neighbour: no leak, and it can still establish', async () => {
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from(
          { length: 20 },
          () =>
            new Promise<void>((resolve) => {
              const s = net.connect({ host: hd.host, port: hd.port, localAddress: STORM });
              s.on('error', () => {});
              // Read (and drop) the daemon's OPEN, or its FIN would never be seen.
              s.resume();
              s.on('close', () => resolve());
              // Half of them vanish at once, the other half after a few bytes of an OPEN.
              s.once('connect', () => {
                if (round % 2 === 0) s.destroy();
                else s.end(openMessage({ asn: 65003, routerId: '10.90.2.23' }).subarray(0, 10));
              });
            }),
        ),
      );
    }
    await poll(
      async () => (fdCount(hd.pid) <= fdBaseline + 4 ? true : undefined),
      `the daemon's descriptors back near ${fdBaseline}`,
    );
    const c = await connect(STORM);
    await c.establish({ asn: 65003, routerId: '10.90.2.23' });
    // establish() returns on the daemon's KEEPALIVE, which it sends on our OPEN: ours may still be in its input.
    await poll(
      async () => ((await neighbor(hd, STORM)).state === 'established' ? true : undefined),
      'STORM Established after our KEEPALIVE',
    );

    // While Established, 30 more connections from the same address are refused as collisions (RFC 4271 §6.8).
    const extra = await Promise.all(Array.from({ length: 30 }, () => connect(STORM)));
    for (const x of extra) {
      const n = await x.waitNotification();
      assert.deepEqual([n.code, n.subcode], [6, 7]);
      x.destroy();
    }
    assert.equal((await neighbor(hd, STORM)).state, 'established', 'the Established session survives');
    assert.equal(c.notification, null);
    await c.close();
    await poll(async () => ((await neighbor(hd, STORM)).state === 'active' ? true : undefined), 'STORM Active');
    await good.check('connection storm');
  });

  it('RST in the middle of an UPDATE: the session ends, its routes are withdrawn', async () => {
    const a = await attacker();
    const [upd] = announce(['10.209.0.0/24'], { origin: 0, asPath: [{ type: 2, asns: [65002] }] }, '192.0.2.1');
    await a.write(upd!.subarray(0, 25));
    a.socket.resetAndDestroy();
    await a.whenClosed;
    await notEstablished(EVIL);
    await poll(async () => ((await ribPaths(hd, CANARY, EVIL)).length === 0 ? true : undefined), 'canary gone');
    assert.deepEqual(await ribPaths(hd, '10.209.0.0/24'), []);
    await good.check('RST mid-message');
  });

  it('a half-close (FIN) in the middle of an UPDATE: the daemon closes too, its routes are withdrawn', async () => {
    const a = await attacker();
    const [upd] = announce(['10.209.1.0/24'], { origin: 0, asPath: [{ type: 2, asns: [65002] }] }, '192.0.2.1');
    await a.write(upd!.subarray(0, 30));
    a.socket.end();
    assert.ok(await a.waitClosed(5000), 'the daemon closed its side');
    await notEstablished(EVIL);
    await poll(async () => ((await ribPaths(hd, CANARY, EVIL)).length === 0 ? true : undefined), 'canary gone');
    assert.deepEqual(await ribPaths(hd, '10.209.1.0/24'), []);
    await good.check('FIN mid-message');
  });

  it('a neighbour that stops reading does not hold up the good one', async () => {
    const a = await attacker();
    a.socket.pause();
    // 20 000 routes from the good neighbour: the daemon must queue at most its high-water mark for the attacker.
    const many: string[] = [];
    for (let i = 0; i < 20_000; i++) many.push(`100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
    const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }] };
    await good.client.sendAll(announce(many, attrs, GOOD));
    await poll(
      async () => ((await neighbor(hd, GOOD)).received['ipv4-unicast'] === 20_003 ? true : undefined),
      "the good neighbour's 20 000 routes",
    );
    await good.moreKeepalives(1);
    await good.check('a stalled reader');
    a.destroy();
    await notEstablished(EVIL);
    // Withdraw them again so later cases start from the same table.
    const keys = many.map((p) => parsePrefix(p, true).key);
    await good.client.sendAll(encodeWithdrawals('ipv4-unicast', keys, null, defaultCodecContext()));
    await poll(
      async () => ((await neighbor(hd, GOOD)).received['ipv4-unicast'] === 3 ? true : undefined),
      'the withdrawals',
    );
  });

  it('afterwards: alive, RSS < 1 GB, descriptors back to baseline, health answers, KEEPALIVEs still flow', async () => {
    assert.ok(isAlive(hd.pid));
    const rss = rssBytes(hd.pid);
    assert.ok(rss < 1024 * 1024 * 1024, `RSS ${rss}`);
    await poll(async () => (fdCount(hd.pid) <= fdBaseline + 4 ? true : undefined), 'descriptors near baseline');
    const h = await fetch(`http://${hd.host}:${hd.port + 1}/api/v1/health`);
    assert.equal(h.status, 200);
    await good.moreKeepalives(2);
    await good.check('the whole file');
    assert.deepEqual(good.client.violations, []);
  });
});

/** The code and subcode of the daemon's NOTIFICATION on `c`. */
async function codeOf(c: BgpClient): Promise<[number, number]> {
  const n = await c.waitNotification();
  return [n.code, n.subcode];
}

/** An OPEN with exactly these capabilities. */
function openWith(o: { asn: number; routerId: string }, capabilities: Capability[]): Uint8Array {
  return encodeOpen({ version: 4, myAs: o.asn, holdTime: 90, routerId: o.routerId, capabilities });
}

function u16hex(n: number): string {
  return Buffer.from(u16(n)).toString('hex');
}
