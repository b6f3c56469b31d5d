/**
 * Text with provenance: for every UTF-16 code unit of `text`, the span `[start, end)` of the original input it
 * came from. Normalizers that insert, delete or expand characters keep this map, so token offsets can be
 * reported in the caller's string (tokenizers.js itself tracks no offsets).
 */

export class AlignedText {
  constructor(
    readonly text: string,
    readonly starts: Int32Array,
    readonly ends: Int32Array,
  ) {}

  /** `text` taken verbatim from the original, whose first code unit is at `offset`. */
  static identity(text: string, offset = 0): AlignedText {
    const starts = new Int32Array(text.length);
    const ends = new Int32Array(text.length);
    for (let i = 0; i < text.length; ) {
      const n = codePointLength(text, i);
      starts.fill(offset + i, i, i + n);
      ends.fill(offset + i + n, i, i + n);
      i += n;
    }
    return new AlignedText(text, starts, ends);
  }

  get length(): number {
    return this.text.length;
  }

  /** Code units [from, to): the maps are views of this text's, not copies. */
  slice(from: number, to = this.text.length): AlignedText {
    return new AlignedText(this.text.slice(from, to), this.starts.subarray(from, to), this.ends.subarray(from, to));
  }

  /** The original span covered by code units [from, to); zero-width at the nearest position when empty. */
  span(from: number, to: number): [number, number] {
    if (to > from) return [this.starts[from], Math.max(this.starts[from], this.ends[to - 1])];
    const at = from < this.starts.length ? this.starts[from] : from > 0 ? this.ends[from - 1] : 0;
    return [at, at];
  }
}

/**
 * Builds an AlignedText piece by piece. The text is kept as a list of pieces joined once (appending to one string
 * per character makes a rope of millions of nodes) and the maps as growing typed arrays: a long input costs a
 * few bytes per code unit, not hundreds.
 */
export class AlignedBuilder {
  private readonly pieces: string[] = [];
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private length = 0;

  /** Appends `piece`, every code unit of it coming from the original span [start, end). */
  push(piece: string, start: number, end: number): void {
    this.pieces.push(piece);
    const at = this.reserve(piece.length);
    this.starts.fill(start, at, this.length);
    this.ends.fill(end, at, this.length);
  }

  /** Appends a range of another aligned text unchanged. */
  pushFrom(source: AlignedText, from: number, to: number): void {
    if (to <= from) return;
    this.pieces.push(source.text.slice(from, to));
    const at = this.reserve(to - from);
    this.starts.set(source.starts.subarray(from, to), at);
    this.ends.set(source.ends.subarray(from, to), at);
  }

  build(): AlignedText {
    return new AlignedText(this.pieces.join(""), this.starts.slice(0, this.length), this.ends.slice(0, this.length));
  }

  /** Room for `n` more code units; returns where they start. */
  private reserve(n: number): number {
    const at = this.length;
    this.length += n;
    if (this.length > this.starts.length) {
      const capacity = Math.max(this.length, this.starts.length * 2);
      const grow = (a: Int32Array) => {
        const b = new Int32Array(capacity);
        b.set(a.subarray(0, at));
        return b;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    return at;
  }
}

/** 2 for a surrogate pair at `i`, else 1. */
export function codePointLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/** Applies a per-code-point transform, keeping each output with its source code point's span. */
export function mapCodePoints(input: AlignedText, f: (ch: string) => string): AlignedText {
  const b = new AlignedBuilder();
  const { text } = input;
  // Runs of code points the transform leaves alone are copied as one piece.
  let unchanged = 0;
  for (let i = 0; i < text.length; ) {
    const n = codePointLength(text, i);
    const ch = text.slice(i, i + n);
    const out = f(ch);
    if (out !== ch) {
      b.pushFrom(input, unchanged, i);
      if (out) b.push(out, input.starts[i], input.ends[i + n - 1]);
      unchanged = i + n;
    }
    i += n;
  }
  b.pushFrom(input, unchanged, text.length);
  return b.build();
}

/**
 * Applies a transform to clusters (a code point plus the combining marks that follow it), which is the
 * unit Unicode composition (NFC/NFKC) works on, so that composed output keeps a meaningful span.
 */
export function mapClusters(input: AlignedText, f: (cluster: string) => string): AlignedText {
  const b = new AlignedBuilder();
  const { text } = input;
  for (const m of text.matchAll(/[^\p{M}\u1160-\u11ff][\p{M}\u1160-\u11ff]*|[\p{M}\u1160-\u11ff]+/gsu)) {
    const start = m.index;
    const end = start + m[0].length;
    const out = f(m[0]);
    if (out) b.push(out, input.starts[start], input.ends[end - 1]);
  }
  return b.build();
}

/** `String.replace` over aligned text: a replacement takes the span of what it replaced. */
export function replaceAligned(input: AlignedText, pattern: RegExp, content: string): AlignedText {
  const b = new AlignedBuilder();
  const global = pattern.global ? pattern : new RegExp(pattern.source, pattern.flags + "g");
  let last = 0;
  for (const m of input.text.matchAll(global)) {
    const start = m.index;
    const end = start + m[0].length;
    b.pushFrom(input, last, start);
    const [s, e] = input.span(start, end);
    b.push(content, s, e);
    last = end;
  }
  b.pushFrom(input, last, input.length);
  return b.build();
}
