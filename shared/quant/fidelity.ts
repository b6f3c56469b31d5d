/**
 * How close a quantized model's hidden states are to the float model's: cosine similarity per token and of the
 * mean-pooled embedding, over valid (unpadded) positions. The bars a shipped variant must meet are
 * `FIDELITY_BARS` (pooled ≥ 0.999, every token ≥ 0.995).
 */
export const FIDELITY_BARS = { pooled: 0.999, token: 0.995 } as const;

export interface Fidelity {
  /** Smallest per-token cosine over all valid positions. */
  minToken: number;
  meanToken: number;
  /** Smallest cosine between mean-pooled rows. */
  minPooled: number;
}

/** `reference` and `candidate` are [B, T, H] float32; `paddingMask` is [B, T]. */
export function fidelity(reference: Float32Array, candidate: Float32Array, paddingMask: Int32Array, rows: number): Fidelity {
  const seq = paddingMask.length / rows;
  const hidden = reference.length / paddingMask.length;
  if (candidate.length !== reference.length || !Number.isInteger(hidden)) throw new Error("internal: fidelity of tensors of different shapes");
  let minToken = 1;
  let sumToken = 0;
  let tokens = 0;
  let minPooled = 1;
  for (let b = 0; b < rows; b++) {
    const pooledRef = new Float64Array(hidden);
    const pooledCand = new Float64Array(hidden);
    for (let t = 0; t < seq; t++) {
      if (!paddingMask[b * seq + t]) continue;
      const base = (b * seq + t) * hidden;
      for (let h = 0; h < hidden; h++) {
        pooledRef[h] += reference[base + h];
        pooledCand[h] += candidate[base + h];
      }
      const c = cosine(reference.subarray(base, base + hidden), candidate.subarray(base, base + hidden));
      minToken = Math.min(minToken, c);
      sumToken += c;
      tokens++;
    }
    minPooled = Math.min(minPooled, cosine(pooledRef, pooledCand));
  }
  return { minToken, meanToken: tokens ? sumToken / tokens : 1, minPooled };
}

export function meetsBars(f: Fidelity): boolean {
  return f.minPooled >= FIDELITY_BARS.pooled && f.minToken >= FIDELITY_BARS.token;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb);
}
