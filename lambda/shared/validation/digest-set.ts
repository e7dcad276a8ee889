/**
 * Exact-duplicate detection in bounded, small memory.
 *
 * Each line is reduced to a 64-bit digest; an open-addressing table keeps the digest with the
 * file and line where it first appeared. Cost: 16 bytes per slot, at most 50% load, so 32-64
 * bytes per distinct record (about 4 MB for 100,000 records), instead of keeping the records
 * themselves. Two different records share a digest with probability about n^2 / 2^65
 * (below one in a billion for 100,000 records); such a collision would only cause one false
 * duplicate warning.
 */

/** Where a record was first seen. */
export interface FirstOccurrence {
  readonly fileIndex: number;
  readonly line: number;
}

/** Local alias: a global lookup per loop step is slow inside sandboxes such as Jest's vm context. */
const imul = Math.imul;

/**
 * A 64-bit digest of `bytes[start, end)` as two 32-bit halves: two multiplicative lanes over
 * 4-byte little-endian words (the tail byte by byte), each finished with an avalanche step.
 * Reading whole words keeps hashing a 500-byte line well under a microsecond.
 */
export function digestBytes(bytes: Uint8Array, start = 0, end = bytes.length): [number, number] {
  const n = end - start;
  let a = 0x811c9dc5 ^ n;
  let b = 0x9e3779b9 ^ imul(n, 0x85ebca6b);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const word = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    a = imul(a ^ word, 0x01000193);
    a ^= a >>> 15;
    b = imul(b ^ word, 0x5bd1e995);
    b = (b << 13) | (b >>> 19);
  }
  for (; i < end; i++) {
    const byte = bytes[i];
    a = imul(a ^ byte, 0x01000193);
    b = imul(b ^ byte, 0x5bd1e995);
  }
  return [avalanche(a ^ imul(b, 0x27d4eb2f)) >>> 0, avalanche(b ^ a) >>> 0];
}

/** {@link digestBytes} of a string's UTF-8 encoding. */
export function digestText(text: string): [number, number] {
  return digestBytes(Buffer.from(text, 'utf8'));
}

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** Words per slot: digest high, digest low, line, file index + 1 (0 = empty slot). */
const SLOT_WORDS = 4;

/** See the module comment. One typed array with the four fields of a slot side by side, so a probe touches one cache line. */
export class RecordDigestSet {
  private slots = new Uint32Array(1024 * SLOT_WORDS);
  private capacity = 1024;
  private used = 0;

  /** Number of distinct digests held. */
  get size(): number {
    return this.used;
  }

  /** Bytes the table occupies. */
  get byteSize(): number {
    return this.slots.byteLength;
  }

  /**
   * Adds a digest first seen at (fileIndex, line); when it was already there, returns where
   * it first appeared and keeps that.
   */
  addOrFind(high: number, low: number, fileIndex: number, line: number): FirstOccurrence | undefined {
    const at = this.slotOf(this.slots, this.capacity, high, low);
    const slots = this.slots;
    if (slots[at + 3] !== 0) return { fileIndex: slots[at + 3] - 1, line: slots[at + 2] };
    slots[at] = high;
    slots[at + 1] = low;
    slots[at + 2] = line;
    slots[at + 3] = fileIndex + 1;
    this.used++;
    if (this.used * 2 > this.capacity) this.grow();
    return undefined;
  }

  /** Offset of the slot holding this digest, or of the empty slot where it belongs (linear probing). */
  private slotOf(slots: Uint32Array, capacity: number, high: number, low: number): number {
    const mask = capacity - 1;
    let slot = low & mask;
    for (;;) {
      const at = slot * SLOT_WORDS;
      if (slots[at + 3] === 0 || (slots[at] === high && slots[at + 1] === low)) return at;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.capacity *= 2;
    this.slots = new Uint32Array(this.capacity * SLOT_WORDS);
    for (let at = 0; at < old.length; at += SLOT_WORDS) {
      if (old[at + 3] === 0) continue;
      const to = this.slotOf(this.slots, this.capacity, old[at], old[at + 1]);
      this.slots[to] = old[at];
      this.slots[to + 1] = old[at + 1];
      this.slots[to + 2] = old[at + 2];
      this.slots[to + 3] = old[at + 3];
    }
  }
}
