import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PrefixTable } from './prefix-table.ts';

function key(n: number): string {
  // Few distinct keys so that operations collide, some sharing a hash bucket run.
  return String.fromCharCode(24, n & 0xff, (n >> 8) & 0xff, 7);
}

test('random hold/drop/entry operations agree with a Map model, and freed slots are reused', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3000 })), { maxLength: 3000 }),
      (ops) => {
        const t = new PrefixTable<number>(4);
        const holds = new Map<string, number>(); // key → holds (entry counts as one)
        const entries = new Map<string, number>();
        for (const [op, n] of ops) {
          const k = key(n);
          switch (op) {
            case 0:
            case 1: {
              const s = t.slot(k);
              t.setEntry(s, n);
              if (!entries.has(k)) holds.set(k, (holds.get(k) ?? 0) + 1);
              entries.set(k, n);
              break;
            }
            case 2: {
              const s = t.find(k);
              if (s >= 0 && t.entries[s] !== undefined) {
                t.clearEntry(s);
                entries.delete(k);
                const h = holds.get(k)! - 1;
                if (h === 0) holds.delete(k);
                else holds.set(k, h);
              }
              break;
            }
            case 3: {
              t.hold(t.slot(k));
              holds.set(k, (holds.get(k) ?? 0) + 1);
              break;
            }
            case 4: {
              const s = t.find(k);
              if (s >= 0 && (holds.get(k) ?? 0) > (entries.has(k) ? 1 : 0)) {
                t.drop(s);
                const h = holds.get(k)! - 1;
                if (h === 0) holds.delete(k);
                else holds.set(k, h);
              }
              break;
            }
            default: {
              const s = t.slot(k);
              t.dropIfUnused(s);
            }
          }
        }
        assert.equal(t.size, entries.size);
        assert.equal(t.slotsInUse, holds.size);
        for (let n = 0; n <= 3000; n++) {
          const k = key(n);
          const s = t.find(k);
          assert.equal(s >= 0, holds.has(k), `key ${n}`);
          assert.equal(t.get(k), entries.get(k));
          if (s >= 0) assert.equal(t.key(s), k);
        }
        const walked = new Map([...t.walk()]);
        assert.deepEqual(walked, entries);
        assert.ok(t.high <= ops.length);
      },
    ),
    { numRuns: 200 },
  );
});

test('a million keys: every one found, then all freed and the slots reused', () => {
  const t = new PrefixTable<boolean>(4);
  const n = 1 << 20;
  for (let i = 0; i < n; i++) t.setEntry(t.slot(String.fromCharCode(24, i >> 16, (i >> 8) & 0xff, i & 0xff)), true);
  assert.equal(t.size, n);
  for (let i = 0; i < n; i += 997) assert.ok(t.find(String.fromCharCode(24, i >> 16, (i >> 8) & 0xff, i & 0xff)) >= 0);
  assert.equal(t.find(String.fromCharCode(25, 0, 0, 0)), -1);
  for (let i = 0; i < n; i++) t.clearEntry(t.find(String.fromCharCode(24, i >> 16, (i >> 8) & 0xff, i & 0xff)));
  assert.equal(t.size, 0);
  assert.equal(t.slotsInUse, 0);
  const high = t.high;
  for (let i = 0; i < 1000; i++) t.setEntry(t.slot(String.fromCharCode(16, i >> 8, i & 0xff)), true);
  assert.equal(t.high, high, 'freed slots are reused');
});

test('keys of every length come back as the same string; a key too long for the table is refused', () => {
  const t = new PrefixTable<number>(16);
  const keys: string[] = [];
  for (let len = 0; len <= 128; len++) {
    const bytes = [len];
    for (let i = 0; i < (len + 7) >> 3; i++) bytes.push((len * 37 + i * 11) & 0xff);
    keys.push(String.fromCharCode(...bytes));
  }
  for (const k of keys) t.setEntry(t.slot(k), k.length);
  for (const k of keys) {
    const s = t.find(k);
    assert.ok(s >= 0);
    assert.equal(t.key(s), k);
  }
  assert.throws(() => new PrefixTable<number>(4).slot(keys[64]!), /does not fit/);
});
