import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  decodeProcAddress,
  globMatch,
  listenerServes,
  normalizeIp,
  parseIpAddressJson,
  parseProcNetTcp,
  readListeners,
} from './system.ts';
import { fakeProc, PROC_TCP, PROC_TCP6 } from './testing.ts';

describe('/proc/net/tcp parsing', () => {
  test('decodes IPv4 words in host order and the port', () => {
    assert.deepEqual(decodeProcAddress('0100007F:1F90', true), {
      family: 4,
      address: '127.0.0.1',
      port: 8080,
      wildcard: false,
    });
    // The same address as a big-endian host prints it.
    assert.deepEqual(decodeProcAddress('7F000001:1F90', false), {
      family: 4,
      address: '127.0.0.1',
      port: 8080,
      wildcard: false,
    });
    assert.equal(decodeProcAddress('00000000:0050', true)?.wildcard, true);
  });

  test('decodes IPv6 as four host-order words; v4-mapped becomes IPv4', () => {
    assert.equal(decodeProcAddress('00000000000000000000000001000000:1F91', true)?.address, '::1');
    assert.equal(decodeProcAddress('B80D0120000000000000000010000000:0050', true)?.address, '2001:db8::10');
    assert.equal(decodeProcAddress('20010DB8000000000000000000000010:0050', false)?.address, '2001:db8::10');
    assert.deepEqual(decodeProcAddress('0000000000000000FFFF00000C0200C0:01BB', true), {
      family: 4,
      address: '192.0.2.12',
      port: 443,
      wildcard: false,
    });
  });

  test('rejects malformed fields', () => {
    assert.equal(decodeProcAddress('0100007F', true), null);
    assert.equal(decodeProcAddress('0100007:1F90', true), null);
    assert.equal(decodeProcAddress('0100007F:1F9', true), null);
    assert.equal(decodeProcAddress('zz00007F:1F90', true), null);
  });

  test('keeps LISTEN sockets only, merges SO_REUSEPORT duplicates', () => {
    const v4 = parseProcNetTcp(PROC_TCP, true);
    assert.deepEqual(
      v4.map((l) => `${l.address}:${l.port}${l.wildcard ? '*' : ''}`),
      ['127.0.0.1:8080', '0.0.0.0:80*', '192.0.2.10:443'],
    );
    const v6 = parseProcNetTcp(PROC_TCP6, true);
    assert.deepEqual(
      v6.map((l) => `${l.family} ${l.address}:${l.port}`),
      ['6 ::1:8081', '6 2001:db8::10:80', '6 :::22', '4 192.0.2.12:443'],
    );
  });

  test('readListeners reads both files under an injected root; a missing tcp6 is no listeners', async () => {
    const root = fakeProc();
    const noV6 = fakeProc(PROC_TCP, null);
    after(() => {
      rmSync(root, { recursive: true, force: true });
      rmSync(noV6, { recursive: true, force: true });
    });
    assert.equal((await readListeners(root)).length, 7);
    assert.equal((await readListeners(noV6)).length, 3);
    await assert.rejects(readListeners(join(root, 'nope')), /ENOENT/);
  });

  test('the live /proc shows a listener this test opens, and not after it closes', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    const live = await readListeners();
    assert.ok(
      live.some((l) => l.address === '127.0.0.1' && l.port === port && l.family === 4),
      `127.0.0.1:${port} not found`,
    );
    await new Promise<void>((r) => srv.close(() => r()));
    const later = await readListeners();
    assert.ok(!later.some((l) => l.address === '127.0.0.1' && l.port === port));
  });

  test('the live /proc shows an IPv6 loopback listener', async (t) => {
    const srv = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ port: 0, host: '::1', ipv6Only: true }, resolve);
      });
    } catch {
      t.skip('no IPv6 loopback here');
      return;
    }
    const port = (srv.address() as net.AddressInfo).port;
    const live = await readListeners();
    await new Promise<void>((r) => srv.close(() => r()));
    assert.ok(live.some((l) => l.address === '::1' && l.port === port && l.family === 6));
  });

  test('listenerServes: exact address, or a wildcard of the family; [::] is dual-stack', () => {
    const l = (address: string, family: 4 | 6, wildcard = false) => ({ address, family, port: 80, wildcard });
    assert.ok(listenerServes(l('192.0.2.10', 4), '192.0.2.10'));
    assert.ok(!listenerServes(l('192.0.2.10', 4), '192.0.2.11'));
    assert.ok(listenerServes(l('0.0.0.0', 4, true), '192.0.2.11'));
    assert.ok(!listenerServes(l('0.0.0.0', 4, true), '2001:db8::1'));
    assert.ok(listenerServes(l('::', 6, true), '2001:db8::1'));
    assert.ok(listenerServes(l('::', 6, true), '192.0.2.1'));
  });
});

describe('ip -j address show parsing', () => {
  const json = JSON.stringify([
    {
      ifindex: 1,
      ifname: 'lo',
      flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
      operstate: 'UNKNOWN',
      addr_info: [
        { family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo' },
        { family: 'inet', local: '192.0.2.10', prefixlen: 32, scope: 'global', label: 'lo:web' },
        { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' },
      ],
    },
    {
      ifindex: 3,
      ifname: 'eth0',
      flags: ['BROADCAST', 'MULTICAST'],
      operstate: 'DOWN',
      addr_info: [
        { family: 'inet6', local: '2001:DB8:0:0::10', prefixlen: 64, scope: 'global', tentative: true },
        { family: 'inet', local: '198.51.100.1', prefixlen: 24, label: 'eth0' },
      ],
    },
    { ifindex: 4, ifname: 'empty', flags: ['UP'], addr_info: [] },
    { ifindex: 5, ifname: 'pkt', flags: ['UP'], addr_info: [{ family: 'packet', local: 'xx' }] },
  ]);

  test('flattens addresses with interface state, labels, DAD flags; normalises IPv6 text', () => {
    const a = parseIpAddressJson(json);
    assert.equal(a.length, 5);
    assert.deepEqual(a[1], {
      ifname: 'lo',
      up: true,
      lowerUp: true,
      family: 4,
      address: '192.0.2.10',
      prefixlen: 32,
      label: 'lo:web',
      tentative: false,
      dadfailed: false,
    });
    assert.equal(a[2]!.label, undefined);
    assert.deepEqual(
      { address: a[3]!.address, up: a[3]!.up, tentative: a[3]!.tentative, family: a[3]!.family },
      { address: '2001:db8::10', up: false, tentative: true, family: 6 },
    );
  });

  test('rejects a document that is not iproute2 JSON', () => {
    assert.throws(() => parseIpAddressJson('{}'), /JSON array/);
    assert.throws(() => parseIpAddressJson('1: lo: <LOOPBACK,UP>'), SyntaxError);
  });

  test('globMatch and normalizeIp', () => {
    assert.ok(globMatch('lo:web', 'lo:web'));
    assert.ok(globMatch('lo:*', 'lo:web1'));
    assert.ok(globMatch('eth?', 'eth1'));
    assert.ok(!globMatch('lo:*', 'eth0:web'));
    assert.ok(!globMatch('lo.web', 'loXweb'));
    assert.equal(normalizeIp('2001:DB8::0:1'), '2001:db8::1');
    assert.equal(normalizeIp('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(normalizeIp('nope'), null);
  });
});
