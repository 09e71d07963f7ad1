// A minimal BGP-4 speaker for the benchmark's own sender and receiver: just enough of RFC 4271 to bring a session up
// against a real daemon and keep it up — OPEN with the capabilities a full table needs (multiprotocol IPv4 and IPv6
// unicast, RFC 4760; 4-octet AS, RFC 6793; route refresh, RFC 2918), KEEPALIVEs every hold/3, a hold timer, and a
// framer that hands each whole message to a callback as a view into the socket's chunk (copied only when a message
// straddles two chunks). It has no FSM beyond connect → OpenSent → OpenConfirm → Established and no RIB.
//
// Its job is to be cheap: the system under test must be the bottleneck, never this code. It deliberately does not use
// src/wire, so the benchmark does not measure tsbgp's codec on both sides of the daemon under test.

import { createConnection, createServer, type Server, type Socket } from 'node:net';

export const MSG = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

const HEADER = 19;
const MAX_MESSAGE = 65535;
const READ_BUFFER = 256 * 1024;
const COALESCE_BELOW = 16 * 1024;

/** Milliseconds on the system-wide monotonic clock (CLOCK_MONOTONIC), comparable between processes. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function header(len: number, type: number): Buffer {
  const b = Buffer.alloc(len, 0);
  b.fill(0xff, 0, 16);
  b.writeUInt16BE(len, 16);
  b[18] = type;
  return b;
}

export const KEEPALIVE = header(HEADER, MSG.KEEPALIVE);

function ipv4ToU32(s: string): number {
  const p = s.split('.').map(Number);
  return (((p[0] ?? 0) << 24) | ((p[1] ?? 0) << 16) | ((p[2] ?? 0) << 8) | (p[3] ?? 0)) >>> 0;
}

/** OPEN (RFC 4271 §4.2) with capabilities in one Optional Parameter each (RFC 5492). */
export function encodeOpen(asn: number, holdTime: number, routerId: string): Buffer {
  const caps: number[][] = [
    [1, 4, 0, 1, 0, 1], // Multiprotocol IPv4 unicast (RFC 4760 §8)
    [1, 4, 0, 2, 0, 1], // Multiprotocol IPv6 unicast
    [2, 0], // Route Refresh (RFC 2918)
    [65, 4, (asn >>> 24) & 0xff, (asn >>> 16) & 0xff, (asn >>> 8) & 0xff, asn & 0xff], // 4-octet AS (RFC 6793)
  ];
  const params: number[] = [];
  for (const c of caps) params.push(2, c.length, ...c);
  const len = HEADER + 10 + params.length;
  const b = header(len, MSG.OPEN);
  b[19] = 4;
  b.writeUInt16BE(asn > 0xffff ? 23456 : asn, 20); // AS_TRANS when the ASN needs 4 octets (RFC 6793 §4.2.1)
  b.writeUInt16BE(holdTime, 22);
  b.writeUInt32BE(ipv4ToU32(routerId), 24);
  b[28] = params.length;
  Buffer.from(params).copy(b, 29);
  return b;
}

export function encodeNotification(code: number, subcode: number): Buffer {
  const b = header(HEADER + 2, MSG.NOTIFICATION);
  b[19] = code;
  b[20] = subcode;
  return b;
}

export interface SessionOptions {
  /** Address to bind before connecting (connect mode) or to listen on (listen mode). */
  localAddress: string;
  remoteAddress: string;
  port: number;
  mode: 'connect' | 'listen';
  asn: number;
  routerId: string;
  holdTime: number;
  /** Connect mode: retry interval while the peer is not listening yet. */
  retryMs?: number;
  /** Connect mode: pause this long after a small read (see connect()); 0 reads as soon as data arrives. */
  coalesceMs?: number;
}

export type SessionState = 'idle' | 'opensent' | 'openconfirm' | 'established' | 'closed';

export interface SessionHandlers {
  /** Every UPDATE, as a view: buf[off .. off+len) is the whole message including its header. */
  onUpdate?(buf: Buffer, off: number, len: number): void;
  onEstablished?(): void;
  /** The session went down after it was established (or failed while coming up, with `established` false). */
  onDown?(reason: string, wasEstablished: boolean): void;
}

/**
 * One BGP session. In connect mode it keeps trying until the peer accepts; in listen mode it accepts one connection
 * from `remoteAddress`. Once down it stays down (the benchmark reports a drop rather than hiding it by reconnecting).
 */
export class MiniSession {
  readonly opts: SessionOptions;
  state: SessionState = 'idle';
  socket: Socket | undefined;
  /** Negotiated hold time in seconds (0 = no keepalives). */
  holdTime = 0;
  messagesIn = 0;
  updatesIn = 0;
  bytesIn = 0;
  /** Reads from the socket (each one a callback). */
  readsIn = 0;
  private readonly h: SessionHandlers;
  private server: Server | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private lastRx = 0;
  private stopped = false;
  // Framer state for a message split across chunks.
  private partial = Buffer.allocUnsafe(MAX_MESSAGE);
  private partialLen = 0;

  constructor(opts: SessionOptions, handlers: SessionHandlers) {
    this.opts = opts;
    this.h = handlers;
  }

  start(): void {
    if (this.opts.mode === 'listen') {
      this.server = createServer((sock) => {
        if (this.socket || sock.remoteAddress?.replace(/^::ffff:/, '') !== this.opts.remoteAddress) {
          sock.destroy();
          return;
        }
        this.server?.close();
        this.attach(sock);
      });
      this.server.listen({ host: this.opts.localAddress, port: this.opts.port });
    } else {
      this.connect();
    }
  }

  private connect(): void {
    if (this.stopped) return;
    // `onread` hands each read to us in one reused buffer, without a stream 'data' event per read: a daemon that
    // writes one UPDATE per send() would otherwise make the receiver pay several microseconds per message.
    const sock = createConnection({
      host: this.opts.remoteAddress,
      port: this.opts.port,
      localAddress: this.opts.localAddress,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER),
        callback: (n: number, buf: Uint8Array) => {
          this.onData(Buffer.from(buf.buffer, buf.byteOffset, n));
          // Read coalescing: after a small read, leave the socket alone for a moment so the next read takes many
          // messages at once. A daemon that sends each UPDATE in its own TCP segment otherwise costs the receiver a
          // wakeup, a syscall and an ACK per message. Adds at most `coalesceMs` to any measured time.
          const c = this.opts.coalesceMs ?? 0;
          if (c > 0 && n < COALESCE_BELOW && this.state === 'established') {
            setTimeout(() => this.socket?.resume(), c);
            return false;
          }
          return true;
        },
      },
    });
    const onEarlyError = () => {
      sock.destroy();
      if (this.stopped || this.state !== 'idle') return;
      this.socket = undefined;
      this.retryTimer = setTimeout(() => this.connect(), this.opts.retryMs ?? 250);
    };
    sock.once('error', onEarlyError);
    sock.once('connect', () => {
      sock.off('error', onEarlyError);
      this.attach(sock);
    });
  }

  private attach(sock: Socket): void {
    this.socket = sock;
    sock.setNoDelay(true);
    if (this.opts.mode === 'listen') sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.down(`socket error: ${err.message}`));
    sock.on('close', () => this.down('connection closed by peer'));
    sock.write(encodeOpen(this.opts.asn, this.opts.holdTime, this.opts.routerId));
    this.state = 'opensent';
    this.lastRx = Date.now();
  }

  /** Writes raw bytes (whole messages); returns false when the socket wants a 'drain' first. */
  write(b: Uint8Array): boolean {
    return this.socket?.write(b) ?? false;
  }

  private down(reason: string): void {
    if (this.state === 'closed') return;
    const was = this.state === 'established';
    this.state = 'closed';
    this.clearTimers();
    this.socket?.destroy();
    if (!this.stopped) this.h.onDown?.(reason, was);
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.keepaliveTimer);
    clearInterval(this.holdTimer);
  }

  /** Sends a Cease (RFC 4486 subcode 2, administrative shutdown) and closes without reporting a drop. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.server?.close();
    if (this.socket && this.state !== 'closed') {
      const s = this.socket;
      s.end(encodeNotification(6, 2));
      setTimeout(() => s.destroy(), 500).unref();
    }
    this.state = 'closed';
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.readsIn++;
    this.lastRx = Date.now();
    let off = 0;
    if (this.partialLen > 0) {
      // Complete the message that straddles chunks.
      if (this.partialLen < HEADER) {
        const n = Math.min(HEADER - this.partialLen, chunk.length);
        chunk.copy(this.partial, this.partialLen, 0, n);
        this.partialLen += n;
        off = n;
        if (this.partialLen < HEADER) return;
      }
      const len = this.partial.readUInt16BE(16);
      if (len < HEADER) {
        this.protocolError('bad message length');
        return;
      }
      const n = Math.min(len - this.partialLen, chunk.length - off);
      chunk.copy(this.partial, this.partialLen, off, off + n);
      this.partialLen += n;
      off += n;
      if (this.partialLen < len) return;
      this.partialLen = 0;
      this.onMessage(this.partial, 0, len);
    }
    const end = chunk.length;
    while (off + HEADER <= end) {
      const len = (chunk[off + 16] as number) * 256 + (chunk[off + 17] as number);
      if (len < HEADER) {
        this.protocolError('bad message length');
        return;
      }
      if (off + len > end) break;
      this.onMessage(chunk, off, len);
      off += len;
    }
    if (off < end) {
      chunk.copy(this.partial, 0, off, end);
      this.partialLen = end - off;
    }
  }

  private protocolError(why: string): void {
    this.socket?.write(encodeNotification(1, 2));
    this.down(why);
  }

  private onMessage(buf: Buffer, off: number, len: number): void {
    this.messagesIn++;
    const type = buf[off + 18];
    if (type === MSG.UPDATE) {
      this.updatesIn++;
      this.h.onUpdate?.(buf, off, len);
      return;
    }
    if (type === MSG.KEEPALIVE) {
      if (this.state === 'openconfirm') this.established();
      return;
    }
    if (type === MSG.OPEN) {
      if (this.state !== 'opensent') {
        this.protocolError('unexpected OPEN');
        return;
      }
      const peerHold = buf.readUInt16BE(off + 22);
      this.holdTime = Math.min(peerHold, this.opts.holdTime);
      this.socket?.write(KEEPALIVE);
      this.state = 'openconfirm';
      return;
    }
    if (type === MSG.NOTIFICATION) {
      this.down(`NOTIFICATION received: code ${buf[off + 19]} subcode ${buf[off + 20]}`);
    }
    // ROUTE-REFRESH and anything else: ignored (the sender has nothing new to say).
  }

  private established(): void {
    this.state = 'established';
    if (this.holdTime > 0) {
      const every = Math.max(1000, (this.holdTime * 1000) / 3);
      this.keepaliveTimer = setInterval(() => this.socket?.write(KEEPALIVE), every);
      // RFC 4271 §6.5: the session ends when nothing arrives for a hold time. This is exactly the failure a busy
      // daemon risks, so the benchmark reports it as a drop instead of waiting forever.
      this.holdTimer = setInterval(() => {
        if (Date.now() - this.lastRx > this.holdTime * 1000) {
          this.socket?.write(encodeNotification(4, 0));
          this.down('hold timer expired');
        }
      }, 1000);
    }
    this.h.onEstablished?.();
  }
}
