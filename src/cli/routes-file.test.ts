// Route batch files for `tsbgp route add|delete --file`: the text and JSON formats, and errors mapped to lines.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './client.ts';
import { locateField, parseRouteFile } from './routes-file.ts';

describe('route files', () => {
  it('text: prefix then key value pairs; lists split on commas and repeatable; comments and blanks skipped', () => {
    const b = parseRouteFile(
      [
        '# header',
        '',
        '203.0.113.0/24 next-hop 192.0.2.1 as-path 65001,65002 med 10 local-pref 200 origin egp',
        '  2001:db8::/32 community 65000:1,65000:2 community no-export large-community 1:2:3 ext-community rt:1:1 # c',
      ].join('\n'),
      'r.txt',
      false,
    );
    assert.deepEqual(b.lines, [3, 4]);
    assert.deepEqual(b.routes, [
      {
        prefix: '203.0.113.0/24',
        next_hop: '192.0.2.1',
        as_path: [65001, 65002],
        med: 10,
        local_pref: 200,
        origin: 'egp',
      },
      {
        prefix: '2001:db8::/32',
        communities: ['65000:1', '65000:2', 'no-export'],
        large_communities: ['1:2:3'],
        ext_communities: ['rt:1:1'],
      },
    ]);
  });

  it('text errors name the line', () => {
    const bad: [string, RegExp][] = [
      ['10.0.0.0/8 med', /^r\.txt:1: expected "PREFIX \[key value\]\.\.\." \(key "med" has no value\)/],
      ['\n10.0.0.0/8 colour red', /^r\.txt:2: unknown key "colour"/],
      ['10.0.0.0/8 med ten', /^r\.txt:1: med: "ten" is not a non-negative integer/],
      ['10.0.0.0/8 as-path 65001,x', /^r\.txt:1: as-path: "x" is not an AS number/],
    ];
    for (const [text, re] of bad) {
      assert.throws(
        () => parseRouteFile(text, 'r.txt', false),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
    }
  });

  it('delete reads only the prefixes (text, JSON routes, JSON strings, {"prefixes": [...]})', () => {
    assert.deepEqual(parseRouteFile('10.0.0.0/8 med 5 whatever\n', 'f', true).routes, [{ prefix: '10.0.0.0/8' }]);
    assert.deepEqual(parseRouteFile('[{"prefix": "10.0.0.0/8", "med": 1}, "11.0.0.0/8"]', 'f', true).routes, [
      { prefix: '10.0.0.0/8' },
      { prefix: '11.0.0.0/8' },
    ]);
    assert.deepEqual(parseRouteFile('{"prefixes": ["12.0.0.0/8"]}', 'f', true).routes, [{ prefix: '12.0.0.0/8' }]);
  });

  it('JSON: an array, {"routes": [...]} or one route; malformed JSON is a usage error', () => {
    assert.equal(parseRouteFile('[{"prefix": "10.0.0.0/8"}]', 'f', false).routes.length, 1);
    assert.deepEqual(parseRouteFile('{"routes": [{"prefix": "10.0.0.0/8", "med": 3}]}', 'f', false).routes, [
      { prefix: '10.0.0.0/8', med: 3 },
    ]);
    assert.deepEqual(parseRouteFile('{"prefix": "10.0.0.0/8"}', 'f', false).routes, [{ prefix: '10.0.0.0/8' }]);
    assert.throws(() => parseRouteFile('{"routes": [', 'f', false), /f: not valid JSON/);
    assert.throws(() => parseRouteFile('[1]', 'f', false), /f: routes\[0\]: expected a route object/);
  });

  it('an error the daemon reports about routes[i] points at the line', () => {
    const b = parseRouteFile('# c\n10.0.0.0/8\n\n11.0.0.0/8 next-hop x\n', 'r.txt', false);
    assert.equal(locateField('routes[1].next_hop', b, 'r.txt'), 'r.txt:4: next_hop');
    assert.equal(locateField('prefixes[0]', b, 'r.txt'), 'r.txt:2');
    assert.equal(locateField('body', b, 'r.txt'), null);
    const j = parseRouteFile('[{"prefix": "10.0.0.0/8"}]', 'r.json', false);
    assert.equal(locateField('routes[0].prefix', j, 'r.json'), 'r.json: routes[0]: prefix');
  });
});
