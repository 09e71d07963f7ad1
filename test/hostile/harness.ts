// Helpers of the hostile-input tests: a real `tsbgp daemon` process with a "good" neighbour and one or more
// "attacker" neighbours, and a small scripted BGP speaker over node:net (BgpClient) that plays either part.
//
// The client decodes everything the daemon sends with src/wire and records any message that does not decode as a
// protocol violation: a daemon under attack must keep speaking correct BGP to everyone. Raw HTTP requests (rawHttp)
// bypass fetch's URL normalisation so that paths such as `/neighbors/..%2F..` reach the server as written.

import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { DaemonProcess, poll as pollSlow, randomPort, tempDir } from '../../src/cli/process-testing.ts';
import {
  type AnnouncedBlock,
  AttrFlag,
  type BgpMessage,
  type Capability,
  type CodecContext,
  decodeMessage,
  defaultCodecContext,
  encodeKeepalive,
  encodeOpen,
  encodeUpdates,
  type Family,
  Framer,
  formatPrefix,
  HEADER_LENGTH,
  MessageType,
  type NotificationMessage,
  type OpenMessage,
  type PathAttributes,
  type PrefixKey,
  parsePrefix,
} from '../../src/wire/index.ts';

/** process-testing's poll, every 20 ms for up to 10 s by default: loopback answers fast, and cases are many. */
export function poll<T>(fn: () => Promise<T | undefined>, what: string, tries = 500, intervalMs = 20): Promise<T> {
  return pollSlow(fn, what, tries, intervalMs);
}

/** The daemon's own AS in every hostile test. */
export const LOCAL_ASN = 65000;
export const LOCAL_ROUTER_ID = '10.90.0.1';

export interface NeighborSpec {
  address: string;
  asn: number;
  /** Extra TOML lines of the [[neighbors]] table. */
  extra?: string;
}

export interface HostileDaemon {
  d: DaemonProcess;
  /** The BGP address and port the daemon listens on. */
  host: string;
  port: number;
  pid: number;
}

/**
 * Starts `tsbgp daemon` listening for BGP on `host` (and its API on the same host, next port), with every
 * neighbour passive (our clients connect in; the daemon never dials the test addresses).
 */
export async function startDaemon(host: string, neighbors: NeighborSpec[], extraToml = ''): Promise<HostileDaemon> {
  const dir = tempDir();
  const port = randomPort();
  const nbs = neighbors
    .map(
      (n) => `
[[neighbors]]
address = "${n.address}"
asn = ${n.asn}
port = ${port}
passive = true
${n.extra ?? ''}
`,
    )
    .join('');
  const toml = `
[global]
asn = ${LOCAL_ASN}
router_id = "${LOCAL_ROUTER_ID}"
listen = ["${host}:${port}"]

[api]
listen = "${host}:${port + 1}"
${extraToml}

[state]
path = "hostile.db"
${nbs}`;
  const d = await DaemonProcess.start(dir, toml);
  const pid = d.proc.pid;
  if (pid === undefined) throw new Error('daemon has no pid');
  return { d, host, port, pid };
}

// ---------------------------------------------------------------------------------------------------------------
// The daemon process from outside: /proc and the HTTP API.

/** Resident set size of a process in bytes (VmRSS of /proc/PID/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Open file descriptors of a process (sockets included). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface HttpAnswer {
  status: number;
  body: string;
  json: unknown;
}

/** One HTTP request with the path sent exactly as given (no URL normalisation). */
export function rawHttp(
  hd: HostileDaemon,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string | number> = { ...headers };
    if (body !== undefined) {
      h['content-type'] ??= 'application/json';
      h['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host: hd.host, port: hd.port + 1, method, path, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON: left null, the caller asserts
        }
        resolve({ status: res.statusCode ?? 0, body: text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path}: no answer within 20 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends a raw HTTP request head, then `chunk` over and over (up to `maxBytes`) until the server answers or closes;
 * resolves with the answer's status code (0 when the server closed without one: a reset can overtake the answer
 * when the server closes with our bytes unread) and how many body bytes were written by then. Write errors after the
 * server stopped reading (EPIPE, ECONNRESET) are expected and ignored.
 */
export function streamUntilAnswered(
  hd: HostileDaemon,
  head: string,
  chunk: string,
  maxBytes: number,
): Promise<{ status: number; sent: number }> {
  return new Promise((resolve) => {
    const s = net.connect({ host: hd.host, port: hd.port + 1 });
    let answer = '';
    let done = false;
    let sent = 0;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      s.destroy();
      resolve({ status, sent });
    };
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
      if (m) finish(Number(m[1]));
    });
    s.on('close', () => finish(0));
    s.once('connect', () => {
      s.write(head);
      const pump = () => {
        while (!done && sent < maxBytes) {
          sent += chunk.length;
          if (!s.write(chunk)) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

export async function apiGet<T>(hd: HostileDaemon, path: string): Promise<T> {
  const a = await rawHttp(hd, 'GET', path);
  if (a.status !== 200) throw new Error(`GET ${path}: ${a.status} ${a.body}`);
  return a.json as T;
}

export interface RibRoute {
  prefix: string;
  best: boolean;
  from: string;
  next_hop: string;
  origin: string;
  as_path: unknown[];
  med: number | null;
  local_pref: number | null;
  communities: string[];
  large_communities: string[];
  ext_communities: string[];
}

export interface NeighborJson {
  address: string;
  state: string;
  received: Record<string, number>;
  advertised: Record<string, number>;
  last_error: string | null;
  uptime_s: number | null;
}

/** The Loc-RIB paths of one prefix learned from `from` (empty when none). */
export async function ribPaths(hd: HostileDaemon, prefix: string, from?: string): Promise<RibRoute[]> {
  const family = prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
  const q = `prefix=${encodeURIComponent(prefix)}${from ? `&from=${from}` : ''}`;
  const r = await apiGet<{ routes: RibRoute[] }>(hd, `/api/v1/rib/${family}?${q}`);
  return r.routes;
}

export function neighbor(hd: HostileDaemon, address: string): Promise<NeighborJson> {
  return apiGet<NeighborJson>(hd, `/api/v1/neighbors/${address}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Building messages by hand.

/** A whole message: the 19-byte header (all-ones marker, length, type) and `body`. */
export function message(type: number, body: Uint8Array, lengthField?: number): Uint8Array {
  const m = new Uint8Array(HEADER_LENGTH + body.length);
  m.fill(0xff, 0, 16);
  const len = lengthField ?? m.length;
  m[16] = len >>> 8;
  m[17] = len & 0xff;
  m[18] = type;
  m.set(body, HEADER_LENGTH);
  return m;
}

/** One path attribute, with the Extended Length flag set when the value needs it (or when `ext`). */
export function attr(flags: number, type: number, value: Uint8Array, ext = value.length > 255): Uint8Array {
  const f = ext ? flags | AttrFlag.EXTENDED_LENGTH : flags & ~AttrFlag.EXTENDED_LENGTH;
  const head = ext
    ? Uint8Array.of(f, type, value.length >>> 8, value.length & 0xff)
    : Uint8Array.of(f, type, value.length);
  return concat([head, value]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff);
}

export function u32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** IPv4 NLRI bytes of prefixes given as text ("10.0.0.0/24"). */
export function nlri4(prefixes: readonly string[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const p of prefixes) {
    const [addr, len] = p.split('/') as [string, string];
    const bits = Number(len);
    const octets = addr.split('.').map(Number);
    parts.push(Uint8Array.of(bits, ...octets.slice(0, Math.ceil(bits / 8))));
  }
  return concat(parts);
}

/** An UPDATE with raw withdrawn routes, attribute block and NLRI. */
export function rawUpdate(attrs: Uint8Array, nlri: Uint8Array, withdrawn: Uint8Array = new Uint8Array(0)): Uint8Array {
  return message(MessageType.UPDATE, concat([u16(withdrawn.length), withdrawn, u16(attrs.length), attrs, nlri]));
}

/** ORIGIN IGP, AS_PATH [asns] (4-octet), NEXT_HOP `nextHop`: the mandatory attributes of an IPv4 announcement. */
export function basicAttrs(asns: readonly number[], nextHop = '192.0.2.1'): Uint8Array {
  const seg = concat([Uint8Array.of(2, asns.length), ...asns.map(u32)]);
  return concat([
    attr(AttrFlag.TRANSITIVE, 1, Uint8Array.of(0)),
    attr(AttrFlag.TRANSITIVE, 2, seg),
    attr(AttrFlag.TRANSITIVE, 3, Uint8Array.from(nextHop.split('.').map(Number))),
  ]);
}

/** Valid UPDATEs announcing `prefixes` (one family) with `attributes`, encoded by src/wire for `ctx`. */
export function announce(
  prefixes: readonly string[],
  attributes: PathAttributes,
  nextHop: string,
  ctx: CodecContext = defaultCodecContext(),
  ids?: number[],
): Uint8Array[] {
  const keys: PrefixKey[] = [];
  let family: Family = 'ipv4-unicast';
  for (const p of prefixes) {
    const parsed = parsePrefix(p, true);
    family = parsed.family;
    keys.push(parsed.key);
  }
  const pathIds = ctx.addPathTx.has(family) ? (ids ?? keys.map(() => 1)) : undefined;
  return encodeUpdates({ family, attributes, nextHop, prefixes: keys, ...(pathIds ? { pathIds } : {}) }, ctx);
}

// ---------------------------------------------------------------------------------------------------------------
// The scripted BGP speaker.

export interface OpenOptions {
  asn: number;
  routerId: string;
  holdTime?: number;
  /** Advertise the 4-octet AS capability (default true). */
  asn4?: boolean;
  /** Advertise Extended Message (RFC 8654; default false: the daemon must keep to 4096 bytes towards us). */
  extendedMessage?: boolean;
  /** Families for which we say Add-Path send (RFC 7911). */
  addPathSend?: Family[];
  /** Capabilities added after the usual ones. */
  extraCapabilities?: Capability[];
}

export function openMessage(o: OpenOptions): Uint8Array {
  const caps: Capability[] = [
    { kind: 'multiprotocol', afi: 1, safi: 1 },
    { kind: 'multiprotocol', afi: 2, safi: 1 },
    { kind: 'route-refresh' },
  ];
  if (o.asn4 ?? true) caps.push({ kind: 'four-octet-as', asn: o.asn });
  if (o.extendedMessage) caps.push({ kind: 'extended-message' });
  if (o.addPathSend && o.addPathSend.length > 0) {
    caps.push({
      kind: 'add-path',
      entries: o.addPathSend.map((f) => ({ afi: f === 'ipv4-unicast' ? 1 : 2, safi: 1, sendReceive: 2 as const })),
    });
  }
  caps.push(...(o.extraCapabilities ?? []));
  const msg: Omit<OpenMessage, 'type'> = {
    version: 4,
    myAs: o.asn > 0xffff ? 23456 : o.asn,
    holdTime: o.holdTime ?? 90,
    routerId: o.routerId,
    capabilities: caps,
  };
  return encodeOpen(msg);
}

function hasCap(m: OpenMessage, kind: Capability['kind']): boolean {
  return m.capabilities.some((c) => c.kind === kind);
}

interface Waiter {
  match: (m: BgpMessage) => boolean;
  resolve: (m: BgpMessage) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ConnectOptions {
  host: string;
  port: number;
  localAddress: string;
}

/**
 * One TCP connection to the daemon, speaking BGP by script. Every message the daemon sends is decoded (strictly:
 * a decoding failure is recorded in `violations`) and kept; announcements are folded into `routes`.
 */
export class BgpClient {
  readonly socket: net.Socket;
  readonly name: string;
  /** Decoding context for what the daemon sends us (set from the OPEN exchange). */
  ctx: CodecContext = defaultCodecContext();
  readonly received: BgpMessage[] = [];
  readonly violations: string[] = [];
  /** family|prefix → AS_PATH segments and next hop, as last announced to us. */
  readonly routes = new Map<string, { attributes: PathAttributes | null; block: AnnouncedBlock }>();
  keepalives = 0;
  updates = 0;
  daemonOpen: OpenMessage | null = null;
  notification: NotificationMessage | null = null;
  closed = false;
  readonly whenClosed: Promise<void>;
  private readonly framer = new Framer();
  private waiters: Waiter[] = [];
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private sentOpen: OpenOptions | null = null;

  private constructor(socket: net.Socket, name: string) {
    this.socket = socket;
    this.name = name;
    // Whatever the daemon sends, up to 65535-byte messages (we may advertise Extended Message).
    this.framer.maxMessageSize = 65535;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    this.whenClosed = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.stopKeepalives();
        for (const w of this.waiters) {
          clearTimeout(w.timer);
          w.reject(new Error(`${this.name}: connection closed while waiting`));
        }
        this.waiters = [];
        resolve();
      });
    });
  }

  static connect(o: ConnectOptions, name = o.localAddress): Promise<BgpClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress, noDelay: true });
      const c = new BgpClient(s, name);
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`${name}: connect timed out`));
      }, 10_000);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(c);
      });
      s.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    for (;;) {
      let raw: Uint8Array | null;
      try {
        raw = this.framer.next();
      } catch (err) {
        this.violations.push(`framing: ${(err as Error).message}`);
        this.socket.destroy();
        return;
      }
      if (!raw) return;
      // The daemon must keep to the size both sides agreed on.
      if (raw.length > this.ctx.maxMessageSize) {
        this.violations.push(`message of ${raw.length} bytes exceeds ${this.ctx.maxMessageSize}`);
      }
      let m: BgpMessage;
      try {
        m = decodeMessage(raw.slice(), { ...this.ctx, maxMessageSize: 65535 });
      } catch (err) {
        this.violations.push(`decoding a message of type ${raw[18]}: ${(err as Error).message}`);
        continue;
      }
      this.onMessage(m);
    }
  }

  private onMessage(m: BgpMessage): void {
    this.received.push(m);
    switch (m.type) {
      case 'open':
        this.daemonOpen = m;
        this.negotiate();
        break;
      case 'keepalive':
        this.keepalives++;
        break;
      case 'notification':
        this.notification ??= m;
        break;
      case 'update':
        this.updates++;
        if (m.errors.length > 0) this.violations.push(`UPDATE with errors: ${m.errors.map((e) => e.message)}`);
        for (const w of m.withdrawn) for (const p of w.prefixes) this.routes.delete(`${w.family}|${p}`);
        for (const b of m.announced) {
          for (const p of b.prefixes) this.routes.set(`${b.family}|${p}`, { attributes: m.attributes, block: b });
        }
        break;
      default:
        break;
    }
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.match(m)) {
        clearTimeout(w.timer);
        w.resolve(m);
      } else {
        still.push(w);
      }
    }
    this.waiters = still;
  }

  /** Our receive context once both OPENs are known. */
  private negotiate(): void {
    const d = this.daemonOpen;
    const s = this.sentOpen;
    if (!d || !s) return;
    const four = d.capabilities.find((c) => c.kind === 'four-octet-as');
    const daemonAsn = four?.kind === 'four-octet-as' ? four.asn : d.myAs;
    this.ctx = defaultCodecContext({
      asn4: (s.asn4 ?? true) && hasCap(d, 'four-octet-as'),
      ebgp: daemonAsn !== s.asn,
      maxMessageSize: s.extendedMessage && hasCap(d, 'extended-message') ? 65535 : 4096,
    });
  }

  /** The route to `prefix` as the daemon announced it to us, or undefined. */
  route(prefix: string): { attributes: PathAttributes | null; block: AnnouncedBlock } | undefined {
    const p = parsePrefix(prefix, true);
    return this.routes.get(`${p.family}|${p.key}`);
  }

  /** The prefixes (text) the daemon currently announces to us. */
  prefixes(): string[] {
    return [...this.routes.keys()].map((k) => {
      const [f, key] = k.split('|') as [Family, string];
      return formatPrefix(f, key);
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) {
        resolve();
        return;
      }
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Writes `bytes` one byte per write() call, yielding to the event loop in between. */
  async writeBytewise(bytes: Uint8Array): Promise<void> {
    for (let i = 0; i < bytes.length; i++) {
      await this.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
  }

  /** The first message (already received or future) that matches. */
  waitFor(match: (m: BgpMessage) => boolean, what: string, timeoutMs = 10_000): Promise<BgpMessage> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.closed) return Promise.reject(new Error(`${this.name}: closed before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`${this.name}: timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push({ match, resolve, reject, timer });
    });
  }

  /** The daemon's NOTIFICATION on this connection. */
  async waitNotification(timeoutMs = 10_000): Promise<NotificationMessage> {
    if (this.notification) return this.notification;
    try {
      return (await this.waitFor((m) => m.type === 'notification', 'a NOTIFICATION', timeoutMs)) as NotificationMessage;
    } catch (err) {
      if (this.notification) return this.notification;
      throw err;
    }
  }

  /** Resolves true when the daemon closed the connection within `timeoutMs`, false otherwise. */
  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    const r = await Promise.race([this.whenClosed.then(() => true as const), t]);
    clearTimeout(timer);
    return r;
  }

  /** Sends our OPEN (remembered for negotiation). */
  async sendOpen(o: OpenOptions): Promise<void> {
    this.sentOpen = o;
    this.negotiate();
    await this.write(openMessage(o));
  }

  /** OPEN, then KEEPALIVE once the daemon's OPEN is in; resolves when the daemon's KEEPALIVE arrives (Established). */
  async establish(o: OpenOptions, timeoutMs = 10_000): Promise<void> {
    await this.sendOpen(o);
    await this.waitFor((m) => m.type === 'open', "the daemon's OPEN", timeoutMs);
    await this.write(encodeKeepalive());
    await this.waitFor((m) => m.type === 'keepalive', "the daemon's KEEPALIVE", timeoutMs);
  }

  /** Sends a KEEPALIVE every `ms` until closed (the good neighbour's heartbeat). */
  startKeepalives(ms: number): void {
    this.stopKeepalives();
    this.keepaliveTimer = setInterval(() => {
      if (!this.closed) this.socket.write(encodeKeepalive());
    }, ms);
  }

  stopKeepalives(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }

  async sendAll(msgs: readonly Uint8Array[]): Promise<void> {
    for (const m of msgs) await this.write(m);
  }

  /** Closes our side and waits (bounded) for the socket to close. */
  async close(): Promise<void> {
    this.stopKeepalives();
    if (this.closed) return;
    this.socket.end();
    if (!(await this.waitClosed(3000))) this.socket.destroy();
    await this.whenClosed;
  }

  destroy(): void {
    this.stopKeepalives();
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The good neighbour: established once, announcing a few routes, checked after every attack.

export const GOOD_PREFIXES = ['198.18.0.0/24', '198.18.1.0/24', '198.18.2.0/24'];

export class GoodNeighbor {
  readonly client: BgpClient;
  readonly address: string;
  readonly asn: number;
  private readonly hd: HostileDaemon;

  private constructor(hd: HostileDaemon, client: BgpClient, address: string, asn: number) {
    this.hd = hd;
    this.client = client;
    this.address = address;
    this.asn = asn;
  }

  /** Connects, establishes with hold time 6 (the daemon sends a KEEPALIVE every 2 s; we send one each second, so
   * a busy test machine does not expire the daemon's hold timer), announces GOOD_PREFIXES. */
  static async start(hd: HostileDaemon, address: string, asn: number): Promise<GoodNeighbor> {
    const c = await BgpClient.connect({ host: hd.host, port: hd.port, localAddress: address }, `good ${address}`);
    await c.establish({ asn, routerId: address, holdTime: 6 });
    c.startKeepalives(1000);
    const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [asn] }], communities: [(asn << 16) | 7] };
    await c.sendAll(announce(GOOD_PREFIXES, attrs, address));
    const g = new GoodNeighbor(hd, c, address, asn);
    await poll(async () => ((await g.routesIntact()) ? true : undefined), "the good neighbour's routes", 100, 50);
    return g;
  }

  /** True when each GOOD_PREFIX is in the Loc-RIB from the good neighbour with its attributes. */
  async routesIntact(): Promise<boolean> {
    const r = await apiGet<{ routes: RibRoute[] }>(this.hd, `/api/v1/rib/ipv4-unicast?from=${this.address}`);
    for (const p of GOOD_PREFIXES) {
      const x = r.routes.find((y) => y.prefix === p);
      if (!x || x.next_hop !== this.address || JSON.stringify(x.as_path) !== JSON.stringify([this.asn])) return false;
      if (JSON.stringify(x.communities) !== JSON.stringify([`${this.asn}:7`])) return false;
    }
    return true;
  }

  /**
   * Throws unless the good session is Established in the API, its routes are intact, our connection is open and
   * the daemon has sent us nothing malformed.
   */
  async check(what: string): Promise<void> {
    const c = this.client;
    if (c.closed || c.notification) {
      throw new Error(
        `after ${what}: the good session was closed (${JSON.stringify(c.notification ?? 'no NOTIFICATION')})`,
      );
    }
    if (c.violations.length > 0) throw new Error(`after ${what}: the daemon sent the good neighbour: ${c.violations}`);
    const n = await neighbor(this.hd, this.address);
    if (n.state !== 'established') throw new Error(`after ${what}: good neighbour is ${n.state} (${n.last_error})`);
    if (!(await this.routesIntact())) throw new Error(`after ${what}: the good neighbour's routes changed`);
  }

  /** Resolves once `n` more KEEPALIVEs have arrived (the daemon's timers for the good session still run). */
  async moreKeepalives(n: number, timeoutMs = 10_000): Promise<void> {
    const target = this.client.keepalives + n;
    await poll(
      async () => (this.client.keepalives >= target ? true : undefined),
      `${n} more KEEPALIVEs to the good neighbour`,
      Math.ceil(timeoutMs / 50),
      50,
    );
  }
}
