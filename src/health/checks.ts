// Native health checks. Each check answers one question about the local service and returns
// {status: ok | warning | failed, detail, durationMs}; it never throws and never runs longer than its timeout.
//
//   tcp        a TCP connection to host:port completes
//   http       an HTTP(S) GET returns an expected status (2xx by default) and, optionally, a body that matches
//   command    a command's exit code, read the Nagios way: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (= failed)
//   listening  every given port has a socket in LISTEN state (optionally on given addresses), like HA2BGP's `ss`
//   address    an address is configured on an interface that is up (optionally a given device or label)
//
// Checks of one service are combined with `all` (the worst status wins) or `any` (the best status wins).

import { spawn } from 'node:child_process';
import net from 'node:net';
import {
  defaultIpRunner,
  globMatch,
  type InterfaceAddress,
  type IpRunner,
  listenerServes,
  normalizeIp,
  readAddresses,
  readListeners,
} from './system.ts';

export type CheckStatus = 'ok' | 'warning' | 'failed';

export interface CheckResult {
  status: CheckStatus;
  detail: string;
  durationMs: number;
}

/** Inclusive status code range; a single code is {from: c, to: c}. */
export interface StatusRange {
  from: number;
  to: number;
}

export type CheckSpec =
  | { type: 'tcp'; host: string; port: number; timeoutMs?: number }
  | {
      type: 'http';
      url: string;
      expectStatus: StatusRange[];
      /** Substring the body must contain. */
      bodyMatch?: string;
      /** Regular expression the body must match. */
      bodyRegex?: string;
      headers?: Record<string, string>;
      timeoutMs?: number;
    }
  | { type: 'command'; command: string; timeoutMs?: number }
  | {
      type: 'listening';
      ports: number[];
      /** Empty: any address. Otherwise every one of them must be served. */
      addresses: string[];
      /** One listening port is enough (default: every port). */
      anyPort?: boolean;
    }
  | { type: 'address'; address: string; device?: string; label?: string };

export type CheckType = CheckSpec['type'];

/** Where checks read the system state from; injectable for tests. */
export interface CheckEnv {
  /** Root of the proc filesystem whose net/tcp and net/tcp6 are read. */
  procRoot: string;
  /** Runs `ip`; tests use one that targets a network namespace. */
  ip: IpRunner;
  /** Monotonic milliseconds for durations. */
  clock: () => number;
}

export const defaultCheckEnv: CheckEnv = {
  procRoot: '/proc',
  ip: defaultIpRunner,
  clock: () => performance.now(),
};

export const DEFAULT_EXPECT_STATUS: StatusRange[] = [{ from: 200, to: 299 }];

/** Longest body an HTTP check reads for matching; the rest is not downloaded. */
const MAX_BODY = 1024 * 1024;

/** A short human label for logs and the API. */
export function describeCheck(spec: CheckSpec): string {
  switch (spec.type) {
    case 'tcp':
      return `tcp ${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
    case 'http':
      return `http ${spec.url}`;
    case 'command':
      return `command ${spec.command}`;
    case 'listening':
      return `listening ${spec.ports.join(spec.anyPort ? '|' : ',')}${spec.addresses.length ? ` on ${spec.addresses.join(',')}` : ''}`;
    case 'address':
      return `address ${spec.address}${spec.device ? ` dev ${spec.device}` : ''}${spec.label ? ` label ${spec.label}` : ''}`;
  }
}

/** Runs one check. Never rejects. */
export async function runCheck(
  spec: CheckSpec,
  timeoutMs: number,
  env: CheckEnv = defaultCheckEnv,
): Promise<CheckResult> {
  const start = env.clock();
  const done = (status: CheckStatus, detail: string): CheckResult => ({
    status,
    detail,
    durationMs: Math.max(0, Math.round((env.clock() - start) * 1000) / 1000),
  });
  const limit = ('timeoutMs' in spec && spec.timeoutMs) || timeoutMs;
  try {
    switch (spec.type) {
      case 'tcp': {
        const r = await tcpCheck(spec.host, spec.port, limit);
        return done(r.status, r.detail);
      }
      case 'http': {
        const r = await httpCheck(spec, limit);
        return done(r.status, r.detail);
      }
      case 'command': {
        const r = await commandCheck(spec.command, limit);
        return done(r.status, r.detail);
      }
      case 'listening': {
        const r = await withTimeout(listeningCheck(spec, env), limit, 'reading /proc/net/tcp');
        return done(r.status, r.detail);
      }
      case 'address': {
        const r = await withTimeout(addressCheck(spec, env), limit, 'ip address show');
        return done(r.status, r.detail);
      }
    }
  } catch (e) {
    return done('failed', (e as Error).message);
  }
}

interface Verdict {
  status: CheckStatus;
  detail: string;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<Verdict> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let settled = false;
    const finish = (v: Verdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(
      () => finish({ status: 'failed', detail: `no connection within ${timeoutMs} ms` }),
      timeoutMs,
    );
    sock.once('connect', () => finish({ status: 'ok', detail: 'connected' }));
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ status: 'failed', detail: e.code ?? e.message }));
  });
}

function statusExpected(code: number, ranges: StatusRange[]): boolean {
  return ranges.some((r) => code >= r.from && code <= r.to);
}

async function httpCheck(spec: Extract<CheckSpec, { type: 'http' }>, timeoutMs: number): Promise<Verdict> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    // Redirects are not followed: the check is about this server, and a 3xx is a status like any other.
    res = await fetch(spec.url, { method: 'GET', redirect: 'manual', signal, headers: spec.headers });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || signal.aborted)
      return { status: 'failed', detail: `no response within ${timeoutMs} ms` };
    return { status: 'failed', detail: err.cause?.code ?? err.cause?.message ?? err.message };
  }
  const wantBody = spec.bodyMatch !== undefined || spec.bodyRegex !== undefined;
  if (!statusExpected(res.status, spec.expectStatus)) {
    await res.body?.cancel().catch(() => {});
    return { status: 'failed', detail: `status ${res.status}` };
  }
  if (!wantBody) {
    await res.body?.cancel().catch(() => {});
    return { status: 'ok', detail: `status ${res.status}` };
  }
  let body: string;
  try {
    body = await readBody(res, MAX_BODY);
  } catch (e) {
    if (signal.aborted) return { status: 'failed', detail: `body not complete within ${timeoutMs} ms` };
    return { status: 'failed', detail: `reading body: ${(e as Error).message}` };
  }
  if (spec.bodyMatch !== undefined && !body.includes(spec.bodyMatch)) {
    return {
      status: 'failed',
      detail: `status ${res.status}, body does not contain ${JSON.stringify(spec.bodyMatch)}`,
    };
  }
  if (spec.bodyRegex !== undefined && !new RegExp(spec.bodyRegex).test(body)) {
    return { status: 'failed', detail: `status ${res.status}, body does not match /${spec.bodyRegex}/` };
  }
  return { status: 'ok', detail: `status ${res.status}, body matches` };
}

async function readBody(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
    if (total >= max) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

const NAGIOS = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/**
 * Runs `/bin/sh -c command` in its own process group; on timeout the whole group is killed (a plugin that forks
 * must not outlive its check). Exit 0 → ok, 1 → warning, anything else → failed.
 */
function commandCheck(command: string, timeoutMs: number): Promise<Verdict> {
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    let timedOut = false;
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (d: Buffer) => {
      if (output.length < 4096) output += d.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const finish = (v: Verdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A background grandchild may keep the pipes open; we have the exit status, so stop reading.
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
      finish({ status: 'failed', detail: `timed out after ${timeoutMs} ms (process group killed)` });
    }, timeoutMs);
    child.once('error', (e) => finish({ status: 'failed', detail: `cannot run: ${e.message}` }));
    child.once('exit', (code, signal) => {
      if (timedOut) return;
      // Give stdout a moment to deliver what the plugin printed before it exited (it arrives after 'exit' at times).
      setImmediate(() => {
        const line = output.split('\n')[0]!.trim().slice(0, 200);
        const tail = line ? `: ${line}` : '';
        if (signal) return finish({ status: 'failed', detail: `killed by ${signal}${tail}` });
        const name = code !== null && code >= 0 && code <= 3 ? NAGIOS[code] : undefined;
        const label = name ? `exit ${code} (${name})` : `exit ${code}`;
        if (code === 0) finish({ status: 'ok', detail: `${label}${tail}` });
        else if (code === 1) finish({ status: 'warning', detail: `${label}${tail}` });
        else finish({ status: 'failed', detail: `${label}${tail}` });
      });
    });
  });
}

async function listeningCheck(spec: Extract<CheckSpec, { type: 'listening' }>, env: CheckEnv): Promise<Verdict> {
  const listeners = await readListeners(env.procRoot);
  const addresses = spec.addresses.map((a) => normalizeIp(a) ?? a);
  const missing: string[] = [];
  const present: number[] = [];
  for (const port of spec.ports) {
    const onPort = listeners.filter((l) => l.port === port);
    const before = missing.length;
    if (addresses.length === 0) {
      if (onPort.length === 0) missing.push(String(port));
    } else {
      for (const a of addresses) {
        if (!onPort.some((l) => listenerServes(l, a)))
          missing.push(a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
      }
    }
    if (missing.length === before) present.push(port);
  }
  const ok = spec.anyPort ? present.length > 0 : missing.length === 0;
  if (!ok) return { status: 'failed', detail: `not listening: ${missing.join(', ')}` };
  return { status: 'ok', detail: `listening on ${present.join(', ')}` };
}

/** The addresses from `all` that match an address check's address, device and label (regardless of state). */
export function matchAddress(
  all: InterfaceAddress[],
  address: string,
  device: string | undefined,
  label: string | undefined,
): InterfaceAddress[] {
  return all.filter(
    (a) =>
      a.address === address &&
      (device === undefined || globMatch(device, a.ifname)) &&
      (label === undefined || (a.label !== undefined && globMatch(label, a.label))),
  );
}

async function addressCheck(spec: Extract<CheckSpec, { type: 'address' }>, env: CheckEnv): Promise<Verdict> {
  const target = normalizeIp(spec.address) ?? spec.address;
  const found = matchAddress(await readAddresses(env.ip), target, spec.device, spec.label);
  const where = `${target}${spec.device ? ` on ${spec.device}` : ''}${spec.label ? ` label ${spec.label}` : ''}`;
  if (found.length === 0) return { status: 'failed', detail: `${where}: not configured` };
  const usable = found.find((a) => a.up && !a.tentative && !a.dadfailed);
  if (usable) return { status: 'ok', detail: `${target} up on ${usable.ifname}` };
  const a = found[0]!;
  if (!a.up) return { status: 'failed', detail: `${target} on ${a.ifname}: interface is down` };
  return {
    status: 'failed',
    detail: `${target} on ${a.ifname}: ${a.dadfailed ? 'duplicate address detected' : 'tentative (DAD)'}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Combining.

export type Combine = 'all' | 'any';

export interface CombinedResult extends CheckResult {
  /** One result per check, in configuration order. */
  results: (CheckResult & { check: string })[];
}

const RANK: Record<CheckStatus, number> = { failed: 0, warning: 1, ok: 2 };

/** Runs the checks concurrently and combines them: `all` takes the worst status, `any` the best. */
export async function runChecks(
  specs: readonly CheckSpec[],
  combine: Combine,
  timeoutMs: number,
  env: CheckEnv = defaultCheckEnv,
): Promise<CombinedResult> {
  const start = env.clock();
  const results = await Promise.all(
    specs.map(async (s) => ({ check: describeCheck(s), ...(await runCheck(s, timeoutMs, env)) })),
  );
  return combineResults(results, combine, Math.round((env.clock() - start) * 1000) / 1000);
}

export function combineResults(
  results: (CheckResult & { check: string })[],
  combine: Combine,
  durationMs: number,
): CombinedResult {
  if (results.length === 0) return { status: 'ok', detail: 'no checks', durationMs, results };
  let status: CheckStatus = combine === 'all' ? 'ok' : 'failed';
  for (const r of results) {
    if (combine === 'all' ? RANK[r.status] < RANK[status] : RANK[r.status] > RANK[status]) status = r.status;
  }
  // The detail names the checks that decided: the failing ones for `all`, the passing ones for `any`.
  const deciding = results.filter((r) => r.status === status);
  const detail = deciding.map((r) => `${r.check}: ${r.detail}`).join('; ');
  return { status, detail, durationMs, results };
}
