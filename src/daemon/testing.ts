// Test helpers for the daemon and the API: a scripted stand-in for session Peers, so the speaker's wiring to the
// real RIB can be driven event by event without sockets, a Speaker built on them, and small builders for configs and
// messages.

import type net from 'node:net';
import pino, { type Logger } from 'pino';
import type {
  NegotiatedSession,
  OutputSource,
  PeerConfig,
  PeerHandler,
  SessionDownReason,
  SessionStateName,
} from '../session/types.ts';
import {
  AsPathSegmentType,
  defaultCodecContext,
  type Family,
  type PathAttributes,
  parsePrefix,
  type UpdateMessage,
} from '../wire/index.ts';
import { type DaemonConfig, parseConfig } from './config.ts';
import { type PeerControl, type PeerFactory, Speaker, type SpeakerOptions } from './speaker.ts';

export const silentLogger: Logger = pino({ level: 'silent' });

/** A Peer whose session events the test triggers. */
export class FakePeer implements PeerControl {
  readonly config: PeerConfig;
  readonly handler: PeerHandler;
  readonly output: OutputSource;
  state: SessionStateName = 'idle';
  session: NegotiatedSession | null = null;
  started = 0;
  stops: { subcode?: number; message?: string }[] = [];
  accepted: net.Socket[] = [];
  wakes = 0;
  /** Bytes pulled from the RIB so far. */
  pulled: Uint8Array[] = [];

  constructor(config: PeerConfig, handler: PeerHandler, output: OutputSource) {
    this.config = config;
    this.handler = handler;
    this.output = output;
  }

  start(): void {
    this.started++;
    this.setState('active');
  }

  async stop(opts: { subcode?: number; message?: string } = {}): Promise<void> {
    this.stops.push(opts);
    const was = this.state === 'established';
    this.setState('idle');
    this.session = null;
    this.handler.down(this, { message: `stopped: ${opts.message ?? ''}` }, was);
  }

  acceptConnection(socket: net.Socket): void {
    this.accepted.push(socket);
  }

  /** Resets asked for (hard or soft), and ROUTE-REFRESH messages "sent", per family. */
  resets: { hard: boolean; message?: string }[] = [];
  refreshesSent: Family[] = [];

  reset(hard = true, message?: string): void {
    this.resets.push(message === undefined ? { hard } : { hard, message });
    if (!hard) return;
    // As the real Peer: Cease 4 ends the session, then it starts connecting again.
    const was = this.state === 'established';
    this.setState('idle');
    this.session = null;
    this.handler.down(this, { message: `reset: ${message ?? ''}` }, was);
    this.setState('active');
  }

  sendRouteRefresh(family: Family): boolean {
    if (this.state !== 'established' || !this.session?.routeRefresh) return false;
    this.refreshesSent.push(family);
    return true;
  }

  wakeOutput(): void {
    this.wakes++;
    for (;;) {
      const msgs = this.output.pull(this, 65536);
      if (msgs.length === 0) break;
      this.pulled.push(...msgs);
    }
  }

  setState(to: SessionStateName): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.handler.stateChanged(this, from, to);
  }

  /** Brings the session to Established as if OPENs had been exchanged over `localAddress`. */
  establish(opts: { localAddress?: string; remoteRouterId?: string; families?: Family[] } = {}): void {
    const families = opts.families ?? this.config.families;
    const codec = defaultCodecContext({ ebgp: this.config.remoteAsn !== this.config.localAsn });
    const open = { type: 'open' as const, version: 4, myAs: 0, holdTime: 90, routerId: '0.0.0.0', capabilities: [] };
    this.session = {
      remoteAsn: this.config.remoteAsn,
      remoteRouterId: opts.remoteRouterId ?? '192.0.2.254',
      holdTime: 90,
      keepaliveTime: 30,
      families,
      codec,
      routeRefresh: true,
      enhancedRouteRefresh: false,
      peerGracefulRestart: null,
      localAddress: opts.localAddress ?? '127.0.0.1',
      localPort: 179,
      remoteAddress: this.config.address,
      remotePort: 40000,
      openSent: open,
      openReceived: open,
    };
    this.setState('opensent');
    this.setState('openconfirm');
    this.setState('established');
    this.handler.established(this, this.session);
  }

  /**
   * establish() as GLOBAL_TOML's speaker sees it: over its address 192.0.2.1, with the neighbour's own address as
   * its BGP identifier.
   */
  up(): void {
    this.establish({ localAddress: '192.0.2.1', remoteRouterId: this.config.address });
  }

  receive(msg: UpdateMessage): void {
    this.handler.update(this, msg);
  }

  drop(reason: SessionDownReason): void {
    const was = this.state === 'established';
    this.setState('idle');
    this.session = null;
    this.handler.down(this, reason, was);
  }
}

/** What fakePeers() returns. */
export interface FakePeers {
  factory: PeerFactory;
  all: FakePeer[];
  latest(address: string): FakePeer;
}

/** A PeerFactory that records every FakePeer it makes, by address (latest last). */
export function fakePeers(): FakePeers {
  const all: FakePeer[] = [];
  return {
    all,
    factory: (config, handler, output) => {
      const p = new FakePeer(config, handler, output);
      all.push(p);
      return p;
    },
    latest(address: string): FakePeer {
      const p = all.filter((x) => x.config.address === address).at(-1);
      if (!p) throw new Error(`no peer for ${address}`);
      return p;
    },
  };
}

/**
 * A Speaker (not started) on `toml` whose peers are FakePeers, logging nowhere; `opts` adds to or overrides those
 * two options.
 */
export function fakeSpeaker(toml: string, opts: Partial<SpeakerOptions> = {}): { speaker: Speaker; peers: FakePeers } {
  const peers = fakePeers();
  const speaker = new Speaker(config(toml), { logger: silentLogger, createPeer: peers.factory, ...opts });
  return { speaker, peers };
}

/** The [global] table of most tests: AS 65000, router ID 192.0.2.1, no BGP listener (peers are FakePeers). */
export const GLOBAL_TOML = `
[global]
asn = 65000
router_id = "192.0.2.1"
listen = []
`;

/** A [[neighbors]] table for `address` in `asn`, with `lines` (TOML `key = value`) added. */
export function neighborToml(address: string, asn: number, ...lines: string[]): string {
  return `
[[neighbors]]
address = "${address}"
asn = ${asn}
${lines.map((l) => `${l}\n`).join('')}`;
}

export function config(toml: string): DaemonConfig {
  const r = parseConfig(toml, 'test.toml');
  if (!r.ok) throw new Error(`test config invalid:\n${r.errors.join('\n')}`);
  return r.config;
}

/** An UPDATE announcing `prefixes` (one family) with an AS_SEQUENCE path. */
export function announce(
  prefixes: string[],
  nextHop: string,
  asPath: number[],
  extra: Partial<PathAttributes> = {},
): UpdateMessage {
  const parsed = prefixes.map((p) => parsePrefix(p));
  return {
    type: 'update',
    withdrawn: [],
    announced: [{ family: parsed[0]!.family, prefixes: parsed.map((p) => p.key), pathIds: null, nextHop }],
    attributes: { origin: 0, asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: asPath }], ...extra },
    treatAsWithdraw: false,
    errors: [],
  };
}

export function withdraw(prefixes: string[]): UpdateMessage {
  const parsed = prefixes.map((p) => parsePrefix(p));
  return {
    type: 'update',
    withdrawn: [{ family: parsed[0]!.family, prefixes: parsed.map((p) => p.key), pathIds: null }],
    announced: [],
    attributes: null,
    treatAsWithdraw: false,
    errors: [],
  };
}
