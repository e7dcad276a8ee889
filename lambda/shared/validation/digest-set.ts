/**
 * Exact-duplicate detection in bounded, small memory.
 *
 * Each line is reduced to a 64-bit digest; an open-addressing table keeps the digest with the
 * file and line where it first appeared. Cost: 13 bytes per slot, at most 50% load, so about
 * 26-52 bytes per distinct record (about 5 MB for 100,000 records), instead of keeping the
 * records themselves. Two different records share a digest with probability about n^2 / 2^65
 * (below one in a billion for 100,000 records); such a collision would only cause one false
 * duplicate warning.
 */

/** Where a record was first seen. */
export interface FirstOccurrence {
  readonly fileIndex: number;
  readonly line: number;
}

/**
 * A 64-bit digest of a string as two 32-bit halves: FNV-1a and a multiply-rotate lane over
 * the UTF-16 code units, each finished with an avalanche step.
 */
export function digestText(text: string): [number, number] {
  let a = 0x811c9dc5 ^ text.length;
  let b = 0x9e3779b9 ^ Math.imul(text.length, 0x85ebca6b);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b = (b << 13) | (b >>> 19);
  }
  return [avalanche(a ^ Math.imul(b, 0x27d4eb2f)) >>> 0, avalanche(b ^ a) >>> 0];
}

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** See the module comment. */
export class RecordDigestSet {
  private high = new Uint32Array(1024);
  private low = new Uint32Array(1024);
  private lines = new Uint32Array(1024);
  /** 0 = empty slot, otherwise file index + 1. */
  private files = new Uint8Array(1024);
  private used = 0;

  /** Number of distinct digests held. */
  get size(): number {
    return this.used;
  }

  /** Bytes the table occupies. */
  get byteSize(): number {
    return this.high.length * 13;
  }

  /**
   * Adds a digest first seen at (fileIndex, line); when it was already there, returns where
   * it first appeared and keeps that. File indexes must be below 255.
   */
  addOrFind(high: number, low: number, fileIndex: number, line: number): FirstOccurrence | undefined {
    const slot = this.slotOf(high, low);
    if (this.files[slot] !== 0) return { fileIndex: this.files[slot] - 1, line: this.lines[slot] };
    this.high[slot] = high;
    this.low[slot] = low;
    this.lines[slot] = line;
    this.files[slot] = fileIndex + 1;
    this.used++;
    if (this.used * 2 > this.files.length) this.grow();
    return undefined;
  }

  /** The slot holding this digest, or the empty slot where it belongs (linear probing). */
  private slotOf(high: number, low: number): number {
    const mask = this.files.length - 1;
    let slot = low & mask;
    while (this.files[slot] !== 0 && (this.high[slot] !== high || this.low[slot] !== low)) slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const { high, low, lines, files } = this;
    const capacity = files.length * 2;
    this.high = new Uint32Array(capacity);
    this.low = new Uint32Array(capacity);
    this.lines = new Uint32Array(capacity);
    this.files = new Uint8Array(capacity);
    for (let i = 0; i < files.length; i++) {
      if (files[i] === 0) continue;
      const slot = this.slotOf(high[i], low[i]);
      this.high[slot] = high[i];
      this.low[slot] = low[i];
      this.lines[slot] = lines[i];
      this.files[slot] = files[i];
    }
  }
}
