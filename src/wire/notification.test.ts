// NOTIFICATION names and the shutdown communication round trip; byte-level fixtures from BIRD and FRR are
// in message.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCode } from './constants.ts';
import { decodeMessage } from './message.ts';
import { describeNotification, encodeNotification, encodeShutdownNotification } from './notification.ts';
import { defaultCodecContext } from './types.ts';

const ctx = defaultCodecContext();

describe('describeNotification', () => {
  it('names RFC 4271 codes and subcodes', () => {
    assert.equal(describeNotification(1, 1), 'Message Header Error/connection not synchronized');
    assert.equal(describeNotification(1, 2), 'Message Header Error/bad message length');
    assert.equal(describeNotification(1, 3), 'Message Header Error/bad message type');
    assert.equal(describeNotification(2, 0), 'OPEN Message Error/unspecific');
    assert.equal(describeNotification(2, 1), 'OPEN Message Error/unsupported version number');
    assert.equal(describeNotification(2, 2), 'OPEN Message Error/bad peer AS');
    assert.equal(describeNotification(2, 3), 'OPEN Message Error/bad BGP identifier');
    assert.equal(describeNotification(2, 4), 'OPEN Message Error/unsupported optional parameter');
    assert.equal(describeNotification(2, 6), 'OPEN Message Error/unacceptable hold time');
    assert.equal(describeNotification(2, 7), 'OPEN Message Error/unsupported capability');
    assert.equal(describeNotification(2, 11), 'OPEN Message Error/role mismatch');
    assert.equal(describeNotification(3, 1), 'UPDATE Message Error/malformed attribute list');
    assert.equal(describeNotification(3, 11), 'UPDATE Message Error/malformed AS_PATH');
    assert.equal(describeNotification(4, 0), 'Hold Timer Expired');
    assert.equal(describeNotification(5, 2), 'Finite State Machine Error/unexpected message in OpenConfirm state');
  });

  it('names the Cease subcodes of RFC 4486, 8538 and 9384', () => {
    const names = [
      'maximum number of prefixes reached',
      'administrative shutdown',
      'peer de-configured',
      'administrative reset',
      'connection rejected',
      'other configuration change',
      'connection collision resolution',
      'out of resources',
      'hard reset',
      'BFD down',
    ];
    names.forEach((n, i) => {
      assert.equal(describeNotification(ErrorCode.CEASE, i + 1), `Cease/${n}`);
    });
    assert.equal(describeNotification(6, 0), 'Cease');
  });

  it('names the ROUTE-REFRESH error of RFC 7313', () => {
    assert.equal(describeNotification(7, 1), 'ROUTE-REFRESH Message Error/invalid message length');
  });

  it('falls back to numbers for what it does not know', () => {
    assert.equal(describeNotification(6, 42), 'Cease/subcode 42');
    assert.equal(describeNotification(9, 1), 'error code 9/subcode 1');
    assert.equal(describeNotification(4, 3), 'Hold Timer Expired/subcode 3');
  });
});

describe('shutdown communication (RFC 9003)', () => {
  it('round-trips any text that fits, and cuts longer text on a character boundary', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.constantFrom(2 as const, 4 as const),
        (s, sub) => {
          const b = encodeShutdownNotification(sub, s);
          const m = decodeMessage(b, ctx);
          assert.equal(m.type, 'notification');
          if (m.type !== 'notification') return;
          assert.equal(m.subcode, sub);
          const bytes = Buffer.byteLength(s);
          assert.ok(m.data.length - 1 <= 255);
          if (bytes <= 255) assert.equal(m.shutdownMessage, s);
          else {
            assert.ok(m.shutdownMessage !== undefined && s.startsWith(m.shutdownMessage));
            assert.ok(Buffer.byteLength(m.shutdownMessage) > 255 - 4);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is a plain NOTIFICATION underneath', () => {
    const b = encodeShutdownNotification(2, 'hi');
    assert.deepEqual(b, encodeNotification(6, 2, Uint8Array.of(2, 0x68, 0x69)));
  });
});
