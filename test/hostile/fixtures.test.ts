// Replays every entry of test/fixtures/malformed-updates.json and malformed-messages.json against a running
// `tsbgp daemon`, each over its own live session from an attacker neighbour, while a good neighbour stays
// Established next to it. For each case the daemon must do what the fixture says:
//   - session-reset and every malformed message: the attacker gets the NOTIFICATION code/subcode (and data, when the
//     fixture fixes it) and the attacker's routes leave the RIB;
//   - treat-as-withdraw (RFC 7606 §2): the session stays up and the UPDATE's prefixes leave the RIB;
//   - attribute-discard / none: the session stays up and the route is installed as the codec decoded it.
// After every case the good session is still Established with its routes intact (checked through the API), and the
// daemon has sent the good neighbour nothing malformed. Loopback addresses 127.0.90.10-19 belong to this file.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  type CodecContext,
  decodeUpdate,
  defaultCodecContext,
  type Family,
  formatPrefix,
  MessageType,
  type UpdateMessage,
  WireError,
} from '../../src/wire/index.ts';
import {
  announce,
  BgpClient,
  GoodNeighbor,
  type HostileDaemon,
  isAlive,
  message,
  neighbor,
  type OpenOptions,
  poll,
  ribPaths,
  rssBytes,
  startDaemon,
} from './harness.ts';

const HOST = '127.0.90.10';
const GOOD = '127.0.90.11';
/** eBGP attacker (AS 65002). */
const EBGP = '127.0.90.12';
/** iBGP attacker (our own AS). */
const IBGP = '127.0.90.13';
/** eBGP attacker for which the daemon receives Add-Path (RFC 7911). */
const ADDPATH = '127.0.90.14';

interface UpdateCase {
  name: string;
  kind: 'body' | 'message';
  hex: string;
  ctx: { asn4?: boolean; ebgp?: boolean; addPathRx?: Family[] };
  expect: { action: string; code?: number; subcode?: number };
}

interface MessageCase {
  name: string;
  hex: string;
  expect: { code: number; subcode: number; data?: string };
}

const fixtures = new URL('../fixtures/', import.meta.url);
const updateCases = JSON.parse(readFileSync(new URL('malformed-updates.json', fixtures), 'utf8')) as UpdateCase[];
const messageCases = (
  JSON.parse(readFileSync(new URL('malformed-messages.json', fixtures), 'utf8')) as { cases: MessageCase[] }
).cases;

/** A prefix every attacker session announces first: it must leave the RIB when the session is reset. */
const CANARY = '10.99.0.0/24';
/** Announced after a case that must not reset the session: TCP order proves the case was handled first. */
const BARRIER = '10.99.1.0/24';
/** MED of the routes announced before a case, so that the case's own route is told apart. */
const BASELINE_MED = 4242;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('hostile: malformed-message corpora replayed over live sessions', () => {
  let hd: HostileDaemon;
  let good: GoodNeighbor;

  before(async () => {
    hd = await startDaemon(HOST, [
      { address: GOOD, asn: 65001, extra: 'hold_time = 6' },
      { address: EBGP, asn: 65002 },
      { address: IBGP, asn: 65000 },
      { address: ADDPATH, asn: 65004, extra: 'add_path_receive = true' },
    ]);
    good = await GoodNeighbor.start(hd, GOOD, 65001);
  });

  after(async () => {
    good?.client.destroy();
    await hd?.d.stop('SIGTERM');
  });

  /** Which attacker plays a case of this context, and the OPEN it sends. */
  function attackerFor(ctx: UpdateCase['ctx']): { address: string; open: OpenOptions; tx: CodecContext } {
    if (ctx.ebgp === false) {
      return { address: IBGP, open: { asn: 65000, routerId: '10.90.1.13' }, tx: defaultCodecContext({ ebgp: false }) };
    }
    if (ctx.addPathRx && ctx.addPathRx.length > 0) {
      return {
        address: ADDPATH,
        open: { asn: 65004, routerId: '10.90.1.14', addPathSend: ctx.addPathRx },
        tx: defaultCodecContext({ addPathTx: new Set(ctx.addPathRx) }),
      };
    }
    const asn4 = ctx.asn4 ?? true;
    return { address: EBGP, open: { asn: 65002, routerId: '10.90.1.12', asn4 }, tx: defaultCodecContext({ asn4 }) };
  }

  /** Waits until the daemon no longer has a session with `address` (so that the next connection is a fresh one). */
  async function sessionGone(address: string): Promise<void> {
    await poll(
      async () => ((await neighbor(hd, address)).state !== 'established' ? true : undefined),
      `${address} to leave Established`,
      200,
      20,
    );
  }

  async function connect(address: string): Promise<BgpClient> {
    return await BgpClient.connect({ host: hd.host, port: hd.port, localAddress: address }, `attacker ${address}`);
  }

  /** The prefixes (text) and path ids an UPDATE announces, as the codec reads them in `ctx`. */
  function announcedOf(msg: UpdateMessage): { prefix: string; family: Family; pathId: number | null }[] {
    const out: { prefix: string; family: Family; pathId: number | null }[] = [];
    for (const b of msg.announced) {
      b.prefixes.forEach((p, i) => {
        out.push({ prefix: formatPrefix(b.family, p), family: b.family, pathId: b.pathIds?.[i] ?? null });
      });
    }
    return out;
  }

  for (const c of updateCases) {
    it(`UPDATE corpus: ${c.name} → ${c.expect.action}`, async () => {
      const { address, open, tx } = attackerFor(c.ctx);
      const rxCtx = defaultCodecContext({
        asn4: c.ctx.asn4 ?? true,
        ebgp: c.ctx.ebgp ?? true,
        addPathRx: new Set(c.ctx.addPathRx ?? []),
      });
      const bytes = Uint8Array.from(Buffer.from(c.hex, 'hex'));
      const wire = c.kind === 'message' ? bytes : message(MessageType.UPDATE, bytes);
      // What the codec makes of it (the decoder's own behaviour is src/wire/update-corpus.test.ts's business).
      let decoded: UpdateMessage | null = null;
      try {
        decoded = decodeUpdate(wire.subarray(19), rxCtx);
      } catch (e) {
        assert.ok(e instanceof WireError);
      }
      const targets = decoded ? announcedOf(decoded) : [];

      const a = await connect(address);
      try {
        await a.establish(open);
        // The canary, and the case's own prefixes with a baseline route that a withdrawal must remove.
        const base = {
          origin: 0 as const,
          asPath: [{ type: 2 as const, asns: [open.asn === 65000 ? 65010 : open.asn] }],
        };
        await a.sendAll(announce([CANARY], { ...base, med: BASELINE_MED }, '192.0.2.1', tx));
        for (const t of targets) {
          const nh = t.family === 'ipv4-unicast' ? '192.0.2.1' : '2001:db8::1';
          const ids = t.pathId === null ? undefined : [t.pathId];
          await a.sendAll(announce([t.prefix], { ...base, med: BASELINE_MED }, nh, tx, ids));
        }
        await poll(
          async () => {
            for (const p of [CANARY, ...targets.map((t) => t.prefix)]) {
              if ((await ribPaths(hd, p, address)).length === 0) return undefined;
            }
            return true;
          },
          'the baseline routes',
          200,
          20,
        );

        await a.write(wire);

        if (c.expect.action === 'session-reset') {
          const n = await a.waitNotification();
          if (wire.length < 23) {
            // A body under 4 bytes makes a message shorter than any UPDATE: on the wire that is caught by the header
            // check first, RFC 4271 §6.1 Bad Message Length with the length as data (malformed-messages.json agrees).
            assert.deepEqual([n.code, n.subcode, hex(n.data)], [1, 2, hex(wire.subarray(16, 18))]);
          } else {
            assert.equal(n.code, c.expect.code, `NOTIFICATION code (got ${n.code}/${n.subcode})`);
            if (c.expect.subcode !== undefined) assert.equal(n.subcode, c.expect.subcode, 'NOTIFICATION subcode');
          }
          assert.ok(await a.waitClosed(5000), 'the daemon closes the connection after its NOTIFICATION');
          await poll(
            async () => ((await ribPaths(hd, CANARY, address)).length === 0 ? true : undefined),
            "the reset session's routes to leave the RIB",
            200,
            20,
          );
        } else {
          // The session must survive: a route announced after the case arrives (TCP keeps the order).
          await a.sendAll(announce([BARRIER], { ...base, med: BASELINE_MED }, '192.0.2.1', tx));
          await poll(
            async () => ((await ribPaths(hd, BARRIER, address)).length > 0 ? true : undefined),
            'the barrier route after the case',
            200,
            20,
          );
          assert.equal(a.notification, null, `no NOTIFICATION (got ${JSON.stringify(a.notification)})`);
          assert.equal((await neighbor(hd, address)).state, 'established');
          for (const t of targets) {
            const paths = await ribPaths(hd, t.prefix, address);
            if (c.expect.action === 'treat-as-withdraw') {
              assert.deepEqual(paths, [], `${t.prefix} is treated as withdrawn`);
            } else {
              assert.equal(paths.length, 1, `${t.prefix} is installed`);
              const p = paths[0]!;
              const attrs = decoded?.attributes;
              assert.ok(attrs, 'the decoded UPDATE has attributes');
              assert.notEqual(p.med, BASELINE_MED, 'the case replaced the baseline route');
              assert.equal(p.med ?? undefined, attrs.med, 'MED as decoded');
              assert.deepEqual(
                p.as_path,
                attrs.asPath.flatMap((s) => s.asns),
                'AS_PATH as decoded (AS_SET members in place, docs/api.md)',
              );
              if (c.ctx.ebgp ?? true) {
                // RFC 7606 §7.5: LOCAL_PREF from an eBGP peer is discarded.
                assert.ok(p.local_pref === null || p.local_pref === 100, `LOCAL_PREF ${p.local_pref}`);
              }
            }
          }
        }
        assert.deepEqual(a.violations, [], 'the daemon sent the attacker well-formed messages');
      } finally {
        await a.close();
        await sessionGone(address);
      }
      await good.check(c.name);
    });
  }

  for (const c of messageCases) {
    const type = Number.parseInt(c.hex.slice(36, 38), 16);
    const isOpen = type === 1 && c.hex.slice(0, 32) === 'f'.repeat(32);
    it(`message corpus${isOpen ? ' (as the OPEN)' : ' (in Established)'}: ${c.name} → ${c.expect.code}/${c.expect.subcode}`, async () => {
      const a = await connect(EBGP);
      try {
        if (!isOpen) {
          await a.establish({ asn: 65002, routerId: '10.90.1.12' });
          await a.sendAll(announce([CANARY], { origin: 0, asPath: [{ type: 2, asns: [65002] }] }, '192.0.2.1'));
          await poll(
            async () => ((await ribPaths(hd, CANARY, EBGP)).length > 0 ? true : undefined),
            'the canary',
            200,
            20,
          );
        }
        await a.write(Uint8Array.from(Buffer.from(c.hex, 'hex')));
        const n = await a.waitNotification();
        assert.equal(n.code, c.expect.code, `NOTIFICATION code (got ${n.code}/${n.subcode})`);
        assert.equal(n.subcode, c.expect.subcode, `NOTIFICATION subcode (got ${n.code}/${n.subcode})`);
        if (c.expect.data !== undefined) assert.equal(hex(n.data), c.expect.data, 'NOTIFICATION data');
        assert.ok(await a.waitClosed(5000), 'the daemon closes the connection after its NOTIFICATION');
        if (!isOpen) {
          await poll(
            async () => ((await ribPaths(hd, CANARY, EBGP)).length === 0 ? true : undefined),
            "the reset session's routes to leave the RIB",
            200,
            20,
          );
        }
        assert.deepEqual(a.violations, []);
      } finally {
        await a.close();
        await sessionGone(EBGP);
      }
      await good.check(c.name);
    });
  }

  it('afterwards: the good session still gets KEEPALIVEs, the daemon is alive, small, and healthy', async () => {
    await good.moreKeepalives(2);
    await good.check('the whole corpus');
    assert.ok(isAlive(hd.pid));
    const rss = rssBytes(hd.pid);
    assert.ok(rss < 1024 * 1024 * 1024, `RSS ${rss} bytes`);
    const h = await fetch(`http://${hd.host}:${hd.port + 1}/api/v1/health`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { status: string }).status, 'ok');
  });
});
