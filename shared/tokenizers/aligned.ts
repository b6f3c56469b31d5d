/**
 * Text with provenance: for every UTF-16 code unit of `text`, the span `[start, end)` of the original input it
 * came from. Normalizers that insert, delete or expand characters keep this map, so token offsets can be
 * reported in the caller's string (tokenizers.js itself tracks no offsets).
 */

export class AlignedText {
  constructor(
    readonly text: string,
    readonly starts: readonly number[],
    readonly ends: readonly number[],
  ) {}

  /** `text` taken verbatim from the original, whose first code unit is at `offset`. */
  static identity(text: string, offset = 0): AlignedText {
    const b = new AlignedBuilder();
    for (let i = 0; i < text.length; ) {
      const n = codePointLength(text, i);
      b.push(text.slice(i, i + n), offset + i, offset + i + n);
      i += n;
    }
    return b.build();
  }

  get length(): number {
    return this.text.length;
  }

  slice(from: number, to = this.text.length): AlignedText {
    return new AlignedText(this.text.slice(from, to), this.starts.slice(from, to), this.ends.slice(from, to));
  }

  /** The original span covered by code units [from, to); zero-width at the nearest position when empty. */
  span(from: number, to: number): [number, number] {
    if (to > from) return [this.starts[from], Math.max(this.starts[from], this.ends[to - 1])];
    const at = from < this.starts.length ? this.starts[from] : from > 0 ? this.ends[from - 1] : 0;
    return [at, at];
  }
}

export class AlignedBuilder {
  private text = "";
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Appends `piece`, every code unit of it coming from the original span [start, end). */
  push(piece: string, start: number, end: number): void {
    this.text += piece;
    for (let i = 0; i < piece.length; i++) {
      this.starts.push(start);
      this.ends.push(end);
    }
  }

  /** Appends a range of another aligned text unchanged. */
  pushFrom(source: AlignedText, from: number, to: number): void {
    this.text += source.text.slice(from, to);
    for (let i = from; i < to; i++) {
      this.starts.push(source.starts[i]);
      this.ends.push(source.ends[i]);
    }
  }

  build(): AlignedText {
    return new AlignedText(this.text, this.starts, this.ends);
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
  for (let i = 0; i < text.length; ) {
    const n = codePointLength(text, i);
    const out = f(text.slice(i, i + n));
    if (out) b.push(out, input.starts[i], input.ends[i + n - 1]);
    i += n;
  }
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
