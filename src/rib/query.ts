// Loc-RIB queries for the API: filters over prefixes and paths, and the opaque paging cursor.
//
// Filters come in two kinds. Prefix filters (an exact prefix, or a prefix and every more-specific) look only at
// the table key. Path filters (communities, large communities, an AS_PATH regular expression, the neighbour a path
// came from) look at the path's interned RouteSource; many prefixes share one source, so a query remembers each
// source's verdict and decodes a source's attributes at most once (PathMatcher).
//
// Paging walks the table in its own order (Map insertion order), because a full table has a million prefixes and
// sorting them per request is not affordable. The cursor names the last prefix returned; the RIB also keeps the
// live Map iterator of recent cursors (a small LRU), so a client paging forward resumes in O(1) and sees every
// prefix that exists for the whole walk exactly once, even while routes change. A cursor that fell out of the LRU
// is resumed by finding its prefix again (one scan); if that prefix was withdrawn in the meantime, the walk resumes
// at the same ordinal position, which may repeat or skip a few prefixes that changed during the walk.

import type { PrefixKey } from '../wire/index.ts';
import { LOCAL_PEER, type RouteSource } from './intern.ts';
import type { RouteView } from './types.ts';

export interface RibFilter {
  /** An exact prefix; with `longer`, the prefix and every more-specific one. */
  prefix?: PrefixKey;
  longer?: boolean;
  /** Standard communities (RFC 1997) as unsigned 32-bit numbers; a path must carry every one. */
  communities?: number[];
  /** Large communities (RFC 8092); a path must carry every one. */
  largeCommunities?: [number, number, number][];
  /** Tested against the AS_PATH written as space-separated AS numbers ("65001 65002"; "" when empty). */
  asPath?: RegExp;
  /** Neighbour address, or "local" for routes this speaker originates. */
  from?: string;
}

export interface RibPage {
  /** Most paths to return; a prefix's paths are never split across pages, so a page may hold a few more. */
  limit: number;
  /** next_cursor of the previous page. */
  cursor?: string;
}

export interface RibSearchResult {
  /** Paths matching the filters in the whole family (for a filtered walk: as counted when the first page was served). */
  total: number;
  routes: RouteView[];
  /** Pass as `cursor` to get the next page; null when this page is the last. */
  next_cursor: string | null;
}

/** A malformed cursor or one of another family: the API answers 400 naming the field. */
export class CursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CursorError';
  }
}

export interface DecodedCursor {
  /** Family index (0 IPv4, 1 IPv6). */
  family: number;
  /** Table entries consumed up to and including `key` (the fallback position when `key` is gone). */
  ordinal: number;
  /** The filtered total counted on the first page, when the filters were the same (`sig`). */
  total: number | null;
  sig: string;
  key: PrefixKey;
}

const CURSOR_VERSION = 'c1';

export function encodeCursor(c: DecodedCursor): string {
  const keyB64 = Buffer.from(c.key, 'latin1').toString('base64url');
  const text = `${CURSOR_VERSION}.${c.family}.${c.ordinal}.${c.total ?? '-'}.${c.sig}.${keyB64}`;
  return Buffer.from(text, 'latin1').toString('base64url');
}

export function decodeCursor(cursor: string): DecodedCursor {
  const bad = () => new CursorError('not a cursor this API returned (pass next_cursor unchanged)');
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw bad();
  const parts = Buffer.from(cursor, 'base64url').toString('latin1').split('.');
  if (parts.length !== 6 || parts[0] !== CURSOR_VERSION) throw bad();
  const [, f, n, t, sig, k] = parts as [string, string, string, string, string, string];
  if ((f !== '0' && f !== '1') || !/^\d{1,9}$/.test(n) || !(t === '-' || /^\d{1,12}$/.test(t))) throw bad();
  if (!/^[0-9a-f]{0,8}$/.test(sig) || !/^[A-Za-z0-9_-]{1,40}$/.test(k)) throw bad();
  const key = Buffer.from(k, 'base64url').toString('latin1');
  const bits = key.charCodeAt(0);
  const max = f === '0' ? 32 : 128;
  if (bits > max || key.length !== 1 + ((bits + 7) >> 3)) throw bad();
  return { family: Number(f), ordinal: Number(n), total: t === '-' ? null : Number(t), sig, key };
}

/** FNV-1a of the filter's canonical text: a filtered total is reused only by pages of the same query. */
export function filterSignature(filter: RibFilter, fromIndex: number | null): string {
  const text = JSON.stringify([
    filter.prefix ?? null,
    filter.longer === true,
    filter.communities ?? [],
    filter.largeCommunities ?? [],
    filter.asPath?.source ?? null,
    fromIndex,
  ]);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

/** True when the filter tests paths (not only prefixes). */
export function hasPathFilter(filter: RibFilter): boolean {
  return (
    (filter.communities?.length ?? 0) > 0 ||
    (filter.largeCommunities?.length ?? 0) > 0 ||
    filter.asPath !== undefined ||
    filter.from !== undefined
  );
}

/**
 * Decides whether a path's source passes the path filters; each source is judged once per query (a full table
 * has far fewer distinct attribute sets than prefixes).
 */
export class PathMatcher {
  private readonly filter: RibFilter;
  /** Peer index the `from` filter names; -1 when it names no known neighbour (nothing matches); null: no filter. */
  private readonly fromIndex: number | null;
  private readonly attrFilter: boolean;
  private readonly verdicts = new Map<RouteSource, boolean>();

  constructor(filter: RibFilter, fromIndex: number | null) {
    this.filter = filter;
    this.fromIndex = fromIndex;
    this.attrFilter =
      (filter.communities?.length ?? 0) > 0 ||
      (filter.largeCommunities?.length ?? 0) > 0 ||
      filter.asPath !== undefined;
  }

  matches(src: RouteSource): boolean {
    if (this.fromIndex !== null && src.peer !== this.fromIndex) return false;
    if (!this.attrFilter) return true;
    let v = this.verdicts.get(src);
    if (v === undefined) {
      v = this.judge(src);
      this.verdicts.set(src, v);
    }
    return v;
  }

  private judge(src: RouteSource): boolean {
    const a = src.attributes();
    const f = this.filter;
    if (f.communities !== undefined) {
      const have = a.communities ?? [];
      for (const c of f.communities) if (!have.includes(c)) return false;
    }
    if (f.largeCommunities !== undefined) {
      const have = a.largeCommunities ?? [];
      for (const w of f.largeCommunities) {
        if (!have.some((h) => h[0] === w[0] && h[1] === w[1] && h[2] === w[2])) return false;
      }
    }
    if (f.asPath !== undefined) {
      // The AS_PATH as the API shows it: every AS in order, AS_SET members in place.
      const asns: number[] = [];
      for (const seg of a.asPath) for (const asn of seg.asns) asns.push(asn);
      f.asPath.lastIndex = 0;
      if (!f.asPath.test(asns.join(' '))) return false;
    }
    return true;
  }
}

/** Resolves a `from` filter to a peer index: "local" is LOCAL_PEER; an unknown neighbour matches nothing (-1). */
export function fromIndexOf(from: string | undefined, lookup: (address: string) => number | undefined): number | null {
  if (from === undefined) return null;
  if (from === 'local') return LOCAL_PEER;
  return lookup(from) ?? -1;
}
