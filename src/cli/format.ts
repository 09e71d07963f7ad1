// Human-readable output of the CLI: plain aligned tables (no colours, so it pipes cleanly), durations,
// and the neighbour and route tables. `--json` bypasses all of this and prints the API's JSON as is.

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

export function formatRoutes(family: string, result: { total: number; routes: RouteView[] }): string {
  if (result.total === 0) return `${family}: no routes`;
  const rows = result.routes.map((r) => [
    r.best ? '*>' : '* ',
    r.prefix,
    r.next_hop,
    r.from,
    r.as_path.length > 0 ? r.as_path.join(' ') : '(empty)',
    r.origin,
    r.med === null ? '' : String(r.med),
    r.local_pref === null ? '' : String(r.local_pref),
    [...r.communities, ...r.large_communities, ...r.ext_communities].join(' '),
  ]);
  let out = `${family}: ${result.total} ${result.total === 1 ? 'path' : 'paths'}\n`;
  out += table(['', 'PREFIX', 'NEXT HOP', 'FROM', 'AS PATH', 'ORIGIN', 'MED', 'LOCPRF', 'COMMUNITIES'], rows);
  if (result.routes.length < result.total) {
    out += `\n(${result.routes.length} of ${result.total} shown; use --limit to see more)`;
  }
  return out;
}
