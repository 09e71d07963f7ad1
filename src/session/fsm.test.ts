// The FSM without sockets or sleeps: a fake clock (plain numbers) and a fixed "random".

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  collisionWinner,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  initialState,
  LARGE_HOLD_TIME,
  nextDeadline,
  retryDelayMs,
  step,
} from './fsm.ts';

const LOCAL_ID = 0x0a000002; // 10.0.0.2
const cfg = (over: Partial<FsmConfig> = {}): FsmConfig => ({
  localId: LOCAL_ID,
  localAsn: 65001,
  remoteAsn: 65002,
  passive: false,
  connectRetryTime: 5,
  ...over,
});
const mid = () => 0.5; // jitter factor exactly 1

/** Runs events at time `now`, returning the final state and every action. */
function run(s: FsmState, events: FsmEvent[], now = 0): { s: FsmState; actions: FsmAction[] } {
  const actions: FsmAction[] = [];
  for (const ev of events) {
    const r = step(s, ev, now, mid);
    s = r.state;
    actions.push(...r.actions);
  }
  return { s, actions };
}

const types = (a: FsmAction[]) => a.map((x) => x.type);

/** A state with one outgoing connection in the given phase (id 1), at time 0. */
function outIn(phase: 'connecting' | 'opensent' | 'openconfirm' | 'established', c = cfg()): FsmState {
  const seq: FsmEvent[] = [{ type: 'start' }];
  if (phase !== 'connecting') seq.push({ type: 'tcp-connected', id: 1 });
  if (phase === 'openconfirm' || phase === 'established') seq.push({ type: 'open', id: 1, holdTime: 90, remoteId: 1 });
  if (phase === 'established') seq.push({ type: 'keepalive', id: 1 });
  return run(initialState(c), seq).s;
}

describe('fsm: start and connect', () => {
  test('idle → connect on start, with a connect action and the connect-retry deadline', () => {
    const r = step(initialState(cfg()), { type: 'start' }, 1000, mid);
    assert.equal(r.state.state, 'connect');
    assert.deepEqual(r.actions, [{ type: 'connect', id: 1 }]);
    assert.equal(r.state.connectRetryAt, 6000);
  });

  test('a passive peer goes to active and does not connect', () => {
    const r = step(initialState(cfg({ passive: true })), { type: 'start' }, 0, mid);
    assert.equal(r.state.state, 'active');
    assert.deepEqual(r.actions, []);
    assert.equal(nextDeadline(r.state), null);
  });

  test('start while up is a no-op', () => {
    const s = outIn('opensent');
    const r = step(s, { type: 'start' }, 10, mid);
    assert.equal(r.state.state, 'opensent');
    assert.deepEqual(r.actions, []);
  });

  test('tcp-connected → opensent, OPEN sent, large hold timer, connect-retry stopped', () => {
    const r = run(initialState(cfg()), [{ type: 'start' }, { type: 'tcp-connected', id: 1 }], 0);
    assert.equal(r.s.state, 'opensent');
    assert.deepEqual(types(r.actions), ['connect', 'send-open']);
    assert.equal(r.s.conns[0]!.holdAt, LARGE_HOLD_TIME * 1000);
    assert.equal(r.s.connectRetryAt, null);
  });

  test('a failed connect goes to active, reports the attempt and schedules a retry', () => {
    const r = step(outIn('connecting'), { type: 'tcp-closed', id: 1, error: 'ECONNREFUSED' }, 100, mid);
    assert.equal(r.state.state, 'active');
    assert.deepEqual(r.actions, [
      { type: 'close', id: 1 },
      { type: 'down', id: 1, wasEstablished: false, message: 'connect failed: ECONNREFUSED' },
    ]);
    assert.equal(r.state.failures, 1);
    assert.equal(r.state.connectRetryAt, 5100);
  });

  test('the retry deadline starts a new connection', () => {
    let s = step(outIn('connecting'), { type: 'tcp-closed', id: 1 }, 0, mid).state;
    const early = step(s, { type: 'tick' }, 4999, mid);
    assert.deepEqual(early.actions, []);
    s = step(s, { type: 'tick' }, 5000, mid).state;
    assert.equal(s.state, 'connect');
    assert.equal(s.conns[0]!.id, 2);
  });

  test('a connect attempt that outlives the connect-retry timer is abandoned and retried', () => {
    const r = step(outIn('connecting'), { type: 'tick' }, 5000, mid);
    assert.deepEqual(types(r.actions), ['close', 'down', 'connect']);
    assert.equal((r.actions[1] as { message: string }).message, 'connect timed out');
    assert.equal(r.state.state, 'connect');
    assert.deepEqual(
      r.state.conns.map((c) => c.id),
      [2],
    );
  });

  test('backoff doubles per failure up to 8× the configured time', () => {
    let s = outIn('connecting');
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      s = step(s, { type: 'tcp-closed', id: s.conns[0]!.id }, now, mid).state;
      delays.push(s.connectRetryAt! - now);
      now = s.connectRetryAt!;
      s = step(s, { type: 'tick' }, now, mid).state;
    }
    assert.deepEqual(delays, [5000, 10000, 20000, 40000, 40000, 40000]);
  });

  test('jitter is ±25% via the injected random', () => {
    assert.equal(retryDelayMs(10, 1, 0), 7500);
    assert.equal(retryDelayMs(10, 1, 0.5), 10000);
    assert.equal(retryDelayMs(10, 1, 0.999999), 12500);
    assert.equal(retryDelayMs(10, 2, 0), 15000);
    assert.equal(retryDelayMs(10, 9, 0.5), 80000);
  });

  test('a passive peer schedules no retry after a failure', () => {
    let s = run(initialState(cfg({ passive: true })), [{ type: 'start' }, { type: 'incoming' }]).s;
    assert.equal(s.state, 'opensent');
    s = step(s, { type: 'tcp-closed', id: 1 }, 0, mid).state;
    assert.equal(s.state, 'active');
    assert.equal(s.connectRetryAt, null);
  });
});

describe('fsm: OPEN and negotiation outcome', () => {
  test('a valid OPEN → openconfirm, KEEPALIVE sent, negotiated timers', () => {
    const r = step(outIn('opensent'), { type: 'open', id: 1, holdTime: 90, remoteId: 7 }, 1000, mid);
    assert.equal(r.state.state, 'openconfirm');
    assert.deepEqual(r.actions, [{ type: 'send-keepalive', id: 1 }]);
    const c = r.state.conns[0]!;
    assert.equal(c.holdAt, 91000);
    assert.equal(c.keepaliveAt, 31000);
    assert.equal(c.keepaliveTime, 30);
  });

  test('hold time 0 runs neither hold nor keepalive timer', () => {
    const s = run(outIn('opensent'), [
      { type: 'open', id: 1, holdTime: 0, remoteId: 7 },
      { type: 'keepalive', id: 1 },
    ]).s;
    assert.equal(s.state, 'established');
    assert.equal(s.conns[0]!.holdAt, null);
    assert.equal(s.conns[0]!.keepaliveAt, null);
    assert.equal(nextDeadline(s), null);
  });

  test('a rejected OPEN sends its NOTIFICATION, closes and reports', () => {
    const r = step(
      outIn('opensent'),
      { type: 'open-rejected', id: 1, code: 2, subcode: 2, message: 'bad peer AS: expected 65002, got 65003' },
      0,
      mid,
    );
    assert.deepEqual(r.actions, [
      { type: 'send-notification', id: 1, code: 2, subcode: 2 },
      { type: 'close', id: 1 },
      {
        type: 'down',
        id: 1,
        wasEstablished: false,
        message: 'bad peer AS: expected 65002, got 65003',
        notification: { direction: 'sent', code: 2, subcode: 2 },
      },
    ]);
    assert.equal(r.state.state, 'active');
    assert.equal(r.state.connectRetryAt, 5000);
  });

  test('KEEPALIVE in openconfirm → established; failures reset', () => {
    let s = step(outIn('connecting'), { type: 'tcp-closed', id: 1 }, 0, mid).state;
    s = run(
      s,
      [{ type: 'tick' }, { type: 'tcp-connected', id: 2 }, { type: 'open', id: 2, holdTime: 9, remoteId: 3 }],
      5000,
    ).s;
    assert.equal(s.failures, 1);
    const r = step(s, { type: 'keepalive', id: 2 }, 6000, mid);
    assert.equal(r.state.state, 'established');
    assert.deepEqual(r.actions, [{ type: 'established', id: 2 }]);
    assert.equal(r.state.failures, 0);
    assert.equal(r.state.conns[0]!.holdAt, 15000);
  });
});

describe('fsm: unexpected messages (RFC 6608 subcodes)', () => {
  const cases: { phase: 'opensent' | 'openconfirm' | 'established'; ev: FsmEvent; subcode: number | null }[] = [
    { phase: 'opensent', ev: { type: 'keepalive', id: 1 }, subcode: 1 },
    { phase: 'opensent', ev: { type: 'update', id: 1 }, subcode: 1 },
    { phase: 'opensent', ev: { type: 'route-refresh', id: 1 }, subcode: 1 },
    { phase: 'openconfirm', ev: { type: 'update', id: 1 }, subcode: 2 },
    { phase: 'openconfirm', ev: { type: 'route-refresh', id: 1 }, subcode: 2 },
    { phase: 'openconfirm', ev: { type: 'open', id: 1, holdTime: 90, remoteId: 1 }, subcode: 2 },
    { phase: 'established', ev: { type: 'open', id: 1, holdTime: 90, remoteId: 1 }, subcode: 3 },
    { phase: 'established', ev: { type: 'update', id: 1 }, subcode: null },
    { phase: 'established', ev: { type: 'route-refresh', id: 1 }, subcode: null },
    { phase: 'established', ev: { type: 'keepalive', id: 1 }, subcode: null },
  ];
  for (const { phase, ev, subcode } of cases) {
    test(`${ev.type} in ${phase} → ${subcode === null ? 'accepted' : `NOTIFICATION 5/${subcode}`}`, () => {
      const s = outIn(phase);
      const r = step(s, ev, 10, mid);
      if (subcode === null) {
        assert.equal(r.state.state, 'established');
        assert.ok(!r.actions.some((a) => a.type === 'send-notification'));
        return;
      }
      assert.deepEqual(r.actions[0], { type: 'send-notification', id: 1, code: 5, subcode });
      assert.deepEqual(types(r.actions), ['send-notification', 'close', 'down']);
      const down = r.actions[2] as Extract<FsmAction, { type: 'down' }>;
      assert.equal(down.wasEstablished, phase === 'established');
      assert.equal(r.state.state, 'active');
    });
  }
});

describe('fsm: established', () => {
  test('UPDATE is delivered and restarts the hold timer', () => {
    const s = outIn('established');
    const r = step(s, { type: 'update', id: 1 }, 50_000, mid);
    assert.deepEqual(r.actions, [{ type: 'deliver', id: 1 }]);
    assert.equal(r.state.conns[0]!.holdAt, 140_000);
  });

  test('KEEPALIVE restarts the hold timer', () => {
    const r = step(outIn('established'), { type: 'keepalive', id: 1 }, 50_000, mid);
    assert.deepEqual(r.actions, []);
    assert.equal(r.state.conns[0]!.holdAt, 140_000);
  });

  test('ROUTE-REFRESH is delivered and does not restart the hold timer', () => {
    const s = outIn('established');
    const r = step(s, { type: 'route-refresh', id: 1 }, 50_000, mid);
    assert.deepEqual(r.actions, [{ type: 'deliver', id: 1 }]);
    assert.equal(r.state.conns[0]!.holdAt, s.conns[0]!.holdAt);
  });

  test('the keepalive timer fires every hold/3 seconds', () => {
    let s = outIn('established');
    assert.equal(nextDeadline(s), 30_000);
    let r = step(s, { type: 'tick' }, 30_000, mid);
    assert.deepEqual(r.actions, [{ type: 'send-keepalive', id: 1 }]);
    s = r.state;
    assert.equal(s.conns[0]!.keepaliveAt, 60_000);
    // Keepalives from the peer keep the hold timer from firing.
    s = step(s, { type: 'keepalive', id: 1 }, 59_000, mid).state;
    r = step(s, { type: 'tick' }, 60_000, mid);
    assert.deepEqual(r.actions, [{ type: 'send-keepalive', id: 1 }]);
  });

  test('hold timer expiry sends 4/0 and reports the session down', () => {
    const r = step(outIn('established'), { type: 'tick' }, 90_000, mid);
    assert.deepEqual(r.actions, [
      { type: 'send-notification', id: 1, code: 4, subcode: 0 },
      { type: 'close', id: 1 },
      {
        type: 'down',
        id: 1,
        wasEstablished: true,
        message: 'hold timer expired',
        notification: { direction: 'sent', code: 4, subcode: 0 },
      },
    ]);
    assert.equal(r.state.state, 'active');
    assert.equal(r.state.connectRetryAt, 95_000);
  });

  test('OpenSent hold timer (240 s) expiry', () => {
    const r = step(outIn('opensent'), { type: 'tick' }, 240_000, mid);
    assert.deepEqual(types(r.actions), ['send-notification', 'close', 'down']);
  });

  test('a received NOTIFICATION closes and reports it with its shutdown message', () => {
    const r = step(
      outIn('established'),
      { type: 'notification', id: 1, code: 6, subcode: 2, shutdownMessage: 'maintenance', message: 'x' },
      0,
      mid,
    );
    assert.deepEqual(r.actions, [
      { type: 'close', id: 1 },
      {
        type: 'down',
        id: 1,
        wasEstablished: true,
        message: 'x',
        notification: { direction: 'received', code: 6, subcode: 2, shutdownMessage: 'maintenance' },
      },
    ]);
  });

  test('a codec error sends its NOTIFICATION with data', () => {
    const data = Uint8Array.of(1, 2);
    const r = step(
      outIn('established'),
      { type: 'message-error', id: 1, code: 3, subcode: 1, data, message: 'malformed' },
      0,
      mid,
    );
    assert.deepEqual(r.actions[0], { type: 'send-notification', id: 1, code: 3, subcode: 1, data });
    assert.deepEqual(types(r.actions), ['send-notification', 'close', 'down']);
  });

  test('the peer closing the connection is reported', () => {
    const r = step(outIn('established'), { type: 'tcp-closed', id: 1 }, 0, mid);
    assert.deepEqual(r.actions[1], {
      type: 'down',
      id: 1,
      wasEstablished: true,
      message: 'connection closed by peer',
    });
  });
});

describe('fsm: administrative events', () => {
  test('stop sends Cease 2 with the shutdown text, closes, goes idle and stays there', () => {
    const r = step(outIn('established'), { type: 'stop', message: 'maintenance' }, 0, mid);
    assert.deepEqual(r.actions, [
      { type: 'send-notification', id: 1, code: 6, subcode: 2, shutdownMessage: 'maintenance' },
      { type: 'close', id: 1 },
      {
        type: 'down',
        id: 1,
        wasEstablished: true,
        message: 'administratively stopped',
        notification: { direction: 'sent', code: 6, subcode: 2, shutdownMessage: 'maintenance' },
      },
    ]);
    assert.equal(r.state.state, 'idle');
    assert.equal(nextDeadline(r.state), null);
    assert.deepEqual(step(r.state, { type: 'tick' }, 1e9, mid).actions, []);
  });

  test('stop with another subcode carries no shutdown text', () => {
    const r = step(outIn('established'), { type: 'stop', subcode: 3, message: 'ignored' }, 0, mid);
    assert.deepEqual(r.actions[0], { type: 'send-notification', id: 1, code: 6, subcode: 3 });
  });

  test('stop during connect just closes the attempt', () => {
    const r = step(outIn('connecting'), { type: 'stop' }, 0, mid);
    assert.deepEqual(r.actions, [{ type: 'close', id: 1 }]);
    assert.equal(r.state.state, 'idle');
  });

  test('reset sends Cease 4 and connects again at once', () => {
    const r = step(outIn('established'), { type: 'reset' }, 0, mid);
    assert.deepEqual(types(r.actions), ['send-notification', 'close', 'down', 'connect']);
    assert.deepEqual(r.actions[0], { type: 'send-notification', id: 1, code: 6, subcode: 4, shutdownMessage: '' });
    assert.equal(r.state.state, 'connect');
  });
});

describe('fsm: incoming connections and collisions', () => {
  test('incoming while admin down is rejected with Cease 5', () => {
    const r = step(initialState(cfg()), { type: 'incoming' }, 0, mid);
    assert.deepEqual(r.actions, [{ type: 'reject', subcode: 5 }]);
    assert.equal(r.state.state, 'idle');
  });

  test('incoming while established is rejected with Cease 7', () => {
    const r = step(outIn('established'), { type: 'incoming' }, 0, mid);
    assert.deepEqual(r.actions, [{ type: 'reject', subcode: 7 }]);
    assert.equal(r.state.conns.length, 1);
  });

  test('incoming while active is adopted and gets an OPEN', () => {
    const s = step(outIn('connecting'), { type: 'tcp-closed', id: 1 }, 0, mid).state;
    const r = step(s, { type: 'incoming' }, 0, mid);
    assert.deepEqual(r.actions, [
      { type: 'adopt', id: 2 },
      { type: 'send-open', id: 2 },
    ]);
    assert.equal(r.state.state, 'opensent');
  });

  test('a second incoming connection replaces the first', () => {
    const s = run(initialState(cfg({ passive: true })), [{ type: 'start' }, { type: 'incoming' }]).s;
    const r = step(s, { type: 'incoming' }, 0, mid);
    assert.deepEqual(types(r.actions), ['send-notification', 'close', 'adopt', 'send-open']);
    assert.deepEqual(
      r.state.conns.map((c) => c.id),
      [2],
    );
  });

  /** Out (id 1) and in (id 2) both in OpenSent. */
  function both(c = cfg()): FsmState {
    return run(initialState(c), [{ type: 'start' }, { type: 'tcp-connected', id: 1 }, { type: 'incoming' }]).s;
  }

  const collisions = [
    {
      name: 'local ID higher, OPEN on in while out is in openconfirm',
      localId: 0x0a000009,
      first: 1,
      second: 2,
      closed: 2,
    },
    {
      name: 'local ID higher, OPEN on out while in is in openconfirm',
      localId: 0x0a000009,
      first: 2,
      second: 1,
      closed: 2,
    },
    {
      name: 'local ID lower, OPEN on in while out is in openconfirm',
      localId: 0x0a000001,
      first: 1,
      second: 2,
      closed: 1,
    },
    {
      name: 'local ID lower, OPEN on out while in is in openconfirm',
      localId: 0x0a000001,
      first: 2,
      second: 1,
      closed: 1,
    },
    // Unsigned comparison: 200.0.0.1 is higher than 10.0.0.5.
    { name: 'IDs compared unsigned', localId: 0xc8000001, first: 1, second: 2, closed: 2 },
  ];
  for (const k of collisions) {
    test(`collision: ${k.name} → connection ${k.closed} gets Cease 7`, () => {
      const remoteId = 0x0a000005;
      let s = both(cfg({ localId: k.localId }));
      s = step(s, { type: 'open', id: k.first, holdTime: 90, remoteId }, 0, mid).state;
      assert.equal(s.state, 'openconfirm');
      const r = step(s, { type: 'open', id: k.second, holdTime: 90, remoteId }, 0, mid);
      const sent = r.actions.filter((a) => a.type === 'send-notification');
      assert.deepEqual(sent, [{ type: 'send-notification', id: k.closed, code: 6, subcode: 7 }]);
      assert.ok(!r.actions.some((a) => a.type === 'down'), 'a collision is not a session failure');
      assert.deepEqual(
        r.state.conns.map((c) => c.id),
        [k.closed === 1 ? 2 : 1],
      );
      assert.equal(r.state.state, 'openconfirm');
    });
  }

  test('both connections in opensent: no collision decision until one has an OPEN', () => {
    const r = step(both(), { type: 'open', id: 2, holdTime: 90, remoteId: 5 }, 0, mid);
    assert.deepEqual(r.actions, [{ type: 'send-keepalive', id: 2 }]);
    assert.equal(r.state.conns.length, 2);
  });

  test('reaching established closes the other connection with Cease 7', () => {
    let s = both();
    s = step(s, { type: 'open', id: 2, holdTime: 90, remoteId: 5 }, 0, mid).state;
    const r = step(s, { type: 'keepalive', id: 2 }, 0, mid);
    assert.deepEqual(r.actions, [
      { type: 'send-notification', id: 1, code: 6, subcode: 7 },
      { type: 'close', id: 1 },
      { type: 'established', id: 2 },
    ]);
  });

  test('an OPEN on a second connection while established → Cease 7 on the new one', () => {
    // In Established on in (id 2), out (id 1) still in OpenSent is impossible after the step above, so build it
    // by hand: established out, then an incoming adopted before establishment.
    let s = run(initialState(cfg()), [{ type: 'start' }, { type: 'tcp-connected', id: 1 }, { type: 'incoming' }]).s;
    s = run(s, [
      { type: 'open', id: 1, holdTime: 90, remoteId: 1 },
      { type: 'keepalive', id: 1 },
    ]).s;
    assert.equal(s.conns.length, 1, 'established closed the other');
    // A surplus outgoing connection completing while established is closed without an OPEN.
    const x = { ...s, conns: [...s.conns, { ...s.conns[0]!, id: 9, phase: 'connecting' as const }] };
    const r = step(x, { type: 'tcp-connected', id: 9 }, 0, mid);
    assert.deepEqual(r.actions, [{ type: 'close', id: 9 }]);
    const y = { ...s, conns: [...s.conns, { ...s.conns[0]!, id: 9, dir: 'in' as const, phase: 'opensent' as const }] };
    const r2 = step(y, { type: 'open', id: 9, holdTime: 90, remoteId: 1 }, 0, mid);
    assert.deepEqual(r2.actions, [
      { type: 'send-notification', id: 9, code: 6, subcode: 7 },
      { type: 'close', id: 9 },
    ]);
    assert.equal(r2.state.state, 'established');
  });

  test('Cease 7 received on one of two connections is not a failure', () => {
    const r = step(both(), { type: 'notification', id: 1, code: 6, subcode: 7, message: 'x' }, 0, mid);
    assert.deepEqual(r.actions, [{ type: 'close', id: 1 }]);
    assert.equal(r.state.failures, 0);
    assert.equal(r.state.state, 'opensent');
  });

  test('collisionWinner: unsigned IDs, then AS numbers when equal (RFC 6286)', () => {
    assert.equal(collisionWinner(2, 1, 1, 2), 'out');
    assert.equal(collisionWinner(1, 2, 1, 2), 'in');
    assert.equal(collisionWinner(0xffffffff, 1, 1, 2), 'out');
    assert.equal(collisionWinner(5, 5, 65002, 65001), 'out');
    assert.equal(collisionWinner(5, 5, 65001, 65002), 'in');
  });

  test('events for unknown connections are ignored', () => {
    const s = outIn('established');
    for (const ev of [
      { type: 'update', id: 42 },
      { type: 'keepalive', id: 42 },
      { type: 'tcp-closed', id: 42 },
      { type: 'tcp-connected', id: 42 },
      { type: 'open', id: 42, holdTime: 3, remoteId: 1 },
      { type: 'notification', id: 42, code: 6, subcode: 2, message: '' },
    ] as FsmEvent[]) {
      const r = step(s, ev, 0, mid);
      assert.deepEqual(r.actions, [], ev.type);
      assert.equal(r.state.state, 'established');
    }
  });
});

describe('fsm: properties over random event sequences', () => {
  const eventArb = fc.oneof(
    fc.constant<FsmEvent>({ type: 'start' }),
    fc.constant<FsmEvent>({ type: 'stop' }),
    fc.constant<FsmEvent>({ type: 'reset' }),
    fc.constant<FsmEvent>({ type: 'incoming' }),
    fc.constant<FsmEvent>({ type: 'tick' }),
    fc.integer({ min: 1, max: 8 }).chain((id) =>
      fc.oneof(
        fc.constant<FsmEvent>({ type: 'tcp-connected', id }),
        fc.constant<FsmEvent>({ type: 'tcp-closed', id }),
        fc.constant<FsmEvent>({ type: 'keepalive', id }),
        fc.constant<FsmEvent>({ type: 'update', id }),
        fc.constant<FsmEvent>({ type: 'route-refresh', id }),
        fc.constant<FsmEvent>({ type: 'notification', id, code: 6, subcode: 7, message: 'n' }),
        fc.constant<FsmEvent>({ type: 'message-error', id, code: 3, subcode: 1, message: 'e' }),
        fc.constant<FsmEvent>({ type: 'open-rejected', id, code: 2, subcode: 2, message: 'r' }),
        fc
          .tuple(fc.constantFrom(0, 3, 90), fc.constantFrom(1, 0x0a000002, 0xffffffff))
          .map(([holdTime, remoteId]): FsmEvent => ({ type: 'open', id, holdTime, remoteId })),
      ),
    ),
  );

  test('invariants hold after every step', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 100_000 })), { maxLength: 60 }),
        (passive, seq) => {
          let s = initialState(cfg({ passive }));
          let now = 0;
          const establishedIds = new Set<number>();
          for (const [ev, dt] of seq) {
            now += dt;
            const before = new Set(s.conns.map((c) => c.id));
            const r = step(s, ev, now, mid);
            s = r.state;
            const after = new Set(s.conns.map((c) => c.id));
            // At most one connection each way, at most one established.
            assert.ok(s.conns.filter((c) => c.dir === 'out').length <= 1);
            assert.ok(s.conns.filter((c) => c.dir === 'in').length <= 1);
            assert.ok(s.conns.filter((c) => c.phase === 'established').length <= 1);
            // Admin down means nothing open and no timers.
            if (!s.adminUp) {
              assert.equal(s.conns.length, 0);
              assert.equal(nextDeadline(s), null);
              assert.equal(s.state, 'idle');
            }
            if (s.config.passive) assert.ok(!s.conns.some((c) => c.dir === 'out'));
            // Deadlines are never in the past after a step that handled them.
            if (ev.type === 'tick') assert.ok((nextDeadline(s) ?? Infinity) > now);
            const closed = new Set<number>();
            for (const a of r.actions) {
              if (a.type === 'close') {
                assert.ok(before.has(a.id) && !after.has(a.id), `close of ${a.id}`);
                closed.add(a.id);
              }
              if (a.type === 'down') assert.ok(closed.has(a.id), 'down only after close');
              if (a.type === 'send-open' || a.type === 'send-keepalive' || a.type === 'send-notification') {
                assert.ok(before.has(a.id) || after.has(a.id), `${a.type} to a known connection`);
                assert.ok(!closed.has(a.id), `${a.type} after close`);
              }
              if (a.type === 'established') {
                assert.ok(!establishedIds.has(a.id), 'established once per connection');
                establishedIds.add(a.id);
              }
              if (a.type === 'deliver') assert.equal(s.conns.find((c) => c.id === a.id)?.phase, 'established');
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
