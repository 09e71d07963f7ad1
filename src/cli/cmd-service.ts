// `tsbgp service list|show NAME|drain NAME|undrain NAME` and `tsbgp process list`: health-checked services and
// ExaBGP helper programs through the API (GET /api/v1/services, /services/{name}, POST …/drain, …/undrain,
// GET /api/v1/processes). `--json` prints the API's JSON as is.

import type { ProcessView } from '../daemon/processes.ts';
import type { ServiceDetailView, ServiceView } from '../daemon/services.ts';
import { CLIENT_OPTIONS, client, noMore, parse, print, printJson, usage } from './common.ts';
import { formatDuration, table } from './format.ts';

/** A service as GET /api/v1/services lists it; GET /api/v1/services/{name} adds its history (and members). */
type ServiceJson = ServiceView & Partial<Pick<ServiceDetailView, 'history' | 'members'>>;

function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return `${formatDuration(s)} ago`;
}

function drainText(s: ServiceJson): string {
  const by = [s.drained.api ? 'API' : '', s.drained.file ? 'file' : ''].filter((x) => x).join('+');
  return by === '' ? '' : `drained by ${by}`;
}

function attrsText(a: NonNullable<ServiceJson['announcement']>): string {
  const parts = [`next-hop ${a.next_hop}`];
  if (a.med !== null) parts.push(`med ${a.med}`);
  if (a.local_pref !== null) parts.push(`local-pref ${a.local_pref}`);
  if (a.as_path_prepend > 0) parts.push(`prepend ${a.as_path_prepend} (eBGP)`);
  if (a.communities.length > 0) parts.push(`communities ${a.communities.join(',')}`);
  if (a.large_communities.length > 0) parts.push(`large-communities ${a.large_communities.join(',')}`);
  return parts.join(' ');
}

export function formatServices(list: ServiceJson[]): string {
  if (list.length === 0) return 'no services configured';
  const rows = list.map((s) => [
    s.name,
    s.state,
    s.announced ? 'yes' : 'no',
    s.prefixes.join(' ') || '-',
    s.last_check ? `${s.last_check.status}${s.last_check.detail ? `: ${s.last_check.detail}` : ''}` : '-',
    [drainText(s), s.damping.suppressed ? 'damped' : ''].filter((x) => x).join(', '),
  ]);
  return table(['SERVICE', 'STATE', 'ANNOUNCED', 'PREFIXES', 'LAST CHECK', 'NOTE'], rows);
}

export function formatService(s: ServiceJson, now = Date.now()): string {
  const lines: [string, string][] = [
    ['service', `${s.name}${s.mode === 'discover' ? ' (discovery)' : ''}`],
    ['state', s.state === s.health ? s.state : `${s.state} (health ${s.health})`],
    ['announced', s.announcement ? `yes: ${attrsText(s.announcement)}` : 'no'],
    ['prefixes', s.prefixes.join(', ') || '-'],
    ['rise/fall', `${s.rise}/${s.fall} (in a row now: ${s.counters.passes} passing, ${s.counters.failures} failing)`],
  ];
  if (s.overridden.length > 0) {
    lines.push(['overridden', s.overridden.map((o) => `${o.prefix} by ${o.by}`).join(', ')]);
  }
  if (s.drained.api || s.drained.file) lines.push(['drained', `${drainText(s)}, since ${ago(s.drained.since, now)}`]);
  if (s.withdraw_pending_until !== null) lines.push(['withdraw at', s.withdraw_pending_until]);
  const d = s.damping;
  lines.push([
    'damping',
    d.enabled ? `penalty ${d.penalty}${d.suppressed ? `, suppressed until ${d.reuse_at ?? '?'}` : ''}` : 'off',
  ]);
  const c = s.last_check;
  lines.push(['last check', c ? `${c.status}${c.detail ? `: ${c.detail}` : ''} (${ago(c.at, now)})` : '-']);
  for (const r of c?.results ?? []) {
    lines.push(['', `${r.check}: ${r.status}${r.detail ? ` (${r.detail})` : ''}, ${r.duration_ms} ms`]);
  }
  const w = Math.max(...lines.map(([k]) => k.length));
  let out = lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`.trimEnd()).join('\n');
  if (s.members && s.members.length > 0) out += `\n\nmembers:\n${formatServices(s.members)}`;
  if (s.history && s.history.length > 0) {
    out += `\n\nhistory (oldest first):\n${table(
      ['AT', 'FROM', 'TO', 'ANNOUNCED', 'REASON'],
      s.history.map((h) => [h.at, h.from, h.to, h.announced ? 'yes' : 'no', h.reason]),
    )}`;
  }
  return out;
}

export function formatProcesses(list: ProcessView[]): string {
  if (list.length === 0) return 'no processes configured';
  const rows = list.map((p) => [
    p.name,
    p.state,
    p.pid === null ? '-' : String(p.pid),
    String(p.respawns),
    String(p.routes),
    `${p.commands.ok}/${p.commands.error}`,
    p.last_error ?? '',
  ]);
  return table(['PROCESS', 'STATE', 'PID', 'RESPAWNS', 'ROUTES', 'OK/ERR', 'LAST ERROR'], rows);
}

const enc = encodeURIComponent;

export async function cmdService(args: string[], help: (topic: string[]) => number): Promise<number> {
  const { values, positionals } = parse(args, CLIENT_OPTIONS, 'service');
  if (values.help) return help(['service']);
  const sub = positionals[0] ?? 'list';
  const api = client(values);
  const json = values.json === true;
  switch (sub) {
    case 'list':
    case 'ls': {
      noMore(positionals, 1, 'service');
      const list = await api.get<ServiceJson[]>('/api/v1/services');
      if (json) printJson(list);
      else print(formatServices(list));
      return 0;
    }
    case 'show':
    case 'drain':
    case 'undrain': {
      const name = positionals[1];
      if (name === undefined) usage(`service ${sub} needs a service NAME`, 'service');
      noMore(positionals, 2, 'service');
      const s =
        sub === 'show'
          ? await api.get<ServiceJson>(`/api/v1/services/${enc(name)}`)
          : (await api.request<ServiceJson>('POST', `/api/v1/services/${enc(name)}/${sub}`)).body;
      if (json) printJson(s);
      else if (sub === 'show') print(formatService(s));
      else
        print(
          `${sub === 'drain' ? 'drained' : 'undrained'} service ${s.name}: ${s.state}, announced: ${s.announced ? 'yes' : 'no'}`,
        );
      return 0;
    }
    default:
      return usage(`unknown service command "${sub}"`, 'service');
  }
}

export async function cmdProcess(args: string[], help: (topic: string[]) => number): Promise<number> {
  const { values, positionals } = parse(args, CLIENT_OPTIONS, 'process');
  if (values.help) return help(['process']);
  const sub = positionals[0] ?? 'list';
  if (sub !== 'list' && sub !== 'ls') return usage(`unknown process command "${sub}"`, 'process');
  noMore(positionals, 1, 'process');
  const list = await client(values).get<ProcessView[]>('/api/v1/processes');
  if (values.json) printJson(list);
  else print(formatProcesses(list));
  return 0;
}

export const SERVICE_HELP = `Usage: tsbgp service [list]          every service: state, announced, prefixes, last check
       tsbgp service show NAME        one service: announcement, checks, damping, history of transitions
       tsbgp service drain NAME       maintenance: withdraw (or RFC 8326 graceful shutdown first, as configured)
       tsbgp service undrain NAME     back in service: announced again as soon as its checks allow

Services are the [[services]] of the configuration (docs/health.md). A drain through the CLI lasts until undrained
or the daemon restarts; a drain_file drains independently.`;

export const PROCESS_HELP = `Usage: tsbgp process [list]          the ExaBGP helper programs ([[processes]], docs/exabgp.md):
                                      state, pid, respawns, routes held, commands ok/error, last error`;
