// The neighbour overlay: how neighbours added, changed and deleted through the API combine with the TOML file.
// The file is never rewritten; the store (store.ts) keeps one OverlayRow per neighbour the API touched, and the
// effective neighbour set is computed from the two at start, on SIGHUP and after every API change — then applied
// by Speaker.applyConfig, the one path a reload takes. docs/config.md ("Runtime changes") states the rules:
//
//   file neighbours, in file order, then API-added ones in the order they were added;
//   added    the API's whole neighbour, whatever the file says about that address;
//   changed  the file's neighbour with the API's keys on top; the file's other keys still apply, and edits of them
//            on SIGHUP take effect. The API's keys win until reverted (PATCH with null, or POST …/revert). A
//            changed row whose neighbour is no longer in the file is dormant: it is kept, but adds nothing;
//   deleted  gone, even if the file lists it.

import {
  checkNeighbor,
  type DaemonConfig,
  type FieldError,
  type NeighborConfig,
  type NeighborFields,
  neighborFields,
} from './config.ts';
import type { OverlayRow } from './store.ts';

export interface OverlayResult {
  config: DaemonConfig;
  /** Rows that could not be applied (dormant changes, rows that no longer validate), for the log. */
  warnings: string[];
}

/** The file's neighbour `base` with `changes` (TOML keys) on top; null base means `changes` is a whole neighbour. */
export function mergeNeighbor(
  base: NeighborConfig | null,
  changes: Record<string, unknown>,
  globalAsn: number,
): { ok: true; neighbor: NeighborConfig; fields: NeighborFields } | { ok: false; errors: FieldError[] } {
  const fields: Record<string, unknown> = base === null ? {} : { ...neighborFields(base) };
  for (const [k, v] of Object.entries(changes)) fields[k] = v;
  return checkNeighbor(fields, globalAsn);
}

/** The effective configuration: the file's, with the overlay's neighbour rows applied. */
export function applyOverlay(file: DaemonConfig, rows: Iterable<OverlayRow>): OverlayResult {
  const warnings: string[] = [];
  const byAddress = new Map<string, OverlayRow>();
  for (const r of rows) byAddress.set(r.address, r);
  const asn = file.global.asn;
  const out: NeighborConfig[] = [];
  const seen = new Set<string>();
  for (const n of file.neighbors) {
    seen.add(n.address);
    const row = byAddress.get(n.address);
    if (row === undefined) {
      out.push(n);
      continue;
    }
    if (row.kind === 'deleted') continue;
    const m = mergeNeighbor(row.kind === 'added' ? null : n, row.fields, asn);
    if (m.ok) {
      out.push(m.neighbor);
    } else {
      // A file edit can make the API's changes invalid (e.g. the file switched the neighbour to eBGP while the
      // API made it a route-reflector client): the file's neighbour is used, and the log says why.
      warnings.push(
        `neighbor ${n.address}: API changes not applied (${m.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}); using the file's settings`,
      );
      out.push(n);
    }
  }
  for (const row of byAddress.values()) {
    if (seen.has(row.address) || row.kind === 'deleted') continue;
    if (row.kind === 'changed') {
      warnings.push(`neighbor ${row.address}: changed through the API but no longer in the file; not configured`);
      continue;
    }
    const m = mergeNeighbor(null, row.fields, asn);
    if (m.ok) out.push(m.neighbor);
    else {
      warnings.push(
        `neighbor ${row.address}: added through the API but no longer valid (${m.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}); not configured`,
      );
    }
  }
  return { config: { ...file, neighbors: out }, warnings };
}
