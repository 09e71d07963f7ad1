import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AsPathSegmentType, WellKnownCommunity } from '../wire/index.ts';
import { parseService } from './config.ts';
import { type AnnounceAttrs, Service, toPathAttributes } from './service.ts';
import { scriptedProbe } from './testing.ts';
import { ManualTimer } from './timer.ts';

const T0 = 1_700_000_000_000;

function harness(overrides: Record<string, unknown> = {}) {
  const timer = new ManualTimer(T0);
  const script = scriptedProbe('ok');
  const files = new Set<string>();
  const config = parseService({
    name: 'web',
    prefixes: ['192.0.2.10/32', '2001:db8::10/128'],
    interval: 2,
    fast_interval: 1,
    rise: 3,
    fall: 3,
    damping: false,
    checks: [{ type: 'tcp', target: '127.0.0.1:1' }],
    ...overrides,
  });
  const svc = new Service(config, { timer, probe: script.probe, fileExists: async (p) => files.has(p) });
  const events: string[] = [];
  const fmt = (a: AnnounceAttrs) =>
    [
      a.med !== undefined ? `med=${a.med}` : '',
      a.localPref !== undefined ? `lp=${a.localPref}` : '',
      a.asPathPrepend ? `prepend=${a.asPathPrepend}` : '',
      a.communities.length ? `c=${a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`).join(',')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  svc.on('announce', (p, a) => events.push(`+${(timer.now() - T0) / 1000} announce ${p.length} ${fmt(a)}`.trim()));
  svc.on('withdraw', (p) => events.push(`+${(timer.now() - T0) / 1000} withdraw ${p.length}`));
  const checks: number[] = [];
  svc.on('check', (r) => checks.push((r.at - T0) / 1000));
  /** Advances to `s` seconds after T0. */
  const at = (s: number) => timer.advance(T0 + s * 1000 - timer.now());
  /** Flaps the check once a second from +1 s to +`until` s: failed at odd seconds, ok at even ones (with `detail`). */
  const flap = async (until: number, detail?: { ok: string; failed: string }) => {
    for (let t = 1; t <= until; t++) {
      const s = t % 2 === 1 ? 'failed' : 'ok';
      script.set(s, detail?.[s]);
      await at(t);
    }
  };
  return { timer, svc, script, files, events, checks, at, flap };
}

describe('Service: rise, fall and intervals', () => {
  test('rise: announced after 3 passes, checking every fast_interval while rising, then every interval', async () => {
    const h = harness();
    h.svc.start();
    await h.at(0);
    assert.equal(h.svc.state, 'rising');
    await h.at(1.999);
    assert.deepEqual(h.events, []);
    await h.at(2);
    assert.equal(h.svc.state, 'up');
    assert.deepEqual(h.events, ['+2 announce 2']);
    await h.at(10);
    assert.deepEqual(h.checks, [0, 1, 2, 4, 6, 8, 10]);
    await h.svc.stop();
  });

  test('fall: withdrawn after 3 failures in a row; a pass in between resets the count', async () => {
    const h = harness();
    h.svc.start();
    await h.at(2);
    h.script.set('failed', 'ECONNREFUSED');
    await h.at(4);
    assert.equal(h.svc.state, 'falling');
    h.script.set('ok');
    await h.at(5);
    assert.equal(h.svc.state, 'up');
    h.script.set('failed');
    await h.at(7);
    assert.equal(h.svc.state, 'falling');
    await h.at(9);
    assert.equal(h.svc.state, 'down');
    assert.deepEqual(h.events, ['+2 announce 2', '+9 withdraw 2']);
    // Fast while falling (5→7 is the normal interval after the recovery at 5), normal once down.
    assert.deepEqual(h.checks, [0, 1, 2, 4, 5, 7, 8, 9]);
    await h.at(13);
    assert.deepEqual(h.checks.slice(-2), [11, 13]);
    const last = h.svc.status().history.at(-1)!;
    assert.deepEqual([last.from, last.to, last.announced], ['falling', 'down', false]);
    assert.match(last.reason, /3 failed check\(s\) in a row; last failed \(scripted\)/);
    await h.svc.stop();
  });

  test('a service that never comes up is never announced; init → falling → down', async () => {
    const h = harness();
    h.script.set('failed');
    h.svc.start();
    await h.at(0);
    assert.equal(h.svc.state, 'falling');
    await h.at(2);
    assert.equal(h.svc.state, 'down');
    await h.at(20);
    assert.deepEqual(h.events, []);
    assert.equal(h.svc.status().announced, false);
    await h.svc.stop();
  });

  test('rise = fall = 1 reacts to every result', async () => {
    const h = harness({ rise: 1, fall: 1 });
    h.svc.start();
    await h.at(0);
    h.script.set('failed');
    await h.at(2);
    h.script.set('ok');
    await h.at(4);
    assert.deepEqual(h.events, ['+0 announce 2', '+2 withdraw 2', '+4 announce 2']);
    await h.svc.stop();
  });

  test('stop() cancels the schedule: no more checks, no more events', async () => {
    const h = harness();
    h.svc.start();
    await h.at(2);
    await h.svc.stop();
    const calls = h.script.calls;
    h.script.set('failed');
    await h.at(60);
    assert.equal(h.script.calls, calls);
    assert.equal(h.timer.pending, 0);
    assert.deepEqual(h.events, ['+2 announce 2']);
  });
});

describe('Service: withdraw delay', () => {
  test('a service that fails and comes back within the delay is never withdrawn', async () => {
    const h = harness({ withdraw_delay: 10 });
    h.svc.start();
    await h.at(2);
    h.script.set('failed');
    await h.at(6); // failures at 4, 5, 6: fall reached, withdrawal due at 16
    assert.equal(h.svc.status().withdrawPendingUntil, T0 + 16_000);
    assert.equal(h.svc.state, 'falling');
    h.script.set('ok');
    await h.at(9); // passes at 7, 8, 9
    assert.equal(h.svc.state, 'up');
    assert.equal(h.svc.status().withdrawPendingUntil, null);
    await h.at(30);
    assert.deepEqual(h.events, ['+2 announce 2']);
    await h.svc.stop();
  });

  test('still failing when the delay is over: withdrawn exactly then', async () => {
    const h = harness({ withdraw_delay: 10 });
    h.svc.start();
    await h.at(2);
    h.script.set('failed');
    await h.at(15.999);
    assert.deepEqual(h.events, ['+2 announce 2']);
    await h.at(16);
    assert.deepEqual(h.events, ['+2 announce 2', '+16 withdraw 2']);
    assert.equal(h.svc.state, 'down');
    assert.match(h.svc.status().history.at(-1)!.reason, /withdraw delay of 10 s over/);
    await h.svc.stop();
  });

  test('coming back at the deadline holds the route; the next failure withdraws at once', async () => {
    const g = harness({ withdraw_delay: 3, rise: 5 });
    g.svc.start();
    await g.at(4);
    g.script.set('failed');
    await g.at(8); // failures 6, 7, 8 → due at 11
    g.script.set('ok');
    await g.at(11); // passes at 9, 10, 11: coming back (3 of 5) when the delay ends
    assert.equal(g.svc.state, 'falling');
    assert.deepEqual(g.events, ['+4 announce 2']);
    g.script.set('failed');
    await g.at(12);
    assert.deepEqual(g.events, ['+4 announce 2', '+12 withdraw 2']);
    await g.svc.stop();
  });
});

describe('Service: warning and failed actions', () => {
  test('WARNING fall times in a row degrades (MED 500 by default); rise OKs restore the base attributes', async () => {
    const h = harness({ med: 10, communities: ['65000:1'] });
    h.svc.start();
    await h.at(2);
    h.script.set('warning', 'exit 1 (WARNING)');
    await h.at(5);
    assert.equal(h.svc.state, 'up');
    await h.at(6);
    assert.equal(h.svc.state, 'warning');
    h.script.set('ok');
    // Degraded and stable: next check at 8 (interval), then fast: 9, 10.
    await h.at(9);
    assert.equal(h.svc.state, 'warning');
    await h.at(10);
    assert.equal(h.svc.state, 'up');
    assert.deepEqual(h.events, [
      '+2 announce 2 med=10 c=65000:1',
      '+6 announce 2 med=500 c=65000:1',
      '+10 announce 2 med=10 c=65000:1',
    ]);
    await h.svc.stop();
  });

  test('configured warning changes: MED, local-pref, prepend, added communities', async () => {
    const h = harness({
      warning: { med: 200, local_pref: 50, as_path_prepend: 3, communities: ['65000:666'] },
      communities: ['65000:1'],
    });
    h.script.set('warning');
    h.svc.start();
    await h.at(2);
    // Rising through WARNINGs announces degraded straight away.
    assert.deepEqual(h.events, ['+2 announce 2 med=200 lp=50 prepend=3 c=65000:1,65000:666']);
    await h.svc.stop();
  });

  test('warning.action = "withdraw"', async () => {
    const h = harness({ warning: { action: 'withdraw' } });
    h.svc.start();
    await h.at(2);
    h.script.set('warning');
    await h.at(6);
    assert.deepEqual(h.events, ['+2 announce 2', '+6 withdraw 2']);
    assert.equal(h.svc.state, 'warning');
    await h.svc.stop();
  });

  test('failed.action = "announce" keeps the route with the failed attributes', async () => {
    const h = harness({ failed: { action: 'announce', communities: ['65000:999'] } });
    h.svc.start();
    await h.at(2);
    h.script.set('failed');
    await h.at(6);
    assert.equal(h.svc.state, 'down');
    assert.deepEqual(h.events, ['+2 announce 2', '+6 announce 2 med=1000 c=65000:999']);
    await h.svc.stop();
  });

  test('failures count towards degradation: WARNING, FAILED, WARNING degrades without withdrawing', async () => {
    const h = harness();
    h.svc.start();
    await h.at(2);
    h.script.set('warning');
    await h.at(4);
    h.script.set('failed');
    await h.at(5);
    h.script.set('warning');
    await h.at(6);
    assert.equal(h.svc.state, 'warning');
    assert.deepEqual(h.events, ['+2 announce 2', '+6 announce 2 med=500']);
    await h.svc.stop();
  });
});

describe('Service: flap damping', () => {
  const fast = { rise: 1, fall: 1, interval: 1, fast_interval: 1 };

  test('suppressed once the penalty reaches the threshold; reused when it has decayed to reuse', async () => {
    const h = harness({
      ...fast,
      damping: { penalty: 1000, suppress: 3000, reuse: 750, half_life: 60, max_suppress: 3600 },
    });
    h.svc.start();
    // ok@0 announce (first: free), fail@1 (+1000), ok@2 (+1000), fail@3 (+1000 → 2965), ok@4 (+1000 → 3932)
    await h.at(0);
    for (const [t, s] of [
      [1, 'failed'],
      [2, 'ok'],
      [3, 'failed'],
      [4, 'ok'],
    ] as const) {
      h.script.set(s);
      await h.at(t);
    }
    assert.deepEqual(h.events, ['+0 announce 2', '+1 withdraw 2', '+2 announce 2', '+3 withdraw 2']);
    const st = h.svc.status();
    assert.equal(st.state, 'up');
    assert.equal(st.announced, false);
    assert.equal(st.damping.suppressed, true);
    // 1000 decays for 1 s four times over: p = ((1000·d + 1000)·d + 1000)·d + 1000, d = 2^(-1/60)
    const d = 2 ** (-1 / 60);
    const p = ((1000 * d + 1000) * d + 1000) * d + 1000;
    assert.equal(st.damping.penalty, Math.round(p));
    const reuseAt = T0 + 4000 + Math.ceil(60_000 * Math.log2(p / 750));
    assert.equal(st.damping.reuseAt, reuseAt);
    assert.match(st.history.at(-1)!.reason, /damping: penalty 3932 ≥ suppress 3000, held down/);
    await h.timer.advance(reuseAt - 1 - h.timer.now());
    assert.equal(h.events.length, 4);
    await h.timer.advance(1);
    assert.equal(h.events.length, 5);
    assert.match(h.events[4]!, /announce 2$/);
    assert.equal(h.svc.status().damping.suppressed, false);
    assert.match(h.svc.status().history.at(-1)!.reason, /decayed to 750 ≤ reuse 750/);
    await h.svc.stop();
  });

  test('max_suppress caps the hold-down after the last change', async () => {
    // ceiling = reuse · 2^(max_suppress / half_life) = 750 · 2^(120/60) = 3000
    const h = harness({
      ...fast,
      damping: { penalty: 1000, suppress: 2000, reuse: 750, half_life: 60, max_suppress: 120 },
    });
    h.svc.start();
    await h.at(0);
    await h.flap(20);
    const st = h.svc.status();
    assert.equal(st.damping.suppressed, true);
    assert.equal(st.damping.penalty, 3000);
    assert.equal(st.damping.reuseAt, T0 + 20_000 + 120_000);
    h.script.set('ok');
    await h.at(20 + 120);
    assert.equal(h.svc.status().announced, true);
    await h.svc.stop();
  });

  test('damping = false never suppresses', async () => {
    const h = harness({ ...fast });
    h.svc.start();
    await h.at(0);
    await h.flap(20);
    assert.equal(h.events.length, 21);
    assert.equal(h.svc.status().damping.suppressed, false);
    await h.svc.stop();
  });

  test('attribute changes add attribute_penalty only', async () => {
    const h = harness({
      ...fast,
      damping: { attribute_penalty: 500, penalty: 1000, suppress: 3000, reuse: 750, half_life: 60 },
    });
    h.svc.start();
    await h.at(0);
    h.script.set('warning');
    await h.at(1);
    assert.equal(h.svc.status().damping.penalty, 500);
    await h.svc.stop();
  });
});

describe('Service: drain', () => {
  test('drain file: withdrawn while it exists (checked every interval), announced again once removed', async () => {
    const h = harness({ drain_file: '/run/tsbgp/drain-web' });
    h.svc.start();
    await h.at(2);
    h.files.add('/run/tsbgp/drain-web');
    await h.at(3.9);
    assert.equal(h.svc.state, 'up');
    await h.at(4);
    assert.equal(h.svc.state, 'drained');
    assert.deepEqual(h.svc.status().drained, { file: true, api: false, since: T0 + 4000 });
    h.files.delete('/run/tsbgp/drain-web');
    await h.at(6);
    assert.equal(h.svc.state, 'up');
    assert.deepEqual(h.events, ['+2 announce 2', '+4 withdraw 2', '+6 announce 2']);
    const reasons = h.svc.status().history.map((e) => `${e.from}→${e.to}: ${e.reason}`);
    assert.ok(reasons.includes('up→drained: drain file /run/tsbgp/drain-web present'));
    assert.ok(reasons.includes('drained→up: drain file /run/tsbgp/drain-web removed'));
    await h.svc.stop();
  });

  test('API drain/undrain; drained during init announces nothing; undrain of a healthy service announces at once', async () => {
    const h = harness();
    h.svc.drain();
    h.svc.start();
    await h.at(10);
    assert.equal(h.svc.state, 'drained');
    assert.equal(h.svc.status().health, 'up');
    assert.deepEqual(h.events, []);
    h.svc.undrain();
    assert.deepEqual(h.events, ['+10 announce 2']);
    h.svc.drain();
    assert.deepEqual(h.events, ['+10 announce 2', '+10 withdraw 2']);
    await h.svc.stop();
  });

  test('graceful shutdown: announce with 65535:0 for the grace period, then withdraw', async () => {
    const h = harness({ drained: { action: 'graceful-shutdown', grace: 30 }, communities: ['65000:1'] });
    h.svc.start();
    await h.at(2);
    h.svc.drain();
    assert.deepEqual(h.events, ['+2 announce 2 c=65000:1', '+2 announce 2 c=65000:1,65535:0']);
    const a = h.svc.announcement();
    assert.ok(a.action === 'announce' && a.attrs.communities.includes(WellKnownCommunity.GRACEFUL_SHUTDOWN));
    await h.at(31.999);
    assert.equal(h.events.length, 2);
    await h.at(32);
    assert.deepEqual(h.events.slice(2), ['+32 withdraw 2']);
    h.svc.undrain();
    assert.deepEqual(h.events.slice(3), ['+32 announce 2 c=65000:1']);
    await h.svc.stop();
  });

  test('graceful shutdown with grace 0 keeps announcing until undrained; a failure withdraws at once', async () => {
    const h = harness({ drained: { action: 'graceful-shutdown', grace: 0 } });
    h.svc.start();
    await h.at(2);
    h.svc.drain();
    await h.at(100);
    assert.deepEqual(h.events, ['+2 announce 2', '+2 announce 2 c=65535:0']);
    h.script.set('failed');
    await h.at(106);
    assert.deepEqual(h.events.slice(2), ['+104 withdraw 2']);
    await h.svc.stop();
  });

  test('graceful shutdown of a service that is not announced withdraws nothing new', async () => {
    const h = harness({ drained: { action: 'graceful-shutdown', grace: 30 } });
    h.script.set('failed');
    h.svc.start();
    await h.at(2);
    h.svc.drain();
    await h.at(60);
    assert.deepEqual(h.events, []);
    await h.svc.stop();
  });
});

describe('Service: history and status', () => {
  test('keeps the last N transitions with timestamps and reasons', async () => {
    const h = harness({ rise: 1, fall: 1, interval: 1, history: 3 });
    h.svc.start();
    await h.at(0);
    await h.flap(6, { failed: 'ECONNREFUSED', ok: 'connected' });
    const hist = h.svc.status().history;
    assert.equal(hist.length, 3);
    assert.deepEqual(
      hist.map((e) => [(e.at - T0) / 1000, e.from, e.to, e.announced]),
      [
        [4, 'down', 'up', true],
        [5, 'up', 'down', false],
        [6, 'down', 'up', true],
      ],
    );
    assert.match(hist[1]!.reason, /1 failed check\(s\) in a row; last failed \(ECONNREFUSED\)/);
    const st = h.svc.status();
    assert.equal(st.lastCheck?.detail, 'connected');
    assert.deepEqual(st.counters, { passes: 1, failures: 0, ok: 1, notOk: 0 });
    await h.svc.stop();
  });

  test('a probe that throws counts as a failure', async () => {
    const timer = new ManualTimer(T0);
    const cfg = parseService({
      name: 'x',
      prefixes: ['192.0.2.1/32'],
      rise: 1,
      fall: 1,
      checks: [{ type: 'command', target: 'true' }],
    });
    const svc = new Service(cfg, {
      timer,
      probe: async () => {
        throw new Error('boom');
      },
    });
    svc.start();
    await timer.advance(0);
    assert.equal(svc.state, 'down');
    assert.equal(svc.status().lastCheck?.detail, 'check error: boom');
    await svc.stop();
  });
});

test('toPathAttributes: prepends the local AS, carries MED, local-pref, communities', () => {
  assert.deepEqual(
    toPathAttributes(
      { nextHop: 'self', asPathPrepend: 2, med: 5, localPref: 50, communities: [1], largeCommunities: [[1, 2, 3]] },
      65001,
    ),
    {
      origin: 0,
      asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001, 65001] }],
      med: 5,
      localPref: 50,
      communities: [1],
      largeCommunities: [[1, 2, 3]],
    },
  );
  assert.deepEqual(toPathAttributes({ nextHop: 'self', asPathPrepend: 0, communities: [], largeCommunities: [] }, 1), {
    origin: 0,
    asPath: [],
  });
});
