import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AsPathSegmentType, Origin, WellKnownCommunity } from '../wire/index.ts';
import { type Command, matchNeighbors, type NeighborInfo, parseCommand, split, tokenize } from './commands.ts';

function ok(line: string): Command {
  const r = parseCommand(line);
  assert.ok(r.ok, `${line}: ${r.ok ? '' : r.error}`);
  return r.command;
}
function err(line: string): string {
  const r = parseCommand(line);
  assert.ok(!r.ok, `${line} parsed but should not`);
  return r.error;
}

describe('tokenize (ExaBGP formated())', () => {
  test('brackets, parentheses and commas become tokens; runs of spaces and tabs collapse', () => {
    assert.deepEqual(tokenize('  announce\troute 1.0.0.0/24   community [2:1,3:4] aggregator (1:2.3.4.5)  '), [
      'announce',
      'route',
      '1.0.0.0/24',
      'community',
      '[',
      '2:1',
      ',',
      '3:4',
      ']',
      'aggregator',
      '(',
      '1:2.3.4.5',
      ')',
    ]);
  });
});

describe('announce/withdraw route', () => {
  test('HA2BGP: a bare address with a trailing space is a host route with next-hop self', () => {
    assert.deepEqual(ok('announce route 127.0.0.1 next-hop self '), {
      type: 'announce',
      neighbors: [],
      routes: { prefixes: ['127.0.0.1/32'], nextHop: 'self', attributes: { origin: Origin.IGP, asPath: [] } },
    });
    const w = ok('withdraw route 2001:DB8::10 next-hop self');
    assert.equal(w.type, 'withdraw');
    assert.deepEqual(w.type === 'withdraw' && w.routes.prefixes, ['2001:db8::10/128']);
  });

  test("ExaBGP healthcheck's lines", () => {
    const c = ok(
      'announce route 198.51.100.10/32 next-hop self med 100 local-preference 200 community [ 65000:1 no-export ] large-community [ 65000:0:1 ] as-path [ 65001 65001 ]',
    );
    assert.ok(c.type === 'announce');
    assert.deepEqual(c.routes, {
      prefixes: ['198.51.100.10/32'],
      nextHop: 'self',
      attributes: {
        origin: Origin.IGP,
        asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001, 65001] }],
        med: 100,
        localPref: 200,
        communities: [((65000 << 16) | 1) >>> 0, WellKnownCommunity.NO_EXPORT],
        largeCommunities: [[65000, 0, 1]],
      },
    });
    const n = ok(
      'neighbor 192.0.2.1, neighbor 192.0.2.2 announce route 198.51.100.10/32 next-hop self med 1000 path-information 7',
    );
    assert.ok(n.type === 'announce');
    assert.deepEqual(n.neighbors, [{ address: '192.0.2.1' }, { address: '192.0.2.2' }]);
    assert.equal(n.routes.pathId, 7);
  });

  test('every attribute', () => {
    const c = ok(
      'announce route 10.0.0.0/8 next-hop 192.0.2.1 origin EGP as-path [ 1 2 ( 3 4 ) ] med 5 local-preference 6 atomic-aggregate ' +
        'aggregator ( 65000:192.0.2.9 ) community [ 1:2 nopeer blackhole no-advertise no-export-subconfed 0xFFFF0000 65537 ] ' +
        'large-community 1:2:3 extended-community [ target:65000:1 origin:192.0.2.1:5 65000:2 0x0002FDE900000001 redirect:65000:7 ] ' +
        'originator-id 10.0.0.1 cluster-list [ 10.0.0.2 10.0.0.3 ] path-information 0.0.0.9 watchdog web withdraw name svc',
    );
    assert.ok(c.type === 'announce');
    const r = c.routes;
    assert.equal(r.nextHop, '192.0.2.1');
    assert.equal(r.pathId, 9);
    assert.equal(r.watchdog, 'web');
    assert.equal(r.withdrawn, true);
    assert.equal(r.name, 'svc');
    const a = r.attributes;
    assert.equal(a.origin, Origin.EGP);
    assert.deepEqual(a.asPath, [
      { type: AsPathSegmentType.AS_SEQUENCE, asns: [1, 2] },
      { type: AsPathSegmentType.AS_SET, asns: [3, 4] },
    ]);
    assert.equal(a.med, 5);
    assert.equal(a.localPref, 6);
    assert.equal(a.atomicAggregate, true);
    assert.deepEqual(a.aggregator, { asn: 65000, address: '192.0.2.9' });
    assert.deepEqual(a.communities, [
      (1 << 16) | 2,
      WellKnownCommunity.NO_PEER,
      WellKnownCommunity.BLACKHOLE,
      WellKnownCommunity.NO_ADVERTISE,
      WellKnownCommunity.NO_EXPORT_SUBCONFED,
      WellKnownCommunity.GRACEFUL_SHUTDOWN,
      65537,
    ]);
    assert.deepEqual(a.largeCommunities, [[1, 2, 3]]);
    assert.deepEqual(
      a.extCommunities?.map((e) => Buffer.from(e).toString('hex')),
      ['0002fde800000001', '0103c00002010005', '0002fde800000002', '0002fde900000001', '8008fde800000007'],
    );
    assert.equal(a.originatorId, '10.0.0.1');
    assert.deepEqual(a.clusterList, ['10.0.0.2', '10.0.0.3']);
  });

  test('as-path forms: single ASN, commas, asdot, empty', () => {
    const path = (s: string) => {
      const c = ok(`announce route 10.0.0.0/8 next-hop self as-path ${s}`);
      return c.type === 'announce' ? c.routes.attributes.asPath : null;
    };
    assert.deepEqual(path('65001'), [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001] }]);
    assert.deepEqual(path('[100, 500]'), [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [100, 500] }]);
    assert.deepEqual(path('[ 1.10 4200000000 ]'), [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65546, 4200000000] }]);
    assert.deepEqual(path('[ ]'), []);
  });

  test('split /len expands the prefix', () => {
    const c = ok('neighbor 127.0.0.1 local-as 1 announce route 1.2.0.0/22 next-hop 101.1.101.1 split /24');
    assert.ok(c.type === 'announce');
    assert.deepEqual(c.routes.prefixes, ['1.2.0.0/24', '1.2.1.0/24', '1.2.2.0/24', '1.2.3.0/24']);
    assert.deepEqual(split('2001:db8::/47', 48), ['2001:db8::/48', '2001:db8:1::/48']);
    assert.deepEqual(split('10.0.0.0/24', 24), ['10.0.0.0/24']);
    assert.deepEqual(split('10.0.0.0/24', 16), ['10.0.0.0/24']);
    assert.deepEqual(split('10.255.255.254/31', 32), ['10.255.255.254/32', '10.255.255.255/32']);
    assert.match(err('announce route 10.0.0.0/8 next-hop self split /32'), /more than 65536 routes/);
  });

  test("ExaBGP's example programs parse", () => {
    for (const line of [
      'announce                                                                              route 1.0.0.0/24 next-hop 101.1.101.1 med 200 community [2:1]',
      'announce attributes local-preference 200 as-path [ 1 2 3 4 ] next-hop 202.2.202.2 nlri 2.0.0.1/32 2.0.0.2/32',
      'announce attributes med 100 next-hop 101.1.101.1 nlri 1.0.0.1/32 1.0.0.2/32',
      'announce route 0.0.0.0/0  next-hop 1.101.1.101',
      'announce route 1.0.0.0/21 next-hop 101.1.101.1 med 200 community [2:1] split /23',
      'neighbor 127.0.0.1 announce route 2605::2/128 next-hop 2001::1 local-preference 500',
      'neighbor 127.0.0.1 local-as 1 family-allowed ipv4-unicast announce                    route 1.2.0.0/24 next-hop 101.1.101.1',
      'neighbor 127.0.0.1 local-as 1 peer-as 1 local-ip 127.0.0.1 router-id 1.2.3.4 announce route 1.3.0.0/24 next-hop 101.1.101.1',
      'neighbor 127.0.0.1 local-as 2 peer-as 3 local-ip 127.0.0.1 router-id 1.2.3.4 announce route 1.8.0.0/21 next-hop 101.1.101.1 med 200 large-community [2914:1:0]',
      'neighbor 127.0.0.1 router-id 1.2.3.4, neighbor 127.0.0.1 announce route 1.1.0.0/25 next-hop 101.1.101.1',
      'withdraw route 1.1.0.0/24 next-hop 101.1.101.1',
      'withdraw route 1.1.0.0/24',
      'withdraw route 1.1.0.0/25 next-hop 0.0.0.0',
      'announce route 3.0.0.0/24 next-hop 4.0.0.0 extended-community 0:0',
      'announce eor',
      'announce eor ipv6 unicast',
      'announce route-refresh ipv4 unicast',
      'announce watchdog dog1',
      'withdraw watchdog',
      'teardown 2',
      'neighbor 127.0.0.1 teardown 4',
      'shutdown',
      'version',
      '# a comment',
    ]) {
      ok(line);
    }
  });

  test('withdraw attributes … nlri', () => {
    const c = ok('withdraw attributes next-hop 101.1.101.1 nlri 1.0.0.1/32 2001:db8::/32');
    assert.ok(c.type === 'withdraw');
    assert.deepEqual(c.routes.prefixes, ['1.0.0.1/32', '2001:db8::/32']);
  });

  test('an IPv6 announcement may leave the next hop out; IPv4 may not', () => {
    const c = ok('announce route 2001:db8::/32');
    assert.ok(c.type === 'announce' && c.routes.nextHop === undefined);
    assert.match(err('announce route 10.0.0.0/8 med 5'), /needs a next-hop/);
  });
});

describe('selectors', () => {
  test('every key, several selectors, and *', () => {
    const c = ok(
      'neighbor 127.0.0.1 local-as 1 peer-as 2 local-ip 127.0.0.2 router-id 1.2.3.4 family-allowed in-open, neighbor * announce eor',
    );
    assert.ok(c.type === 'eor');
    assert.deepEqual(c.neighbors, [
      {
        address: '127.0.0.1',
        localAs: 1,
        peerAs: 2,
        localIp: '127.0.0.2',
        routerId: '1.2.3.4',
        familyAllowed: 'in-open',
      },
      { address: '*' },
    ]);
  });

  test('matchNeighbors', () => {
    const n = (address: string, peerAs: number, established = true): NeighborInfo => ({
      address,
      localAddress: '192.0.2.254',
      localAs: 65000,
      peerAs,
      routerId: '192.0.2.254',
      established,
    });
    const all = [n('192.0.2.1', 65001), n('192.0.2.2', 65002), n('2001:db8::1', 65001)];
    const sel = (line: string) => {
      const c = ok(line);
      return 'neighbors' in c ? matchNeighbors(c.neighbors, all).map((x) => x.address) : [];
    };
    assert.deepEqual(sel('announce eor'), ['192.0.2.1', '192.0.2.2', '2001:db8::1']);
    assert.deepEqual(sel('neighbor * peer-as 65001 announce eor'), ['192.0.2.1', '2001:db8::1']);
    assert.deepEqual(sel('neighbor 2001:DB8::1 announce eor'), ['2001:db8::1']);
    assert.deepEqual(sel('neighbor 192.0.2.1 local-as 1 announce eor'), []);
    assert.deepEqual(sel('neighbor 192.0.2.1 local-ip 192.0.2.254, neighbor 192.0.2.2 announce eor'), [
      '192.0.2.1',
      '192.0.2.2',
    ]);
  });
});

describe('errors (the host answers `error`)', () => {
  test('unknown, unsupported and malformed commands', () => {
    const cases: [string, RegExp][] = [
      ['', /empty command/],
      ['hello world', /unknown command "hello"/],
      ['announce', /missing what to announce/],
      ['announce banana 1.2.3.4', /unknown "announce banana"/],
      ['announce route', /missing prefix/],
      ['announce route 9.9.9.9/24 next-hop 1.1.1.1', /host bits set/],
      ['announce route 10.0.0.0/33 next-hop self', /prefix length/],
      ['announce route 10.0.0.0/8 next-hop banana', /next-hop "banana" is not an IP address/],
      ['announce route 10.0.0.0/8 next-hop self med -1', /invalid MED/],
      ['announce route 10.0.0.0/8 next-hop self med', /missing med/],
      ['announce route 10.0.0.0/8 next-hop self med 4294967296', /invalid MED/],
      ['announce route 10.0.0.0/8 next-hop self origin bgp', /unknown origin/],
      ['announce route 10.0.0.0/8 next-hop self community [ 65000:1', /"\]" to close/],
      ['announce route 10.0.0.0/8 next-hop self community 70000:1', /larger than 65535/],
      ['announce route 10.0.0.0/8 next-hop self community no-such-name', /not a community/],
      ['announce route 10.0.0.0/8 next-hop self large-community 1:2', /not a large community/],
      ['announce route 10.0.0.0/8 next-hop self extended-community l2info:1:2:3:4', /extended community/],
      ['announce route 10.0.0.0/8 next-hop self aggregator ( 65000 )', /invalid aggregator/],
      ['announce route 10.0.0.0/8 next-hop self originator-id 1.2.3', /invalid originator-id/],
      ['announce route 10.0.0.0/8 next-hop self cluster-list [ ]', /empty cluster-list/],
      ['announce route 10.0.0.0/8 next-hop self split 24', /split needs/],
      ['announce route 10.0.0.0/8 next-hop self watchdog announce', /invalid watchdog name/],
      ['announce route 10.0.0.0/8 next-hop self med 1 med 2', /med given twice/],
      ['announce route 10.0.0.0/8 next-hop self label 100', /label is not supported/],
      ['announce route 1.4.0.0/16 rd 65000:1 next-hop 101.1.101.1', /rd is not supported/],
      ['announce route 10.0.0.0/8 next-hop self colour blue', /unknown attribute "colour"/],
      ['announce attributes med 100 next-hop 1.1.1.1', /missing nlri/],
      ['announce attributes med 100 next-hop 1.1.1.1 nlri', /at least one prefix/],
      ['announce flow route { match { source 10.0.0.1/32; } then { discard; } }', /FlowSpec is not supported yet/],
      ['announce vpls endpoint 5', /not supported/],
      ['withdraw eor', /use "announce eor"/],
      ['announce eor ipv4', /eor takes/],
      ['announce eor ipv5 unicast', /unknown afi/],
      ['announce eor ipv4 banana', /unknown safi/],
      ['announce route-refresh', /route-refresh needs/],
      ['neighbor absentone announce route 1.0.0.0/8 next-hop self', /not an IP address/],
      ['neighbor 127.0.0.1 local-as x announce eor', /not an AS number/],
      ['neighbor 127.0.0.1 , announce eor', /expected "neighbor"/],
      ['neighbor 127.0.0.1 shutdown', /takes no arguments/],
      ['version 2', /takes no arguments/],
      ['teardown x', /not a subcode/],
      ['show neighbor summary', /not supported by tsbgp/],
      ['reload', /not supported by tsbgp/],
    ];
    for (const [line, re] of cases) assert.match(err(line), re, line);
  });
});
