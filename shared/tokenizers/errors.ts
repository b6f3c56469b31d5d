/** Errors of the tokenizer layer. Bad text from a caller is an `InputError` (shared with the backbone). */
import { InputError } from "../backbone/inputs.js";

export { InputError };

/**
 * A text (with its pair) longer than the sequence length while truncation is off. The message names the CLI's
 * remedies; servers word their own from the fields.
 */
export class SequenceTooLongError extends InputError {
  override name = "SequenceTooLongError";
  constructor(
    /** Index of the text in its batch. */
    readonly text: number,
    /** Its length in tokens, special tokens (and the pair) included. */
    readonly tokens: number,
    readonly sequenceLength: number,
    pair: boolean,
  ) {
    super(
      `text ${text}${pair ? " (with its pair)" : ""} is ${tokens} tokens long with special tokens, more than the sequence length ${sequenceLength}: ` +
        `truncate it (--truncate left|right) or split it into overlapping chunks (--chunk)`,
    );
  }
}

/** Missing, unreadable or unsupported tokenizer assets or configuration: one line naming file and problem. */
export class TokenizerError extends Error {
  override name = "TokenizerError";
}

/** The preset has no tokenizer files at all (as opposed to broken ones). */
export class NoTokenizerError extends TokenizerError {
  override name = "NoTokenizerError";
}
