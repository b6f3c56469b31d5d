/**
 * BPE over typed arrays, piece for piece what tokenizers.js 0.2.0's `BPE` gives (with the piece ranks of
 * SentencePiece BPE, vocab-model.ts gap 3): the pair of adjacent symbols with the lowest rank merges first,
 * leftmost among equal ranks, until no pair has a rank. Symbols are code point ranges of the word, so a pair's
 * merged text is a byte range whose hash comes from the word's prefix hashes; no string is built while merging.
 *
 * Ranks come in two kinds:
 * - `pieces` (SentencePiece BPE): a pair merges when its concatenation is a piece that some rule forms; the rank
 *   is that piece's first rule (`rank[id]`, -1 when no rule forms it).
 * - `rules` (byte-level BPE, HF files): a pair merges when the rule (left, right) exists; `pairs` maps the two
 *   symbols' string-table indices to the rule's index (the last one when a rule is repeated, as the library's
 *   Map keeps it). Rule parts missing from the vocabulary are extra strings of the table.
 */
import { PairMap } from "./pair-map.js";
import { StringTable, Utf8Word } from "./string-table.js";
import { TableModel, type TableModelInfo } from "./vocab-model.js";

export type MergeRanks = { kind: "pieces"; rank: Int32Array } | { kind: "rules"; pairs: PairMap };

export interface BpeOptions {
  byteFallback: boolean;
  ignoreMerges: boolean;
  /** Appended to a word's last character before merging (`</w>` models). */
  endOfWordSuffix: string;
  /** Appended to every piece of a word but the last. */
  continuingSubwordSuffix: string;
}

const BYTE_TOKENS = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
/** Like the library, words shorter than this (UTF-16 units) are cached, up to CACHE_SIZE of them. */
const MAX_CACHED_LENGTH = 256;
const CACHE_SIZE = 10_000;

export class BpeModel extends TableModel {
  readonly type = "BPE";
  private readonly word = new Utf8Word();
  private readonly cache = new Map<string, string[]>();
  private readonly suffixPoints: number;
  private readonly utf8 = new TextEncoder();
  // Per word: symbol i starts at code point i; its end, its neighbours, its string-table index (rules).
  private end = new Int32Array(64);
  private next = new Int32Array(64);
  private prev = new Int32Array(64);
  private symbol = new Int32Array(64);
  private readonly heap = new MergeHeap();

  constructor(
    strings: StringTable,
    info: TableModelInfo,
    private readonly ranks: MergeRanks,
    private readonly options: BpeOptions,
  ) {
    super(strings, info);
    this.suffixPoints = [...options.endOfWordSuffix].length;
  }

  encode(pretokens: string[]): string[] {
    const out: string[] = [];
    for (const token of pretokens) for (const piece of this.pieces(token)) out.push(piece);
    return out;
  }

  /** The pieces of one pre-token (tokenizers.js `BPE.encode` of it), cached for words of up to 255 units. */
  private pieces(token: string): readonly string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const out: string[] = [];
    if (this.options.ignoreMerges && this.idOf(token) !== undefined) {
      out.push(token);
    } else {
      for (const piece of this.bpe(token)) {
        if (this.idOf(piece) !== undefined) {
          out.push(piece);
        } else if (this.options.byteFallback) {
          const bytes = Array.from(this.utf8.encode(piece), (b) => BYTE_TOKENS[b]);
          if (bytes.every((b) => this.idOf(b) !== undefined)) for (const b of bytes) out.push(b);
          else if (this.unkToken != null) out.push(this.unkToken);
        } else if (this.unkToken != null) {
          out.push(this.unkToken);
        }
      }
    }
    if (token.length < MAX_CACHED_LENGTH) {
      if (this.cache.size >= CACHE_SIZE) this.cache.clear();
      this.cache.set(token, out);
    }
    return out;
  }

  /** The merged symbols of one word, with the suffixes of `options`. */
  private bpe(token: string): string[] {
    if (token.length === 0) return [];
    const w = this.word;
    const valid = w.set(token + this.options.endOfWordSuffix);
    const n = w.points - this.suffixPoints;
    const result = n > 1 && valid ? this.merge(w, n) : [token + this.options.endOfWordSuffix];
    const suffix = this.options.continuingSubwordSuffix;
    if (suffix) for (let i = 0; i < result.length - 1; i++) result[i] += suffix;
    return result;
  }

  /** Merges the word's `n` symbols (the last one carries the end-of-word suffix); returns the pieces. */
  private merge(w: Utf8Word, n: number): string[] {
    if (n > this.end.length) {
      const size = Math.max(n, this.end.length * 2);
      this.end = new Int32Array(size);
      this.next = new Int32Array(size);
      this.prev = new Int32Array(size);
      this.symbol = new Int32Array(size);
    }
    const { end, next, prev, symbol, heap } = this;
    const rules = this.ranks.kind === "rules";
    for (let i = 0; i < n; i++) {
      end[i] = i + 1;
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    end[n - 1] = w.points;
    next[n - 1] = -1;
    if (rules) for (let i = 0; i < n; i++) symbol[i] = this.strings.find(w, w.pointByte[i], w.pointByte[end[i]]);
    heap.clear();
    for (let i = 0; i < n - 1; i++) this.offer(w, i);
    while (heap.size > 0) {
      const i = heap.topPos();
      const leftEnd = heap.topLeftEnd();
      const rightEnd = heap.topRightEnd();
      heap.pop();
      // Stale entries: the left symbol grew, or its right neighbour changed, since the pair was offered.
      const j = next[i];
      if (end[i] !== leftEnd || j < 0 || end[j] !== rightEnd) continue;
      end[i] = end[j];
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      end[j] = -1; // merged away
      if (rules) symbol[i] = this.strings.find(w, w.pointByte[i], w.pointByte[end[i]]);
      if (prev[i] >= 0) this.offer(w, prev[i]);
      if (next[i] >= 0) this.offer(w, i);
    }
    const pieces: string[] = [];
    for (let i = 0; i >= 0; i = next[i]) pieces.push(w.slice(i, end[i]));
    return pieces;
  }

  /** Queues the pair (i, next[i]) when it has a rank. */
  private offer(w: Utf8Word, i: number): void {
    const j = this.next[i];
    const last = this.end[j];
    let rank: number;
    if (this.ranks.kind === "pieces") {
      const id = this.strings.find(w, w.pointByte[i], w.pointByte[last]);
      rank = id >= 0 && id < this.strings.size ? this.ranks.rank[id] : -1;
    } else {
      const a = this.symbol[i];
      const b = this.symbol[j];
      rank = a >= 0 && b >= 0 ? this.ranks.pairs.get(a, b) : -1;
    }
    if (rank >= 0) this.heap.push(rank, i, this.end[i], last);
  }
}

/** A binary min-heap of candidate merges, ordered by (rank, position): lowest rank first, then leftmost. */
class MergeHeap {
  size = 0;
  private rank = new Int32Array(64);
  private pos = new Int32Array(64);
  private leftEnd = new Int32Array(64);
  private rightEnd = new Int32Array(64);

  clear(): void {
    this.size = 0;
  }

  topPos(): number {
    return this.pos[0];
  }

  topLeftEnd(): number {
    return this.leftEnd[0];
  }

  topRightEnd(): number {
    return this.rightEnd[0];
  }

  push(rank: number, pos: number, leftEnd: number, rightEnd: number): void {
    if (this.size === this.rank.length) this.grow();
    let k = this.size++;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!before(rank, pos, this.rank[parent], this.pos[parent])) break;
      this.move(parent, k);
      k = parent;
    }
    this.put(k, rank, pos, leftEnd, rightEnd);
  }

  pop(): void {
    const last = --this.size;
    if (last === 0) return;
    const rank = this.rank[last];
    const pos = this.pos[last];
    const leftEnd = this.leftEnd[last];
    const rightEnd = this.rightEnd[last];
    let k = 0;
    for (;;) {
      let child = 2 * k + 1;
      if (child >= last) break;
      if (child + 1 < last && before(this.rank[child + 1], this.pos[child + 1], this.rank[child], this.pos[child])) child++;
      if (!before(this.rank[child], this.pos[child], rank, pos)) break;
      this.move(child, k);
      k = child;
    }
    this.put(k, rank, pos, leftEnd, rightEnd);
  }

  private move(from: number, to: number): void {
    this.rank[to] = this.rank[from];
    this.pos[to] = this.pos[from];
    this.leftEnd[to] = this.leftEnd[from];
    this.rightEnd[to] = this.rightEnd[from];
  }

  private put(k: number, rank: number, pos: number, leftEnd: number, rightEnd: number): void {
    this.rank[k] = rank;
    this.pos[k] = pos;
    this.leftEnd[k] = leftEnd;
    this.rightEnd[k] = rightEnd;
  }

  private grow(): void {
    const grown = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.rank = grown(this.rank);
    this.pos = grown(this.pos);
    this.leftEnd = grown(this.leftEnd);
    this.rightEnd = grown(this.rightEnd);
  }
}

function before(rank: number, pos: number, rank2: number, pos2: number): boolean {
  return rank < rank2 || (rank === rank2 && pos < pos2);
}
