// Ownership of the routes this speaker originates. The RIB's local peer holds one route per (family, prefix); several
// parts of the daemon want to originate: the configuration file's [[routes]], routes injected through the API,
// health-checked services ([[services]], src/health) and ExaBGP helper programs ([[processes]], src/exabgp). Each is
// a *source* that owns a set of routes; per prefix the route of the highest-priority source holding it is the
// effective one, and only changes of the effective route reach the RIB (originate / withdrawLocal).
//
// Priority, highest first (docs/config.md "Local routes"):
//   api           routes injected through POST /api/v1/routes: the operator's explicit, durable runtime decision
//   service:NAME  a [[services]] entry (native health checks)
//   process:NAME  a [[processes]] program (ExaBGP process API)
//   config        the file's [[routes]]
// Among sources of one kind (two services announcing one prefix) the one whose name sorts first wins.
// When the effective source withdraws, the next one's route (if any) is originated in its place, so e.g. a config
// route waits behind an injected route of the same prefix and comes back when that is deleted.
//
// Memory: API-injected routes can number a million; their attributes live in the state store and in the RIB, so the
// `api` source keeps only the set of its prefixes (it has the top priority, so its route is never needed again after
// it was originated). The other sources keep their LocalRoute objects (they are few, and a lower-priority route must
// be re-originated when the one in front of it goes away).

import type { LocalRoute } from '../rib/types.ts';
import type { Family, PrefixKey } from '../wire/index.ts';

/** What the owner of the local routes changes: the RIB (Rib.originate / Rib.withdrawLocal). */
export interface LocalRouteSink {
  originate(r: LocalRoute): void;
  withdrawLocal(family: Family, prefix: PrefixKey): void;
}

export const SOURCE_KINDS = ['api', 'service', 'process', 'config'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** "api", "config", "service:web", "process:healthcheck". */
export type SourceId = string;

export function sourceId(kind: SourceKind, name?: string): SourceId {
  return kind === 'api' || kind === 'config' ? kind : `${kind}:${name ?? ''}`;
}

function kindOf(id: SourceId): { kind: SourceKind; name: string } {
  const colon = id.indexOf(':');
  const kind = (colon < 0 ? id : id.slice(0, colon)) as SourceKind;
  const named = kind === 'service' || kind === 'process';
  const ok = named ? colon > 0 && colon < id.length - 1 : (kind === 'api' || kind === 'config') && colon < 0;
  if (!ok) throw new Error(`not a local route source: "${id}"`);
  return { kind, name: colon < 0 ? '' : id.slice(colon + 1) };
}

interface Source {
  id: SourceId;
  kind: SourceKind;
  rank: number;
  name: string;
  /** Per family index: prefix → route. */
  routes: [Map<PrefixKey, LocalRoute>, Map<PrefixKey, LocalRoute>];
}

function famIndex(f: Family): 0 | 1 {
  return f === 'ipv4-unicast' ? 0 : 1;
}

/** Where the effective route of a prefix comes from. */
export interface Effective {
  source: SourceId;
  /** null for an API route (its attributes are in the state store and the RIB). */
  route: LocalRoute | null;
}

export class LocalRoutes {
  #sink: LocalRouteSink;
  /** Prefixes of the API-injected routes, per family index. */
  readonly #api: [Set<PrefixKey>, Set<PrefixKey>] = [new Set(), new Set()];
  readonly #sources = new Map<SourceId, Source>();
  /** The non-api sources in priority order (kind, then name). */
  #order: Source[] = [];

  constructor(sink: LocalRouteSink) {
    this.#sink = sink;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Changes.

  /**
   * Adds or replaces `source`'s route for the route's prefix. Returns true when the route is (now) the effective
   * one and was originated.
   */
  set(source: SourceId, route: LocalRoute): boolean {
    const f = famIndex(route.family);
    if (source === 'api') {
      this.#api[f].add(route.prefix);
      this.#sink.originate(route);
      return true;
    }
    const src = this.#source(source, true)!;
    src.routes[f].set(route.prefix, route);
    if (this.#winner(f, route.prefix) !== src) return false;
    this.#sink.originate(route);
    return true;
  }

  /**
   * Records that the api source holds the prefix, for a caller that originates the route into the RIB itself (the
   * API's batches do, with their own key cache): the api source has the top priority, so its route is always the
   * effective one.
   */
  markApi(family: Family, prefix: PrefixKey): void {
    this.#api[famIndex(family)].add(prefix);
  }

  /** Removes `source`'s route for the prefix; the next source's route (or nothing) takes its place. */
  delete(source: SourceId, family: Family, prefix: PrefixKey): boolean {
    const f = famIndex(family);
    if (source === 'api') {
      if (!this.#api[f].delete(prefix)) return false;
      this.#fallBack(f, family, prefix);
      return true;
    }
    const src = this.#source(source, false);
    if (src === undefined || !src.routes[f].has(prefix)) return false;
    const wasWinner = this.#winner(f, prefix) === src;
    src.routes[f].delete(prefix);
    if (wasWinner) this.#fallBack(f, family, prefix);
    if (src.routes[0].size === 0 && src.routes[1].size === 0) this.#drop(src);
    return true;
  }

  /** Removes every route of `source`; returns how many it had. */
  clear(source: SourceId): number {
    if (source === 'api') {
      let n = 0;
      for (const f of [0, 1] as const) {
        const family: Family = f === 0 ? 'ipv4-unicast' : 'ipv6-unicast';
        for (const p of [...this.#api[f]]) {
          this.#api[f].delete(p);
          this.#fallBack(f, family, p);
          n++;
        }
      }
      return n;
    }
    const src = this.#source(source, false);
    if (src === undefined) return 0;
    let n = 0;
    for (const f of [0, 1] as const) {
      for (const r of [...src.routes[f].values()]) {
        this.delete(source, r.family, r.prefix);
        n++;
      }
    }
    this.#drop(src);
    return n;
  }

  /**
   * Makes `source` hold exactly `routes`: removes the ones not listed, sets the others when they differ (by
   * `same`, default: never equal, so each is set again — the RIB ignores an identical route). Returns the counts.
   */
  replace(
    source: SourceId,
    routes: readonly LocalRoute[],
    same: (a: LocalRoute, b: LocalRoute) => boolean = () => false,
  ): { set: number; removed: number } {
    if (source === 'api') throw new Error('replace is not available for the api source');
    const wanted: [Map<PrefixKey, LocalRoute>, Map<PrefixKey, LocalRoute>] = [new Map(), new Map()];
    for (const r of routes) wanted[famIndex(r.family)].set(r.prefix, r);
    let removed = 0;
    let set = 0;
    const src = this.#source(source, false);
    if (src !== undefined) {
      for (const f of [0, 1] as const) {
        for (const r of [...src.routes[f].values()]) {
          if (!wanted[f].has(r.prefix)) {
            this.delete(source, r.family, r.prefix);
            removed++;
          }
        }
      }
    }
    for (const f of [0, 1] as const) {
      for (const r of wanted[f].values()) {
        const cur = this.#source(source, false)?.routes[f].get(r.prefix);
        if (cur !== undefined && same(cur, r)) continue;
        this.set(source, r);
        set++;
      }
    }
    return { set, removed };
  }

  /**
   * A new, empty RIB (the global identity changed): forgets the API and config routes (the owner loads them again,
   * API first) and keeps the others, which replay() then originates.
   */
  rebuild(sink: LocalRouteSink = this.#sink): void {
    this.#sink = sink;
    this.#api[0].clear();
    this.#api[1].clear();
    const config = this.#sources.get('config');
    if (config) this.#drop(config);
  }

  /** Originates the effective route of every prefix held by a service or process source (after rebuild()). */
  replay(): number {
    let n = 0;
    for (const src of this.#order) {
      if (src.kind !== 'service' && src.kind !== 'process') continue;
      for (const f of [0, 1] as const) {
        for (const r of src.routes[f].values()) {
          if (this.#winner(f, r.prefix) !== src) continue;
          this.#sink.originate(r);
          n++;
        }
      }
    }
    return n;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Reading.

  has(source: SourceId, family: Family, prefix: PrefixKey): boolean {
    const f = famIndex(family);
    if (source === 'api') return this.#api[f].has(prefix);
    return this.#sources.get(source)?.routes[f].has(prefix) ?? false;
  }

  /** `source`'s route for the prefix (null for an API route, which is not kept here). */
  get(source: SourceId, family: Family, prefix: PrefixKey): LocalRoute | undefined {
    return this.#sources.get(source)?.routes[famIndex(family)].get(prefix);
  }

  /** The routes of a (non-api) source. */
  routes(source: SourceId): LocalRoute[] {
    const src = this.#sources.get(source);
    return src ? [...src.routes[0].values(), ...src.routes[1].values()] : [];
  }

  count(source: SourceId): number {
    if (source === 'api') return this.#api[0].size + this.#api[1].size;
    const src = this.#sources.get(source);
    return src ? src.routes[0].size + src.routes[1].size : 0;
  }

  /** The sources holding a route, highest priority first ("api" first when it has any). */
  sources(): SourceId[] {
    const out = this.#order.map((s) => s.id);
    return this.#api[0].size + this.#api[1].size > 0 ? ['api', ...out] : out;
  }

  /** Which source's route is the effective one for the prefix; null when no source holds it. */
  effective(family: Family, prefix: PrefixKey): Effective | null {
    const f = famIndex(family);
    if (this.#api[f].has(prefix)) return { source: 'api', route: null };
    const w = this.#winner(f, prefix);
    return w ? { source: w.id, route: w.routes[f].get(prefix)! } : null;
  }

  // -------------------------------------------------------------------------------------------------------------

  #source(id: SourceId, create: boolean): Source | undefined {
    let src = this.#sources.get(id);
    if (src === undefined && create) {
      const { kind, name } = kindOf(id);
      if (kind === 'api') throw new Error('the api source keeps no route objects');
      src = { id, kind, rank: SOURCE_KINDS.indexOf(kind), name, routes: [new Map(), new Map()] };
      this.#sources.set(id, src);
      this.#order.push(src);
      this.#order.sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    return src;
  }

  #drop(src: Source): void {
    this.#sources.delete(src.id);
    this.#order = this.#order.filter((s) => s !== src);
  }

  /** The non-api source whose route is effective (api is checked separately; null: api holds it or nobody does). */
  #winner(f: 0 | 1, prefix: PrefixKey): Source | null {
    if (this.#api[f].has(prefix)) return null;
    for (const s of this.#order) if (s.routes[f].has(prefix)) return s;
    return null;
  }

  /** The effective route of a prefix went away: originate the next one, or withdraw. */
  #fallBack(f: 0 | 1, family: Family, prefix: PrefixKey): void {
    if (this.#api[f].has(prefix)) return;
    const w = this.#winner(f, prefix);
    if (w) this.#sink.originate(w.routes[f].get(prefix)!);
    else this.#sink.withdrawLocal(family, prefix);
  }
}
