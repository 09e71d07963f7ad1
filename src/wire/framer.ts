// Splits a TCP byte stream into whole BGP messages.
//
// Chunks are kept in a list as they arrive; nothing is copied unless a message straddles two chunks, so the
// common case (many messages inside one socket read) returns subarray views of the chunk. The header is checked
// as soon as its 19 bytes are there, before waiting for the body (RFC 4271 §6.1): a peer that sends garbage gets
// its NOTIFICATION at once instead of us waiting for up to 64 KiB that may never come.
//
// A returned message is a view into a pushed chunk: callers must not reuse chunk buffers (Node's socket does
// not), and whoever stores parts of a message copies them (the RIB does).

import { HEADER_LENGTH, MAX_MESSAGE_SIZE } from './constants.ts';
import { checkHeader } from './header.ts';

export class Framer {
  /** Largest acceptable message: 4096, or 65535 once Extended Message is negotiated (RFC 8654). */
  maxMessageSize: number = MAX_MESSAGE_SIZE;

  private chunks: Uint8Array[] = [];
  /** Index of the first chunk still in use (chunks before it are spent; dropped in batches). */
  private first = 0;
  /** Read offset inside chunks[first]. */
  private offset = 0;
  private total = 0;
  /** Scratch space for a header split over chunks. */
  private readonly head = new Uint8Array(HEADER_LENGTH);

  /** Bytes received but not yet returned as messages. */
  get buffered(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** After nextAt(): the buffer holding the message, and where in it the message starts. */
  buf: Uint8Array = new Uint8Array(0);
  start = 0;

  /**
   * The next whole message (header included), or null when more bytes are needed.
   * Throws WireError 1/1 or 1/2 as soon as a bad header is buffered, whether or not its body has arrived.
   */
  next(): Uint8Array | null {
    const length = this.nextAt();
    return length < 0 ? null : this.buf.subarray(this.start, this.start + length);
  }

  /**
   * Like next() without making a view: the length of the next whole message, which is then at
   * buf[start, start + length), or -1 when more bytes are needed. A message that lies in one chunk (the common
   * case) is read where it is; one split over chunks is copied.
   */
  nextAt(): number {
    if (this.total < HEADER_LENGTH) return -1;
    const chunk = this.chunks[this.first]!;
    let length: number;
    if (chunk.length - this.offset >= HEADER_LENGTH) {
      length = checkHeader(chunk, this.offset, this.maxMessageSize);
    } else {
      this.copyOut(this.head, HEADER_LENGTH);
      length = checkHeader(this.head, 0, this.maxMessageSize);
    }
    if (this.total < length) return -1;

    if (chunk.length - this.offset >= length) {
      this.buf = chunk;
      this.start = this.offset;
      this.offset += length;
    } else {
      const msg = new Uint8Array(length);
      this.copyOut(msg, length);
      this.consumeAcross(length);
      this.buf = msg;
      this.start = 0;
    }
    this.total -= length;
    if (this.first < this.chunks.length && this.offset === this.chunks[this.first]!.length) {
      this.first++;
      this.offset = 0;
    }
    this.compact();
    return length;
  }

  /** Copies the first n buffered bytes into `into` without consuming them. */
  private copyOut(into: Uint8Array, n: number): void {
    let filled = 0;
    let ci = this.first;
    let off = this.offset;
    while (filled < n) {
      const c = this.chunks[ci]!;
      const take = Math.min(c.length - off, n - filled);
      into.set(c.subarray(off, off + take), filled);
      filled += take;
      ci++;
      off = 0;
    }
  }

  /** Moves the read position n bytes forward, possibly over several chunks. */
  private consumeAcross(n: number): void {
    let left = n;
    while (left > 0) {
      const c = this.chunks[this.first]!;
      const avail = c.length - this.offset;
      if (avail > left) {
        this.offset += left;
        return;
      }
      left -= avail;
      this.first++;
      this.offset = 0;
    }
  }

  /** Drops spent chunks: all at once when the buffer is empty, otherwise in batches so shifting stays amortised O(1). */
  private compact(): void {
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 64 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
