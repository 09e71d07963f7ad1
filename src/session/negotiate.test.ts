// The OPEN we build and the checks and negotiation of a received one (RFC 4271 §6.2, RFC 5492, RFC 6793).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Capability, decodeMessage, defaultCodecContext, encodeOpen, type OpenMessage } from '../wire/index.ts';
import { buildOpen, isIPv6Transport, negotiate, peerAsnOf, routerIdToNumber } from './negotiate.ts';
import type { PeerConfig } from './types.ts';

const config = (over: Partial<PeerConfig> = {}): PeerConfig => ({
  address: '127.0.0.2',
  port: 179,
  localAsn: 65001,
  remoteAsn: 65002,
  routerId: '10.0.0.1',
  holdTime: 90,
  connectRetryTime: 5,
  passive: false,
  families: ['ipv4-unicast', 'ipv6-unicast'],
  addPathReceive: [],
  gracefulRestart: null,
  ...over,
});
const transport = { localAddress: '127.0.0.1', localPort: 40000, remoteAddress: '127.0.0.2', remotePort: 179 };

function open(over: Partial<OpenMessage> = {}, caps: Capability[] = []): OpenMessage {
  return { type: 'open', version: 4, myAs: 65002, holdTime: 90, routerId: '10.0.0.2', capabilities: caps, ...over };
}
const mp4: Capability = { kind: 'multiprotocol', afi: 1, safi: 1 };
const mp6: Capability = { kind: 'multiprotocol', afi: 2, safi: 1 };

function ok(r: ReturnType<typeof negotiate>) {
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.session;
}

describe('buildOpen', () => {
  test('capabilities for a plain config', () => {
    const o = buildOpen(config(), false);
    assert.equal(o.myAs, 65001);
    assert.equal(o.holdTime, 90);
    assert.deepEqual(
      o.capabilities.map((c) => c.kind),
      [
        'multiprotocol',
        'multiprotocol',
        'route-refresh',
        'enhanced-route-refresh',
        'four-octet-as',
        'extended-message',
      ],
    );
  });

  test('4-octet ASN goes in as AS_TRANS with the real one in the capability', () => {
    const o = buildOpen(config({ localAsn: 4200000001 }), false);
    assert.equal(o.myAs, 23456);
    assert.deepEqual(
      o.capabilities.find((c) => c.kind === 'four-octet-as'),
      { kind: 'four-octet-as', asn: 4200000001 },
    );
  });

  test('optional capabilities: add-path, graceful restart, FQDN, extended next hop over IPv6 only', () => {
    const c = config({
      addPathReceive: ['ipv6-unicast'],
      gracefulRestart: { restartTime: 120, restarting: true },
      hostname: 'rs1',
    });
    const o4 = buildOpen(c, false);
    assert.ok(!o4.capabilities.some((x) => x.kind === 'extended-next-hop'));
    const o6 = buildOpen(c, true);
    assert.deepEqual(
      o6.capabilities.find((x) => x.kind === 'extended-next-hop'),
      { kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
    );
    assert.deepEqual(
      o6.capabilities.find((x) => x.kind === 'add-path'),
      { kind: 'add-path', entries: [{ afi: 2, safi: 1, sendReceive: 1 }] },
    );
    assert.deepEqual(
      o6.capabilities.find((x) => x.kind === 'graceful-restart'),
      {
        kind: 'graceful-restart',
        flags: 8,
        restartTime: 120,
        families: [
          { afi: 1, safi: 1, forwardingPreserved: false },
          { afi: 2, safi: 1, forwardingPreserved: false },
        ],
      },
    );
    assert.deepEqual(
      o6.capabilities.find((x) => x.kind === 'fqdn'),
      { kind: 'fqdn', hostname: 'rs1', domain: '' },
    );
    // And the codec can carry all of it.
    const back = decodeMessage(encodeOpen(o6), defaultCodecContext());
    assert.deepEqual(back, o6);
  });

  test('isIPv6Transport', () => {
    assert.equal(isIPv6Transport('::1'), true);
    assert.equal(isIPv6Transport('127.0.0.1'), false);
    assert.equal(isIPv6Transport('::ffff:127.0.0.1'), false);
  });
});

describe('negotiate: checks', () => {
  const sent = buildOpen(config(), false);

  test('bad peer AS (2-octet)', () => {
    const r = negotiate(config(), sent, open({ myAs: 65003 }), transport);
    assert.deepEqual(r, { ok: false, code: 2, subcode: 2, message: 'bad peer AS: expected 65002, got 65003' });
  });

  test('the 4-octet AS capability decides the peer AS (RFC 6793)', () => {
    const c = config({ remoteAsn: 4200000002 });
    const r = negotiate(c, sent, open({ myAs: 23456 }, [{ kind: 'four-octet-as', asn: 4200000002 }]), transport);
    assert.equal(ok(r).remoteAsn, 4200000002);
    const bad = negotiate(c, sent, open({ myAs: 23456 }), transport);
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.message, 'bad peer AS: expected 4200000002, got 23456');
    assert.equal(peerAsnOf(open({ myAs: 65002 }, [{ kind: 'four-octet-as', asn: 7 }])), 7);
  });

  test('hold time 1 or 2 → 2/6', () => {
    for (const h of [1, 2]) {
      const r = negotiate(config(), sent, open({ holdTime: h }), transport);
      assert.equal(!r.ok && r.subcode, 6);
    }
  });

  test('own router ID on iBGP → 2/3; allowed on eBGP', () => {
    const ibgp = config({ remoteAsn: 65001 });
    const r = negotiate(ibgp, sent, open({ myAs: 65001, routerId: '10.0.0.1' }), transport);
    assert.equal(!r.ok && r.subcode, 3);
    assert.ok(negotiate(config(), sent, open({ routerId: '10.0.0.1' }), transport).ok);
  });

  test('version other than 4 → 2/1 with our version as data', () => {
    const r = negotiate(config(), sent, open({ version: 3 }), transport);
    assert.equal(!r.ok && r.subcode, 1);
    assert.deepEqual(!r.ok && r.data, Uint8Array.of(0, 4));
  });
});

describe('negotiate: capabilities', () => {
  test('no MP capability from the peer implies IPv4 unicast only (RFC 4760 §8)', () => {
    const s = ok(negotiate(config(), buildOpen(config(), false), open(), transport));
    assert.deepEqual(s.families, ['ipv4-unicast']);
    assert.equal(s.codec.asn4, false);
    assert.equal(s.codec.maxMessageSize, 4096);
    assert.equal(s.routeRefresh, false);
  });

  test('families are the intersection; unknown capabilities are ignored', () => {
    const caps: Capability[] = [
      mp6,
      { kind: 'multiprotocol', afi: 1, safi: 133 },
      { kind: 'unknown', code: 99, value: new Uint8Array(2) },
    ];
    const s = ok(negotiate(config(), buildOpen(config(), false), open({}, caps), transport));
    assert.deepEqual(s.families, ['ipv6-unicast']);
  });

  test('hold time is the smaller one; keepalive a third of it; 0 stays 0', () => {
    const sent = buildOpen(config(), false);
    const s = ok(negotiate(config(), sent, open({ holdTime: 30 }, [mp4]), transport));
    assert.equal(s.holdTime, 30);
    assert.equal(s.keepaliveTime, 10);
    const z = ok(negotiate(config(), sent, open({ holdTime: 0 }, [mp4]), transport));
    assert.equal(z.holdTime, 0);
    assert.equal(z.keepaliveTime, 0);
  });

  test('everything both sides support', () => {
    const c = config({ addPathReceive: ['ipv4-unicast', 'ipv6-unicast'], localAsn: 65002 });
    const sent = buildOpen(c, true);
    const caps: Capability[] = [
      mp4,
      mp6,
      { kind: 'route-refresh-old' },
      { kind: 'enhanced-route-refresh' },
      { kind: 'four-octet-as', asn: 65002 },
      { kind: 'extended-message' },
      { kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
      {
        kind: 'add-path',
        entries: [
          { afi: 1, safi: 1, sendReceive: 2 },
          { afi: 2, safi: 1, sendReceive: 1 },
        ],
      },
      {
        kind: 'graceful-restart',
        flags: 8,
        restartTime: 90,
        families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
      },
    ];
    const s = ok(negotiate(c, sent, open({ holdTime: 180 }, caps), transport));
    assert.deepEqual(s.families, ['ipv4-unicast', 'ipv6-unicast']);
    assert.equal(s.holdTime, 90);
    assert.equal(s.codec.asn4, true);
    assert.equal(s.codec.maxMessageSize, 65535);
    assert.equal(s.codec.ebgp, false);
    assert.deepEqual([...s.codec.addPathRx], ['ipv4-unicast']);
    assert.deepEqual([...s.codec.addPathTx], []);
    assert.deepEqual([...s.codec.extendedNextHop], ['ipv4-unicast']);
    assert.equal(s.routeRefresh, true);
    assert.equal(s.enhancedRouteRefresh, true);
    assert.deepEqual(s.peerGracefulRestart, { restartTime: 90, restarting: true, families: ['ipv4-unicast'] });
    assert.equal(s.localPort, 40000);
    assert.equal(s.openSent, sent);
  });

  test('extended next hop needs both sides (not over IPv4 transport)', () => {
    const caps: Capability[] = [mp4, { kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] }];
    const s = ok(negotiate(config(), buildOpen(config(), false), open({}, caps), transport));
    assert.equal(s.codec.extendedNextHop.size, 0);
    assert.equal(s.codec.ebgp, true);
  });

  test('routerIdToNumber is unsigned', () => {
    assert.equal(routerIdToNumber('255.255.255.255'), 0xffffffff);
    assert.equal(routerIdToNumber('10.0.0.1'), 0x0a000001);
    assert.equal(routerIdToNumber('bogus'), 0);
  });
});
