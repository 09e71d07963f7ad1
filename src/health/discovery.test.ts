import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { type CheckEnv, defaultCheckEnv } from './checks.ts';
import { parseService } from './config.ts';
import { DiscoveryService, discoverAddresses } from './discovery.ts';
import { fakeProc } from './testing.ts';
import { ManualTimer } from './timer.ts';

const T0 = 1_700_000_000_000;

// Interfaces matching the listeners of the /proc fixture (testing.ts): 192.0.2.10 on lo (label lo:web),
// 192.0.2.12 on a down eth0, 2001:db8::10 on lo.
function links(opts: { drop10?: boolean } = {}) {
  return JSON.stringify([
    {
      ifname: 'lo',
      flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
      addr_info: [
        { family: 'inet', local: '127.0.0.1', prefixlen: 8, label: 'lo' },
        ...(opts.drop10 ? [] : [{ family: 'inet', local: '192.0.2.10', prefixlen: 32, label: 'lo:web' }]),
        { family: 'inet6', local: '2001:db8::10', prefixlen: 128 },
      ],
    },
    {
      ifname: 'eth0',
      flags: ['BROADCAST'],
      addr_info: [{ family: 'inet', local: '192.0.2.12', prefixlen: 24, label: 'eth0' }],
    },
  ]);
}

describe('discoverAddresses', () => {
  const root = fakeProc();
  after(() => rmSync(root, { recursive: true, force: true }));
  const env = (json = links()): CheckEnv => ({ ...defaultCheckEnv, procRoot: root, ip: async () => json });

  test('listening, inside the networks, and up on an interface', async () => {
    const d = { networks: ['192.0.2.0/24', '2001:db8::/32'], ports: [80, 443] };
    // 0.0.0.0:80 and [::]:22 name no address; 192.0.2.12 is on a down interface; 127.0.0.1 is outside the networks.
    assert.deepEqual(await discoverAddresses(d, env()), ['192.0.2.10/32', '2001:db8::10/128']);
    assert.deepEqual(await discoverAddresses({ ...d, ports: [443] }, env()), ['192.0.2.10/32']);
    assert.deepEqual(await discoverAddresses({ ...d, label: 'lo:*' }, env()), ['192.0.2.10/32']);
    assert.deepEqual(await discoverAddresses({ ...d, device: 'eth0' }, env()), []);
    assert.deepEqual(await discoverAddresses({ ...d, networks: ['198.51.100.0/24'] }, env()), []);
    assert.deepEqual(await discoverAddresses(d, env(links({ drop10: true }))), ['2001:db8::10/128']);
    assert.deepEqual(await discoverAddresses({ networks: ['127.0.0.0/8'], ports: [8080] }, env()), ['127.0.0.1/32']);
  });

  test('live: a real listener on 127.0.0.1 inside 127.0.0.0/8', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    const found = await discoverAddresses({ networks: ['127.0.0.0/8'], ports: [port] });
    await new Promise<void>((r) => srv.close(() => r()));
    assert.deepEqual(found, ['127.0.0.1/32']);
    assert.deepEqual(await discoverAddresses({ networks: ['127.0.0.0/8'], ports: [port] }), []);
  });
});

describe('DiscoveryService', () => {
  test('each discovered address is its own service: announced after rise, withdrawn when it goes away, then dropped', async () => {
    const root = fakeProc();
    after(() => rmSync(root, { recursive: true, force: true }));
    let json = links();
    const env: CheckEnv = { ...defaultCheckEnv, procRoot: root, ip: async () => json };
    const timer = new ManualTimer(T0);
    const cfg = parseService({
      name: 'anycast',
      discover: { networks: ['192.0.2.0/24', '2001:db8::/32'] },
      interval: 1,
      rise: 2,
      fall: 2,
      damping: false,
    });
    const svc = new DiscoveryService(cfg, { timer, env });
    const events: string[] = [];
    svc.on('announce', (p) => events.push(`+${(timer.now() - T0) / 1000} announce ${p.join(',')}`));
    svc.on('withdraw', (p) => events.push(`+${(timer.now() - T0) / 1000} withdraw ${p.join(',')}`));
    svc.start();
    await timer.advance(1000);
    assert.deepEqual(svc.members(), ['192.0.2.10/32', '2001:db8::10/128']);
    assert.deepEqual(events.sort(), ['+1 announce 192.0.2.10/32', '+1 announce 2001:db8::10/128']);
    assert.equal(svc.status().state, 'up');
    assert.deepEqual(svc.status().prefixes, ['192.0.2.10/32', '2001:db8::10/128']);

    // The address leaves the interface: its own checks fail at 2 and 3 → withdrawn at 3; discovery then drops it.
    json = links({ drop10: true });
    await timer.advance(3000);
    assert.deepEqual(events.slice(2), ['+3 withdraw 192.0.2.10/32']);
    assert.deepEqual(svc.members(), ['2001:db8::10/128']);
    assert.match(svc.status().history.at(-1)!.reason, /192\.0\.2\.10\/32: no longer discovered and down: dropped/);

    svc.drain();
    assert.deepEqual(events.slice(3), ['+4 withdraw 2001:db8::10/128']);
    assert.equal(svc.status().state, 'drained');
    svc.undrain();
    assert.deepEqual(events.slice(4), ['+4 announce 2001:db8::10/128']);
    await svc.stop();
    assert.equal(timer.pending, 0);
  });

  test('a failing discovery keeps the previous set and reports the error', async () => {
    const timer = new ManualTimer(T0);
    const cfg = parseService({ name: 'x', discover: { networks: ['192.0.2.0/24'] }, interval: 1 });
    let fail = false;
    const svc = new DiscoveryService(cfg, {
      timer,
      discover: async () => {
        if (fail) throw new Error('ip: command not found');
        return ['192.0.2.10/32'];
      },
      probe: async () => ({ status: 'ok', detail: '', durationMs: 0, results: [] }),
    });
    svc.start();
    await timer.advance(0);
    fail = true;
    await timer.advance(1000);
    assert.deepEqual(svc.members(), ['192.0.2.10/32']);
    assert.equal(svc.status().lastCheck?.detail, 'discovery: ip: command not found');
    await svc.stop();
  });
});
