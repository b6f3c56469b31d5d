/**
 * What one request may ask for, checked before any work: text-embeddings-inference's limits (a 2 MB payload, 32
 * inputs, 16,384 tokens, 512 positions × its MAX_CHAR_MULTIPLIER 250 characters per input) plus a character budget
 * per request, which bounds tokenization (about 2 µs and, transiently, ~150 bytes per character: test/input-memory.test.ts).
 * Each is a wrangler.toml var; `/info` reports them. Characters are UTF-16 code units (`string.length`) of the
 * texts as tokenized (a preset's prompt included).
 */
import { numberVar, type Env } from "./env.js";
import { unprocessable } from "./errors.js";
import { tooLarge } from "./http.js";

export interface RequestLimits {
  /** Largest JSON body in bytes (PAYLOAD_LIMIT; TEI's `--payload-limit`). */
  payloadBytes: number;
  /** Inputs (texts or token id rows) per request (MAX_CLIENT_BATCH_SIZE; TEI's `--max-client-batch-size`). */
  inputs: number;
  /** Characters of one input (MAX_INPUT_CHARS; TEI: 512 × 250). */
  inputChars: number;
  /** Characters of all of a request's inputs together (MAX_REQUEST_CHARS). */
  requestChars: number;
  /** Tokens of one request: the padded batch a model runs, the tokens /tokenize lists, the ids /decode reads (MAX_BATCH_TOKENS). */
  tokens: number;
}

/** Rows of one batch: a text cut into windows takes one row per window. */
const MAX_BATCH_ROWS = 64;

export function requestLimits(env: Env): RequestLimits {
  return {
    payloadBytes: numberVar(env.PAYLOAD_LIMIT, 2_000_000),
    inputs: numberVar(env.MAX_CLIENT_BATCH_SIZE, 32),
    inputChars: numberVar(env.MAX_INPUT_CHARS, 128_000),
    requestChars: numberVar(env.MAX_REQUEST_CHARS, 256_000),
    tokens: numberVar(env.MAX_BATCH_TOKENS, 16_384),
  };
}

/** 422 beyond the inputs a request may send. */
export function checkInputCount(count: number, param: string, limits: RequestLimits): void {
  if (count > limits.inputs) throw unprocessable(`${param} has ${count} inputs, over the limit of ${limits.inputs} per request`, "too_many_inputs", param);
}

/** The count, then each text's characters (422 input_too_long) and their sum (413 too_many_characters). */
export function checkTexts(texts: readonly string[], param: string, limits: RequestLimits): void {
  checkInputCount(texts.length, param, limits);
  let total = 0;
  texts.forEach((text, i) => {
    if (text.length > limits.inputChars) {
      throw unprocessable(`${param}[${i}] has ${text.length} characters, over the limit of ${limits.inputChars} per input`, "input_too_long", param);
    }
    total += text.length;
  });
  if (total > limits.requestChars) {
    throw tooLarge(`${param} has ${total} characters in all, over the limit of ${limits.requestChars} per request`, "too_many_characters", param);
  }
}

/** Token id rows: their count, and the tokens of the batch they pad to (before it is built). */
export function checkIdRows(rows: readonly (readonly unknown[])[], param: string, limits: RequestLimits): void {
  checkInputCount(rows.length, param, limits);
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  checkTokens(rows.length * width, `${rows.length}×${width} tokens`, param, limits);
}

/** 413 beyond the tokens of one request; `what` says what was counted ("2×512 tokens", "20000 tokens"). */
export function checkTokens(count: number, what: string, param: string, limits: RequestLimits): void {
  if (count > limits.tokens) throw tooLarge(`${what} exceed the limit of ${limits.tokens} per request`, "too_many_tokens", param);
}

/** 422 beyond the rows of one batch (chunked texts take one per window). */
export function checkRows(rows: number, param: string): void {
  if (rows > MAX_BATCH_ROWS) {
    throw unprocessable(`the request makes ${rows} rows (one per text or token id row, one per window of a chunked text), over the limit of ${MAX_BATCH_ROWS}`, "too_many_inputs", param);
  }
}
