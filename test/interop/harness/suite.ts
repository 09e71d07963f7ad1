// The interop scenario every peer daemon goes through against tsbgp (issue 2, "Proof"), as one describe() block:
// sessions over IPv4 and IPv6 transport carrying both families, routes both ways with their attributes as the other side
// shows them, withdrawals both ways, route refresh asked by the peer, hold-timer expiry with the peer frozen, the peer
// restarting, a wrong peer AS rejected with OPEN Message Error / Bad Peer AS as the peer reports it, Cease on SIGTERM,
// and tshark's BGP dissector over the captured traffic. Daemon-specific expectations come in through InteropSpec;
// daemon-specific extra scenarios are separate describe() blocks in each test file.
//
// Addresses: tsbgp 198.51.100.N and 2001:db8::N (N odd), the peer N+1; AS numbers 65000+N and 65000+N+1.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TsbgpConfig, TsbgpProcess, type TsbgpRoute, tsbgpConfig } from './tsbgp.ts';
import { Capture } from './tshark.ts';
import type { Announcement, Family, PeerDaemon, PeerOptions } from './types.ts';
import { requireTestNetns, waitFor, waitMatch } from './util.ts';

export interface InteropSpec {
  name: string;
  peer: (opts: PeerOptions) => PeerDaemon;
  /** tsbgp's last octet (odd); the peer gets the next one. */
  octet: number;
  /** How the peer reports the OPEN Message Error / Bad Peer AS NOTIFICATION it received; null if it cannot. */
  badPeerAs: RegExp | null;
  /** How the peer reports the Cease / Administrative Shutdown tsbgp sends when it stops; or why it cannot. */
  cease: RegExp | { cannot: string };
  /** Why the peer cannot be made to send a ROUTE-REFRESH (skips that test), if so. */
  noRefresh?: string;
}

const sorted = (xs: string[]) => [...xs].sort();

/** Routes tsbgp originates in the suite, with the attributes the peer must show. */
function tsbgpRoutes(tAsn: number) {
  return [
    {
      prefix: '203.0.113.0/24',
      med: 10,
      communities: [`${tAsn}:100`, `${tAsn}:200`],
      large_communities: [`${tAsn}:1:1`, '4200000000:7:7'],
    },
    { prefix: '2001:db8:1000::/48', med: 20, communities: [`${tAsn}:300`], large_communities: [`${tAsn}:2:2`] },
  ];
}

function peerRoutes(pAsn: number): Announcement[] {
  return [
    { prefix: '192.0.2.0/24', med: 5, communities: [`${pAsn}:7`], large_communities: [`${pAsn}:2:3`] },
    { prefix: '2001:db8:2000::/48', med: 6, communities: [`${pAsn}:8`], large_communities: [`${pAsn}:4:4`] },
  ];
}

function familyOf(prefix: string): Family {
  return prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

/** Waits until the peer shows `prefix` learned over the session with `from`. */
export async function waitPeerRoute(peer: PeerDaemon, prefix: string, from: string, timeoutMs = 20_000) {
  return waitFor(
    async () => (await peer.routes(familyOf(prefix))).find((r) => r.prefix === prefix && r.from === from),
    { timeoutMs, what: `${peer.name} to show ${prefix} from ${from}` },
  );
}

export async function waitPeerNoRoute(peer: PeerDaemon, prefix: string, timeoutMs = 20_000) {
  await waitFor(async () => !(await peer.routes(familyOf(prefix))).some((r) => r.prefix === prefix), {
    timeoutMs,
    what: `${peer.name} to drop ${prefix}`,
  });
}

export function interopSuite(spec: InteropSpec): void {
  const n = spec.octet;
  const t4 = `198.51.100.${n}`;
  const t6 = `2001:db8::${n}`;
  const p4 = `198.51.100.${n + 1}`;
  const p6 = `2001:db8::${n + 1}`;
  const tAsn = 65000 + n;
  const pAsn = 65000 + n + 1;
  const myRoutes = tsbgpRoutes(tAsn);
  const theirRoutes = peerRoutes(pAsn);

  const config = (v4asn = pAsn): TsbgpConfig =>
    tsbgpConfig({
      asn: tAsn,
      address4: t4,
      address6: t6,
      neighbors: [
        // Hold time 6 on the IPv4 session so the frozen-peer test is quick; IPv6 routes over it need an IPv6 next hop.
        { address: p4, asn: v4asn, local_address: t4, hold_time: 6, next_hop_ipv6: t6, description: `${spec.name}-v4` },
        { address: p6, asn: pAsn, local_address: t6, next_hop_ipv4: t4, description: `${spec.name}-v6` },
      ],
      routes: myRoutes,
    });

  describe(`tsbgp <-> ${spec.name}`, () => {
    let tsbgp: TsbgpProcess;
    let peer: PeerDaemon;
    let capture: Capture;

    before(async () => {
      requireTestNetns();
      capture = await Capture.start(spec.name, [t4, p4, t6, p6]);
      peer = spec.peer({
        asn: pAsn,
        router_id: p4,
        address4: p4,
        address6: p6,
        neighbors: [
          { address: t4, asn: tAsn },
          { address: t6, asn: tAsn },
        ],
        routes: theirRoutes,
      });
      tsbgp = new TsbgpProcess(config());
      await Promise.all([peer.start(), tsbgp.start()]);
    });

    after(async () => {
      await Promise.all([tsbgp?.stop(), peer?.stop()]);
      await capture?.stop();
    });

    it('establishes sessions over IPv4 and over IPv6 transport', async () => {
      await tsbgp.waitEstablished(p4);
      await tsbgp.waitEstablished(p6);
      await peer.waitEstablished(t4);
      await peer.waitEstablished(t6);
    });

    it(`tsbgp's IPv4 and IPv6 routes reach ${spec.name} over both sessions with their attributes`, async () => {
      for (const [session, label] of [
        [t4, 'IPv4 session'],
        [t6, 'IPv6 session'],
      ] as const) {
        for (const want of myRoutes) {
          const r = await waitPeerRoute(peer, want.prefix, session);
          const nh = want.prefix.includes(':') ? t6 : t4;
          const where = `${want.prefix} over the ${label} as ${spec.name} shows it: ${JSON.stringify(r)}`;
          assert.deepEqual(r.as_path, [tAsn], where);
          assert.equal(r.next_hop, nh, where);
          assert.equal(r.med, want.med, where);
          assert.deepEqual(sorted(r.communities), sorted(want.communities), where);
          assert.deepEqual(sorted(r.large_communities), sorted(want.large_communities), where);
        }
      }
    });

    it(`${spec.name}'s IPv4 and IPv6 routes reach tsbgp over both sessions, as its API shows them`, async () => {
      for (const session of [p4, p6]) {
        for (const want of theirRoutes) {
          const r = await tsbgp.waitRoute(want.prefix, session);
          const nh = want.prefix.includes(':') ? p6 : p4;
          const where = `${want.prefix} from ${session} in tsbgp's API: ${JSON.stringify(r)}`;
          assert.deepEqual(r.as_path, [pAsn], where);
          assert.equal(r.next_hop, nh, where);
          assert.equal(r.med, want.med, where);
          assert.deepEqual(sorted(r.communities), sorted(want.communities ?? []), where);
          assert.deepEqual(sorted(r.large_communities), sorted(want.large_communities ?? []), where);
        }
      }
      const best = (await tsbgp.routesFor('192.0.2.0/24')).filter((r: TsbgpRoute) => r.best);
      assert.equal(best.length, 1, 'exactly one best path for 192.0.2.0/24');
      const nb = await tsbgp.neighbor(p4);
      assert.ok((nb.received['ipv4-unicast'] ?? 0) >= 1 && (nb.received['ipv6-unicast'] ?? 0) >= 1, JSON.stringify(nb));
    });

    it('withdrawals propagate both ways', async () => {
      // The peer withdraws, then announces again with a new MED (an implicit replacement at tsbgp).
      await peer.withdraw('192.0.2.0/24');
      await tsbgp.waitNoRoute('192.0.2.0/24');
      await peer.withdraw('2001:db8:2000::/48');
      await tsbgp.waitNoRoute('2001:db8:2000::/48');
      const again = { ...theirRoutes[0]!, med: 55 };
      await peer.announce(again);
      await waitFor(async () => (await tsbgp.routesFor('192.0.2.0/24', p4))[0]?.med === 55, {
        what: 'tsbgp to show the re-announced route with MED 55',
      });
      await peer.announce(theirRoutes[1]!);
      await tsbgp.waitRoute('2001:db8:2000::/48', p4);

      // tsbgp withdraws a route it originates (config reload without it), then originates it again.
      const without = config();
      without.routes = myRoutes.filter((r) => r.prefix !== '203.0.113.0/24');
      await tsbgp.reload(without);
      await waitPeerNoRoute(peer, '203.0.113.0/24');
      await waitPeerRoute(peer, '2001:db8:1000::/48', t4); // the other route stays
      await tsbgp.reload(config());
      await waitPeerRoute(peer, '203.0.113.0/24', t4);
      await waitPeerRoute(peer, '203.0.113.0/24', t6);
    });

    it(`route refresh: ${spec.name} asks, tsbgp answers without resetting the session`, {
      skip: spec.noRefresh,
    }, async () => {
      await tsbgp.waitEstablished(p4);
      const uptimeBefore = (await tsbgp.neighbor(p4)).uptime_s ?? 0;
      const before = (await peer.counters(t4)).updatesReceived;
      await peer.requestRefresh(t4);
      await waitFor(async () => (await peer.counters(t4)).updatesReceived > before, {
        what: `${spec.name} to receive tsbgp's routes again after its ROUTE-REFRESH`,
      });
      const nb = await tsbgp.neighbor(p4);
      assert.equal(nb.state, 'established');
      if (typeof nb.uptime_s === 'number') assert.ok(nb.uptime_s >= uptimeBefore, 'the session was not reset');
      await waitPeerRoute(peer, '203.0.113.0/24', t4);
    });

    it(`hold timer: tsbgp drops the frozen ${spec.name} with Hold Timer Expired and withdraws its routes`, async (t) => {
      await tsbgp.waitEstablished(p4);
      await tsbgp.waitRoute('192.0.2.0/24', p4);
      peer.freeze();
      try {
        const down = await tsbgp.waitState(
          p4,
          (x) => x.state !== 'established' && /hold/i.test(x.last_error ?? ''),
          'tsbgp to report the hold timer expiring',
          25_000,
        );
        assert.match(down.last_error ?? '', /hold timer/i);
        t.diagnostic(`tsbgp: ${down.last_error}`);
        assert.equal((await tsbgp.routesFor('192.0.2.0/24', p4)).length, 0, 'routes of the dead session withdrawn');
      } finally {
        peer.thaw();
      }
      await tsbgp.waitEstablished(p4, 45_000);
      await tsbgp.waitEstablished(p6, 45_000);
      await tsbgp.waitRoute('192.0.2.0/24', p4);
    });

    it(`${spec.name} restarts: tsbgp withdraws its routes, the sessions re-establish and routes come back`, async () => {
      await tsbgp.waitEstablished(p4);
      await peer.stop();
      await tsbgp.waitState(p4, (x) => x.state !== 'established', `tsbgp to see ${spec.name} go away`, 20_000);
      await tsbgp.waitState(p6, (x) => x.state !== 'established', `tsbgp to see ${spec.name} go away`, 20_000);
      await tsbgp.waitNoRoute('192.0.2.0/24', p4);
      await tsbgp.waitNoRoute('2001:db8:2000::/48', p6);
      await peer.start();
      await tsbgp.waitEstablished(p4, 45_000);
      await tsbgp.waitEstablished(p6, 45_000);
      await peer.waitEstablished(t4, 45_000);
      await tsbgp.waitRoute('192.0.2.0/24', p4);
      await tsbgp.waitRoute('2001:db8:2000::/48', p6);
      await waitPeerRoute(peer, '203.0.113.0/24', t4);
      await waitPeerRoute(peer, '2001:db8:1000::/48', t6);
    });

    it(`a wrong peer AS: tsbgp refuses the OPEN with Bad Peer AS, as ${spec.name} reports it`, async (t) => {
      if (spec.badPeerAs) assert.doesNotMatch(await peer.lastError(t4), spec.badPeerAs, 'nothing reported yet');
      await tsbgp.reload(config(64999));
      const down = await tsbgp.waitState(
        p4,
        (x) => x.state !== 'established' && /bad peer as/i.test(x.last_error ?? ''),
        'tsbgp to refuse the OPEN',
        30_000,
      );
      t.diagnostic(`tsbgp: ${down.last_error}`);
      if (spec.badPeerAs) {
        const seen = await waitMatch(() => peer.lastError(t4), spec.badPeerAs, {
          timeoutMs: 30_000,
          what: `${spec.name} to report Bad Peer AS (tsbgp says: ${down.last_error})`,
        });
        t.diagnostic(`${spec.name}: ${seen}`);
      }
      assert.notEqual(await peer.neighborState(t4), 'established');
      await tsbgp.reload(config());
      // Some peers back off after refused OPENs (OpenBGPD doubles its IdleHold time): let the operator's "up" cut it short.
      await peer.reconnect?.(t4);
      await tsbgp.waitEstablished(p4, 45_000);
    });

    it(`SIGTERM: tsbgp stops with a Cease that ${spec.name} reports`, async (t) => {
      await tsbgp.waitEstablished(p4);
      await peer.waitEstablished(t4);
      const cease = spec.cease instanceof RegExp ? spec.cease : null;
      if (cease) assert.doesNotMatch(await peer.lastError(t4), cease, 'nothing reported yet');
      const code = await tsbgp.stop();
      assert.equal(code, 0, `tsbgp exit code\n${tsbgp.logTail(2000)}`);
      if (cease) {
        const seen = await waitMatch(() => peer.lastError(t4), cease, {
          timeoutMs: 20_000,
          what: `${spec.name} to report tsbgp's Cease`,
        });
        t.diagnostic(`${spec.name}: ${seen}`);
      } else {
        // The NOTIFICATION itself is checked on the wire below.
        await waitFor(async () => (await peer.neighborState(t4)) !== 'established', {
          what: `${spec.name} to see the session end`,
        });
        t.diagnostic(`${spec.name} cannot report it: ${(spec.cease as { cannot: string }).cannot}`);
      }
    });

    it("tshark: the dissector finds no malformed packet in the session's traffic", async () => {
      await peer.stop();
      await capture.stop();
      const s = await capture.summary();
      assert.equal(s.malformed, '', 'tshark -Y _ws.malformed');
      for (const type of ['OPEN', 'UPDATE', 'KEEPALIVE', 'NOTIFICATION']) {
        assert.ok((s.messages[type] ?? 0) > 0, `${type} messages captured: ${JSON.stringify(s.messages)}`);
      }
      // What tsbgp put on the wire: the Bad Peer AS NOTIFICATION, and UPDATEs answering the peer's ROUTE-REFRESH.
      const badAs = await capture.frames(
        `ip.src == ${t4} && bgp.notify.major_error == 2 && bgp.notify.minor_error_open == 2`,
      );
      assert.ok(badAs.length > 0, 'tsbgp sent NOTIFICATION 2/2 (Bad Peer AS)');
      const cease = await capture.frames(
        `ip.src == ${t4} && bgp.notify.major_error == 6 && bgp.notify.minor_error_cease == 2 && bgp.notify.communication`,
      );
      assert.ok(
        cease.length > 0,
        'tsbgp sent Cease / Administrative Shutdown with a shutdown communication (RFC 8203)',
      );
      if (!spec.noRefresh) {
        assert.ok((await capture.frames(`ip.src == ${p4} && bgp.type == 5`)).length > 0, 'ROUTE-REFRESH captured');
      }
    });
  });
}
