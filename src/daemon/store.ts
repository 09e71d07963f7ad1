// Durable state: an embedded SQLite database (node:sqlite) holding everything changed at runtime through the API —
// injected routes and the neighbour overlay (docs/operations.md, "Durable state"). The TOML file stays the
// operator's; this store is the overlay on top of it (docs/config.md says which wins).
//
// Durability: journal_mode=WAL with synchronous=FULL, so a COMMIT returns only once the WAL is on stable storage;
// an acknowledged change survives SIGKILL and power loss. Every write method runs in ONE transaction (a batch of
// 100 000 routes is one COMMIT, one fsync), with prepared statements. The daemon calls these synchronously on its
// serial control path and answers the API only after they return.
//
// The database is opened with locking_mode=EXCLUSIVE: a second daemon pointed at the same file fails at start
// instead of injecting into the same state behind the first one's back.
//
// Schema changes go through MIGRATIONS (append only); schema_version holds the number applied.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { type Family, makePrefixKey, maxBits, type PrefixKey, prefixAddress, prefixLength } from '../wire/index.ts';

export const DEFAULT_STATE_PATH = 'data/tsbgp.db';

/** The store cannot be opened or written. The message names the file. */
export class StoreError extends Error {
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StoreError';
    this.path = path;
  }
}

/** An injected route as stored: its key and the JSON of its attributes (the route as accepted, without prefix). */
export interface StoredRoute {
  family: Family;
  prefix: PrefixKey;
  prefixText: string;
  /** JSON text; see injected.ts for its shape. */
  attributesJson: string;
}

export interface StoredRouteRow extends StoredRoute {
  /** Milliseconds since the epoch of the last write. */
  updatedAt: number;
}

/**
 * How the API changed one neighbour (docs/config.md, "Runtime changes"):
 *   added    `fields` is a whole neighbour (TOML keys); it replaces any [[neighbors]] table with that address
 *   changed  `fields` holds only the keys the API set; they override the file's values
 *   deleted  the neighbour is gone even if the file lists it
 */
export type OverlayKind = 'added' | 'changed' | 'deleted';
export const OVERLAY_KINDS: readonly OverlayKind[] = ['added', 'changed', 'deleted'];

export interface OverlayRow {
  address: string;
  kind: OverlayKind;
  /** Neighbour keys as written in TOML (`hold_time`, `families`, …). Empty for `deleted`. */
  fields: Record<string, unknown>;
}

export interface RouteListQuery {
  family?: Family;
  /** Continue after this route (exclusive). */
  after?: { family: Family; prefix: PrefixKey };
  limit: number;
}

/**
 * The migrations, in order; migration i brings the schema from version i to i + 1. Never edit one that shipped:
 * append a new one.
 */
const MIGRATIONS: readonly string[] = [
  // 1: injected routes and the neighbour overlay.
  `CREATE TABLE injected_routes (
     family      TEXT    NOT NULL CHECK (family IN ('ipv4-unicast', 'ipv6-unicast')),
     -- Network address (4 or 16 bytes) then the prefix length byte, so the primary key sorts in address order.
     prefix      BLOB    NOT NULL,
     prefix_text TEXT    NOT NULL,
     attributes  TEXT    NOT NULL,
     updated_at  INTEGER NOT NULL,
     PRIMARY KEY (family, prefix)
   ) WITHOUT ROWID;
   CREATE TABLE neighbor_overlay (
     address    TEXT    PRIMARY KEY,
     kind       TEXT    NOT NULL CHECK (kind IN ('added', 'changed', 'deleted')),
     config     TEXT    NOT NULL,
     deleted    INTEGER NOT NULL CHECK (deleted = (kind = 'deleted')),
     seq        INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The stored form of a prefix: network address bytes, then the length (sorts by address, then length). */
export function prefixBlob(family: Family, key: PrefixKey): Uint8Array {
  const addr = prefixAddress(family, key);
  const out = new Uint8Array(addr.length + 1);
  out.set(addr);
  out[addr.length] = prefixLength(key);
  return out;
}

function blobPrefix(family: Family, blob: Uint8Array): PrefixKey {
  const n = family === 'ipv4-unicast' ? 4 : 16;
  const bits = blob[n];
  if (blob.length !== n + 1 || bits === undefined || bits > maxBits(family)) {
    throw new Error(`malformed stored prefix (${blob.length} bytes) for ${family}`);
  }
  return makePrefixKey(blob.subarray(0, n), bits);
}

interface Statements {
  putRoute: StatementSync;
  deleteRoute: StatementSync;
  routesFrom: StatementSync;
  routesFromInFamily: StatementSync;
  countAll: StatementSync;
  countFamily: StatementSync;
  allRoutes: StatementSync;
  overlay: StatementSync;
  putOverlay: StatementSync;
  deleteOverlay: StatementSync;
  maxSeq: StatementSync;
}

export class StateStore {
  /** The file (absolute), or ":memory:". */
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly st: Statements;
  private closed = false;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
    this.st = {
      putRoute: db.prepare(
        `INSERT INTO injected_routes (family, prefix, prefix_text, attributes, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (family, prefix) DO UPDATE SET
           prefix_text = excluded.prefix_text, attributes = excluded.attributes, updated_at = excluded.updated_at`,
      ),
      deleteRoute: db.prepare('DELETE FROM injected_routes WHERE family = ? AND prefix = ?'),
      routesFrom: db.prepare(
        `SELECT family, prefix, prefix_text, attributes, updated_at FROM injected_routes
         WHERE (family, prefix) > (?, ?) ORDER BY family, prefix LIMIT ?`,
      ),
      routesFromInFamily: db.prepare(
        `SELECT family, prefix, prefix_text, attributes, updated_at FROM injected_routes
         WHERE family = ? AND prefix > ? ORDER BY prefix LIMIT ?`,
      ),
      countAll: db.prepare('SELECT count(*) AS n FROM injected_routes'),
      countFamily: db.prepare('SELECT count(*) AS n FROM injected_routes WHERE family = ?'),
      allRoutes: db.prepare('SELECT family, prefix, attributes FROM injected_routes'),
      overlay: db.prepare('SELECT address, kind, config FROM neighbor_overlay ORDER BY seq'),
      putOverlay: db.prepare(
        `INSERT INTO neighbor_overlay (address, kind, config, deleted, seq, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (address) DO UPDATE SET
           kind = excluded.kind, config = excluded.config, deleted = excluded.deleted, updated_at = excluded.updated_at`,
      ),
      deleteOverlay: db.prepare('DELETE FROM neighbor_overlay WHERE address = ?'),
      maxSeq: db.prepare('SELECT coalesce(max(seq), 0) AS n FROM neighbor_overlay'),
    };
    this.st.allRoutes.setReturnArrays(true);
  }

  /**
   * Opens (creating the file and its directory if needed) and migrates the store at `path` (":memory:" for a
   * throw-away one). Throws StoreError naming the file when it cannot be opened, is not a tsbgp state database,
   * is corrupt, is locked by another process or was written by a newer tsbgp.
   */
  static open(path: string): StateStore {
    const file = path === ':memory:' ? path : resolve(path);
    const fail = (what: string, err: unknown): never => {
      const msg = err instanceof Error ? err.message : String(err);
      throw new StoreError(file, `state store ${file}: ${what}: ${msg}`, err);
    };
    if (file !== ':memory:') {
      try {
        mkdirSync(dirname(file), { recursive: true });
      } catch (err) {
        fail('cannot create its directory', err);
      }
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(file);
    } catch (err) {
      return fail('cannot open', err);
    }
    try {
      // EXCLUSIVE first, so the lock is taken by the very first read below and held while the daemon runs.
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      // Fails with "file is not a database" on anything that is not SQLite.
      const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined;
      if (file !== ':memory:' && mode?.journal_mode !== 'wal') {
        throw new Error(`could not switch to WAL (journal_mode is ${mode?.journal_mode})`);
      }
      // FULL: the WAL is synced at every COMMIT, so what was acknowledged survives power loss.
      db.exec('PRAGMA synchronous = FULL');
      // A damaged page would otherwise surface only when the row on it is read.
      const check = db.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
      if (check.length !== 1 || check[0]?.quick_check !== 'ok') {
        throw new Error(`integrity check failed: ${check.map((r) => r.quick_check).join('; ')}`);
      }
      migrate(db);
    } catch (err) {
      try {
        db.close();
      } catch {
        // closing a half-opened database may fail too; the first error is the one to report
      }
      const e = err as Error & { code?: string; errstr?: string };
      if (/locked|busy/i.test(e.message)) return fail('in use by another process (is another tsbgp running?)', err);
      if (/not a database|malformed|corrupt|integrity/i.test(e.message)) {
        return fail('not a valid tsbgp state database (corrupt or another file); move it away to start empty', err);
      }
      return fail('cannot initialise', err);
    }
    return new StateStore(file, db);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Runs `fn` in one transaction: all of it is committed, or none of it (the error is rethrown as StoreError). */
  private transaction<T>(what: string, fn: () => T): T {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw new StoreError(this.path, `state store ${this.path}: cannot ${what}: ${(err as Error).message}`, err);
    }
    try {
      const r = fn();
      this.db.exec('COMMIT');
      return r;
    } catch (err) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // SQLite may have rolled back already (e.g. on SQLITE_FULL)
      }
      throw new StoreError(this.path, `state store ${this.path}: cannot ${what}: ${(err as Error).message}`, err);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Injected routes

  /** Inserts or replaces routes, all in one transaction. */
  putRoutes(routes: readonly StoredRoute[]): void {
    const now = Date.now();
    const stmt = this.st.putRoute;
    this.transaction('store the routes', () => {
      for (let i = 0; i < routes.length; i++) {
        const r = routes[i]!;
        stmt.run(r.family, prefixBlob(r.family, r.prefix), r.prefixText, r.attributesJson, now);
      }
    });
  }

  /** Deletes routes in one transaction; returns, per route, whether it was there. */
  deleteRoutes(keys: readonly { family: Family; prefix: PrefixKey }[]): boolean[] {
    const stmt = this.st.deleteRoute;
    return this.transaction('delete the routes', () =>
      keys.map((k) => Number(stmt.run(k.family, prefixBlob(k.family, k.prefix)).changes) > 0),
    );
  }

  countRoutes(family?: Family): number {
    const row = (family === undefined ? this.st.countAll.get() : this.st.countFamily.get(family)) as { n: number };
    return Number(row.n);
  }

  /** A page of routes in (family, address, length) order. */
  listRoutes(q: RouteListQuery): StoredRouteRow[] {
    let rows: Record<string, unknown>[];
    if (q.family !== undefined) {
      const after =
        q.after === undefined || q.after.family < q.family
          ? new Uint8Array(0)
          : q.after.family > q.family
            ? null
            : prefixBlob(q.after.family, q.after.prefix);
      if (after === null) return [];
      rows = this.st.routesFromInFamily.all(q.family, after, q.limit) as Record<string, unknown>[];
    } else {
      const af = q.after?.family ?? '';
      const ap = q.after === undefined ? new Uint8Array(0) : prefixBlob(q.after.family, q.after.prefix);
      rows = this.st.routesFrom.all(af, ap, q.limit) as Record<string, unknown>[];
    }
    return rows.map((r) => {
      const family = r.family as Family;
      return {
        family,
        prefix: blobPrefix(family, r.prefix as Uint8Array),
        prefixText: r.prefix_text as string,
        attributesJson: r.attributes as string,
        updatedAt: Number(r.updated_at),
      };
    });
  }

  /** Calls `fn` for every stored route (start-up), without building a list of them first. */
  forEachRoute(fn: (family: Family, prefix: PrefixKey, attributesJson: string) => void): void {
    try {
      for (const row of this.st.allRoutes.iterate() as Iterable<unknown[]>) {
        const family = row[0] as Family;
        fn(family, blobPrefix(family, row[1] as Uint8Array), row[2] as string);
      }
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(
        this.path,
        `state store ${this.path}: cannot read the routes: ${(err as Error).message}`,
        err,
      );
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Neighbour overlay

  overlay(): OverlayRow[] {
    const rows = this.st.overlay.all() as { address: string; kind: string; config: string }[];
    return rows.map((r) => {
      if (!(OVERLAY_KINDS as readonly string[]).includes(r.kind)) {
        throw new StoreError(this.path, `state store ${this.path}: neighbor ${r.address}: unknown kind "${r.kind}"`);
      }
      let fields: unknown;
      try {
        fields = JSON.parse(r.config);
      } catch (err) {
        throw new StoreError(this.path, `state store ${this.path}: neighbor ${r.address}: bad JSON`, err);
      }
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
        throw new StoreError(this.path, `state store ${this.path}: neighbor ${r.address}: config is not an object`);
      }
      return { address: r.address, kind: r.kind as OverlayKind, fields: fields as Record<string, unknown> };
    });
  }

  /** Writes one neighbour's overlay row (a new row goes after every existing one), or deletes it when `row` is null. */
  setOverlay(address: string, row: OverlayRow | null): void {
    this.transaction('store the neighbor', () => {
      if (row === null) {
        this.st.deleteOverlay.run(address);
        return;
      }
      const seq = Number((this.st.maxSeq.get() as { n: number }).n) + 1;
      this.st.putOverlay.run(
        address,
        row.kind,
        JSON.stringify(row.kind === 'deleted' ? {} : row.fields),
        row.kind === 'deleted' ? 1 : 0,
        seq,
        Date.now(),
      );
    });
  }
}

function migrate(db: DatabaseSync): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
  const current = row.v ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new Error(`schema version ${current} was written by a newer tsbgp (this one knows up to ${SCHEMA_VERSION})`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(MIGRATIONS[v]!);
      db.prepare('DELETE FROM schema_version').run();
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
}
