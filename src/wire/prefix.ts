// Prefix keys: the compact form every layer uses for a prefix.
//
// A PrefixKey is the prefix's own NLRI encoding (RFC 4271 §4.3: one length byte in bits, then the fewest
// address bytes that hold it) stored as a latin1 string, with the host bits zeroed. It is cheap to cut out of
// an UPDATE (no parsing, no per-prefix object), cheap to write back, a good Map key, and it sorts in
// address order within a length. The family is never in the key: it is known from the table it lives in.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './addr.ts';
import type { Family } from './constants.ts';

export type PrefixKey = string;

export function maxBits(family: Family): number {
  return family === 'ipv4-unicast' ? 32 : 128;
}

/**
 * Reads one prefix of `bits` bits whose address bytes start at `offset`; returns the canonical key.
 * The caller has checked that `bits <= maxBits` and that the bytes are there.
 * Host bits set on the wire are cleared (RFC 4271 §4.3: "trailing bits … are irrelevant").
 */
export function readPrefixKey(buf: Uint8Array, offset: number, bits: number): PrefixKey {
  const n = (bits + 7) >> 3;
  if (n === 0) return String.fromCharCode(bits);
  const rem = bits & 7;
  // Host bits set on the wire are cleared in the last byte.
  const last = rem === 0 ? buf[offset + n - 1]! : buf[offset + n - 1]! & (0xff << (8 - rem)) & 0xff;
  // One call builds one flat string: concatenating a character at a time allocates a string per byte (and for
  // keys of 13 characters and more, IPv6 longer than /96, leaves a ConsString tree in the Map).
  const o = offset;
  switch (n) {
    case 1:
      return String.fromCharCode(bits, last);
    case 2:
      return String.fromCharCode(bits, buf[o]!, last);
    case 3:
      return String.fromCharCode(bits, buf[o]!, buf[o + 1]!, last);
    case 4:
      return String.fromCharCode(bits, buf[o]!, buf[o + 1]!, buf[o + 2]!, last);
    case 5:
      return String.fromCharCode(bits, buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!, last);
    case 6:
      return String.fromCharCode(bits, buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!, buf[o + 4]!, last);
    case 7:
      return String.fromCharCode(bits, buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!, buf[o + 4]!, buf[o + 5]!, last);
    default: {
      const codes = keyCodes;
      codes.length = n + 1;
      codes[0] = bits;
      for (let i = 0; i < n - 1; i++) codes[i + 1] = buf[o + i]!;
      codes[n] = last;
      return String.fromCharCode.apply(null, codes);
    }
  }
}

/** Scratch for readPrefixKey's long keys. */
const keyCodes: number[] = [];

/** Writes the key's NLRI encoding at `offset`; returns the offset after it. */
export function writePrefixKey(buf: Uint8Array, offset: number, key: PrefixKey): number {
  for (let i = 0; i < key.length; i++) buf[offset + i] = key.charCodeAt(i);
  return offset + key.length;
}

/** Length of the prefix in bits. */
export function prefixLength(key: PrefixKey): number {
  return key.charCodeAt(0);
}

/** The full address bytes (4 or 16) of the key's network address. */
export function prefixAddress(family: Family, key: PrefixKey): Uint8Array {
  const out = new Uint8Array(family === 'ipv4-unicast' ? 4 : 16);
  for (let i = 1; i < key.length; i++) out[i - 1] = key.charCodeAt(i);
  return out;
}

export function makePrefixKey(addr: Uint8Array, bits: number): PrefixKey {
  return readPrefixKey(addr, 0, bits);
}

export function formatPrefix(family: Family, key: PrefixKey): string {
  const addr = prefixAddress(family, key);
  return `${family === 'ipv4-unicast' ? formatIPv4(addr) : formatIPv6(addr)}/${prefixLength(key)}`;
}

export interface ParsedPrefix {
  family: Family;
  key: PrefixKey;
}

/**
 * Parses "203.0.113.0/24" or "2001:db8::/32". A bare address is a host route (/32 or /128), as ExaBGP reads it.
 * Throws an Error whose message says what is wrong; with `strict`, set host bits are an error rather than cleared.
 */
export function parsePrefix(text: string, strict = true): ParsedPrefix {
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const family: Family = addrText.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
  const addr = family === 'ipv4-unicast' ? parseIPv4(addrText) : parseIPv6(addrText);
  if (!addr) throw new Error(`"${text}" is not an IPv4 or IPv6 prefix`);
  const max = family === 'ipv4-unicast' ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
      throw new Error(`"${text}": prefix length must be 0..${max}`);
    }
    bits = Number(lenText);
  }
  const key = makePrefixKey(addr, bits);
  if (strict) {
    const canonical = prefixAddress(family, key);
    for (let i = 0; i < addr.length; i++) {
      if (canonical[i] !== addr[i]) {
        throw new Error(`"${text}" has host bits set; the network is ${formatPrefix(family, key)}`);
      }
    }
  }
  return { family, key };
}

/** True when `inner` lies within `outer` (or equals it). Both keys of one family. */
export function prefixContains(outer: PrefixKey, inner: PrefixKey): boolean {
  const ob = outer.charCodeAt(0);
  const ib = inner.charCodeAt(0);
  if (ib < ob) return false;
  const full = ob >> 3;
  for (let i = 1; i <= full; i++) if (outer.charCodeAt(i) !== inner.charCodeAt(i)) return false;
  const rem = ob & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (outer.charCodeAt(full + 1) & mask) === (inner.charCodeAt(full + 1) & mask);
}
