// Update groups (rib.ts UpdateGroup) against the per-peer output path: for random peers, routes and pulls, what
// every peer holds once its output is drained is the same with groups as without them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Family, parsePrefix } from '../wire/index.ts';
import { Rib } from './rib.ts';
import { announce, attrs, RecordingEncoder, ribPeer, session, withdraw } from './test-helpers.ts';

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
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

const V4 = Array.from({ length: 24 }, (_, i) => `10.${i}.0.0/16`);
const V6 = Array.from({ length: 8 }, (_, i) => `2001:db8:${i}::/48`);

/** Peers: eBGP receivers in different ASes (one group), iBGP ones (plain and route-reflector clients). */
const PEERS = [
  ribPeer('192.0.2.1', 65001, 65000),
  ribPeer('192.0.2.2', 65002, 65000),
  ribPeer('192.0.2.3', 65003, 65000),
  ribPeer('192.0.2.4', 65004, 65000),
  ribPeer('192.0.2.5', 65000, 65000),
  ribPeer('192.0.2.6', 65000, 65000),
  ribPeer('192.0.2.7', 65000, 65000, { routeReflectorClient: true }),
  ribPeer('192.0.2.8', 65000, 65000, { routeReflectorClient: true }),
];

/** What a peer holds: prefix → exported route, folded from the messages it was sent. */
type Held = Map<string, string>;

class Side {
  readonly enc = new RecordingEncoder();
  readonly rib: Rib;
  readonly held = new Map<string, Held>();
  readonly up = new Set<string>();
  constructor(groups: boolean, groupLagBytes?: number) {
    this.rib = new Rib({
      localAsn: 65000,
      routerId: 0x0a000001,
      encoder: this.enc,
      updateGroups: groups,
      groupLagBytes,
    });
    for (const p of PEERS) this.rib.addPeer(p);
  }
  peerUp(id: string, families: Family[]): void {
    this.rib.peerUp(id, session('10.0.0.1', 0x0a000100, families));
    this.up.add(id);
    this.held.set(id, new Map());
  }
  peerDown(id: string): void {
    this.rib.peerDown(id);
    this.up.delete(id);
    this.held.delete(id);
  }
  pull(id: string, budget: number): number {
    const msgs = this.rib.pull(id, budget);
    const h = this.held.get(id)!;
    for (const m of this.enc.decode(msgs)) {
      if (m.type === 'withdraw') for (const p of m.prefixes) h.delete(p);
      if (m.type === 'update') {
        const v = JSON.stringify([m.nextHop, m.attributes]);
        for (const p of m.prefixes) h.set(p, v);
      }
    }
    return msgs.length;
  }
  drain(): void {
    for (let round = 0; round < 10_000; round++) {
      let n = 0;
      for (const id of this.up) n += this.pull(id, 4096);
      if (n === 0) return;
    }
    throw new Error('output never drained');
  }
}

function run(seed: number, steps: number, groupLagBytes?: number): { groupsSeen: number } {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const sides = [new Side(false), new Side(true, groupLagBytes)];
  const both = (fn: (s: Side) => void): void => {
    for (const s of sides) fn(s);
  };
  let groupsSeen = 0;
  const families: Family[][] = [['ipv4-unicast', 'ipv6-unicast'], ['ipv4-unicast']];
  for (const p of PEERS) if (rnd() < 0.8) both((s) => s.peerUp(p.id, families[0]!));
  for (let i = 0; i < steps; i++) {
    const r = rnd();
    const peer = pick(PEERS).id;
    const v6 = rnd() < 0.25;
    const pool = v6 ? V6 : V4;
    const prefixes = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(pool)))];
    if (r < 0.3) {
      // Receivers announce too, now and then (split horizon must then tell group members apart).
      if (!sides[0]!.up.has(peer) || (rnd() < 0.7 && peer !== '192.0.2.5' && peer !== '192.0.2.1')) continue;
      const asn = PEERS.find((p) => p.id === peer)!.asn;
      const path = asn === 65000 ? [] : [asn];
      for (let k = Math.floor(rnd() * 3); k > 0; k--) path.push(64500 + Math.floor(rnd() * 3));
      const a = attrs(path, rnd() < 0.3 ? { med: Math.floor(rnd() * 3) } : {});
      const nh = v6 ? '2001:db8::1' : peer;
      both((s) => s.rib.applyUpdate(peer, announce(prefixes, nh, a)));
    } else if (r < 0.4) {
      if (!sides[0]!.up.has(peer)) continue;
      both((s) => s.rib.applyUpdate(peer, withdraw(prefixes)));
    } else if (r < 0.5) {
      const family: Family = v6 ? 'ipv6-unicast' : 'ipv4-unicast';
      const prefix = parsePrefix(prefixes[0]!).key;
      if (rnd() < 0.3) {
        both((s) => s.rib.withdrawLocal(family, prefix));
      } else {
        const prependToEbgp = rnd() < 0.2 ? 1 : undefined;
        // Targeted local routes turn groups off for good; rare, so most runs keep groups.
        const targets = rnd() < 0.01 ? [pick(PEERS).id] : undefined;
        const a = attrs([], { med: Math.floor(rnd() * 2) });
        both((s) => s.rib.originate({ family, prefix, attributes: a, nextHop: 'self', prependToEbgp, targets }));
      }
    } else if (r < 0.85) {
      if (!sides[0]!.up.has(peer)) continue;
      const budget = 50 + Math.floor(rnd() * 600);
      both((s) => s.pull(peer, budget));
    } else if (r < 0.9) {
      if (!sides[0]!.up.has(peer)) continue;
      const f: Family = v6 ? 'ipv6-unicast' : 'ipv4-unicast';
      both((s) => s.rib.refreshOut(peer, f));
    } else if (r < 0.95) {
      if (sides[0]!.up.has(peer)) both((s) => s.peerDown(peer));
      else {
        const fam = pick(families);
        both((s) => s.peerUp(peer, fam));
      }
    } else {
      both((s) => s.drain());
    }
    groupsSeen = Math.max(groupsSeen, sides[1]!.rib.groupStats().members);
    if (i % 50 === 49 || i === steps - 1) {
      both((s) => s.drain());
      for (const id of sides[0]!.up) {
        const a = sides[0]!.held.get(id)!;
        const b = sides[1]!.held.get(id)!;
        assert.deepEqual(
          new Map([...b].sort()),
          new Map([...a].sort()),
          `seed ${seed} step ${i}: peer ${id} holds something else with update groups`,
        );
      }
      const ia = sides[0]!.rib.internStats();
      const ib = sides[1]!.rib.internStats();
      assert.equal(ib.sources, ia.sources, `seed ${seed} step ${i}: interned sources differ`);
    }
  }
  return { groupsSeen };
}

const N = Number(process.env.GROUPS_SEEDS ?? 100);

describe('update groups', () => {
  it('each peer ends up with the same routes with groups as without (random routes, peers and pulls)', () => {
    let grouped = 0;
    for (let seed = 1; seed <= N; seed++) grouped += run(seed, 400).groupsSeen > 1 ? 1 : 0;
    // The comparison means something only if groups formed.
    assert.ok(grouped > N / 2, `groups formed in ${grouped} of ${N} runs`);
  });

  it('the same when members fall behind and leave their group (a lag limit of one byte)', () => {
    for (let seed = 1; seed <= N; seed++) run(1000 + seed, 400, 1);
  });

  it('peers with the same export share one group and one encoding of each UPDATE', () => {
    const enc = new RecordingEncoder();
    const rib = new Rib({ localAsn: 65000, routerId: 1, encoder: enc });
    const sender = ribPeer('192.0.2.100', 65100, 65000);
    rib.addPeer(sender);
    rib.peerUp(sender.id, session('10.0.0.1', 100));
    const ids = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
    for (const [i, id] of ids.entries()) {
      rib.addPeer(ribPeer(id, 65001 + i, 65000));
      rib.peerUp(id, session('10.0.0.1', 200 + i));
      rib.pull(id, 65536); // End-of-RIB of the empty table; then the peer joins its group
    }
    assert.deepEqual(rib.groupStats(), { groups: 1, members: 3 });
    rib.applyUpdate(sender.id, announce(['10.1.0.0/16', '10.2.0.0/16'], '192.0.2.100', attrs([65100])));
    enc.calls = 0;
    const got = ids.map((id) => enc.decode(rib.pull(id, 65536)));
    assert.equal(enc.calls, 1);
    for (const g of got)
      assert.deepEqual(
        g.map((m) => m.type === 'update' && m.prefixes.length),
        [2],
      );
    // A member that sends a route leaves the group and does not get its own route back.
    rib.applyUpdate(ids[0]!, announce(['10.3.0.0/16'], ids[0]!, attrs([65001])));
    assert.deepEqual(rib.groupStats(), { groups: 1, members: 2 });
    assert.deepEqual(enc.decode(rib.pull(ids[0]!, 65536)), []);
    assert.equal(enc.decode(rib.pull(ids[1]!, 65536)).length, 1);
  });
});
