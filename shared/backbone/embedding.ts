/** Uses of `tokenEmbedding` outside the graph: embedding ids, and the tied LM head (KerasHub ReversibleEmbedding). */
import { toFloat32, type Tensor } from "../tensor/tensor.js";

/** Rows of the [vocabulary, hidden] matrix for `ids`: [ids.length, hidden]. */
export function embedTokens(embedding: Tensor, ids: ArrayLike<number>): Tensor {
  const [vocab, hidden] = embedding.shape;
  const table = toFloat32(embedding);
  const out = new Float32Array(ids.length * hidden);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new RangeError(`token id ${id} is out of range for vocabulary size ${vocab}`);
    out.set(table.subarray(id * hidden, (id + 1) * hidden), i * hidden);
  }
  return { dtype: "float32", shape: [ids.length, hidden], data: out };
}

/**
 * `token_embedding(h, reverse=True)`: logits = h · Eᵀ for hidden states [..., hidden], soft-capped as
 * tanh(logits / cap) · cap when the model has a final logit soft cap (Gemma 2).
 */
export function tiedLogits(embedding: Tensor, hidden: Tensor, softCap: number | null = null): Tensor {
  const [vocab, dim] = embedding.shape;
  const h = toFloat32(hidden);
  const e = toFloat32(embedding);
  const rows = h.length / dim;
  const out = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const hr = h.subarray(r * dim, (r + 1) * dim);
    for (let v = 0; v < vocab; v++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += hr[k] * e[v * dim + k];
      out[r * vocab + v] = softCap ? Math.tanh(dot / softCap) * softCap : dot;
    }
  }
  return { dtype: "float32", shape: [...hidden.shape.slice(0, -1), vocab], data: out };
}
