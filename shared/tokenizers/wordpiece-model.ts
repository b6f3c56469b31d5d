/**
 * WordPiece over a string table: greedy longest match from the left, `##` before every piece but the first, the
 * unknown token for a word with an unmatchable rest or more than `max_input_chars_per_word` characters
 * (tokenizers.js 0.2.0 `WordPieceTokenizer.encode`, piece for piece).
 */
import { StringTable, Utf8Word } from "./string-table.js";
import { TableModel, type TableModelInfo } from "./vocab-model.js";

export class WordPieceModel extends TableModel {
  readonly type = "WordPiece";
  override readonly subwordPrefix: string;
  private readonly word = new Utf8Word();
  private readonly lookupPrefix: string;
  private readonly lookupPrefixBytes: Uint8Array;

  /** `prefix`: the configured continuing_subword_prefix as the library concatenates it (`undefined` included). */
  constructor(
    strings: StringTable,
    info: TableModelInfo,
    prefix: string | undefined,
    private readonly maxChars: number,
  ) {
    super(strings, info);
    this.subwordPrefix = prefix ?? "##";
    this.lookupPrefix = `${prefix}`;
    this.lookupPrefixBytes = new TextEncoder().encode(this.lookupPrefix);
  }

  encode(pretokens: string[]): string[] {
    const out: string[] = [];
    const w = this.word;
    const size = this.strings.size;
    for (const token of pretokens) {
      if (!w.set(token) || w.points > this.maxChars) {
        out.push(this.unkToken!);
        continue;
      }
      const pieces: string[] = [];
      let start = 0;
      while (start < w.points) {
        let end = w.points;
        let found = false;
        for (; start < end; end--) {
          const i = this.strings.find(w, w.pointByte[start], w.pointByte[end], start > 0 ? this.lookupPrefixBytes : undefined);
          if (i >= 0 && i < size) {
            found = true;
            break;
          }
        }
        if (!found) break;
        pieces.push(start > 0 ? this.lookupPrefix + w.slice(start, end) : w.slice(start, end));
        start = end;
      }
      if (start < w.points) out.push(this.unkToken!);
      else for (const p of pieces) out.push(p);
    }
    return out;
  }
}
