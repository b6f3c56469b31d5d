/**
 * A map from pairs of non-negative int32 keys to non-negative int32 values, in typed arrays (open addressing,
 * linear probing): BPE merge rules (left symbol, right symbol) → rank, and the trie build (node, character) →
 * child. As typed arrays it is stored in a compiled tokenizer as is.
 */
import { TokenizerError } from "./errors.js";

export class PairMap {
  private readonly mask: number;
  private used = 0;

  /** `keys` holds two entries per slot; `values` -1 marks an empty slot. */
  constructor(
    readonly keys: Int32Array,
    readonly values: Int32Array,
  ) {
    this.mask = values.length - 1;
    if (values.length === 0 || (values.length & this.mask) !== 0 || keys.length !== values.length * 2) {
      throw new TokenizerError(`pair table is corrupt (${values.length} slots, ${keys.length} keys)`);
    }
  }

  /** An empty map with room for `entries` pairs. */
  static withCapacity(entries: number): PairMap {
    let capacity = 8;
    while (capacity < entries * 2) capacity *= 2;
    return new PairMap(new Int32Array(capacity * 2), new Int32Array(capacity).fill(-1));
  }

  private slot(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      if (this.values[s] < 0 || (this.keys[2 * s] === a && this.keys[2 * s + 1] === b)) return s;
    }
  }

  /** Value of (a, b), or -1. */
  get(a: number, b: number): number {
    return this.values[this.slot(a, b)];
  }

  /** Sets (a, b) → value (value ≥ 0); the map must not be full (see `withCapacity`). */
  set(a: number, b: number, value: number): void {
    const s = this.slot(a, b);
    if (this.values[s] < 0) {
      if (++this.used > this.mask) throw new TokenizerError("pair table is full");
      this.keys[2 * s] = a;
      this.keys[2 * s + 1] = b;
    }
    this.values[s] = value;
  }
}
