/** Golden HF transformers outputs (copied from ../shared/fixtures/golden; see test/fixtures/golden/SOURCE.md). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readSafetensors, type Tensor } from "../../shared/node/index.js";

export const GOLDEN_DIR = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));
export const GOLDEN_MODELS = ["distilbert", "roberta", "gemma", "gemma2"] as const;
export type GoldenModel = (typeof GOLDEN_MODELS)[number];

export interface Golden {
  dir: string;
  inputIds: number[][];
  attentionMask: number[][];
  validLengths: number[];
  lastHiddenState: Tensor;
  hiddenStates: Tensor[];
  logits?: Tensor;
}

export function loadGolden(model: GoldenModel): Golden {
  const dir = `${GOLDEN_DIR}${model}`;
  const inputs = JSON.parse(readFileSync(`${dir}/inputs.json`, "utf8"));
  const { tensors } = readSafetensors(readFileSync(`${dir}/outputs.safetensors`), "outputs", (n) => !["input_ids", "attention_mask"].includes(n));
  const hiddenStates: Tensor[] = [];
  for (let i = 0; tensors.has(`hidden_states.${i}`); i++) hiddenStates.push(tensors.get(`hidden_states.${i}`)!);
  return {
    dir,
    inputIds: inputs.input_ids,
    attentionMask: inputs.attention_mask,
    validLengths: inputs.valid_lengths,
    lastHiddenState: tensors.get("last_hidden_state")!,
    hiddenStates,
    logits: tensors.get("logits"),
  };
}

/** Max |a − b| over the first validLengths[b] positions of each row of [B, T, ...] tensors. */
export function maxAbsDiff(a: Tensor, b: Tensor, validLengths?: number[]): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shape mismatch [${a.shape}] vs [${b.shape}]`);
  const [B, T] = a.shape;
  const inner = a.data.length / (B * T);
  let max = 0;
  for (let r = 0; r < B; r++) {
    const valid = validLengths ? validLengths[r] : T;
    for (let i = r * T * inner; i < (r * T + valid) * inner; i++) {
      const d = Math.abs((a.data[i] as number) - (b.data[i] as number));
      if (!(d <= max)) max = d; // NaN propagates as a failure
    }
  }
  return max;
}
