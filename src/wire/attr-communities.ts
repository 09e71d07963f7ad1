// Text forms of communities, for the API, the CLI and the configuration:
//   standard (RFC 1997)   "65000:100", or a well-known name ("no-export", "graceful-shutdown", ...)
//   large (RFC 8092)      "65000:1:2"
//   extended (RFC 4360)   "rt:65000:100" / "ro:65000:100" (2-octet AS, RFC 4360 §4), "rt:192.0.2.1:5" (IPv4, §4),
//                         "rt:4200000000:5" or "rt:65000L:5" (4-octet AS, RFC 5668), anything else "0x" + 16 hex digits.
// Every format* output is accepted by the matching parse* function and gives back the same value.

import { formatIPv4, parseIPv4 } from './addr.ts';
import { WellKnownCommunity } from './constants.ts';
import type { ExtCommunity } from './types.ts';

const COMMUNITY_NAMES: ReadonlyMap<number, string> = new Map([
  [WellKnownCommunity.GRACEFUL_SHUTDOWN, 'graceful-shutdown'],
  [WellKnownCommunity.BLACKHOLE, 'blackhole'],
  [WellKnownCommunity.NO_EXPORT, 'no-export'],
  [WellKnownCommunity.NO_ADVERTISE, 'no-advertise'],
  [WellKnownCommunity.NO_EXPORT_SUBCONFED, 'no-export-subconfed'],
  [WellKnownCommunity.NO_PEER, 'no-peer'],
]);
const COMMUNITY_BY_NAME: ReadonlyMap<string, number> = new Map([...COMMUNITY_NAMES].map(([v, k]) => [k, v]));

/** "65000:100", or the name of a well-known community (RFC 1997 §2, RFC 3765, RFC 7999, RFC 8326). */
export function formatCommunity(n: number): string {
  return COMMUNITY_NAMES.get(n) ?? `${n >>> 16}:${n & 0xffff}`;
}

function parseUint(text: string, max: number, what: string, whole: string): number {
  if (!/^\d{1,10}$/.test(text)) throw new Error(`"${whole}": ${what} "${text}" is not a number`);
  const v = Number(text);
  if (v > max) throw new Error(`"${whole}": ${what} ${v} is larger than ${max}`);
  return v;
}

/** Parses "65000:100" or a well-known name; returns the community as an unsigned 32-bit number. */
export function parseCommunity(text: string): number {
  const t = text.trim();
  const named = COMMUNITY_BY_NAME.get(t.toLowerCase());
  if (named !== undefined) return named;
  const parts = t.split(':');
  if (parts.length !== 2) {
    throw new Error(`"${text}" is not a community: expected "asn:value" (each 0..65535) or a well-known name`);
  }
  const hi = parseUint(parts[0]!, 0xffff, 'AS part', text);
  const lo = parseUint(parts[1]!, 0xffff, 'value part', text);
  return ((hi << 16) | lo) >>> 0;
}

export function formatLargeCommunity(lc: readonly [number, number, number]): string {
  return `${lc[0]}:${lc[1]}:${lc[2]}`;
}

/** Parses "global:local1:local2" (each 0..4294967295, RFC 8092 §3). */
export function parseLargeCommunity(text: string): [number, number, number] {
  const parts = text.trim().split(':');
  if (parts.length !== 3) throw new Error(`"${text}" is not a large community: expected "a:b:c"`);
  return [
    parseUint(parts[0]!, 0xffffffff, 'global administrator', text),
    parseUint(parts[1]!, 0xffffffff, 'local data 1', text),
    parseUint(parts[2]!, 0xffffffff, 'local data 2', text),
  ];
}

/** RFC 4360 §4 / RFC 5668 type high bytes (transitive), and the two sub-types with a text form. */
const EC_TYPE_AS2 = 0x00;
const EC_TYPE_IPV4 = 0x01;
const EC_TYPE_AS4 = 0x02;
const EC_SUB_RT = 0x02;
const EC_SUB_RO = 0x03;

function u32At(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function hex(ec: Uint8Array): string {
  let s = '0x';
  for (let i = 0; i < ec.length; i++) s += ec[i]!.toString(16).padStart(2, '0');
  return s;
}

/** "rt:65000:100", "ro:192.0.2.1:5", "rt:4200000000:5", else "0x" followed by the 8 bytes in hex. */
export function formatExtCommunity(ec: ExtCommunity): string {
  if (ec.length !== 8) return hex(ec);
  const type = ec[0]!;
  const sub = ec[1]!;
  if (sub !== EC_SUB_RT && sub !== EC_SUB_RO) return hex(ec);
  const kind = sub === EC_SUB_RT ? 'rt' : 'ro';
  switch (type) {
    case EC_TYPE_AS2:
      return `${kind}:${(ec[2]! << 8) | ec[3]!}:${u32At(ec, 4)}`;
    case EC_TYPE_IPV4:
      return `${kind}:${formatIPv4(ec, 2)}:${(ec[6]! << 8) | ec[7]!}`;
    case EC_TYPE_AS4: {
      const asn = u32At(ec, 2);
      // A 4-octet-AS community whose AS would fit in 2 octets is marked with "L" so it parses back to type 2.
      return `${kind}:${asn}${asn <= 0xffff ? 'L' : ''}:${(ec[6]! << 8) | ec[7]!}`;
    }
    default:
      return hex(ec);
  }
}

/**
 * Parses "rt:ADMIN:VALUE" or "ro:ADMIN:VALUE" ("target:"/"origin:" are accepted as aliases). ADMIN is an IPv4
 * address (type 0x01), an AS number up to 65535 (type 0x00, VALUE up to 2^32-1) or a larger AS number, or one
 * written with an "L" suffix (type 0x02, VALUE up to 65535). "0x" + 16 hex digits gives any raw community.
 */
export function parseExtCommunity(text: string): ExtCommunity {
  const t = text.trim();
  const out = new Uint8Array(8);
  if (/^0x[0-9a-fA-F]{16}$/.test(t)) {
    for (let i = 0; i < 8; i++) out[i] = Number.parseInt(t.slice(2 + i * 2, 4 + i * 2), 16);
    return out;
  }
  const parts = t.split(':');
  if (parts.length !== 3) {
    throw new Error(
      `"${text}" is not an extended community: expected "rt:ADMIN:VALUE", "ro:ADMIN:VALUE" or 0x + 16 hex`,
    );
  }
  const kindText = parts[0]!.toLowerCase();
  let sub: number;
  if (kindText === 'rt' || kindText === 'target') sub = EC_SUB_RT;
  else if (kindText === 'ro' || kindText === 'soo' || kindText === 'origin') sub = EC_SUB_RO;
  else throw new Error(`"${text}": unknown extended community kind "${parts[0]}" (use rt or ro)`);
  out[1] = sub;
  const admin = parts[1]!;
  const valueText = parts[2]!;
  const ip = admin.includes('.') ? parseIPv4(admin) : null;
  if (admin.includes('.')) {
    if (!ip) throw new Error(`"${text}": "${admin}" is not an IPv4 address`);
    const v = parseUint(valueText, 0xffff, 'value', text);
    out[0] = EC_TYPE_IPV4;
    out.set(ip, 2);
    out[6] = v >>> 8;
    out[7] = v & 0xff;
    return out;
  }
  const long = admin.endsWith('L') || admin.endsWith('l');
  const asn = parseUint(long ? admin.slice(0, -1) : admin, 0xffffffff, 'AS number', text);
  if (long || asn > 0xffff) {
    const v = parseUint(valueText, 0xffff, 'value', text);
    out[0] = EC_TYPE_AS4;
    out[2] = asn >>> 24;
    out[3] = (asn >>> 16) & 0xff;
    out[4] = (asn >>> 8) & 0xff;
    out[5] = asn & 0xff;
    out[6] = v >>> 8;
    out[7] = v & 0xff;
    return out;
  }
  const v = parseUint(valueText, 0xffffffff, 'value', text);
  out[0] = EC_TYPE_AS2;
  out[2] = asn >>> 8;
  out[3] = asn & 0xff;
  out[4] = v >>> 24;
  out[5] = (v >>> 16) & 0xff;
  out[6] = (v >>> 8) & 0xff;
  out[7] = v & 0xff;
  return out;
}
