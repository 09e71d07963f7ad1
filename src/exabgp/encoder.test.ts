import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  AsPathSegmentType,
  Origin,
  type PathAttributes,
  parsePrefix,
  type UpdateMessage,
  WellKnownCommunity,
} from '../wire/index.ts';
import { attributesText, createEncoder, type PeerIdentity } from './encoder.ts';

// What Debian's ExaBGP 4.2 printed for these cases (testdata/encoder-golden.py, pinned time/host/pids).
const GOLDEN_FILE = new URL('./testdata/encoder-golden.json', import.meta.url);
const golden = JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Record<string, { text: string; json: string }>;

const peer: PeerIdentity = { localAddress: '192.0.2.1', peerAddress: '192.0.2.2', localAs: 65000, peerAs: 65001 };
const key = (p: string) => parsePrefix(p).key;

const full: PathAttributes = {
  origin: Origin.IGP,
  asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001, 65002] }],
  med: 200,
  localPref: 100,
  communities: [(65000 << 16) | 1, WellKnownCommunity.NO_EXPORT],
  largeCommunities: [[1, 2, 3]],
};
const ec = (...b: number[]) => Uint8Array.from(b);
const rich: PathAttributes = {
  origin: Origin.EGP,
  asPath: [
    { type: AsPathSegmentType.AS_SEQUENCE, asns: [4200000000, 2] },
    { type: AsPathSegmentType.AS_SET, asns: [3, 4] },
  ],
  med: 0,
  atomicAggregate: true,
  aggregator: { asn: 65000, address: '192.0.2.1' },
  communities: [(65000 << 16) | 7],
  originatorId: '10.0.0.1',
  clusterList: ['10.0.0.2', '10.0.0.3'],
  extCommunities: [ec(0, 2, 0xfd, 0xe8, 0, 0, 0, 1), ec(1, 2, 192, 0, 2, 1, 0, 5), ec(2, 2, 0xfa, 0x56, 0xea, 0, 0, 7)],
  largeCommunities: [
    [1, 2, 3],
    [4, 5, 6],
  ],
};
const emptyPath: PathAttributes = { origin: Origin.INCOMPLETE, asPath: [] };

function upd(partial: Partial<UpdateMessage>): UpdateMessage {
  return {
    type: 'update',
    withdrawn: [],
    announced: [],
    attributes: null,
    treatAsWithdraw: false,
    errors: [],
    ...partial,
  };
}

type Enc = ReturnType<typeof createEncoder>;
const cases: [string, (e: Enc) => string][] = [
  ['up', (e) => e.state(peer, 'up')],
  ['connected', (e) => e.state(peer, 'connected')],
  ['down', (e) => e.state(peer, 'down', 'peer reset [hold timer] "x"')],
  ['shutdown', (e) => e.shutdown()],
  [
    'announce4',
    (e) =>
      e.update(
        peer,
        'receive',
        upd({
          attributes: full,
          announced: [
            {
              family: 'ipv4-unicast',
              prefixes: [key('10.0.0.0/24'), key('10.0.1.0/24')],
              pathIds: null,
              nextHop: '192.0.2.9',
            },
          ],
        }),
      ),
  ],
  [
    'withdraw4',
    (e) =>
      e.update(
        peer,
        'receive',
        upd({
          withdrawn: [{ family: 'ipv4-unicast', prefixes: [key('10.0.2.0/24'), key('10.0.3.0/24')], pathIds: null }],
        }),
      ),
  ],
  [
    'announce6',
    (e) =>
      e.update(
        peer,
        'receive',
        upd({
          attributes: full,
          announced: [
            { family: 'ipv6-unicast', prefixes: [key('2001:db8::/32')], pathIds: null, nextHop: '2001:db8::1' },
          ],
        }),
      ),
  ],
  [
    'rich',
    (e) =>
      e.update(
        peer,
        'receive',
        upd({
          attributes: rich,
          announced: [{ family: 'ipv4-unicast', prefixes: [key('10.0.0.0/8')], pathIds: null, nextHop: '192.0.2.9' }],
          withdrawn: [{ family: 'ipv4-unicast', prefixes: [key('10.0.2.0/24')], pathIds: null }],
        }),
      ),
  ],
  [
    'empty-path',
    (e) =>
      e.update(
        peer,
        'send',
        upd({
          attributes: emptyPath,
          announced: [{ family: 'ipv4-unicast', prefixes: [key('10.9.0.0/16')], pathIds: null, nextHop: '192.0.2.9' }],
        }),
      ),
  ],
  [
    'path-info',
    (e) =>
      e.update(
        peer,
        'receive',
        upd({
          attributes: emptyPath,
          announced: [{ family: 'ipv4-unicast', prefixes: [key('10.0.0.0/24')], pathIds: [5], nextHop: '192.0.2.9' }],
        }),
      ),
  ],
  ['eor4', (e) => e.update(peer, 'receive', upd({ endOfRib: 'ipv4-unicast' }))],
  ['eor6', (e) => e.update(peer, 'receive', upd({ endOfRib: 'ipv6-unicast' }))],
  ['notification', (e) => e.notification(peer, 'receive', 3, 1, Uint8Array.of(1, 2))],
];

describe('ExaBGP encoders match ExaBGP 4.2 output', () => {
  test('text', () => {
    const e = createEncoder('text');
    for (const [name, fn] of cases) {
      const want = name === 'shutdown' ? 'shutdown\n' : golden[name]!.text;
      assert.equal(fn(e), want, name);
    }
  });

  test('json (one encoder: counters run per neighbour across messages)', () => {
    const e = createEncoder('json', { host: 'tsbgp-test', pid: 4242, ppid: 4241, now: () => 1_700_000_000_500 });
    for (const [name, fn] of cases) {
      const got = fn(e);
      assert.equal(got, `${golden[name]!.json}\n`, name);
      JSON.parse(got); // and it is JSON
    }
  });

  test('the golden file still matches the installed exabgp', async (t) => {
    if (!existsSync('/usr/bin/python3') || !existsSync('/usr/lib/python3/dist-packages/exabgp')) {
      t.skip("Debian's exabgp is not installed");
      return;
    }
    const script = new URL('./testdata/encoder-golden.py', import.meta.url).pathname;
    const out = await new Promise<string>((resolve, reject) =>
      execFile('/usr/bin/python3', [script], { timeout: 30_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    assert.deepEqual(JSON.parse(out), golden);
  });
});

describe('encoder details', () => {
  test('treat-as-withdraw announcements are reported as withdrawn; an empty UPDATE says nothing', () => {
    const e = createEncoder('text');
    const u = upd({
      attributes: full,
      treatAsWithdraw: true,
      announced: [{ family: 'ipv4-unicast', prefixes: [key('10.0.0.0/24')], pathIds: null, nextHop: '192.0.2.9' }],
    });
    assert.equal(
      e.update(peer, 'receive', u),
      'neighbor 192.0.2.2 receive update start\nneighbor 192.0.2.2 receive update withdrawn 10.0.0.0/24\nneighbor 192.0.2.2 receive update end\n',
    );
    assert.equal(e.update(peer, 'receive', upd({})), '');
    assert.equal(createEncoder('json').update(peer, 'receive', upd({})), '');
  });

  test('graceful-shutdown prints as 65535:0; communities are sorted in text', () => {
    const a: PathAttributes = {
      origin: Origin.IGP,
      asPath: [],
      communities: [WellKnownCommunity.GRACEFUL_SHUTDOWN, (65000 << 16) | 1, WellKnownCommunity.BLACKHOLE],
    };
    assert.equal(attributesText(a), ' origin igp as-path [ ] community [ 65000:1 65535:0 blackhole ]');
  });

  test('json down reasons are escaped JSON strings', () => {
    const e = createEncoder('json', { host: 'h', pid: 1, ppid: 1, now: () => 0 });
    const line = e.state(peer, 'down', 'bad {thing} "quoted"\nnewline');
    const doc = JSON.parse(line) as { neighbor: { reason: string; state: string } };
    assert.equal(doc.neighbor.state, 'down');
    assert.equal(doc.neighbor.reason, 'bad (thing) "quoted"\nnewline');
  });
});
