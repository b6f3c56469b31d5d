/**
 * Long inputs: split one text's tokens into overlapping windows that each fit the model, instead of
 * failing (TEI's hard 512-token error) or truncating silently. Each window keeps its span, so the
 * platform can pool chunk embeddings back into one per text.
 */
import type { Encoding } from "./tokenizer.js";

export interface ChunkSpan {
  /** Token range [tokenStart, tokenEnd) in the text's encoding without special tokens. */
  tokenStart: number;
  tokenEnd: number;
  /** Character range [start, end) of the input text the window covers (UTF-16 code units). */
  start: number;
  end: number;
}

/**
 * Windows of at most `size` tokens, consecutive windows sharing about `overlap` tokens; the last window
 * ends at the last token. Boundaries never split one character's byte tokens, and move back (by up to a
 * quarter window) to a word start when one is near, so words are not cut in half.
 */
export function chunkWindows(encoding: Encoding, size: number, overlap: number): ChunkSpan[] {
  const n = encoding.ids.length;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) throw new RangeError(`chunk overlap must be an integer in [0, ${size}), got ${overlap}`);
  const { offsets, tokens } = encoding;
  // k may start a window: never between byte tokens of one character.
  const allowed = (k: number) => k <= 0 || k >= n || offsets[k][0] !== offsets[k - 1][0] || offsets[k][1] !== offsets[k - 1][1];
  // k starts a word: text between it and the previous token, or a word-start marker (▁, Ġ).
  const clean = (k: number) => k <= 0 || k >= n || offsets[k][0] > offsets[k - 1][1] || /^[▁Ġ]/.test(tokens[k]);
  const back = (k: number, floor: number, slack: number) => {
    for (let j = k; j > floor && j >= k - slack; j--) if (clean(j) && allowed(j)) return j;
    for (let j = k; j > floor; j--) if (allowed(j)) return j;
    return k;
  };
  const slack = Math.max(1, Math.floor(size / 4));
  const spans: ChunkSpan[] = [];
  let start = 0;
  for (;;) {
    let end = Math.min(n, start + size);
    if (end < n) end = back(end, start, slack);
    spans.push(span(encoding, start, end));
    if (end >= n) break;
    const next = back(Math.max(start + 1, end - overlap), start, slack);
    start = next > start ? next : end;
  }
  return spans;
}

function span(e: Encoding, tokenStart: number, tokenEnd: number): ChunkSpan {
  if (tokenEnd <= tokenStart) return { tokenStart, tokenEnd, start: 0, end: 0 };
  return { tokenStart, tokenEnd, start: e.offsets[tokenStart][0], end: e.offsets[tokenEnd - 1][1] };
}
