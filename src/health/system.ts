// What the host's network stack says right now: TCP sockets in LISTEN state (from /proc/net/tcp and tcp6) and the
// addresses configured on interfaces (from iproute2's `ip -j address show`).
//
// Both sources are injectable — a /proc root directory and a runner for `ip` — so tests can feed fixture files or
// run `ip -n <netns> …` against a namespace they created. Nothing here caches: a health check wants the current truth.
//
// /proc/net/tcp format (Linux, net/ipv4/tcp_ipv4.c get_tcp4_sock): `sl local_address rem_address st …` where
// local_address is `%08X:%04X` — the IPv4 address as the 32-bit word it is in memory, printed as a number (so on a
// little-endian host 127.0.0.1 reads "0100007F"), and the port in host order. tcp6 prints the 16 address bytes as four
// such words. State 0A is TCP_LISTEN (include/net/tcp_states.h).

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { formatIP, formatIPv4, formatIPv6, parseIP } from '../wire/index.ts';

/** A TCP socket in LISTEN state. */
export interface Listener {
  family: 4 | 6;
  /** Normalised address text; an IPv4-mapped IPv6 socket address is reported as the IPv4 address (family 4). */
  address: string;
  port: number;
  /** Bound to 0.0.0.0 or :: (serves every local address of the family; :: also IPv4 unless IPV6_V6ONLY). */
  wildcard: boolean;
}

const TCP_LISTEN = '0A';

function wordBytes(hex: string, littleEndian: boolean, out: Uint8Array, offset: number): void {
  const v = Number.parseInt(hex, 16) >>> 0;
  if (littleEndian) {
    out[offset] = v & 0xff;
    out[offset + 1] = (v >>> 8) & 0xff;
    out[offset + 2] = (v >>> 16) & 0xff;
    out[offset + 3] = v >>> 24;
  } else {
    out[offset] = v >>> 24;
    out[offset + 1] = (v >>> 16) & 0xff;
    out[offset + 2] = (v >>> 8) & 0xff;
    out[offset + 3] = v & 0xff;
  }
}

/** Decodes a /proc/net/tcp[6] `ADDR:PORT` field; null when malformed. */
export function decodeProcAddress(
  field: string,
  littleEndian = endianness() === 'LE',
): { family: 4 | 6; address: string; port: number; wildcard: boolean } | null {
  const colon = field.indexOf(':');
  if (colon < 0) return null;
  const addrHex = field.slice(0, colon);
  const portHex = field.slice(colon + 1);
  if (!/^[0-9A-Fa-f]{4}$/.test(portHex)) return null;
  const port = Number.parseInt(portHex, 16);
  if (/^[0-9A-Fa-f]{8}$/.test(addrHex)) {
    const b = new Uint8Array(4);
    wordBytes(addrHex, littleEndian, b, 0);
    return { family: 4, address: formatIPv4(b), port, wildcard: b.every((x) => x === 0) };
  }
  if (/^[0-9A-Fa-f]{32}$/.test(addrHex)) {
    const b = new Uint8Array(16);
    for (let i = 0; i < 4; i++) wordBytes(addrHex.slice(i * 8, i * 8 + 8), littleEndian, b, i * 4);
    let mapped = b[10] === 0xff && b[11] === 0xff;
    for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
    // A v6 socket bound to ::ffff:a.b.c.d serves exactly that IPv4 address.
    if (mapped) return { family: 4, address: formatIPv4(b, 12), port, wildcard: false };
    return { family: 6, address: formatIPv6(b), port, wildcard: b.every((x) => x === 0) };
  }
  return null;
}

/** Parses the text of /proc/net/tcp or /proc/net/tcp6; returns the LISTEN sockets (duplicates from SO_REUSEPORT merged). */
export function parseProcNetTcp(text: string, littleEndian = endianness() === 'LE'): Listener[] {
  const out: Listener[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== TCP_LISTEN) continue;
    const d = decodeProcAddress(f[1]!, littleEndian);
    if (!d) continue;
    const key = `${d.address} ${d.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/** LISTEN sockets of the network namespace `procRoot` belongs to (default: this process's, via /proc). */
export async function readListeners(procRoot = '/proc'): Promise<Listener[]> {
  const read = async (name: string): Promise<string> => {
    try {
      return await readFile(`${procRoot}/net/${name}`, 'utf8');
    } catch (e) {
      // tcp6 is absent when IPv6 is disabled; that is "no IPv6 listeners", not an error.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && name === 'tcp6') return '';
      throw e;
    }
  };
  const [v4, v6] = await Promise.all([read('tcp'), read('tcp6')]);
  const all = [...parseProcNetTcp(v4), ...parseProcNetTcp(v6)];
  const seen = new Set<string>();
  return all.filter((l) => {
    const k = `${l.address} ${l.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** True when `l` accepts connections to `address` (exact, or a wildcard of that family; `::` also takes IPv4). */
export function listenerServes(l: Listener, address: string): boolean {
  if (!l.wildcard) return l.address === address;
  const v4 = !address.includes(':');
  // Linux default net.ipv6.bindv6only=0: a socket on [::] is dual-stack. /proc does not show IPV6_V6ONLY, so this
  // is the usual case assumed.
  return l.family === 6 || v4;
}

// ---------------------------------------------------------------------------------------------------------------
// Interface addresses.

/** Runs `ip` with the given arguments and returns its stdout. Tests pass one that adds `-n <netns>`. */
export type IpRunner = (args: string[]) => Promise<string>;

export const defaultIpRunner: IpRunner = (args) =>
  new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });

export interface InterfaceAddress {
  ifname: string;
  /** IFF_UP: the interface is administratively up (what `ip address show up` filters on). */
  up: boolean;
  /** IFF_LOWER_UP: the link has carrier. */
  lowerUp: boolean;
  family: 4 | 6;
  /** Normalised address text. */
  address: string;
  prefixlen: number;
  /** IPv4 address label ("lo:web"); iproute2 reports the interface name when no label was set. */
  label: string | undefined;
  /** IPv6 duplicate address detection still running or failed: the address is not usable yet. */
  tentative: boolean;
  dadfailed: boolean;
}

interface IpJsonLink {
  ifname?: string;
  flags?: string[];
  addr_info?: {
    family?: string;
    local?: string;
    prefixlen?: number;
    label?: string;
    tentative?: boolean;
    dadfailed?: boolean;
  }[];
}

/** Parses `ip -j address show` output (iproute2 JSON). Throws when it is not such a document. */
export function parseIpAddressJson(text: string): InterfaceAddress[] {
  const doc = JSON.parse(text) as unknown;
  if (!Array.isArray(doc)) throw new Error('ip -j address show: expected a JSON array');
  const out: InterfaceAddress[] = [];
  for (const link of doc as IpJsonLink[]) {
    if (typeof link !== 'object' || link === null || typeof link.ifname !== 'string') continue;
    const flags = Array.isArray(link.flags) ? link.flags : [];
    for (const a of link.addr_info ?? []) {
      if (typeof a.local !== 'string' || (a.family !== 'inet' && a.family !== 'inet6')) continue;
      const b = parseIP(a.local);
      if (!b) continue;
      out.push({
        ifname: link.ifname,
        up: flags.includes('UP'),
        lowerUp: flags.includes('LOWER_UP'),
        family: a.family === 'inet' ? 4 : 6,
        address: formatIP(b),
        prefixlen: typeof a.prefixlen === 'number' ? a.prefixlen : b.length * 8,
        label: typeof a.label === 'string' ? a.label : undefined,
        tentative: a.tentative === true,
        dadfailed: a.dadfailed === true,
      });
    }
  }
  return out;
}

export async function readAddresses(run: IpRunner = defaultIpRunner): Promise<InterfaceAddress[]> {
  return parseIpAddressJson(await run(['-j', 'address', 'show']));
}

/** Shell-style pattern match for labels and device names: `*` any run, `?` one character. */
export function globMatch(pattern: string, text: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === text;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(text);
}

/** Normalised address text, or null when `text` is not an address. */
export function normalizeIp(text: string): string | null {
  const b = parseIP(text);
  if (!b) return null;
  if (b.length === 16) {
    let mapped = b[10] === 0xff && b[11] === 0xff;
    for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
    if (mapped) return formatIPv4(b, 12);
  }
  return formatIP(b);
}
