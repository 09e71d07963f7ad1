// The benchmark's routing table: a deterministic, seeded stand-in for today's Internet table, and its UPDATE stream.
//
// Shape (see ../shared/reference/anchors.md, "Real table shape"):
//   - 1 000 000 IPv4 prefixes (majority /24, average length ≈ 22.9) and 220 000 IPv6 prefixes (≈ 46 % /48) by default,
//     scaled by --scale; no prefix repeats, none inside the benchmark's own ranges (198.51.100.0/24 holds the speakers,
//     198.18.0.0/15 the churn markers, 2001:db8::/32 the IPv6 speakers);
//   - AS paths of a realistic length (mean ≈ 4.5 with the neighbour's AS, some prepending) drawn from ≈ 4 000 ASNs, a
//     fifth of them 4-octet; standard communities on ≈ 55 % of attribute sets, large communities on ≈ 12 %, a MED on 25 %;
//   - only ≈ 2.4 prefixes per distinct attribute set, so ≈ 2.4 prefixes per UPDATE — per-UPDATE cost matters as much as
//     per-prefix cost, which is what a real table dump looks like on the wire.
// Prefixes are sent in address order (as an MRT replay or a trie walk would), IPv4 first, each attribute set's
// prefixes packed into one UPDATE.
//
// The UPDATE stream is encoded here by hand (RFC 4271 §4.3, RFC 4760 §3, RFC 6793 4-octet AS_PATH, RFC 1997,
// RFC 8092) rather than by src/wire, so the benchmark does not measure tsbgp's own codec on the sending side, and is
// cached under bench/.cache/ keyed by every parameter that changes a byte.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bump when the generator or the encoder changes, so that stale caches are not reused. */
export const GENERATOR_VERSION = 3;

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const CACHE_DIR = join(BENCH_DIR, '.cache');

export const FULL_V4 = 1_000_000;
export const FULL_V6 = 220_000;

// ---------------------------------------------------------------------------------------------------------------
// Seeded PRNG (sfc32): fast, good enough for shaping a table, identical on every machine.

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
}

/** A sampler over weighted integer values (weights need not sum to 1). */
function weighted(table: readonly (readonly [number, number])[]): (rng: Rng) => number {
  const total = table.reduce((s, [, w]) => s + w, 0);
  const cum: number[] = [];
  let acc = 0;
  for (const [, w] of table) {
    acc += w / total;
    cum.push(acc);
  }
  return (rng) => {
    const x = rng.float();
    for (let i = 0; i < cum.length; i++) if (x < (cum[i] as number)) return (table[i] as readonly [number, number])[0];
    return (table[table.length - 1] as readonly [number, number])[0];
  };
}

// Prefix-length mixes of the 2025 table (RIPE RIS / CIDR report shapes, rounded).
const V4_LENGTHS = weighted([
  [8, 0.001],
  [9, 0.002],
  [10, 0.004],
  [11, 0.012],
  [12, 0.03],
  [13, 0.06],
  [14, 0.1],
  [15, 0.2],
  [16, 1.35],
  [17, 0.9],
  [18, 1.45],
  [19, 2.7],
  [20, 4.6],
  [21, 4.9],
  [22, 12.6],
  [23, 10.3],
  [24, 60.5],
]);

const V6_LENGTHS = weighted([
  [19, 0.05],
  [20, 0.1],
  [24, 0.15],
  [28, 0.5],
  [29, 4.0],
  [30, 0.6],
  [31, 0.4],
  [32, 11.5],
  [33, 1.2],
  [34, 0.9],
  [35, 0.6],
  [36, 3.0],
  [37, 0.5],
  [38, 0.7],
  [39, 0.5],
  [40, 5.5],
  [41, 0.8],
  [42, 2.0],
  [43, 0.8],
  [44, 7.5],
  [45, 2.0],
  [46, 3.2],
  [47, 3.5],
  [48, 46.0],
  [56, 0.6],
  [64, 0.4],
]);

/** Prefixes per attribute set: mean ≈ 2.4 (1 → 40 %, 2 → 25 %, 3 → 14 %, 4 → 9 %, 5–8 → 12 %). */
const GROUP_SIZES = weighted([
  [1, 40],
  [2, 25],
  [3, 14],
  [4, 9],
  [5, 3],
  [6, 3],
  [7, 3],
  [8, 3],
]);

/** AS hops after the neighbour's own AS (before prepending): mean ≈ 3.3. */
const PATH_HOPS = weighted([
  [1, 3],
  [2, 22],
  [3, 35],
  [4, 24],
  [5, 10],
  [6, 4],
  [7, 2],
]);

// IPv4 space the generator never uses: not globally routed, or the benchmark's own addresses.
const V4_EXCLUDED: readonly (readonly [number, number])[] = [
  [0x00000000, 8],
  [0x0a000000, 8],
  [0x64400000, 10],
  [0x7f000000, 8],
  [0xa9fe0000, 16],
  [0xac100000, 12],
  [0xc0000200, 24],
  [0xc0a80000, 16],
  [0xc6120000, 15], // 198.18.0.0/15: churn markers
  [0xc6336400, 24], // 198.51.100.0/24: the speakers
  [0xcb007100, 24],
];

function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

function overlapsV4(addr: number, len: number, raddr: number, rlen: number): boolean {
  const m = maskOf(Math.min(len, rlen));
  return (addr & m) >>> 0 === (raddr & m) >>> 0;
}

// IPv6 allocations the generator draws from (first 16 bits), roughly as the RIRs have handed them out.
const V6_BLOCKS = [
  0x2001, 0x2400, 0x2401, 0x2402, 0x2403, 0x2404, 0x2405, 0x2406, 0x2407, 0x2600, 0x2602, 0x2603, 0x2604, 0x2605,
  0x2606, 0x2607, 0x2610, 0x2620, 0x2800, 0x2801, 0x2803, 0x2804, 0x2a00, 0x2a01, 0x2a02, 0x2a03, 0x2a04, 0x2a05,
  0x2a06, 0x2a07, 0x2a09, 0x2a0a, 0x2a0b, 0x2a0c, 0x2a0d, 0x2a0e, 0x2a0f, 0x2a10, 0x2a11, 0x2a12, 0x2a13, 0x2c0f,
] as const;

// ---------------------------------------------------------------------------------------------------------------
// The logical table.

export interface AttrSet {
  origin: number;
  /** AS_PATH after the neighbour's own AS (the sender prepends that on eBGP). */
  path: number[];
  med: number | null;
  communities: number[];
  /** Flat triples (global, local1, local2). */
  large: number[];
}

export interface TableParams {
  seed: number;
  v4: number;
  v6: number;
}

export interface Table {
  params: TableParams;
  /** Sorted by (address, length). */
  v4addr: Uint32Array;
  v4len: Uint8Array;
  /** First 64 bits of each IPv6 prefix (no generated prefix is longer than /64), sorted. */
  v6hi: Uint32Array;
  v6lo: Uint32Array;
  v6len: Uint8Array;
  attrs: AttrSet[];
  /**
   * UPDATE groups in stream order: family (4 or 6), first prefix index, prefix count, attribute set index.
   * IPv4 groups come first.
   */
  groups: { fam: Uint8Array; start: Uint32Array; count: Uint8Array; attr: Uint32Array; length: number };
}

export function tableParams(scale: number, seed = 1): TableParams {
  return { seed, v4: Math.round(FULL_V4 * scale), v6: Math.round(FULL_V6 * scale) };
}

function genV4(rng: Rng, n: number): { addr: Uint32Array; len: Uint8Array } {
  const seen = new Set<number>();
  const keys = new Float64Array(n);
  let k = 0;
  while (k < n) {
    const len = V4_LENGTHS(rng);
    // 1.0.0.0 – 223.255.255.255
    const raw = (0x01000000 + rng.int(0xdf000000)) >>> 0;
    const addr = (raw & maskOf(len)) >>> 0;
    let bad = false;
    for (const [ra, rl] of V4_EXCLUDED) {
      if (overlapsV4(addr, len, ra, rl)) {
        bad = true;
        break;
      }
    }
    if (bad) continue;
    const key = addr * 64 + len;
    if (seen.has(key)) continue;
    seen.add(key);
    keys[k++] = key;
  }
  keys.sort();
  const addr = new Uint32Array(n);
  const len = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const key = keys[i] as number;
    addr[i] = Math.floor(key / 64);
    len[i] = key % 64;
  }
  return { addr, len };
}

function genV6(rng: Rng, n: number): { hi: Uint32Array; lo: Uint32Array; len: Uint8Array } {
  const seen = new Set<string>();
  const his: number[] = [];
  const los: number[] = [];
  const lens: number[] = [];
  while (his.length < n) {
    const len = V6_LENGTHS(rng);
    const block = rng.pick(V6_BLOCKS);
    let hi = ((block << 16) | (rng.u32() & 0xffff)) >>> 0;
    let lo = rng.u32();
    // Mask to the prefix length.
    if (len < 32) {
      hi = (hi & maskOf(len)) >>> 0;
      lo = 0;
    } else {
      lo = (lo & maskOf(len - 32)) >>> 0;
    }
    // Never 2001:db8::/32 (the speakers' own addresses) nor anything covering it.
    if (len >= 32 ? hi === 0x20010db8 : ((hi ^ 0x20010db8) & maskOf(len)) === 0) continue;
    const key = `${hi},${lo},${len}`;
    if (seen.has(key)) continue;
    seen.add(key);
    his.push(hi);
    los.push(lo);
    lens.push(len);
  }
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort(
    (a, b) =>
      (his[a] as number) - (his[b] as number) ||
      (los[a] as number) - (los[b] as number) ||
      (lens[a] as number) - (lens[b] as number),
  );
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const len = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = order[i] as number;
    hi[i] = his[j] as number;
    lo[i] = los[j] as number;
    len[i] = lens[j] as number;
  }
  return { hi, lo, len };
}

/** True for ASNs a generated path must not hold: reserved, documentation, private (the benchmark's own) and AS_TRANS. */
function reservedAsn(a: number): boolean {
  return a === 0 || a === 23456 || (a >= 64496 && a <= 131071) || a >= 4200000000;
}

function asnPool(rng: Rng, n: number, fourOctetShare: number, seen: Set<number>): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const a = rng.float() < fourOctetShare ? 131072 + rng.int(270000) : 1 + rng.int(64000);
    if (reservedAsn(a) || seen.has(a)) continue;
    seen.add(a);
    out.push(a);
  }
  return out;
}

export function generateTable(params: TableParams): Table {
  const rng = new Rng(params.seed);
  const v4 = genV4(rng, params.v4);
  const v6 = genV6(rng, params.v6);

  // ASNs: tier-1 networks seen right after the neighbour, a transit layer, and stub origins.
  const tier1 = [174, 701, 1239, 1299, 2828, 2914, 3257, 3320, 3356, 3491, 5511, 6453, 6461, 6762, 6830, 7018, 12956];
  const seenAsn = new Set<number>(tier1);
  const transit = asnPool(rng, 600, 0.15, seenAsn);
  const origins = asnPool(rng, 3400, 0.42, seenAsn);
  // Each origin has one to three upstreams; each transit one or two tier-1s above it.
  const upstreams = origins.map(() => Array.from({ length: 1 + rng.int(3) }, () => rng.pick(transit)));
  const transitUp = transit.map(() => Array.from({ length: 1 + rng.int(2) }, () => rng.pick(tier1)));
  const transitIdx = new Map(transit.map((a, i) => [a, i]));
  // A small vocabulary of communities per AS, as real networks tag with a handful of values.
  const commVocab = new Map<number, number[]>();
  const vocabOf = (asn: number): number[] => {
    let v = commVocab.get(asn);
    if (!v) {
      v = Array.from({ length: 8 + rng.int(24) }, () => rng.int(10000));
      commVocab.set(asn, v);
    }
    return v;
  };

  const attrs: AttrSet[] = [];
  const attrKeys = new Set<string>();
  const newAttrSet = (): number => {
    for (let attempt = 0; ; attempt++) {
      const oi = rng.int(origins.length);
      const origin = origins[oi] as number;
      const hops = PATH_HOPS(rng);
      // Built from the origin outwards, then reversed.
      const rev: number[] = [origin];
      // Prepending by the origin (≈ 12 % of paths, 1–4 extra copies).
      if (rng.float() < 0.12) for (let p = 1 + rng.int(4); p > 0; p--) rev.push(origin);
      let cur = rng.pick(upstreams[oi] as number[]);
      for (let h = 1; h < hops; h++) {
        rev.push(cur);
        const ti = transitIdx.get(cur);
        if (ti === undefined || h === hops - 2) {
          cur = rng.pick(tier1);
        } else {
          cur = rng.float() < 0.6 ? rng.pick(transitUp[ti] as number[]) : rng.pick(transit);
        }
        if (rev.includes(cur)) cur = rng.pick(transit);
      }
      const path = rev.reverse();
      const first = path[0] as number;
      const communities: number[] = [];
      if (rng.float() < 0.55) {
        const src = first <= 0xffff ? first : (tier1[0] as number);
        const vocab = vocabOf(src);
        for (let c = 1 + rng.int(6); c > 0; c--) communities.push(((src << 16) | rng.pick(vocab)) >>> 0);
        if (rng.float() < 0.3 && origin <= 0xffff) communities.push(((origin << 16) | rng.int(1000)) >>> 0);
        communities.sort((a, b) => a - b);
        for (let i = communities.length - 1; i > 0; i--)
          if (communities[i] === communities[i - 1]) communities.splice(i, 1);
      }
      const large: number[] = [];
      if (rng.float() < 0.12) {
        for (let c = 1 + rng.int(3); c > 0; c--)
          large.push(rng.float() < 0.5 ? origin : first, 1 + rng.int(1000), rng.int(10000));
      }
      const med = rng.float() < 0.25 ? rng.int(1000) : null;
      const originCode = rng.float() < 0.88 ? 0 : 2;
      // Distinct attribute sets: a repeat is drawn again (a few tries), so ≈ 2.4 prefixes share each one.
      const key = `${originCode}|${path.join(' ')}|${med}|${communities.join(',')}|${large.join(',')}`;
      if (attrKeys.has(key) && attempt < 8) continue;
      attrKeys.add(key);
      attrs.push({ origin: originCode, path, med, communities, large });
      return attrs.length - 1;
    }
  };

  const total = params.v4 + params.v6;
  const fam = new Uint8Array(total);
  const start = new Uint32Array(total);
  const count = new Uint8Array(total);
  const attr = new Uint32Array(total);
  let g = 0;
  for (const [family, n] of [
    [4, params.v4],
    [6, params.v6],
  ] as const) {
    for (let i = 0; i < n; ) {
      const k = Math.min(GROUP_SIZES(rng), n - i);
      fam[g] = family;
      start[g] = i;
      count[g] = k;
      attr[g] = newAttrSet();
      g++;
      i += k;
    }
  }
  return {
    params,
    v4addr: v4.addr,
    v4len: v4.len,
    v6hi: v6.hi,
    v6lo: v6.lo,
    v6len: v6.len,
    attrs,
    groups: { fam, start, count, attr, length: g },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding.

/** How one sender presents the table: its session type and next hops. */
export interface SenderView {
  /** The sender's ASN; on eBGP it is prepended to every AS_PATH. */
  asn: number;
  /** iBGP (same AS as the system under test): no prepend, LOCAL_PREF 100 (RFC 4271 §5.1.5). */
  ibgp: boolean;
  nextHop4: string;
  nextHop6: string;
}

function ipv4Bytes(s: string): number[] {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4 address ${s}`);
  return parts;
}

function ipv6Bytes(s: string): number[] {
  const [head = '', tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new Error(`bad IPv6 address ${s}`);
  const out: number[] = [];
  for (const g of groups) {
    const v = Number.parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  return out;
}

/** A growable byte buffer for the encoder (pg-protocol style: grow by 1.5×). */
export class ByteSink {
  buf: Buffer;
  off = 0;

  constructor(initial = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length;
    while (this.off + n > size) size = Math.ceil(size * 1.5);
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  u8(v: number): void {
    this.buf[this.off++] = v;
  }

  u16(v: number): void {
    this.buf[this.off++] = v >>> 8;
    this.buf[this.off++] = v & 0xff;
  }

  u32(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.off);
    this.off += 4;
  }

  bytes(b: readonly number[] | Uint8Array): void {
    for (let i = 0; i < b.length; i++) this.buf[this.off++] = b[i] as number;
  }

  result(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}

const MARKER = Buffer.alloc(16, 0xff);

/** Starts a BGP message (RFC 4271 §4.1); returns its offset for finishMessage(). */
export function beginMessage(s: ByteSink, type: number): number {
  s.ensure(4096);
  const at = s.off;
  MARKER.copy(s.buf, at);
  s.off += 18;
  s.u8(type);
  return at;
}

export function finishMessage(s: ByteSink, at: number): void {
  const len = s.off - at;
  if (len > 4096) throw new Error(`message of ${len} bytes exceeds 4096 (RFC 4271 §4.1)`);
  s.buf.writeUInt16BE(len, at + 16);
}

function attrHeader(s: ByteSink, flags: number, type: number, len: number): void {
  if (len > 255) {
    s.u8(flags | 0x10); // Extended Length (RFC 4271 §4.3)
    s.u8(type);
    s.u16(len);
  } else {
    s.u8(flags);
    s.u8(type);
    s.u8(len);
  }
}

function writeV4Prefix(s: ByteSink, addr: number, len: number): void {
  s.u8(len);
  const n = (len + 7) >> 3;
  for (let i = 0; i < n; i++) s.u8((addr >>> (24 - 8 * i)) & 0xff);
}

function writeV6Prefix(s: ByteSink, hi: number, lo: number, len: number): void {
  s.u8(len);
  const n = (len + 7) >> 3;
  for (let i = 0; i < n; i++) {
    // Generated prefixes are at most /64; later bytes would be zero.
    s.u8(i < 4 ? (hi >>> (24 - 8 * i)) & 0xff : i < 8 ? (lo >>> (24 - 8 * (i - 4))) & 0xff : 0);
  }
}

/**
 * The common attributes of one set as seen from `view` (ORIGIN, AS_PATH, NEXT_HOP for IPv4, MED, LOCAL_PREF,
 * COMMUNITIES, LARGE_COMMUNITY), in type-code order; MP_REACH_NLRI is written by the caller.
 */
function writeAttrs(s: ByteSink, a: AttrSet, view: SenderView, v4: boolean, nh4: readonly number[]): void {
  // ORIGIN, well-known mandatory (RFC 4271 §5.1.1)
  attrHeader(s, 0x40, 1, 1);
  s.u8(a.origin);
  // AS_PATH with 4-octet ASNs (RFC 6793 §3): one AS_SEQUENCE
  const path = view.ibgp ? a.path : [view.asn, ...a.path];
  attrHeader(s, 0x40, 2, 2 + 4 * path.length);
  s.u8(2);
  s.u8(path.length);
  for (const asn of path) s.u32(asn);
  if (v4) {
    attrHeader(s, 0x40, 3, 4);
    s.bytes(nh4);
  }
  if (a.med !== null) {
    attrHeader(s, 0x80, 4, 4);
    s.u32(a.med);
  }
  if (view.ibgp) {
    attrHeader(s, 0x40, 5, 4);
    s.u32(100);
  }
  if (a.communities.length > 0) {
    attrHeader(s, 0xc0, 8, 4 * a.communities.length);
    for (const c of a.communities) s.u32(c);
  }
  if (a.large.length > 0) {
    attrHeader(s, 0xc0, 32, 4 * a.large.length);
    for (const v of a.large) s.u32(v);
  }
}

/** Prefix index ranges of one UPDATE: family 4 or 6, indexes into the table's arrays. */
export function encodeAnnounce(
  s: ByteSink,
  t: Table,
  view: SenderView,
  family: 4 | 6,
  attrIdx: number,
  indexes: ArrayLike<number>,
): void {
  const a = t.attrs[attrIdx] as AttrSet;
  const nh4 = ipv4Bytes(view.nextHop4);
  const at = beginMessage(s, 2);
  s.u16(0); // withdrawn routes length
  const attrLenAt = s.off;
  s.off += 2;
  writeAttrs(s, a, view, family === 4, nh4);
  if (family === 6) {
    // MP_REACH_NLRI (RFC 4760 §3): AFI 2, SAFI 1, a 16-byte global next hop, reserved, NLRI.
    let nlriLen = 0;
    for (let i = 0; i < indexes.length; i++) nlriLen += 1 + (((t.v6len[indexes[i] as number] as number) + 7) >> 3);
    attrHeader(s, 0x80, 14, 5 + 16 + nlriLen);
    s.u16(2);
    s.u8(1);
    s.u8(16);
    s.bytes(ipv6Bytes(view.nextHop6));
    s.u8(0);
    for (let i = 0; i < indexes.length; i++) {
      const j = indexes[i] as number;
      writeV6Prefix(s, t.v6hi[j] as number, t.v6lo[j] as number, t.v6len[j] as number);
    }
    s.buf.writeUInt16BE(s.off - attrLenAt - 2, attrLenAt);
  } else {
    s.buf.writeUInt16BE(s.off - attrLenAt - 2, attrLenAt);
    for (let i = 0; i < indexes.length; i++) {
      const j = indexes[i] as number;
      writeV4Prefix(s, t.v4addr[j] as number, t.v4len[j] as number);
    }
  }
  finishMessage(s, at);
}

/** An UPDATE withdrawing prefixes of one family (RFC 4271 §4.3 Withdrawn Routes; RFC 4760 §4 MP_UNREACH_NLRI). */
export function encodeWithdraw(s: ByteSink, t: Table, family: 4 | 6, indexes: ArrayLike<number>): void {
  const at = beginMessage(s, 2);
  if (family === 4) {
    const lenAt = s.off;
    s.off += 2;
    for (let i = 0; i < indexes.length; i++) {
      const j = indexes[i] as number;
      writeV4Prefix(s, t.v4addr[j] as number, t.v4len[j] as number);
    }
    s.buf.writeUInt16BE(s.off - lenAt - 2, lenAt);
    s.u16(0);
  } else {
    s.u16(0);
    const attrLenAt = s.off;
    s.off += 2;
    let nlriLen = 0;
    for (let i = 0; i < indexes.length; i++) nlriLen += 1 + (((t.v6len[indexes[i] as number] as number) + 7) >> 3);
    attrHeader(s, 0x80, 15, 3 + nlriLen);
    s.u16(2);
    s.u8(1);
    for (let i = 0; i < indexes.length; i++) {
      const j = indexes[i] as number;
      writeV6Prefix(s, t.v6hi[j] as number, t.v6lo[j] as number, t.v6len[j] as number);
    }
    s.buf.writeUInt16BE(s.off - attrLenAt - 2, attrLenAt);
  }
  finishMessage(s, at);
}

/** A one-prefix IPv4 announcement of a churn marker 198.18.0.0 + id (a /32 of the RFC 2544 benchmarking range). */
export function encodeMarker(s: ByteSink, view: SenderView, id: number): void {
  const at = beginMessage(s, 2);
  s.u16(0);
  const attrLenAt = s.off;
  s.off += 2;
  writeAttrs(
    s,
    { origin: 0, path: [64500], med: null, communities: [], large: [] },
    view,
    true,
    ipv4Bytes(view.nextHop4),
  );
  s.buf.writeUInt16BE(s.off - attrLenAt - 2, attrLenAt);
  writeV4Prefix(s, (0xc6120000 + id) >>> 0, 32);
  finishMessage(s, at);
}

/** The marker's address if `addr`/`len` is a churn marker, else -1. */
export function markerId(addr: number, len: number): number {
  return len === 32 && addr >>> 17 === 0xc612 >>> 1 ? addr - 0xc6120000 : -1;
}

/** End-of-RIB for IPv4 (an empty UPDATE) and IPv6 (an empty MP_UNREACH_NLRI), RFC 4724 §2. */
export function encodeEndOfRib(): Buffer {
  const s = new ByteSink(64);
  let at = beginMessage(s, 2);
  s.u16(0);
  s.u16(0);
  finishMessage(s, at);
  at = beginMessage(s, 2);
  s.u16(0);
  s.u16(6);
  attrHeader(s, 0x80, 15, 3);
  s.u16(2);
  s.u8(1);
  finishMessage(s, at);
  return Buffer.from(s.result());
}

export interface StreamMeta {
  key: string;
  /** Prefixes announced by the stream, per family. */
  v4: number;
  v6: number;
  updates: number;
  bytes: number;
  attrSets: number;
  /** The mean AS_PATH length on the wire (with the sender's AS on eBGP) and the average IPv4 prefix length. */
  meanPathLength: number;
  meanV4Length: number;
  v6Share48: number;
  genSeconds: number;
}

export interface StreamSpec {
  table: TableParams;
  view: SenderView;
  /** Which slice of the table's UPDATE groups this sender sends (for N senders with distinct prefixes). */
  slice?: { index: number; of: number };
}

function cacheKey(kind: string, o: unknown): string {
  return `${kind}-${createHash('sha1')
    .update(JSON.stringify({ v: GENERATOR_VERSION, o }))
    .digest('hex')
    .slice(0, 16)}`;
}

/** Group indexes [from, to) of a slice, taken per family so every sender gets both families. */
function sliceGroups(t: Table, slice: StreamSpec['slice']): number[] {
  const out: number[] = [];
  const byFam: Record<4 | 6, number[]> = { 4: [], 6: [] };
  for (let g = 0; g < t.groups.length; g++) byFam[t.groups.fam[g] as 4 | 6].push(g);
  for (const f of [4, 6] as const) {
    const list = byFam[f];
    const of = slice?.of ?? 1;
    const idx = slice?.index ?? 0;
    const from = Math.floor((list.length * idx) / of);
    const to = Math.floor((list.length * (idx + 1)) / of);
    for (let i = from; i < to; i++) out.push(list[i] as number);
  }
  return out;
}

let tableMemo: { key: string; table: Table } | undefined;

/** The table for `params`, generated once per process. */
export function tableFor(params: TableParams): Table {
  const key = JSON.stringify(params);
  if (tableMemo?.key !== key) tableMemo = { key, table: generateTable(params) };
  return tableMemo.table;
}

function writeAtomic(file: string, data: Buffer | string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** The encoded UPDATE stream for `spec` (without End-of-RIB), from the cache or generated and cached. */
export function streamFile(spec: StreamSpec): { file: string; meta: StreamMeta } {
  const key = cacheKey('stream', spec);
  const file = join(CACHE_DIR, `${key}.bin`);
  const metaFile = join(CACHE_DIR, `${key}.json`);
  if (existsSync(file) && existsSync(metaFile)) {
    return { file, meta: JSON.parse(readFileSync(metaFile, 'utf8')) as StreamMeta };
  }
  const t0 = performance.now();
  const t = tableFor(spec.table);
  const s = new ByteSink(Math.max(1 << 20, (spec.table.v4 + spec.table.v6) * 48));
  let v4 = 0;
  let v6 = 0;
  let pathSum = 0;
  let updates = 0;
  const attrSets = new Set<number>();
  const idx: number[] = [];
  for (const g of sliceGroups(t, spec.slice)) {
    const fam = t.groups.fam[g] as 4 | 6;
    const start = t.groups.start[g] as number;
    const count = t.groups.count[g] as number;
    const ai = t.groups.attr[g] as number;
    idx.length = 0;
    for (let i = 0; i < count; i++) idx.push(start + i);
    encodeAnnounce(s, t, spec.view, fam, ai, idx);
    updates++;
    attrSets.add(ai);
    pathSum += (t.attrs[ai] as AttrSet).path.length + (spec.view.ibgp ? 0 : 1);
    if (fam === 4) v4 += count;
    else v6 += count;
  }
  let lenSum = 0;
  for (let i = 0; i < t.v4len.length; i++) lenSum += t.v4len[i] as number;
  let n48 = 0;
  for (let i = 0; i < t.v6len.length; i++) if (t.v6len[i] === 48) n48++;
  const buf = s.result();
  const meta: StreamMeta = {
    key,
    v4,
    v6,
    updates,
    bytes: buf.length,
    attrSets: attrSets.size,
    meanPathLength: updates ? pathSum / updates : 0,
    meanV4Length: t.v4len.length ? lenSum / t.v4len.length : 0,
    v6Share48: t.v6len.length ? n48 / t.v6len.length : 0,
    genSeconds: (performance.now() - t0) / 1000,
  };
  writeAtomic(file, buf);
  writeAtomic(metaFile, JSON.stringify(meta, null, 2));
  return { file, meta };
}

// ---------------------------------------------------------------------------------------------------------------
// Churn: a steady stream of withdrawals and re-announcements with other attributes, cut into ticks; each tick ends
// with a marker announcement whose arrival at the receiver measures the lag.

export interface ChurnSpec {
  table: TableParams;
  view: SenderView;
  /** Prefix changes per second. */
  rate: number;
  seconds: number;
  tickMs: number;
  seed: number;
}

export interface ChurnMeta {
  key: string;
  ticks: number;
  /** Byte offset of each tick in the churn file, plus the end (ticks + 1 entries). */
  offsets: number[];
  announces: number;
  withdrawals: number;
  /** The prefixes the receiver holds once every tick has been applied (markers excluded). */
  finalV4: number;
  finalV6: number;
}

export function churnFile(spec: ChurnSpec): { file: string; meta: ChurnMeta } {
  const key = cacheKey('churn', spec);
  const file = join(CACHE_DIR, `${key}.bin`);
  const metaFile = join(CACHE_DIR, `${key}.json`);
  if (existsSync(file) && existsSync(metaFile)) {
    return { file, meta: JSON.parse(readFileSync(metaFile, 'utf8')) as ChurnMeta };
  }
  const t = tableFor(spec.table);
  const rng = new Rng(spec.seed ^ 0x5bd1e995);
  const n4 = t.v4addr.length;
  const total = n4 + t.v6hi.length;
  const withdrawn = new Uint8Array(total);
  // The attribute set each prefix currently carries does not matter for counting; a re-announcement picks any.
  const ticks = Math.max(1, Math.round((spec.seconds * 1000) / spec.tickMs));
  const perTick = (spec.rate * spec.tickMs) / 1000;
  const s = new ByteSink(Math.max(1 << 16, Math.ceil(spec.rate * spec.seconds * 90)));
  const offsets: number[] = [];
  let announces = 0;
  let withdrawals = 0;
  let carry = 0;
  let down4 = 0;
  let down6 = 0;
  const one = [0];
  for (let k = 0; k < ticks; k++) {
    offsets.push(s.off);
    carry += perTick;
    const n = Math.floor(carry);
    carry -= n;
    for (let e = 0; e < n; e++) {
      const i = rng.int(total);
      const fam: 4 | 6 = i < n4 ? 4 : 6;
      one[0] = fam === 4 ? i : i - n4;
      if (withdrawn[i] === 0 && rng.float() < 0.5) {
        withdrawn[i] = 1;
        if (fam === 4) down4++;
        else down6++;
        encodeWithdraw(s, t, fam, one);
        withdrawals++;
      } else {
        if (withdrawn[i] === 1) {
          withdrawn[i] = 0;
          if (fam === 4) down4--;
          else down6--;
        }
        encodeAnnounce(s, t, spec.view, fam, rng.int(t.attrs.length), one);
        announces++;
      }
    }
    encodeMarker(s, spec.view, k);
  }
  offsets.push(s.off);
  const meta: ChurnMeta = {
    key,
    ticks,
    offsets,
    announces,
    withdrawals,
    finalV4: n4 - down4,
    finalV6: t.v6hi.length - down6,
  };
  writeAtomic(file, s.result());
  writeAtomic(metaFile, JSON.stringify(meta));
  return { file, meta };
}

// ---------------------------------------------------------------------------------------------------------------
// Routes for API injection (scenario 4), in the shape of POST /api/v1/routes (issue 3).

export interface ApiRoute {
  prefix: string;
  next_hop: string;
  origin: 'igp' | 'incomplete';
  as_path: number[];
  communities?: string[];
  large_communities?: string[];
}

function v4Text(addr: number, len: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}/${len}`;
}

function v6Text(hi: number, lo: number, len: number): string {
  const g = [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff].map((x) => x.toString(16));
  // Trailing zero groups collapse into "::".
  while (g.length > 1 && g[g.length - 1] === '0') g.pop();
  return `${g.join(':')}::/${len}`;
}

/** `n` routes (IPv4 and IPv6 in the table's ratio) with the table's attributes, for injection through the API. */
export function apiRoutes(params: TableParams, n: number, nextHop4: string, nextHop6: string): ApiRoute[] {
  const t = tableFor(params);
  const n4 = Math.min(t.v4addr.length, Math.round((n * params.v4) / (params.v4 + params.v6)));
  const n6 = Math.min(t.v6hi.length, n - n4);
  const out: ApiRoute[] = [];
  const attrOf4 = new Uint32Array(t.v4addr.length);
  const attrOf6 = new Uint32Array(t.v6hi.length);
  for (let g = 0; g < t.groups.length; g++) {
    const target = t.groups.fam[g] === 4 ? attrOf4 : attrOf6;
    const start = t.groups.start[g] as number;
    for (let i = 0; i < (t.groups.count[g] as number); i++) target[start + i] = t.groups.attr[g] as number;
  }
  const route = (prefix: string, a: AttrSet, nh: string): ApiRoute => {
    const r: ApiRoute = { prefix, next_hop: nh, origin: a.origin === 0 ? 'igp' : 'incomplete', as_path: a.path };
    if (a.communities.length) r.communities = a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`);
    if (a.large.length) {
      r.large_communities = [];
      for (let i = 0; i < a.large.length; i += 3)
        r.large_communities.push(`${a.large[i]}:${a.large[i + 1]}:${a.large[i + 2]}`);
    }
    return r;
  };
  for (let i = 0; i < n4; i++) {
    out.push(
      route(v4Text(t.v4addr[i] as number, t.v4len[i] as number), t.attrs[attrOf4[i] as number] as AttrSet, nextHop4),
    );
  }
  for (let i = 0; i < n6; i++) {
    out.push(
      route(
        v6Text(t.v6hi[i] as number, t.v6lo[i] as number, t.v6len[i] as number),
        t.attrs[attrOf6[i] as number] as AttrSet,
        nextHop6,
      ),
    );
  }
  return out;
}
