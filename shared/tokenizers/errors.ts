/** Errors of the tokenizer layer. Bad text from a caller is an `InputError` (shared with the backbone). */
export { InputError } from "../backbone/inputs.js";

/** Missing, unreadable or unsupported tokenizer assets or configuration: one line naming file and problem. */
export class TokenizerError extends Error {
  override name = "TokenizerError";
}

/** The preset has no tokenizer files at all (as opposed to broken ones). */
export class NoTokenizerError extends TokenizerError {
  override name = "NoTokenizerError";
}
