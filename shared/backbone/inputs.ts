/** Validated model inputs: `token_ids` and `padding_mask`, both [batch, sequence] int32. */

/** A bad request (malformed, out of range, too long): the caller's fault, reported as one clear line. */
export class InputError extends Error {
  override name = "InputError";
}

export interface TokenBatch {
  readonly tokenIds: Int32Array;
  readonly paddingMask: Int32Array;
  readonly batchSize: number;
  readonly sequenceLength: number;
}

export interface BatchLimits {
  vocabularySize: number;
  maxSequenceLength: number | null;
}

/** Builds a batch from nested arrays; the mask defaults to all ones. */
export function tokenBatch(tokenIds: unknown, paddingMask?: unknown): TokenBatch {
  const ids = matrix(tokenIds, "token_ids");
  const mask = paddingMask === undefined ? ids.map((row) => row.map(() => 1)) : matrix(paddingMask, "padding_mask");
  if (mask.length !== ids.length) {
    throw new InputError(`padding_mask has ${mask.length} rows but token_ids has ${ids.length}`);
  }
  const batchSize = ids.length;
  const sequenceLength = ids[0].length;
  const flatIds = new Int32Array(batchSize * sequenceLength);
  const flatMask = new Int32Array(batchSize * sequenceLength);
  for (let b = 0; b < batchSize; b++) {
    if (mask[b].length !== sequenceLength) {
      throw new InputError(`padding_mask row ${b} has ${mask[b].length} values but token_ids rows have ${sequenceLength}`);
    }
    for (let t = 0; t < sequenceLength; t++) {
      const id = ids[b][t];
      const m = mask[b][t];
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new InputError(`token_ids[${b}][${t}] = ${id} is not a non-negative integer`);
      if (m !== 0 && m !== 1 && m !== true && m !== false) throw new InputError(`padding_mask[${b}][${t}] = ${m} must be 0 or 1`);
      flatIds[b * sequenceLength + t] = id;
      flatMask[b * sequenceLength + t] = Number(m);
    }
  }
  return { tokenIds: flatIds, paddingMask: flatMask, batchSize, sequenceLength };
}

/** The batch as nested rows again, for JSON (the runner wire format, API responses). */
export function batchRows(batch: TokenBatch): { tokenIds: number[][]; paddingMask: number[][] } {
  const rows = (flat: Int32Array) => Array.from({ length: batch.batchSize }, (_, b) => Array.from(flat.subarray(b * batch.sequenceLength, (b + 1) * batch.sequenceLength)));
  return { tokenIds: rows(batch.tokenIds), paddingMask: rows(batch.paddingMask) };
}

/** Checks a batch against a model's limits (ids < vocabulary, length ≤ max). */
export function checkBatch(batch: TokenBatch, limits: BatchLimits): void {
  const { vocabularySize, maxSequenceLength } = limits;
  if (maxSequenceLength !== null && batch.sequenceLength > maxSequenceLength) {
    throw new InputError(`sequence length ${batch.sequenceLength} exceeds the model's max_sequence_length ${maxSequenceLength}`);
  }
  const n = batch.tokenIds.length;
  if (n !== batch.paddingMask.length || n !== batch.batchSize * batch.sequenceLength) {
    throw new InputError(`token_ids/padding_mask sizes do not match [${batch.batchSize}, ${batch.sequenceLength}]`);
  }
  for (let i = 0; i < n; i++) {
    const id = batch.tokenIds[i];
    if (id < 0 || id >= vocabularySize) {
      const b = Math.floor(i / batch.sequenceLength);
      throw new InputError(`token_ids[${b}][${i % batch.sequenceLength}] = ${id} is out of range for vocabulary size ${vocabularySize}`);
    }
  }
}

function matrix(value: unknown, name: string): any[][] {
  if (!Array.isArray(value) || value.length === 0) throw new InputError(`${name} must be a non-empty array of rows`);
  const rows = value.map((row, b) => {
    if (!Array.isArray(row)) throw new InputError(`${name}[${b}] must be an array`);
    return row;
  });
  const width = rows[0].length;
  if (width === 0) throw new InputError(`${name} rows must not be empty`);
  rows.forEach((row, b) => {
    if (row.length !== width) throw new InputError(`${name} is ragged: row ${b} has ${row.length} values, row 0 has ${width}`);
  });
  return rows;
}
