// The state store: schema creation and migration bookkeeping, batch commit in one transaction, reopen, paging,
// the neighbour overlay, and clear start-up errors for files that are not a usable store.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { type Family, formatPrefix, parsePrefix } from '../wire/index.ts';
import { prefixBlob, SCHEMA_VERSION, StateStore, type StoredRoute, StoreError } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsbgp-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function freshPath(): string {
  n++;
  return join(dir, `sub${n}`, 'state.db');
}

function route(prefix: string, attrs = '{"next_hop":"self"}'): StoredRoute {
  const { family, key } = parsePrefix(prefix);
  return { family, prefix: key, prefixText: prefix, attributesJson: attrs };
}

function v4(i: number): string {
  return `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}/32`;
}

describe('StateStore', () => {
  it('creates the file, its directory and the schema at the current version', () => {
    const path = freshPath();
    const s = StateStore.open(path);
    s.close();
    const db = new DatabaseSync(path);
    const v = db.prepare('SELECT version FROM schema_version').all() as { version: number }[];
    assert.deepEqual(
      v.map((r) => r.version),
      [SCHEMA_VERSION],
    );
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    assert.deepEqual(tables, ['injected_routes', 'neighbor_overlay', 'schema_version']);
    const mode = db.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    assert.equal(mode.journal_mode, 'wal');
    db.close();
  });

  it('migrates a store from an older schema version without losing rows, and runs each migration once', () => {
    const path = freshPath();
    StateStore.open(path).close();
    // Reopening an up-to-date store applies nothing (a second CREATE TABLE would throw).
    const s = StateStore.open(path);
    s.putRoutes([route('192.0.2.0/24')]);
    s.close();
    // A store that says it is at version 0 with no tables is migrated from scratch.
    const path2 = freshPath();
    StateStore.open(path2).close();
    const db = new DatabaseSync(path2);
    db.exec('DROP TABLE injected_routes; DROP TABLE neighbor_overlay; UPDATE schema_version SET version = 0');
    db.close();
    const s2 = StateStore.open(path2);
    s2.putRoutes([route('192.0.2.0/24')]);
    assert.equal(s2.countRoutes(), 1);
    s2.close();
  });

  it('refuses a store written by a newer tsbgp, naming the file', () => {
    const path = freshPath();
    StateStore.open(path).close();
    const db = new DatabaseSync(path);
    db.exec(`UPDATE schema_version SET version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => StateStore.open(path),
      (e: unknown) => e instanceof StoreError && e.message.includes(path) && /newer tsbgp/.test(e.message),
    );
  });

  it('refuses a file that is not a database, and a corrupt one, naming the file', () => {
    const path = freshPath();
    StateStore.open(path).close();
    writeFileSync(path, 'this is not sqlite at all, just some text that is long enough to look like a header\n');
    assert.throws(
      () => StateStore.open(path),
      (e: unknown) =>
        e instanceof StoreError && e.message.startsWith(`state store ${path}: not a valid tsbgp state database`),
    );
    // A real database with its pages damaged behind SQLite's back.
    const path2 = freshPath();
    const s = StateStore.open(path2);
    s.putRoutes(Array.from({ length: 5000 }, (_, i) => route(v4(i))));
    s.close();
    const bytes = readFileSync(path2);
    assert.ok(bytes.length > 4 * 4096, `database is ${bytes.length} bytes`);
    // Keep page 1 (the header and schema), overwrite the b-tree pages after it.
    for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    writeFileSync(path2, bytes);
    assert.throws(
      () => StateStore.open(path2),
      (e: unknown) => e instanceof StoreError && e.message.includes(path2),
    );
  });

  it('refuses a store another process (or open handle) holds', () => {
    const path = freshPath();
    const s = StateStore.open(path);
    try {
      assert.throws(
        () => StateStore.open(path),
        (e: unknown) => e instanceof StoreError && /in use by another process/.test(e.message),
      );
    } finally {
      s.close();
    }
  });

  it('commits a batch in one transaction and finds it again after reopening', () => {
    const path = freshPath();
    const s = StateStore.open(path);
    const batch = Array.from({ length: 20_000 }, (_, i) => route(v4(i), `{"i":${i}}`));
    batch.push(route('2001:db8::/32'));
    s.putRoutes(batch);
    s.close();
    const r = StateStore.open(path);
    assert.equal(r.countRoutes(), 20_001);
    assert.equal(r.countRoutes('ipv6-unicast'), 1);
    let seen = 0;
    const byText = new Map<string, string>();
    r.forEachRoute((family, key, json) => {
      seen++;
      const text = formatPrefix(family, key);
      byText.set(text, json);
      assert.equal(key, parsePrefix(text).key);
    });
    assert.equal(seen, 20_001);
    assert.equal(byText.get(v4(12345)), '{"i":12345}');
    r.close();
  });

  it('a failing batch leaves nothing behind (all or nothing)', () => {
    const s = StateStore.open(':memory:');
    s.putRoutes([route('192.0.2.0/24', '{"old":true}')]);
    const bad = [route('198.51.100.0/24'), route('192.0.2.0/24', '{"new":true}'), { ...route('203.0.113.0/24') }];
    // An invalid family violates the CHECK constraint on the third row.
    (bad[2] as { family: string }).family = 'ipv9-unicast';
    assert.throws(() => s.putRoutes(bad), StoreError);
    assert.equal(s.countRoutes(), 1);
    const rows = s.listRoutes({ limit: 10 });
    assert.equal(rows[0]?.attributesJson, '{"old":true}');
    s.close();
  });

  it('re-putting a prefix replaces it; deleting reports which were there', () => {
    const s = StateStore.open(':memory:');
    s.putRoutes([route('192.0.2.0/24', '{"v":1}'), route('192.0.2.0/25')]);
    s.putRoutes([route('192.0.2.0/24', '{"v":2}')]);
    assert.equal(s.countRoutes(), 2);
    assert.equal(s.listRoutes({ limit: 1 })[0]?.attributesJson, '{"v":2}');
    const keys = ['192.0.2.0/24', '203.0.113.0/24'].map((p) => {
      const { family, key } = parsePrefix(p);
      return { family, prefix: key };
    });
    assert.deepEqual(s.deleteRoutes(keys), [true, false]);
    assert.equal(s.countRoutes(), 1);
    s.close();
  });

  it('lists in family then address order, page by page', () => {
    const s = StateStore.open(':memory:');
    const texts = ['2001:db8::/32', '10.0.0.0/8', '10.0.0.0/16', '9.0.0.0/8', '192.0.2.0/24', '2001:db8::/48'];
    s.putRoutes(texts.map((t) => route(t)));
    const all: string[] = [];
    let after: { family: Family; prefix: string } | undefined;
    for (let i = 0; i < 10; i++) {
      const q: Parameters<StateStore['listRoutes']>[0] = { limit: 4 };
      if (after) q.after = after;
      const page = s.listRoutes(q);
      if (page.length === 0) break;
      all.push(...page.map((r) => r.prefixText));
      const last = page.at(-1)!;
      after = { family: last.family, prefix: last.prefix };
    }
    assert.deepEqual(all, ['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', '192.0.2.0/24', '2001:db8::/32', '2001:db8::/48']);
    const v6 = s.listRoutes({ family: 'ipv6-unicast', limit: 10 }).map((r) => r.prefixText);
    assert.deepEqual(v6, ['2001:db8::/32', '2001:db8::/48']);
    const v4after = s.listRoutes({
      family: 'ipv4-unicast',
      limit: 10,
      after: { family: 'ipv4-unicast', prefix: parsePrefix('10.0.0.0/16').key },
    });
    assert.deepEqual(
      v4after.map((r) => r.prefixText),
      ['192.0.2.0/24'],
    );
    s.close();
  });

  it('keeps the neighbour overlay in insertion order across reopen', () => {
    const path = freshPath();
    const s = StateStore.open(path);
    s.setOverlay('192.0.2.9', { address: '192.0.2.9', kind: 'added', fields: { address: '192.0.2.9', asn: 65009 } });
    s.setOverlay('192.0.2.2', { address: '192.0.2.2', kind: 'changed', fields: { hold_time: 30 } });
    s.setOverlay('192.0.2.3', { address: '192.0.2.3', kind: 'deleted', fields: { ignored: true } });
    // Changing an existing row keeps its place.
    s.setOverlay('192.0.2.9', { address: '192.0.2.9', kind: 'added', fields: { address: '192.0.2.9', asn: 65010 } });
    s.close();
    const r = StateStore.open(path);
    assert.deepEqual(r.overlay(), [
      { address: '192.0.2.9', kind: 'added', fields: { address: '192.0.2.9', asn: 65010 } },
      { address: '192.0.2.2', kind: 'changed', fields: { hold_time: 30 } },
      { address: '192.0.2.3', kind: 'deleted', fields: {} },
    ]);
    r.setOverlay('192.0.2.2', null);
    assert.deepEqual(
      r.overlay().map((o) => o.address),
      ['192.0.2.9', '192.0.2.3'],
    );
    r.close();
  });

  it('stores prefixes so that they sort by address, then length', () => {
    const a = prefixBlob('ipv4-unicast', parsePrefix('10.0.0.0/8').key);
    const b = prefixBlob('ipv4-unicast', parsePrefix('9.0.0.0/8').key);
    assert.deepEqual(Array.from(a), [10, 0, 0, 0, 8]);
    assert.ok(Buffer.compare(b, a) < 0);
  });
});

describe('tsbgp daemon with an unusable state file', () => {
  it('exits 1 at start with one line naming the file', async () => {
    const { runCli } = await import('../cli/process-testing.ts');
    const d = mkdtempSync(join(dir, 'cli-'));
    writeFileSync(join(d, 'state.db'), 'not a database, just text long enough to fill a SQLite header page......\n');
    writeFileSync(
      join(d, 't.toml'),
      '[global]\nasn = 65000\nrouter_id = "192.0.2.1"\nlisten = []\n[api]\nlisten = "127.0.0.1:0"\n[state]\npath = "state.db"\n',
    );
    const r = await runCli(['daemon', '--config', join(d, 't.toml'), '--log-level', 'silent']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^tsbgp: state store ${join(d, 'state.db')}: not a valid tsbgp state database`));
  });
});
