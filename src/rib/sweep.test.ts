// A down peer's routes leave the Loc-RIB in slices (Rib.peerDown): the event loop runs in between, the neighbour's
// next session is not confused with the old one, and everything ends as a synchronous removal would.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipv4ToNumber, makePrefixKey, type PrefixKey, type UpdateMessage } from '../wire/index.ts';
import { Rib } from './rib.ts';
import { announce, attrs, RecordingEncoder, ribPeer, session } from './test-helpers.ts';

const LOCAL_ASN = 65000;
const N = 200_000;

function keyOf(i: number): PrefixKey {
  return makePrefixKey(Uint8Array.of(10 + (i >> 16), (i >> 8) & 0xff, i & 0xff, 0), 24);
}

/** N prefixes from one peer, three per UPDATE, each UPDATE its own attribute set (as in a real table). */
function table(nextHop: string, asn: number): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  for (let i = 0; i < N; i += 3) {
    const prefixes: PrefixKey[] = [];
    for (let k = i; k < Math.min(N, i + 3); k++) prefixes.push(keyOf(k));
    out.push({
      type: 'update',
      withdrawn: [],
      announced: [{ family: 'ipv4-unicast', prefixes, pathIds: null, nextHop }],
      attributes: attrs([asn, 3356, 1000 + (i % 5000)]),
      treatAsWithdraw: false,
      errors: [],
    });
  }
  return out;
}

function setup() {
  const enc = new RecordingEncoder();
  let background = 0;
  let wake: (() => void) | null = null;
  const rib = new Rib({
    localAsn: LOCAL_ASN,
    routerId: ipv4ToNumber('10.0.0.1')!,
    encoder: enc,
    onBackground: () => {
      background++;
      wake?.();
    },
  });
  /** Resolves once no sweep is left (each background slice re-checks). */
  const swept = async (): Promise<void> => {
    for (let i = 0; i < 1000 && rib.sweeping; i++) await new Promise<void>((r) => (wake = r));
    wake = null;
    assert.equal(rib.sweeping, false);
  };
  const up = (address: string, asn: number) => {
    rib.addPeer(ribPeer(address, asn, LOCAL_ASN));
    rib.peerUp(address, session('192.0.2.100', ipv4ToNumber(address)!));
  };
  const drainCount = (id: string): { announced: number; withdrawn: number } => {
    let announced = 0;
    let withdrawn = 0;
    for (let i = 0; i < 100_000; i++) {
      const m = rib.pull(id, 1 << 20);
      if (m.length === 0) return { announced, withdrawn };
      for (const s of enc.decode(m)) {
        if (s.type === 'update') announced += s.prefixes.length;
        else if (s.type === 'withdraw') withdrawn += s.prefixes.length;
      }
    }
    throw new Error('pull never ran dry');
  };
  return { rib, up, swept, drainCount, background: () => background };
}

describe('peerDown of a large table', () => {
  it('yields to the event loop while it runs, and ends with every path gone', async () => {
    const { rib, up, swept, drainCount, background } = setup();
    up('192.0.2.1', 65001);
    up('192.0.2.2', 65002);
    for (const u of table('192.0.2.1', 65001)) rib.applyUpdate('192.0.2.1', u);
    assert.equal(rib.pathsIn('ipv4-unicast'), N);
    assert.equal(drainCount('192.0.2.2').announced, N);

    rib.peerDown('192.0.2.1');
    // The neighbour's own view is empty at once; the Loc-RIB is still being swept.
    assert.deepEqual(rib.counts('192.0.2.1'), { received: {}, advertised: {} });
    assert.equal(rib.sweeping, true);
    assert.ok(rib.pathsIn('ipv4-unicast') > 0);
    // A callback queued now runs before the sweep is over: the work was split.
    const seen = await new Promise<{ sweeping: boolean; paths: number }>((resolve) =>
      setImmediate(() => resolve({ sweeping: rib.sweeping, paths: rib.pathsIn('ipv4-unicast') })),
    );
    assert.equal(seen.sweeping, true);
    assert.ok(seen.paths > 0 && seen.paths < N, `${seen.paths} paths left`);

    await swept();
    assert.ok(background() >= 2);
    assert.equal(rib.pathsIn('ipv4-unicast'), 0);
    assert.equal(rib.size('ipv4-unicast'), 0);
    assert.deepEqual(drainCount('192.0.2.2'), { announced: 0, withdrawn: N });
    assert.deepEqual(rib.internStats(), { sources: 0, refs: 0 });
  });

  it("keeps the routes of the neighbour's next session, sent while the old ones are swept", async () => {
    const { rib, up, swept, drainCount } = setup();
    up('192.0.2.1', 65001);
    up('192.0.2.2', 65002);
    for (const u of table('192.0.2.1', 65001)) rib.applyUpdate('192.0.2.1', u);
    drainCount('192.0.2.2');
    rib.peerDown('192.0.2.1');
    assert.equal(rib.sweeping, true);
    // The session comes back at once and announces the last prefix of the table again (not yet swept).
    rib.peerUp('192.0.2.1', session('192.0.2.100', ipv4ToNumber('192.0.2.1')!));
    const last = keyOf(N - 1);
    rib.applyUpdate('192.0.2.1', {
      ...announce([], '192.0.2.1', attrs([65001, 7])),
      announced: [{ family: 'ipv4-unicast', prefixes: [last], pathIds: null, nextHop: '192.0.2.1' }],
    });
    assert.equal(rib.counts('192.0.2.1').received['ipv4-unicast'], 1);
    await swept();
    assert.equal(rib.pathsIn('ipv4-unicast'), 1);
    const routes = rib.query('ipv4-unicast').routes;
    assert.equal(routes.length, 1);
    assert.deepEqual(routes[0]!.as_path, [65001, 7]);
    assert.equal(routes[0]!.from, '192.0.2.1');
    // B ends with exactly that one prefix: N − 1 withdrawn, the last one replaced.
    assert.deepEqual(drainCount('192.0.2.2'), { announced: 1, withdrawn: N - 1 });
    rib.removePeer('192.0.2.1');
    drainCount('192.0.2.2');
    assert.deepEqual(rib.internStats(), { sources: 0, refs: 0 });
  });
});
