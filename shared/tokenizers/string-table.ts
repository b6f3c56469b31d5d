/**
 * A vocabulary without per-entry objects: every string as UTF-8 in one blob, `offsets[i]..offsets[i + 1]` its
 * bytes, and an open-addressing hash table (Int32Array) from string to index. It is three typed arrays, so a
 * compiled tokenizer file holds it as is and loading it allocates nothing per token.
 *
 * The hash is polynomial over the UTF-8 bytes (h = h·B + byte, mod 2³²), so the hash of any byte range of a
 * word follows from the word's prefix hashes: BPE looks up the concatenation of two adjacent symbols, and
 * WordPiece every substring, without building a string.
 *
 * Indices below `size` are token ids (a hole, an id without a string, has its offset's top bit set); indices
 * from `size` on are extra symbols a BPE merge rule names but the vocabulary lacks (never token ids).
 */
import { TokenizerError } from "./errors.js";

const B = 0x01000193;
const HOLE = 0x80000000;
// A leading U+FEFF is part of a token ("\ufeff" is one in Gemma-3), not a byte-order mark to drop.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** B^k mod 2³², grown on demand. */
let powers = new Int32Array([1]);
function powerOf(k: number): number {
  if (k >= powers.length) {
    const next = new Int32Array(Math.max(k + 1, powers.length * 2));
    next.set(powers);
    for (let i = powers.length; i < next.length; i++) next[i] = Math.imul(next[i - 1], B);
    powers = next;
  }
  return powers[k];
}

/** Bucket of a polynomial hash (murmur3's finalizer spreads its low-entropy high bits). */
function bucket(h: number, mask: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & mask;
}

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, B) + bytes[i]) | 0;
  return h;
}

/**
 * A word as UTF-8 bytes with their prefix hashes (to look up any byte range) and, per code point, its code, its
 * first byte and its first UTF-16 unit (index `points` holds the ends). Reused from word to word.
 */
export class Utf8Word {
  text = "";
  bytes = new Uint8Array(64);
  prefix = new Int32Array(65);
  length = 0;
  points = 0;
  pointCode = new Int32Array(64);
  pointByte = new Int32Array(65);
  pointUnit = new Int32Array(65);

  /**
   * Takes `text`, with the per-code-point tables unless `points` is false; false (and an unusable word) when it
   * holds an unpaired surrogate, which has no UTF-8.
   */
  set(text: string, points = true): boolean {
    this.text = text;
    if (text.length * 3 > this.bytes.length) this.grow(text.length * 3);
    const { bytes, prefix, pointCode, pointByte, pointUnit } = this;
    let n = 0;
    let p = 0;
    for (let i = 0; i < text.length; i++, p++) {
      let c = text.charCodeAt(i);
      if (points) {
        pointByte[p] = n;
        pointUnit[p] = i;
      }
      if (c < 0x80) {
        bytes[n++] = c;
      } else if (c < 0x800) {
        bytes[n++] = 0xc0 | (c >> 6);
        bytes[n++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = text.charCodeAt(i + 1);
        if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return false;
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        bytes[n++] = 0xf0 | (c >> 18);
        bytes[n++] = 0x80 | ((c >> 12) & 63);
        bytes[n++] = 0x80 | ((c >> 6) & 63);
        bytes[n++] = 0x80 | (c & 63);
      } else {
        bytes[n++] = 0xe0 | (c >> 12);
        bytes[n++] = 0x80 | ((c >> 6) & 63);
        bytes[n++] = 0x80 | (c & 63);
      }
      if (points) pointCode[p] = c;
    }
    pointByte[p] = n;
    pointUnit[p] = text.length;
    for (let i = 0; i < n; i++) prefix[i + 1] = (Math.imul(prefix[i], B) + bytes[i]) | 0;
    this.length = n;
    this.points = p;
    return true;
  }

  /** Hash of bytes [start, end). */
  hash(start: number, end: number): number {
    return (this.prefix[end] - Math.imul(this.prefix[start], powerOf(end - start))) | 0;
  }

  /** The text of code points [from, to). */
  slice(from: number, to: number): string {
    return this.text.slice(this.pointUnit[from], this.pointUnit[to]);
  }

  private grow(n: number): void {
    this.bytes = new Uint8Array(n);
    this.prefix = new Int32Array(n + 1);
    this.pointCode = new Int32Array(n);
    this.pointByte = new Int32Array(n + 1);
    this.pointUnit = new Int32Array(n + 1);
  }
}

export class StringTable {
  private readonly mask: number;
  private readonly scratch = new Utf8Word();

  /**
   * @param size number of token ids (indices from `size` on are extra symbols)
   * @param offsets `count + 1` byte offsets into `blob` (top bit of `offsets[i]`: index i has no string)
   * @param slots hash table, a power of two long: index + 1 of the string in that slot, 0 for empty
   */
  constructor(
    readonly size: number,
    readonly blob: Uint8Array,
    readonly offsets: Uint32Array,
    readonly slots: Int32Array,
  ) {
    this.mask = slots.length - 1;
    if (slots.length === 0 || (slots.length & this.mask) !== 0 || offsets.length === 0 || size > offsets.length - 1) {
      throw new TokenizerError(`string table is corrupt (${offsets.length - 1} strings, ${slots.length} slots, size ${size})`);
    }
  }

  /** Number of strings (token ids and extra symbols). */
  get count(): number {
    return this.offsets.length - 1;
  }

  /**
   * Builds a table. `strings[i]` is index i (undefined: a hole); `winners` lists, for each distinct string,
   * the index a lookup returns (the caller decides which duplicate wins), and must not contain holes.
   */
  static build(size: number, strings: readonly (string | undefined)[], winners: Iterable<number>): StringTable {
    const encoder = new TextEncoder();
    const offsets = new Uint32Array(strings.length + 1);
    let blob = new Uint8Array(1 << 16);
    let at = 0;
    strings.forEach((s, i) => {
      if (s === undefined) {
        offsets[i] = at | HOLE;
        return;
      }
      if (at + s.length * 3 > blob.length) {
        const grown = new Uint8Array(Math.max(blob.length * 2, at + s.length * 3));
        grown.set(blob.subarray(0, at));
        blob = grown;
      }
      offsets[i] = at;
      at += encoder.encodeInto(s, blob.subarray(at)).written;
    });
    offsets[strings.length] = at;
    const list = [...winners];
    let capacity = 8;
    while (capacity < list.length * 2) capacity *= 2;
    const table = new StringTable(size, blob.slice(0, at), offsets, new Int32Array(capacity));
    for (const i of list) table.insert(i);
    return table;
  }

  private insert(index: number): void {
    const [start, end] = this.range(index);
    for (let s = bucket(hashBytes(this.blob, start, end), this.mask); ; s = (s + 1) & this.mask) {
      if (this.slots[s] === 0) {
        this.slots[s] = index + 1;
        return;
      }
    }
  }

  /** Byte range of index i in the blob (empty for a hole). */
  range(i: number): [number, number] {
    const start = this.offsets[i] & ~HOLE;
    return [start, this.offsets[i + 1] & ~HOLE];
  }

  has(i: number): boolean {
    return i >= 0 && i < this.count && (this.offsets[i] & HOLE) === 0;
  }

  /** The string at index i, or undefined for a hole or an index out of range. */
  at(i: number): string | undefined {
    if (!this.has(i)) return undefined;
    const start = this.offsets[i];
    const end = this.offsets[i + 1] & ~HOLE;
    const blob = this.blob;
    let ascii = end - start <= 32;
    for (let k = start; ascii && k < end; k++) ascii = blob[k] < 0x80;
    return ascii ? String.fromCharCode(...blob.subarray(start, end)) : decoder.decode(blob.subarray(start, end));
  }

  /** Index of bytes [start, end) of `word`, after `prefix` when given (WordPiece's "##"), or -1. */
  find(word: Utf8Word, start: number, end: number, prefix?: Uint8Array): number {
    if (!prefix) return this.probe(word.hash(start, end), word.bytes, start, end);
    const extra = prefix.length;
    const h = (Math.imul(hashBytes(prefix, 0, extra), powerOf(end - start)) + word.hash(start, end)) | 0;
    for (let s = bucket(h, this.mask); ; s = (s + 1) & this.mask) {
      const i = this.slots[s] - 1;
      if (i < 0) return -1;
      const o = this.offsets[i];
      if ((this.offsets[i + 1] & ~HOLE) - o !== extra + end - start) continue;
      if (this.equal(o, prefix, 0, extra) && this.equal(o + extra, word.bytes, start, end)) return i;
    }
  }

  /** Index of `bytes[start, end)`, whose hash is `h`, or -1. */
  private probe(h: number, bytes: Uint8Array, start: number, end: number): number {
    for (let s = bucket(h, this.mask); ; s = (s + 1) & this.mask) {
      const i = this.slots[s] - 1;
      if (i < 0) return -1;
      const o = this.offsets[i];
      if ((this.offsets[i + 1] & ~HOLE) - o === end - start && this.equal(o, bytes, start, end)) return i;
    }
  }

  /** Whether the blob at `at` holds `bytes[start, end)`. */
  private equal(at: number, bytes: Uint8Array, start: number, end: number): boolean {
    const blob = this.blob;
    for (let k = start; k < end; k++) if (blob[at + k - start] !== bytes[k]) return false;
    return true;
  }

  /** Index of `text`, or -1 (also for text that is not well-formed UTF-16). */
  lookup(text: string): number {
    const w = this.scratch;
    return w.set(text, false) ? this.probe(w.hash(0, w.length), w.bytes, 0, w.length) : -1;
  }

  /** Token id of `text` (an index below `size`), or undefined. */
  idOf(text: string): number | undefined {
    const i = this.lookup(text);
    return i >= 0 && i < this.size ? i : undefined;
  }
}
