/**
 * Unigram (SentencePiece) over flat arrays, piece for piece what tokenizers.js 0.2.0's `Unigram` gives:
 * - the trie of pieces is a character trie in breadth-first order: the children of node k are nodes
 *   `first[k]..first[k + 1]`, sorted by `label` (code point), `leaf[k]` the token id ending there (-1: none);
 *   special added tokens are not leaves (vocab-model.ts gap 2);
 * - the lattice is the library's Viterbi: a node's predecessor is the first (leftmost-starting) node ending where
 *   it begins with the highest `backtrace + score`, compared per node in float64 exactly as the library does;
 *   a position no single-character piece covers gets the unknown token with score min − 10.
 */
import { StringTable, Utf8Word } from "./string-table.js";
import { TableModel, type TableModelInfo } from "./vocab-model.js";

interface Trie {
  first: Int32Array;
  label: Int32Array;
  leaf: Int32Array;
}

export class UnigramModel extends TableModel {
  readonly type = "Unigram";
  private readonly word = new Utf8Word();
  // The lattice of one call: per node its span, backtrace score, predecessor, next node with the same end.
  private begin = new Int32Array(256);
  private stop = new Int32Array(256);
  private backtrace = new Float64Array(256);
  private before = new Int32Array(256);
  private sameEnd = new Int32Array(256);
  private endHead = new Int32Array(64);
  private endTail = new Int32Array(64);
  private nodes = 0;

  constructor(
    strings: StringTable,
    info: TableModelInfo,
    private readonly trie: Trie,
    /** Scores by id (NaN past the model's vocabulary, as the library's `scores[id]` is undefined there). */
    private readonly scores: Float32Array | Float64Array,
    private readonly unkScore: number,
  ) {
    super(strings, { ...info, fuseUnk: true });
  }

  encode(pretokens: string[]): string[] {
    const out: string[] = [];
    for (const t of pretokens) this.tokenize(t, out);
    return out;
  }

  private tokenize(text: string, out: string[]): void {
    const w = this.word;
    if (!w.set(text)) throw new Error("unigram input is not well-formed UTF-16");
    const m = w.points;
    if (m + 1 > this.endHead.length) {
      this.endHead = new Int32Array(2 * (m + 1));
      this.endTail = new Int32Array(2 * (m + 1));
    }
    this.endHead.fill(-1, 0, m + 1);
    this.nodes = 0;
    this.add(0, 0, 0, false); // beginning of sentence
    const { first, label, leaf } = this.trie;
    const codes = w.pointCode;
    const unkId = this.unkId!;
    for (let b = 0; b < m; b++) {
      let single = false;
      let node = 0;
      for (let e = b; e < m; e++) {
        // Binary search of the code point among the node's children.
        let lo = first[node];
        let hi = first[node + 1] - 1;
        const c = codes[e];
        node = -1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const l = label[mid];
          if (l === c) {
            node = mid;
            break;
          }
          if (l < c) lo = mid + 1;
          else hi = mid - 1;
        }
        if (node < 0) break;
        const id = leaf[node];
        if (id >= 0) {
          this.add(b, e + 1, id === unkId ? this.unkScore : this.scores[id], true);
          if (e === b) single = true;
        }
      }
      if (!single) this.add(b, b + 1, this.unkScore, true);
    }
    // The end of sentence takes the best node ending at m; its chain, reversed, is the segmentation.
    let best = -1;
    for (let l = this.endHead[m]; l >= 0; l = this.sameEnd[l]) if (best < 0 || this.backtrace[l] > this.backtrace[best]) best = l;
    const reversed: string[] = [];
    for (let k = best; k > 0; k = this.before[k]) reversed.push(w.slice(this.begin[k], this.stop[k]));
    for (let i = reversed.length - 1; i >= 0; i--) out.push(reversed[i]);
  }

  /** Adds the node [b, e) and, when `linked`, its best predecessor among the nodes ending at b. */
  private add(b: number, e: number, score: number, linked: boolean): void {
    const k = this.nodes++;
    if (k === this.begin.length) this.grow();
    let best = -1;
    let bestScore = 0;
    if (linked) {
      for (let l = this.endHead[b]; l >= 0; l = this.sameEnd[l]) {
        const s = this.backtrace[l] + score;
        if (best < 0 || s > bestScore) {
          best = l;
          bestScore = s;
        }
      }
    }
    this.begin[k] = b;
    this.stop[k] = e;
    this.backtrace[k] = bestScore;
    this.before[k] = best;
    this.sameEnd[k] = -1;
    if (this.endHead[e] < 0) this.endHead[e] = k;
    else this.sameEnd[this.endTail[e]] = k;
    this.endTail[e] = k;
  }

  private grow(): void {
    const n = this.begin.length * 2;
    const grown = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.begin = grown(this.begin, (n) => new Int32Array(n));
    this.stop = grown(this.stop, (n) => new Int32Array(n));
    this.backtrace = grown(this.backtrace, (n) => new Float64Array(n));
    this.before = grown(this.before, (n) => new Int32Array(n));
    this.sameEnd = grown(this.sameEnd, (n) => new Int32Array(n));
  }
}
