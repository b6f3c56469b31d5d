/**
 * SentencePiece's `precompiled_charsmap` (the normalizer of `nmt_nfkc`, `nfkc`, … models), applied exactly as
 * SentencePiece does (normalizer.cc `NormalizePrefix`): at each position take the longest rule of the
 * double-array trie that matches a prefix of the UTF-8 bytes, else copy one character.
 *
 * Why this exists: tokenizers.js 0.2.0 parses a `Precompiled` normalizer but ignores its charsmap and
 * approximates it with NFKC plus a fixed character list, which is wrong for real models (it turns ZWJ U+200D
 * into a space where nmt_nfkc keeps it, so every emoji ZWJ sequence tokenizes differently). `patchNormalizer`
 * in engine.ts swaps this implementation in.
 */
import { Normalizer } from "./lib.js";
import { AlignedBuilder, AlignedText } from "./aligned.js";
import { TokenizerError } from "./errors.js";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** The blob: little-endian uint32 trie size in bytes, the Darts-clone double array, then NUL-terminated strings. */
export class PrecompiledCharsMap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;
  private readonly decoded = new Map<number, string>();

  constructor(blob: Uint8Array) {
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = blob.byteLength >= 4 ? view.getUint32(0, true) : -1;
    if (trieBytes < 0 || trieBytes % 4 !== 0 || 4 + trieBytes > blob.byteLength) {
      throw new TokenizerError(`precompiled_charsmap is corrupt (${blob.byteLength} bytes, trie size ${trieBytes})`);
    }
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.strings = blob.subarray(4 + trieBytes);
  }

  /**
   * Darts-clone `commonPrefixSearch`, keeping the longest hit: [matched byte count, string offset], or null.
   * Unit layout: bit 31 leaf flag, bit 8 has-leaf, bits 0–7 label, offset = (unit >> 10) << ((unit & 512) >> 6).
   */
  longestMatch(bytes: Uint8Array, from: number): [number, number] | null {
    const units = this.units;
    if (units.length === 0) return null;
    let best: [number, number] | null = null;
    let id = offsetOf(units[0]);
    for (let i = from; i < bytes.length; i++) {
      const c = bytes[i];
      id ^= c;
      const unit = units[id];
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== c) break;
      id ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        const leaf = units[id];
        if (leaf === undefined) break;
        best = [i - from + 1, leaf & 0x7fffffff];
      }
    }
    return best;
  }

  /** The replacement string stored at `offset` (up to the next NUL). */
  replacement(offset: number): string {
    let s = this.decoded.get(offset);
    if (s === undefined) {
      let end = offset;
      while (end < this.strings.length && this.strings[end] !== 0) end++;
      try {
        s = utf8Decoder.decode(this.strings.subarray(offset, end));
      } catch {
        throw new TokenizerError(`precompiled_charsmap holds invalid UTF-8 at offset ${offset}`);
      }
      this.decoded.set(offset, s);
    }
    return s;
  }

  /** Normalizes aligned text; each replacement keeps the span of the characters it replaced. */
  normalize(input: AlignedText): AlignedText {
    const { text } = input;
    const bytes = utf8.encode(text);
    // Byte index → code unit index of the character that byte belongs to (and its end).
    const unitAt = new Int32Array(bytes.length + 1);
    const unitEnd = new Int32Array(bytes.length + 1);
    for (let i = 0, b = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < len; k++) {
        unitAt[b + k] = i;
        unitEnd[b + k] = i + n;
      }
      b += len;
      i += n;
    }
    unitAt[bytes.length] = text.length;
    unitEnd[bytes.length] = text.length;

    const out = new AlignedBuilder();
    for (let pos = 0; pos < bytes.length; ) {
      const match = this.longestMatch(bytes, pos);
      const from = unitAt[pos];
      if (match) {
        const to = unitEnd[pos + match[0] - 1];
        const [s, e] = input.span(from, to);
        out.push(this.replacement(match[1]), s, e);
        pos += match[0];
      } else {
        const to = unitEnd[pos];
        out.pushFrom(input, from, to);
        pos += utf8Length(bytes[pos]);
      }
    }
    return out.build();
  }
}

function offsetOf(unit: number): number {
  return ((unit >>> 10) << ((unit & 0x200) >>> 6)) >>> 0;
}

function utf8Length(lead: number): number {
  return lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

export function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** A tokenizers.js normalizer (callable, as the library expects) backed by the exact charsmap. */
export class ExactPrecompiledNormalizer extends Normalizer {
  readonly charsMap: PrecompiledCharsMap | null;

  /** `bytes`: the charsmap of a compiled tokenizer (its config then has none). */
  constructor(config: { type: "Precompiled"; precompiled_charsmap?: string | null }, bytes?: Uint8Array) {
    super(config);
    const b64 = config.precompiled_charsmap;
    // An empty map (the `identity` rule) normalizes nothing.
    this.charsMap = bytes ? new PrecompiledCharsMap(bytes) : b64 ? new PrecompiledCharsMap(base64Bytes(b64)) : null;
  }

  override normalize(text: string): string {
    return this.charsMap ? this.charsMap.normalize(AlignedText.identity(text)).text : text;
  }

  normalizeAligned(input: AlignedText): AlignedText {
    return this.charsMap ? this.charsMap.normalize(input) : input;
  }
}
