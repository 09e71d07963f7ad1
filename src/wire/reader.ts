// A bounded cursor over bytes. Each section of a message gets a sub-reader that cannot read past the length
// the section declared; running off the end throws a WireError chosen by whoever created the reader.

import { WireError } from './errors.ts';

export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** Builds the error thrown on a short read; the section's owner decides which NOTIFICATION that is. */
  readonly onShort: (what: string) => WireError;

  constructor(buf: Uint8Array, start = 0, end = buf.length, onShort?: (what: string) => WireError) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.onShort = onShort ?? ((what) => new WireError(`message too short reading ${what}`, 1, 2));
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) throw this.onShort(what);
  }

  u8(what = 'a byte'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'a 2-byte field'): number {
    this.need(2, what);
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(what = 'a 4-byte field'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    const v = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    this.pos += 4;
    return v;
  }

  /** A view (not a copy) of the next n bytes. */
  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A sub-reader over the next n bytes; this reader moves past them. */
  sub(n: number, what = 'a section', onShort?: (what: string) => WireError): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, this.pos, this.pos + n, onShort ?? this.onShort);
    this.pos += n;
    return r;
  }

  skip(n: number, what = 'bytes'): void {
    this.need(n, what);
    this.pos += n;
  }
}
