// Helpers for the RIB's tests: compact builders of attributes, UPDATEs and peers, and an encoder that records
// what the RIB asked to send (the wire-level tests decode real UPDATEs instead).

import {
  AsPathSegmentType,
  type CodecContext,
  defaultCodecContext,
  type Family,
  formatPrefix,
  type PathAttributes,
  parsePrefix,
  type RouteBatch,
  type UpdateMessage,
} from '../wire/index.ts';
import type { UpdateEncoder } from './encoder.ts';
import type { RibPeer, RibPeerSession } from './types.ts';

export function attrs(asPath: number[], extra: Partial<PathAttributes> = {}): PathAttributes {
  return {
    origin: 0,
    asPath: asPath.length > 0 ? [{ type: AsPathSegmentType.AS_SEQUENCE, asns: asPath }] : [],
    ...extra,
  };
}

function keys(prefixes: string[]): { family: Family; keys: string[] } {
  const parsed = prefixes.map((p) => parsePrefix(p));
  return { family: parsed[0]?.family ?? 'ipv4-unicast', keys: parsed.map((p) => p.key) };
}

export function announce(
  prefixes: string[],
  nextHop: string,
  a: PathAttributes,
  pathIds: number[] | null = null,
): UpdateMessage {
  const k = keys(prefixes);
  return {
    type: 'update',
    withdrawn: [],
    announced: [{ family: k.family, prefixes: k.keys, pathIds, nextHop }],
    attributes: a,
    treatAsWithdraw: false,
    errors: [],
  };
}

export function withdraw(prefixes: string[], pathIds: number[] | null = null): UpdateMessage {
  const k = keys(prefixes);
  return {
    type: 'update',
    withdrawn: [{ family: k.family, prefixes: k.keys, pathIds }],
    announced: [],
    attributes: null,
    treatAsWithdraw: false,
    errors: [],
  };
}

export function key(prefix: string): string {
  return parsePrefix(prefix).key;
}

export function ribPeer(id: string, asn: number, localAsn: number, extra: Partial<RibPeer> = {}): RibPeer {
  return {
    id,
    address: id,
    asn,
    localAsn,
    routerId: 0,
    ibgp: asn === localAsn,
    routeReflectorClient: false,
    localAddress: '',
    ...extra,
  };
}

export function session(
  localAddress: string,
  routerId: number,
  families: Family[] = ['ipv4-unicast', 'ipv6-unicast'],
  codec: Partial<CodecContext> = {},
): RibPeerSession & { localAddress: string; routerId: number } {
  return { families, codec: defaultCodecContext(codec), localAddress, routerId };
}

export type Sent =
  | { type: 'update'; family: Family; attributes: PathAttributes; nextHop: string; prefixes: string[] }
  | { type: 'withdraw'; family: Family; prefixes: string[] }
  | { type: 'eor'; family: Family };

/**
 * An UpdateEncoder that returns placeholder messages of a plausible size (one per call) and remembers what each
 * one stands for.
 */
export class RecordingEncoder implements UpdateEncoder {
  private readonly log = new WeakMap<Uint8Array, Sent>();
  calls = 0;

  encodeUpdates(batch: RouteBatch, _ctx: CodecContext): Uint8Array[] {
    this.calls++;
    const m = new Uint8Array(19 + 40 + batch.prefixes.reduce((n, p) => n + p.length, 0));
    this.log.set(m, {
      type: 'update',
      family: batch.family,
      attributes: batch.attributes,
      nextHop: batch.nextHop,
      prefixes: batch.prefixes.map((p) => formatPrefix(batch.family, p)),
    });
    return [m];
  }

  encodeWithdrawals(family: Family, prefixes: string[], _ids: number[] | null, _ctx: CodecContext): Uint8Array[] {
    this.calls++;
    const m = new Uint8Array(19 + 4 + prefixes.reduce((n, p) => n + p.length, 0));
    this.log.set(m, { type: 'withdraw', family, prefixes: prefixes.map((p) => formatPrefix(family, p)) });
    return [m];
  }

  encodeEndOfRib(family: Family): Uint8Array {
    const m = new Uint8Array(23);
    this.log.set(m, { type: 'eor', family });
    return m;
  }

  decode(msgs: Uint8Array[]): Sent[] {
    return msgs.map((m) => {
      const s = this.log.get(m);
      if (s === undefined) throw new Error('message not produced by this encoder');
      return s;
    });
  }
}
