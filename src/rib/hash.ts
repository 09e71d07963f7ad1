// 32-bit MurmurHash3 (x86) over little-endian 4-byte words, the RIB's one hash: over bytes, and over the
// characters of a latin1 string (one byte per character) — the same value for a string and the bytes it was made
// of. The source table hashes interning keys with it (intern.ts), the prefix table prefix keys (prefix-table.ts).

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}
function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
/** The final mix; never 0 (the source table marks a free slot with 0). */
export function fmix(h: number, n: number): number {
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h; // 0 marks a free slot
}

/** The hash of b[0, n). */
export function hashBytes(b: Uint8Array, n: number): number {
  return hashRange(b, 0, n);
}

/** The hash of b[start, start + n). */
export function hashRange(b: Uint8Array, start: number, n: number): number {
  let h = 0;
  const end = start + n;
  const whole = start + (n & ~3);
  let i = start;
  for (; i < whole; i += 4) h = mixH(h, b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
  let k = 0;
  for (let s = 0; i < end; i++, s += 8) k |= b[i]! << s;
  if ((n & 3) !== 0) h ^= mixK(k);
  return fmix(h, n);
}

/** The hash of a latin1 string: equal to hashBytes of its bytes. */
export function hashString(t: string): number {
  const n = t.length;
  let h = 0;
  const whole = n & ~3;
  let i = 0;
  for (; i < whole; i += 4) {
    h = mixH(
      h,
      t.charCodeAt(i) | (t.charCodeAt(i + 1) << 8) | (t.charCodeAt(i + 2) << 16) | (t.charCodeAt(i + 3) << 24),
    );
  }
  let k = 0;
  for (let s = 0; i < n; i++, s += 8) k |= (t.charCodeAt(i) & 0xff) << s;
  if ((n & 3) !== 0) h ^= mixK(k);
  return fmix(h, n);
}
