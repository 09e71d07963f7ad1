// LocalRoutes: per prefix the highest-priority source's route is the one in the RIB (api > service > process >
// config, then by name), and only changes of that route reach the RIB.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LocalRoute } from '../rib/types.ts';
import { type Family, formatPrefix, type PrefixKey, parsePrefix } from '../wire/index.ts';
import { type LocalRouteSink, LocalRoutes, sourceId } from './local-routes.ts';

/** A sink that keeps what the RIB would hold (prefix → med, as a label) and logs every call. */
class Sink implements LocalRouteSink {
  readonly held = new Map<string, number | undefined>();
  readonly calls: string[] = [];
  originate(r: LocalRoute): void {
    const p = formatPrefix(r.family, r.prefix);
    this.held.set(p, r.attributes.med);
    this.calls.push(`+${p}:${r.attributes.med}`);
  }
  withdrawLocal(family: Family, prefix: PrefixKey): void {
    const p = formatPrefix(family, prefix);
    this.held.delete(p);
    this.calls.push(`-${p}`);
  }
}

function route(prefix: string, med: number): LocalRoute {
  const { family, key } = parsePrefix(prefix, true);
  return { family, prefix: key, attributes: { origin: 0, asPath: [], med }, nextHop: 'self' };
}
const k = (p: string) => parsePrefix(p, true);

describe('LocalRoutes', () => {
  it('api > service > process > config; the next one comes back when the one in front goes', () => {
    const sink = new Sink();
    const lr = new LocalRoutes(sink);
    const P = '192.0.2.10/32';
    assert.equal(lr.set('config', route(P, 4)), true);
    assert.equal(lr.set('process:hc', route(P, 3)), true);
    assert.equal(lr.set('service:web', route(P, 2)), true);
    assert.equal(lr.set('api', route(P, 1)), true);
    assert.deepEqual(sink.calls, [`+${P}:4`, `+${P}:3`, `+${P}:2`, `+${P}:1`]);
    // Lower-priority changes behind the api route do not reach the RIB.
    sink.calls.length = 0;
    assert.equal(lr.set('config', route(P, 44)), false);
    assert.equal(lr.delete('process:hc', k(P).family, k(P).key), true);
    assert.deepEqual(sink.calls, []);
    assert.deepEqual(lr.effective(k(P).family, k(P).key), { source: 'api', route: null });
    // The api route goes: the service's comes back; then the config one; then nothing.
    lr.delete('api', k(P).family, k(P).key);
    lr.delete('service:web', k(P).family, k(P).key);
    lr.delete('config', k(P).family, k(P).key);
    assert.deepEqual(sink.calls, [`+${P}:2`, `+${P}:44`, `-${P}`]);
    assert.equal(lr.effective(k(P).family, k(P).key), null);
    assert.deepEqual(lr.sources(), []);
  });

  it('same kind: the name that sorts first wins; IPv4 and IPv6 are separate', () => {
    const sink = new Sink();
    const lr = new LocalRoutes(sink);
    lr.set('service:b', route('192.0.2.10/32', 2));
    lr.set('service:a', route('192.0.2.10/32', 1));
    lr.set('service:b', route('2001:db8::10/128', 2));
    assert.deepEqual(
      [...sink.held],
      [
        ['192.0.2.10/32', 1],
        ['2001:db8::10/128', 2],
      ],
    );
    assert.deepEqual(lr.sources(), ['service:a', 'service:b']);
    assert.equal(lr.clear('service:a'), 1);
    assert.equal(sink.held.get('192.0.2.10/32'), 2);
    assert.equal(lr.count('service:b'), 2);
  });

  it('clear, replace (with an equality), withdrawal of what a source does not hold', () => {
    const sink = new Sink();
    const lr = new LocalRoutes(sink);
    lr.set('process:p', route('10.0.0.0/8', 1));
    lr.set('process:p', route('10.1.0.0/16', 1));
    assert.equal(lr.delete('process:p', 'ipv4-unicast', k('10.9.0.0/16').key), false);
    assert.equal(lr.delete('process:q', 'ipv4-unicast', k('10.0.0.0/8').key), false);
    sink.calls.length = 0;
    const same = (a: LocalRoute, b: LocalRoute) => a.attributes.med === b.attributes.med;
    const r = lr.replace('process:p', [route('10.0.0.0/8', 1), route('10.2.0.0/16', 5)], same);
    assert.deepEqual(r, { set: 1, removed: 1 });
    assert.deepEqual(sink.calls, ['-10.1.0.0/16', '+10.2.0.0/16:5']);
    assert.equal(lr.clear('process:p'), 2);
    assert.equal(sink.held.size, 0);
    assert.throws(() => lr.set('bogus', route('10.0.0.0/8', 1)), /not a local route source/);
    assert.throws(() => lr.set('service:', route('10.0.0.0/8', 1)), /not a local route source/);
    assert.equal(sourceId('service', 'web'), 'service:web');
  });

  it('rebuild: api and config forgotten, services and processes replayed into the new sink', () => {
    const lr = new LocalRoutes(new Sink());
    lr.set('api', route('10.0.0.0/8', 1));
    lr.set('config', route('10.1.0.0/16', 2));
    lr.set('service:s', route('10.0.0.0/8', 3));
    lr.set('process:p', route('10.2.0.0/16', 4));
    const fresh = new Sink();
    lr.rebuild(fresh);
    assert.equal(lr.count('api'), 0);
    assert.equal(lr.count('config'), 0);
    // The owner loads the api routes first, then the config, then replays.
    lr.set('api', route('10.0.0.0/8', 1));
    lr.set('config', route('10.2.0.0/16', 2));
    assert.equal(lr.replay(), 1);
    assert.deepEqual([...fresh.held].sort(), [
      ['10.0.0.0/8', 1],
      ['10.2.0.0/16', 4],
    ]);
  });

  it('property: the sink always holds exactly the highest-priority route of each prefix', () => {
    const sources = ['api', 'service:a', 'service:b', 'process:a', 'config'];
    const prefixes = ['10.0.0.0/8', '10.1.0.0/16', '2001:db8::/32'];
    const op = fc.record({
      set: fc.boolean(),
      source: fc.integer({ min: 0, max: sources.length - 1 }),
      prefix: fc.constantFrom(...prefixes),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const sink = new Sink();
        const lr = new LocalRoutes(sink);
        const model = new Map<string, Map<number, number>>(); // prefix → source index → med
        ops.forEach((o, i) => {
          const m = model.get(o.prefix) ?? new Map<number, number>();
          model.set(o.prefix, m);
          const id = sources[o.source]!;
          if (o.set) {
            lr.set(id, route(o.prefix, i));
            m.set(o.source, i);
          } else {
            lr.delete(id, k(o.prefix).family, k(o.prefix).key);
            m.delete(o.source);
          }
        });
        for (const p of prefixes) {
          const m = model.get(p);
          const best = m && m.size > 0 ? Math.min(...m.keys()) : undefined;
          assert.equal(sink.held.get(p), best === undefined ? undefined : m!.get(best), p);
          assert.equal(sink.held.has(p), best !== undefined, p);
        }
      }),
      { numRuns: 300 },
    );
  });
});
