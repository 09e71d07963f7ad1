// BGP capabilities (RFC 5492): the TLVs carried in OPEN optional parameter type 2.
//
// Known capabilities are decoded into the Capability union of types.ts; a known capability whose length does not
// fit its format is an OPEN Message Error with subcode 0 ("Unspecific"): RFC 4271 §6.2 says a recognised but
// malformed optional parameter gets subcode 0, and none of the capability RFCs defines anything finer.
// Unknown capabilities are kept raw ({kind:'unknown'}, RFC 5492 §5: the receiver ignores them).

import { CapabilityCode, ErrorCode } from './constants.ts';
import { WireError } from './errors.ts';
import { Reader } from './reader.ts';
import type { Capability } from './types.ts';
import type { Writer } from './writer.ts';

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** OPEN Message Error, subcode 0 (Unspecific): a recognised capability or parameter that is malformed. */
export function malformedOpen(message: string): WireError {
  return new WireError(message, ErrorCode.OPEN_MESSAGE, 0);
}

function badLength(name: string, len: number, expected: string): WireError {
  return malformedOpen(`${name} capability has length ${len}, expected ${expected}`);
}

/**
 * Decodes the capabilities in one capability optional parameter (a sequence of code/length/value TLVs) and
 * appends them to `out`. `r` is bounded to the parameter's value.
 */
export function decodeCapabilities(r: Reader, out: Capability[]): void {
  const b = r.buf;
  while (r.remaining > 0) {
    if (r.remaining < 2) throw malformedOpen('capability header runs past the end of its optional parameter');
    const code = b[r.pos]!;
    const len = b[r.pos + 1]!;
    r.pos += 2;
    if (len > r.remaining) {
      throw malformedOpen(`capability ${code} of length ${len} runs past the end of its optional parameter`);
    }
    const start = r.pos;
    r.pos += len;
    out.push(decodeCapability(b, code, start, len));
  }
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function decodeCapability(b: Uint8Array, code: number, p: number, len: number): Capability {
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL:
      // RFC 4760 §8: AFI (2), reserved (1), SAFI (1).
      if (len !== 4) throw badLength('multiprotocol', len, '4');
      return { kind: 'multiprotocol', afi: u16(b, p), safi: b[p + 3]! };
    case CapabilityCode.ROUTE_REFRESH:
      // RFC 2918 §2: no value.
      if (len !== 0) throw badLength('route-refresh', len, '0');
      return { kind: 'route-refresh' };
    case CapabilityCode.ROUTE_REFRESH_OLD:
      // The pre-standard Cisco code point for route refresh, also empty.
      if (len !== 0) throw badLength('route-refresh (old)', len, '0');
      return { kind: 'route-refresh-old' };
    case CapabilityCode.ENHANCED_ROUTE_REFRESH:
      // RFC 7313 §3.1: no value.
      if (len !== 0) throw badLength('enhanced route-refresh', len, '0');
      return { kind: 'enhanced-route-refresh' };
    case CapabilityCode.EXTENDED_MESSAGE:
      // RFC 8654 §3: no value.
      if (len !== 0) throw badLength('extended message', len, '0');
      return { kind: 'extended-message' };
    case CapabilityCode.FOUR_OCTET_AS:
      // RFC 6793 §3: the 4-octet AS number.
      if (len !== 4) throw badLength('4-octet AS', len, '4');
      return { kind: 'four-octet-as', asn: ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0 };
    case CapabilityCode.EXTENDED_NEXT_HOP: {
      // RFC 8950 §3: tuples of NLRI AFI (2), NLRI SAFI (2), next-hop AFI (2).
      if (len % 6 !== 0) throw badLength('extended next hop', len, 'a multiple of 6');
      const entries: { afi: number; safi: number; nextHopAfi: number }[] = [];
      for (let q = p; q < p + len; q += 6) {
        entries.push({ afi: u16(b, q), safi: u16(b, q + 2), nextHopAfi: u16(b, q + 4) });
      }
      return { kind: 'extended-next-hop', entries };
    }
    case CapabilityCode.GRACEFUL_RESTART: {
      // RFC 4724 §3: restart flags (4 bits) + restart time (12 bits), then AFI (2), SAFI (1), flags (1) per family.
      if (len < 2 || (len - 2) % 4 !== 0) throw badLength('graceful restart', len, '2 + a multiple of 4');
      const families: { afi: number; safi: number; forwardingPreserved: boolean }[] = [];
      for (let q = p + 2; q < p + len; q += 4) {
        families.push({ afi: u16(b, q), safi: b[q + 2]!, forwardingPreserved: (b[q + 3]! & 0x80) !== 0 });
      }
      return { kind: 'graceful-restart', flags: b[p]! >> 4, restartTime: u16(b, p) & 0x0fff, families };
    }
    case CapabilityCode.ADD_PATH: {
      // RFC 7911 §4: tuples of AFI (2), SAFI (1), Send/Receive (1).
      if (len % 4 !== 0) throw badLength('add-path', len, 'a multiple of 4');
      const entries: { afi: number; safi: number; sendReceive: 1 | 2 | 3 }[] = [];
      for (let q = p; q < p + len; q += 4) {
        const sr = b[q + 3]!;
        // RFC 7911 defines only 1 (receive), 2 (send) and 3 (both) and no error for other values: such an entry
        // promises nothing we could use, so it is left out.
        if (sr === 1 || sr === 2 || sr === 3) entries.push({ afi: u16(b, q), safi: b[q + 2]!, sendReceive: sr });
      }
      return { kind: 'add-path', entries };
    }
    case CapabilityCode.FQDN: {
      // draft-walton-bgp-hostname-capability §3: hostname length (1), hostname, domain length (1), domain.
      const r = new Reader(b, p, p + len, () => malformedOpen(`FQDN capability of length ${len} is malformed`));
      const hostname = utf8.decode(r.bytes(r.u8()));
      // Some speakers leave the domain out entirely; read that as an empty domain.
      const domain = r.remaining > 0 ? utf8.decode(r.bytes(r.u8())) : '';
      if (r.remaining !== 0) throw malformedOpen(`FQDN capability has ${r.remaining} trailing bytes`);
      return { kind: 'fqdn', hostname, domain };
    }
    default:
      return { kind: 'unknown', code, value: b.subarray(p, p + len) };
  }
}

/** The capability's code, for logging and encoding. */
export function capabilityCode(c: Capability): number {
  switch (c.kind) {
    case 'multiprotocol':
      return CapabilityCode.MULTIPROTOCOL;
    case 'route-refresh':
      return CapabilityCode.ROUTE_REFRESH;
    case 'route-refresh-old':
      return CapabilityCode.ROUTE_REFRESH_OLD;
    case 'enhanced-route-refresh':
      return CapabilityCode.ENHANCED_ROUTE_REFRESH;
    case 'extended-message':
      return CapabilityCode.EXTENDED_MESSAGE;
    case 'four-octet-as':
      return CapabilityCode.FOUR_OCTET_AS;
    case 'extended-next-hop':
      return CapabilityCode.EXTENDED_NEXT_HOP;
    case 'graceful-restart':
      return CapabilityCode.GRACEFUL_RESTART;
    case 'add-path':
      return CapabilityCode.ADD_PATH;
    case 'fqdn':
      return CapabilityCode.FQDN;
    case 'unknown':
      return c.code;
  }
}

/** Writes one capability TLV. Throws a RangeError when its value would exceed the 255 bytes a TLV can hold. */
export function encodeCapability(w: Writer, c: Capability): void {
  const start = w.pos;
  w.u8(capabilityCode(c));
  const lenAt = w.reserve(1);
  switch (c.kind) {
    case 'multiprotocol':
      w.u16(c.afi).u8(0).u8(c.safi);
      break;
    case 'route-refresh':
    case 'route-refresh-old':
    case 'enhanced-route-refresh':
    case 'extended-message':
      break;
    case 'four-octet-as':
      w.u32(c.asn);
      break;
    case 'extended-next-hop':
      for (const e of c.entries) w.u16(e.afi).u16(e.safi).u16(e.nextHopAfi);
      break;
    case 'graceful-restart':
      w.u16(((c.flags & 0x0f) << 12) | (c.restartTime & 0x0fff));
      for (const f of c.families)
        w.u16(f.afi)
          .u8(f.safi)
          .u8(f.forwardingPreserved ? 0x80 : 0);
      break;
    case 'add-path':
      for (const e of c.entries) w.u16(e.afi).u8(e.safi).u8(e.sendReceive);
      break;
    case 'fqdn': {
      const host = utf8Encoder.encode(c.hostname);
      const domain = utf8Encoder.encode(c.domain);
      if (host.length > 255 || domain.length > 255) throw new RangeError('FQDN capability: name longer than 255 bytes');
      w.u8(host.length).bytes(host).u8(domain.length).bytes(domain);
      break;
    }
    case 'unknown':
      w.bytes(c.value);
      break;
  }
  const len = w.pos - lenAt - 1;
  if (len > 255) {
    w.pos = start;
    throw new RangeError(`capability ${capabilityCode(c)} value of ${len} bytes exceeds 255`);
  }
  w.patchU8(lenAt, len);
}
