// Human-readable output of the CLI: plain aligned tables (no colours, so it pipes cleanly), durations,
// and the neighbour and route tables. `--json` bypasses all of this and prints the API's JSON as is.

import type { InjectedRouteView } from '../daemon/types.ts';
import type { RouteView } from '../rib/types.ts';

/** Left-aligned columns separated by two spaces; trailing spaces trimmed. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** 93784 → "1d02h03m", 312 → "5m12s", 7 → "7s". */
export function formatDuration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  const p2 = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${p2(h)}h${p2(m)}m`;
  if (h > 0) return `${h}h${p2(m)}m${p2(sec)}s`;
  if (m > 0) return `${m}m${p2(sec)}s`;
  return `${sec}s`;
}

/** The fields of GET /api/v1/neighbors the tables use. */
export interface NeighborJson {
  address: string;
  asn: number;
  description: string | null;
  state: string;
  enabled?: boolean;
  uptime_s: number | null;
  families: string[];
  received: Record<string, number>;
  advertised: Record<string, number>;
  last_error: string | null;
  session?: Record<string, unknown> | null;
}

function perFamily(counts: Record<string, number>): string {
  const v4 = counts['ipv4-unicast'] ?? 0;
  const v6 = counts['ipv6-unicast'] ?? 0;
  return `${v4}/${v6}`;
}

export function formatNeighbors(list: NeighborJson[]): string {
  if (list.length === 0) return 'no neighbors configured';
  const rows = list.map((n) => [
    n.address,
    String(n.asn),
    n.enabled === false ? 'disabled' : n.state,
    n.uptime_s === null ? '-' : formatDuration(n.uptime_s),
    perFamily(n.received),
    perFamily(n.advertised),
    n.description ?? '',
  ]);
  let out = table(['NEIGHBOR', 'AS', 'STATE', 'UPTIME', 'RCVD v4/v6', 'SENT v4/v6', 'DESCRIPTION'], rows);
  const errors = list.filter((n) => n.last_error && n.state !== 'established');
  if (errors.length > 0) {
    out += `\n\n${errors.map((n) => `${n.address}: last error: ${n.last_error}`).join('\n')}`;
  }
  return out;
}

export function formatNeighbor(n: NeighborJson): string {
  const lines: [string, string][] = [
    ['neighbor', n.address],
    ['AS', String(n.asn)],
    ['description', n.description ?? '-'],
    ['state', n.enabled === false ? 'disabled' : n.state],
    ['uptime', n.uptime_s === null ? '-' : formatDuration(n.uptime_s)],
    ['families', n.families.join(', ')],
    [
      'received',
      Object.entries(n.received)
        .map(([f, c]) => `${f} ${c}`)
        .join(', ') || '-',
    ],
    [
      'advertised',
      Object.entries(n.advertised)
        .map(([f, c]) => `${f} ${c}`)
        .join(', ') || '-',
    ],
    ['last error', n.last_error ?? '-'],
  ];
  if (n.session) {
    for (const [k, v] of Object.entries(n.session)) {
      lines.push([`session ${k.replaceAll('_', ' ')}`, Array.isArray(v) ? v.join(', ') : String(v)]);
    }
  }
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** The path attributes a route table shows, as both the RIB and the injected routes have them. */
interface RouteAttrs {
  as_path: number[];
  origin: string;
  med: number | null;
  local_pref: number | null;
  communities: string[];
  large_communities: string[];
  ext_communities: string[];
}

const ATTR_HEADERS = ['AS PATH', 'ORIGIN', 'MED', 'LOCPRF', 'COMMUNITIES'];

function attrCells(r: RouteAttrs): string[] {
  return [
    r.as_path.length > 0 ? r.as_path.join(' ') : '(empty)',
    r.origin,
    r.med === null ? '' : String(r.med),
    r.local_pref === null ? '' : String(r.local_pref),
    [...r.communities, ...r.large_communities, ...r.ext_communities].join(' '),
  ];
}

/** The line under a table of one page of a longer listing (empty when the page is all of it). */
function morePages(shown: number, total: number): string {
  return shown < total ? `\n(${shown} of ${total} shown; --all follows every page, --limit N sets the page size)` : '';
}

export function formatRoutes(
  family: string,
  result: { total: number; routes: RouteView[]; next_cursor?: string | null },
): string {
  if (result.total === 0) return `${family}: no routes`;
  const rows = result.routes.map((r) => [r.best ? '*>' : '* ', r.prefix, r.next_hop, r.from, ...attrCells(r)]);
  let out = `${family}: ${result.total} ${result.total === 1 ? 'path' : 'paths'}\n`;
  out += table(['', 'PREFIX', 'NEXT HOP', 'FROM', ...ATTR_HEADERS], rows);
  return out + morePages(result.routes.length, result.total);
}

/** GET /rib/{family}/explain as `tsbgp rib --explain` prints it. */
export interface ExplainJson {
  prefix: string;
  best: number;
  candidates: (RouteView & {
    rank: number;
    decided_by: string;
    reason: string;
    lost_to: number | null;
    steps: { step: string; value: string | number; other: string | number; result: string }[];
  })[];
}

export function formatExplain(x: ExplainJson): string {
  const n = x.candidates.length;
  const parts = [`${x.prefix}: ${n} ${n === 1 ? 'candidate' : 'candidates'}`];
  for (const c of x.candidates) {
    const attrs = [
      `from ${c.from}`,
      `next hop ${c.next_hop}`,
      `AS path ${c.as_path.length > 0 ? c.as_path.join(' ') : '(empty)'}`,
      `origin ${c.origin}`,
    ];
    if (c.med !== null) attrs.push(`MED ${c.med}`);
    if (c.local_pref !== null) attrs.push(`local-pref ${c.local_pref}`);
    let block = `\n#${c.rank} ${c.best ? '*>' : '* '} ${attrs.join(', ')}\n   ${c.reason}`;
    if (c.steps.length > 0) {
      const t = table(
        ['STEP', 'THIS', 'OTHER', 'RESULT'],
        c.steps.map((st) => [st.step, String(st.value), String(st.other), st.result]),
      );
      block += `\n${t
        .split('\n')
        .map((l) => `   ${l}`)
        .join('\n')}`;
    }
    parts.push(block);
  }
  return parts.join('\n');
}

export function formatInjected(page: { total: number; routes: InjectedRouteView[] }): string {
  if (page.total === 0) return 'no injected routes';
  const rows = page.routes.map((r) => [r.prefix, r.next_hop, ...attrCells(r)]);
  let out = `${page.total} injected ${page.total === 1 ? 'route' : 'routes'}\n`;
  out += table(['PREFIX', 'NEXT HOP', ...ATTR_HEADERS], rows);
  return out + morePages(page.routes.length, page.total);
}

/** One watch event as a line: "12:00:01 route    ipv4-unicast 203.0.113.0/24 best from 192.0.2.2 …". */
export function formatWatchEvent(event: string, data: unknown, at: Date): string {
  const time = at.toTimeString().slice(0, 8);
  const d = data as Record<string, unknown>;
  if (event === 'route') {
    const r = d.route as RouteView | null;
    const head = `${time} route   ${d.family} ${d.prefix} ${d.action}`;
    if (!r) return `${head}${d.previous_from ? ` (was from ${d.previous_from})` : ''}`;
    const path = r.as_path.length > 0 ? r.as_path.join(' ') : '(empty)';
    const comms = [...r.communities, ...r.large_communities, ...r.ext_communities];
    return `${head} from ${r.from} next hop ${r.next_hop} AS path ${path}${comms.length > 0 ? ` communities ${comms.join(' ')}` : ''}`;
  }
  if (event === 'session') {
    return `${time} session ${d.neighbor} ${d.from} → ${d.to}${d.reason ? ` (${d.reason})` : ''}`;
  }
  if (event === 'overflow') return `${time} overflow: ${d.message}`;
  return `${time} ${event} ${JSON.stringify(data)}`;
}

/** GET /api/v1/health as `tsbgp status` prints it. */
export interface HealthJson {
  status: string;
  uptime_s: number;
  version: string;
  neighbors?: { configured: number; established: number };
  event_loop_delay_ms?: { p99: number; max: number };
  loc_rib?: Record<string, number>;
}

export function formatStatus(h: HealthJson, base: string): string {
  const lines = [`tsbgp ${h.version} at ${base}: ${h.status}, up ${formatDuration(h.uptime_s)}`];
  if (h.neighbors) lines.push(`neighbors   ${h.neighbors.established} of ${h.neighbors.configured} established`);
  if (h.loc_rib) {
    lines.push(
      `Loc-RIB     ${Object.entries(h.loc_rib)
        .map(([f, n]) => `${f} ${n} ${n === 1 ? 'prefix' : 'prefixes'}`)
        .join(', ')}`,
    );
  }
  if (h.event_loop_delay_ms) {
    lines.push(`event loop  p99 ${h.event_loop_delay_ms.p99} ms, max ${h.event_loop_delay_ms.max} ms since start`);
  }
  return lines.join('\n');
}
