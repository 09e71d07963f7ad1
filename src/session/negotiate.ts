// Capability negotiation: the OPEN we send (RFC 4271 §4.2, RFC 5492) and what the two OPENs agree on, with the
// configuration checks of RFC 4271 §6.2 that the codec cannot make (expected peer AS, our own identifier).
// Pure functions: the transport details they need (IPv6 or not, the endpoints) are passed in.

import {
  AS_TRANS,
  afiSafiOf,
  type Capability,
  type CodecContext,
  ErrorCode,
  type Family,
  familyOf,
  MAX_EXTENDED_MESSAGE_SIZE,
  MAX_MESSAGE_SIZE,
  type OpenMessage,
  OpenSubcode,
  parseIPv4,
} from '../wire/index.ts';
import type { NegotiatedSession, PeerConfig } from './types.ts';

export interface TransportInfo {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** The address is IPv6 (IPv4-mapped IPv6 addresses count as IPv4: the session then runs over IPv4). */
export function isIPv6Transport(localAddress: string): boolean {
  return localAddress.includes(':') && !localAddress.toLowerCase().startsWith('::ffff:');
}

/** A dotted quad as an unsigned 32-bit number (0 when it does not parse). */
export function routerIdToNumber(id: string): number {
  const b = parseIPv4(id);
  if (!b) return 0;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** The OPEN we send on a connection. */
export function buildOpen(config: PeerConfig, ipv6Transport: boolean): OpenMessage {
  const caps: Capability[] = [];
  for (const f of config.families) {
    const { afi, safi } = afiSafiOf(f);
    caps.push({ kind: 'multiprotocol', afi, safi });
  }
  caps.push({ kind: 'route-refresh' }, { kind: 'enhanced-route-refresh' });
  // RFC 6793: always 4-octet AS capable.
  caps.push({ kind: 'four-octet-as', asn: config.localAsn });
  caps.push({ kind: 'extended-message' });
  // RFC 8950: IPv4 routes with IPv6 next hops, so IPv4 can be carried over an IPv6-only session.
  if (ipv6Transport && config.families.includes('ipv4-unicast')) {
    caps.push({ kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
  }
  const addPath = config.addPathReceive.filter((f) => config.families.includes(f));
  if (addPath.length > 0) {
    // RFC 7911 §4: 1 = receive.
    caps.push({
      kind: 'add-path',
      entries: addPath.map((f) => ({ ...afiSafiOf(f), sendReceive: 1 as const })),
    });
  }
  if (config.gracefulRestart) {
    caps.push({
      kind: 'graceful-restart',
      // RFC 4724 §3: the R bit (0x8 of the 4-bit flags).
      flags: config.gracefulRestart.restarting ? 0x8 : 0,
      restartTime: config.gracefulRestart.restartTime,
      // We do not preserve forwarding state across a restart (we do not own a FIB).
      families: config.families.map((f) => ({ ...afiSafiOf(f), forwardingPreserved: false })),
    });
  }
  if (config.hostname) caps.push({ kind: 'fqdn', hostname: config.hostname, domain: '' });
  return {
    type: 'open',
    version: 4,
    // RFC 6793 §4.1: AS_TRANS in My Autonomous System when the ASN needs four octets.
    myAs: config.localAsn > 0xffff ? AS_TRANS : config.localAsn,
    holdTime: config.holdTime,
    routerId: config.routerId,
    capabilities: caps,
  };
}

export type NegotiationResult =
  | { ok: true; session: NegotiatedSession }
  | { ok: false; code: number; subcode: number; data?: Uint8Array; message: string };

function has(caps: Capability[], kind: Capability['kind']): boolean {
  return caps.some((c) => c.kind === kind);
}

function mpFamilies(caps: Capability[]): Family[] | null {
  let any = false;
  const out: Family[] = [];
  for (const c of caps) {
    if (c.kind !== 'multiprotocol') continue;
    any = true;
    const f = familyOf(c.afi, c.safi);
    if (f && !out.includes(f)) out.push(f);
  }
  return any ? out : null;
}

function addPathModes(caps: Capability[]): Map<Family, number> {
  const m = new Map<Family, number>();
  for (const c of caps) {
    if (c.kind !== 'add-path') continue;
    for (const e of c.entries) {
      const f = familyOf(e.afi, e.safi);
      if (f) m.set(f, e.sendReceive);
    }
  }
  return m;
}

function extNextHopFamilies(caps: Capability[]): Set<Family> {
  const s = new Set<Family>();
  for (const c of caps) {
    if (c.kind !== 'extended-next-hop') continue;
    for (const e of c.entries) {
      const f = familyOf(e.afi, e.safi);
      if (f === 'ipv4-unicast' && e.nextHopAfi === 2) s.add(f);
    }
  }
  return s;
}

/** The peer's real ASN (RFC 6793 §4.1): the 4-octet AS capability when present, else My Autonomous System. */
export function peerAsnOf(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.kind === 'four-octet-as') return c.asn;
  return open.myAs;
}

/** Checks the received OPEN against the configuration and works out the session (RFC 4271 §6.2). */
export function negotiate(
  config: PeerConfig,
  sent: OpenMessage,
  received: OpenMessage,
  transport: TransportInfo,
): NegotiationResult {
  const openError = (subcode: number, message: string, data?: Uint8Array): NegotiationResult => {
    const r: NegotiationResult = { ok: false, code: ErrorCode.OPEN_MESSAGE, subcode, message };
    if (data) r.data = data;
    return r;
  };
  // The codec checks these too; repeated here so negotiate() is safe on any OpenMessage.
  if (received.version !== 4) {
    return openError(
      OpenSubcode.UNSUPPORTED_VERSION,
      `unsupported BGP version ${received.version}`,
      Uint8Array.of(0, 4),
    );
  }
  const remoteAsn = peerAsnOf(received);
  if (remoteAsn !== config.remoteAsn) {
    return openError(OpenSubcode.BAD_PEER_AS, `bad peer AS: expected ${config.remoteAsn}, got ${remoteAsn}`);
  }
  if (received.holdTime === 1 || received.holdTime === 2) {
    return openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `unacceptable hold time ${received.holdTime}`);
  }
  const remoteId = routerIdToNumber(received.routerId);
  if (remoteId === 0) return openError(OpenSubcode.BAD_BGP_IDENTIFIER, `bad BGP identifier ${received.routerId}`);
  const ibgp = config.remoteAsn === config.localAsn;
  // RFC 4271 §6.2 / RFC 6286 §2.2: the identifiers must differ within an AS.
  if (ibgp && remoteId === routerIdToNumber(config.routerId)) {
    return openError(OpenSubcode.BAD_BGP_IDENTIFIER, `BGP identifier ${received.routerId} is our own`);
  }

  const rc = received.capabilities;
  const sc = sent.capabilities;
  // RFC 4760 §8: a speaker that sends no Multiprotocol capability at all supports IPv4 unicast only.
  const theirs = mpFamilies(rc) ?? ['ipv4-unicast'];
  const ours = mpFamilies(sc) ?? ['ipv4-unicast'];
  const families = ours.filter((f) => theirs.includes(f));

  const holdTime = Math.min(sent.holdTime, received.holdTime);
  const asn4 = has(rc, 'four-octet-as') && has(sc, 'four-octet-as');
  const extendedMessage = has(rc, 'extended-message') && has(sc, 'extended-message');

  // RFC 7911 §4: we receive path IDs for f when we said receive (1|3) and the peer said send (2|3); we would
  // send them when the peer said receive and we said send (tsbgp does not advertise send yet).
  const ourAp = addPathModes(sc);
  const theirAp = addPathModes(rc);
  const addPathRx = new Set<Family>();
  const addPathTx = new Set<Family>();
  for (const f of families) {
    const o = ourAp.get(f) ?? 0;
    const t = theirAp.get(f) ?? 0;
    if (o & 1 && t & 2) addPathRx.add(f);
    if (o & 2 && t & 1) addPathTx.add(f);
  }

  // RFC 8950 §3: usable only when both sides advertised it for the family.
  const ourEnh = extNextHopFamilies(sc);
  const extendedNextHop = new Set<Family>();
  for (const f of extNextHopFamilies(rc)) if (ourEnh.has(f) && families.includes(f)) extendedNextHop.add(f);

  let peerGracefulRestart: NegotiatedSession['peerGracefulRestart'] = null;
  for (const c of rc) {
    if (c.kind !== 'graceful-restart') continue;
    const grFamilies: Family[] = [];
    for (const e of c.families) {
      const f = familyOf(e.afi, e.safi);
      if (f) grFamilies.push(f);
    }
    peerGracefulRestart = { restartTime: c.restartTime, restarting: (c.flags & 0x8) !== 0, families: grFamilies };
  }

  const codec: CodecContext = {
    asn4,
    addPathRx,
    addPathTx,
    maxMessageSize: extendedMessage ? MAX_EXTENDED_MESSAGE_SIZE : MAX_MESSAGE_SIZE,
    ebgp: !ibgp,
    extendedNextHop,
  };
  return {
    ok: true,
    session: {
      remoteAsn,
      remoteRouterId: received.routerId,
      holdTime,
      keepaliveTime: Math.floor(holdTime / 3),
      families,
      codec,
      // RFC 2918 code 2, or the pre-standard code 128 some old speakers still send.
      routeRefresh: has(rc, 'route-refresh') || has(rc, 'route-refresh-old'),
      enhancedRouteRefresh: has(rc, 'enhanced-route-refresh') && has(sc, 'enhanced-route-refresh'),
      peerGracefulRestart,
      localAddress: transport.localAddress,
      localPort: transport.localPort,
      remoteAddress: transport.remoteAddress,
      remotePort: transport.remotePort,
      openSent: sent,
      openReceived: received,
    },
  };
}

/** Capability codes, for logging what a peer sent. */
export function capabilityNames(caps: Capability[]): string[] {
  return caps.map((c) => (c.kind === 'unknown' ? `unknown(${c.code})` : c.kind));
}
