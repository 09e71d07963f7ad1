// GET /api/v1/health and GET /metrics (Prometheus text format, prom-client).
//
// Metric names follow what BGP exporters already use (bgp_peer_state, bgp_routes_received, …) so existing
// dashboards fit. Nothing is counted per message or per route here: on each scrape one snapshot is taken
// (DaemonObserve.peerMetrics(), the Loc-RIB sizes) and every metric's collect() reads it. Process metrics (memory,
// CPU, GC, event-loop lag) come from prom-client's default collectors.
//
// The event-loop delay (node:perf_hooks monitorEventLoopDelay, 10 ms resolution) is also kept here for health: p99
// over the last one to two minutes, and the largest delay seen since the daemon started (the benchmark reads it).

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { DaemonApi, MessageKind, PeerMetrics } from '../daemon/types.ts';
import { MESSAGE_KINDS } from '../daemon/types.ts';
import type { SessionStateName } from '../session/types.ts';
import { FAMILIES, type Family } from '../wire/index.ts';

/** BGP4-MIB bgpPeerState numbering (RFC 4273): idle(1) … established(6). */
const STATE_NUMBER: Record<SessionStateName, number> = {
  idle: 1,
  connect: 2,
  active: 3,
  opensent: 4,
  openconfirm: 5,
  established: 6,
};

/** How often the event-loop p99 window starts over. */
const LOOP_WINDOW_MS = 60_000;

export class LoopMonitor {
  private readonly h = monitorEventLoopDelay({ resolution: 10 });
  private maxNs = 0;
  private prevP99Ns = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.h.enable();
    this.timer = setInterval(() => this.roll(), LOOP_WINDOW_MS);
    this.timer.unref();
  }

  private roll(): void {
    this.maxNs = Math.max(this.maxNs, this.h.max);
    this.prevP99Ns = this.h.count > 0 ? this.h.percentile(99) : 0;
    this.h.reset();
  }

  /** p99 over the last one to two minutes, and the maximum since start, in milliseconds. */
  read(): { p99: number; max: number } {
    const cur = this.h.count > 0 ? this.h.percentile(99) : 0;
    const max = Math.max(this.maxNs, this.h.count > 0 ? this.h.max : 0);
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    return { p99: ms(Math.max(cur, this.prevP99Ns)), max: ms(max) };
  }

  close(): void {
    clearInterval(this.timer);
    this.h.disable();
  }
}

export interface HealthView {
  status: 'ok';
  uptime_s: number;
  version: string;
  neighbors: { configured: number; established: number };
  event_loop_delay_ms: { p99: number; max: number };
  /** Loc-RIB prefixes per family. */
  loc_rib: Record<Family, number>;
}

interface Snapshot {
  peers: PeerMetrics[];
  rib: Record<Family, number>;
}

/** The Prometheus registry of one API instance; `scrape()` renders the text format. */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private snap: Snapshot = { peers: [], rib: {} as Record<Family, number> };
  private readonly daemon: DaemonApi;

  constructor(daemon: DaemonApi, loop: LoopMonitor) {
    this.daemon = daemon;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const self = this;
    const perPeer = (name: string, help: string, value: (p: PeerMetrics) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['peer'],
        registers,
        collect() {
          this.reset();
          for (const p of self.snap.peers) this.set({ peer: p.address }, value(p));
        },
      });
    new Gauge({
      name: 'bgp_peer_state',
      help: 'BGP session state (BGP4-MIB numbering: 1 idle, 2 connect, 3 active, 4 opensent, 5 openconfirm, 6 established)',
      labelNames: ['peer', 'session_state', 'admin_state'],
      registers,
      collect() {
        this.reset();
        for (const p of self.snap.peers) {
          this.set(
            { peer: p.address, session_state: p.state, admin_state: p.enabled ? 'up' : 'down' },
            STATE_NUMBER[p.state],
          );
        }
      },
    });
    perPeer(
      'bgp_peer_uptime_seconds',
      'Seconds the session has been Established (0 when it is not)',
      (p) => p.uptime_s,
    );
    perPeer('bgp_peer_flop_count', 'Times an Established session went down since the daemon started', (p) => p.flaps);
    perPeer('bgp_peer_out_queue_count', 'Prefixes waiting to be sent to the peer', (p) => p.out_queue_count);
    perPeer('bgp_peer_out_queue_bytes', 'Bytes written to the socket and not yet sent', (p) => p.out_queue_bytes);
    const perFamily = (name: string, help: string, value: (p: PeerMetrics) => Record<Family, number>) =>
      new Gauge({
        name,
        help,
        labelNames: ['peer', 'route_family'],
        registers,
        collect() {
          this.reset();
          for (const p of self.snap.peers) {
            const v = value(p);
            for (const f of FAMILIES) this.set({ peer: p.address, route_family: f }, v[f] ?? 0);
          }
        },
      });
    perFamily('bgp_routes_received', 'Paths received from the peer (Adj-RIB-In)', (p) => p.routes_received);
    perFamily('bgp_routes_accepted', 'Paths accepted from the peer after the import checks', (p) => p.routes_accepted);
    perFamily('bgp_routes_advertised', 'Prefixes advertised to the peer (Adj-RIB-Out)', (p) => p.routes_advertised);
    for (const dir of ['received', 'sent'] as const) {
      for (const kind of MESSAGE_KINDS) {
        new Counter({
          name: `bgp_${dir}_${kind}_total`,
          help: `${kindName(kind)} messages ${dir} ${dir === 'received' ? 'from' : 'to'} the peer`,
          labelNames: ['peer'],
          registers,
          collect() {
            this.reset();
            for (const p of self.snap.peers) this.inc({ peer: p.address }, p[dir][kind]);
          },
        });
      }
    }
    new Gauge({
      name: 'bgp_rib_routes',
      help: 'Prefixes in the Loc-RIB',
      labelNames: ['route_family'],
      registers,
      collect() {
        this.reset();
        for (const f of FAMILIES) this.set({ route_family: f }, self.snap.rib[f] ?? 0);
      },
    });
    new Gauge({
      name: 'tsbgp_event_loop_delay_max_seconds',
      help: 'Longest event-loop delay seen since the daemon started',
      registers,
      collect() {
        this.set(loop.read().max / 1000);
      },
    });
    new Gauge({
      name: 'tsbgp_event_loop_delay_p99_seconds',
      help: '99th percentile of the event-loop delay over the last one to two minutes',
      registers,
      collect() {
        this.set(loop.read().p99 / 1000);
      },
    });
  }

  /** A gauge without labels whose value is read at scrape time. */
  addGauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  async scrape(): Promise<string> {
    this.snap = { peers: this.daemon.peerMetrics(), rib: this.daemon.ribSizes() };
    return await this.registry.metrics();
  }
}

function kindName(k: MessageKind): string {
  return k === 'refresh' ? 'ROUTE-REFRESH' : k.toUpperCase();
}

export function health(daemon: DaemonApi, loop: LoopMonitor): HealthView {
  const peers = daemon.peerMetrics();
  return {
    status: 'ok',
    uptime_s: daemon.uptimeSeconds(),
    version: daemon.version,
    neighbors: { configured: peers.length, established: peers.filter((p) => p.state === 'established').length },
    event_loop_delay_ms: loop.read(),
    loc_rib: daemon.ribSizes(),
  };
}

/** Registers GET /metrics (outside /api/v1, where Prometheus looks by default). */
export function registerMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.get('/metrics', { config: { role: 'read' } }, async (_req, reply) => {
    const text = await metrics.scrape();
    reply.type(metrics.contentType);
    return text;
  });
}
