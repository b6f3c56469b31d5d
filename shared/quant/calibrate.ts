/**
 * Calibration for int8 plans: the float graph runs once over sample batches with every dense layer's input as an
 * extra output, and each input channel's largest |value| is kept (SmoothQuant's statistics). Samples are real text
 * when the preset has a tokenizer (the built-in corpus below), random token ids otherwise.
 */
import type { Backbone } from "../backbone/backbone.js";
import { tokenBatch, type TokenBatch } from "../backbone/inputs.js";
import type { OnnxRuntime } from "../runtime/runtime.js";
import { Random } from "../tensor/random.js";
import { Preprocessor } from "../tokenizers/preprocessor.js";
import { accumulateCalibration, CalibrationProbes, type CalibrationStats } from "./weight-encoder.js";

/** Varied text (prose, code, numbers, lists, several scripts) written for calibration. */
export const CALIBRATION_TEXTS: readonly string[] = [
  "The committee met on Tuesday to review the budget, and after a long discussion it approved the plan with two amendments.",
  "Edge servers answer requests close to the user, which cuts latency but limits the memory each program may use.",
  "function add(a, b) { return a + b; } // returns the sum of two numbers",
  "In 1969, Apollo 11 landed on the Moon; Neil Armstrong and Buzz Aldrin walked on the surface for about two and a half hours.",
  "Preheat the oven to 200°C. Mix 250 g of flour, 2 eggs and 300 ml of milk, then bake for 25 minutes.",
  "Q: What is the capital of Australia? A: Canberra, not Sydney as many people think.",
  "I can't believe it's already December!!! Where did the year go?? :)",
  "The mitochondria is the powerhouse of the cell, producing ATP through oxidative phosphorylation.",
  "SELECT name, COUNT(*) FROM orders WHERE created_at > '2024-01-01' GROUP BY name ORDER BY 2 DESC;",
  "Shares fell 3.2% in early trading after the company lowered its revenue forecast for the fourth quarter.",
  "Please reset my password; I no longer have access to the email address on file.",
  "A quick brown fox jumps over the lazy dog near the riverbank at dawn.",
  "Der Zug nach Berlin hat heute zwanzig Minuten Verspätung.",
  "Le petit déjeuner est servi de sept heures à dix heures dans la salle principale.",
  "El informe anual muestra un crecimiento constante en todas las regiones.",
  "東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。",
  "Москва — столица России и крупнейший город страны.",
  "人工智能正在改变我们工作和生活的方式。",
  "नमस्ते, आप कैसे हैं? आज मौसम बहुत अच्छा है।",
  "مرحبا بكم في موقعنا الإلكتروني، نتمنى لكم تجربة ممتعة.",
  "Step 1: unplug the router. Step 2: wait thirty seconds. Step 3: plug it back in and wait for the green light.",
  "The patient reported mild headaches and was advised to drink more water and rest.",
  "Version 2.4.1 fixes a crash when the configuration file contains an empty list of hosts.",
  "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
  "Our return policy allows refunds within thirty days of purchase, provided the item is unused.",
  "The theorem follows by induction on n: the base case is trivial and the step uses the triangle inequality.",
  "Traffic on the northbound highway is heavy due to an accident near exit 14.",
  "GPU kernels fuse the matrix multiply with the bias and activation to save memory bandwidth.",
  "Dear Sir or Madam, I am writing to apply for the position advertised on your website.",
  "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.",
  "#hashtags @mentions https://example.com/path?query=1 and emoji 🚀🔥 all in one line",
  "Temperatures will drop below freezing tonight, with snow expected in the mountains by morning.",
];

/** Per-channel input ranges of every dense layer over `batches` (run on the float graph). */
export async function calibrate(backbone: Backbone, runtime: OnnxRuntime, batches: readonly TokenBatch[]): Promise<CalibrationStats> {
  const probes = new CalibrationProbes();
  const session = await runtime.ort.InferenceSession.create(backbone.toOnnx({ weights: probes }), runtime.sessionOptions);
  const stats = new Map<string, Float32Array>();
  try {
    for (const batch of batches) {
      const shape = [batch.batchSize, batch.sequenceLength];
      const outputs = await session.run({
        token_ids: new runtime.ort.Tensor("int32", batch.tokenIds, shape),
        padding_mask: new runtime.ort.Tensor("int32", batch.paddingMask, shape),
      });
      const probed = new Map(Object.entries(outputs).map(([name, t]) => [name, { data: t.data as Float32Array, dims: t.dims }]));
      accumulateCalibration(stats, probed, batch.paddingMask);
    }
  } finally {
    await session.release();
  }
  return stats;
}

/**
 * Calibration batches: the corpus through the preset's preprocessor (truncated to its sequence length), or, without
 * a tokenizer, `rows` rows of random ids (uniform over the vocabulary) of `length` tokens.
 */
export function calibrationBatches(backbone: Backbone, preprocessor: Preprocessor | null, rows = 32, length = 128): TokenBatch[] {
  const batches: TokenBatch[] = [];
  if (preprocessor) {
    const truncating = new Preprocessor(preprocessor.tokenizer, { truncate: "right" }, preprocessor.sequenceLength);
    for (let i = 0; i < CALIBRATION_TEXTS.length; i += 8) {
      const { tokenIds, paddingMask } = truncating.call(CALIBRATION_TEXTS.slice(i, i + 8));
      batches.push(tokenBatch(tokenIds, paddingMask));
    }
    return batches;
  }
  const random = new Random(0x5eed, "calibration");
  const seq = Math.min(length, backbone.maxSequenceLength ?? length);
  for (let i = 0; i < rows; i += 8) {
    const ids = Array.from({ length: 8 }, () => Array.from({ length: seq }, () => Math.floor(random.uniform() * backbone.vocabularySize)));
    batches.push(tokenBatch(ids));
  }
  return batches;
}

/** `rows` rows of `length` tokens for benchmarks: the corpus through the preprocessor (repeated to fill), or fixed ids. */
export function sampleBatch(backbone: Backbone, preprocessor: Preprocessor | null, rows: number, length = 128): TokenBatch {
  const seq = Math.min(length, backbone.maxSequenceLength ?? length);
  if (preprocessor) {
    const filler = CALIBRATION_TEXTS.slice(0, 8).join(" ");
    const p = new Preprocessor(preprocessor.tokenizer, { truncate: "right", padding: "max_length", sequenceLength: seq }, seq);
    const out = p.call(Array.from({ length: rows }, (_, r) => `${CALIBRATION_TEXTS[r % CALIBRATION_TEXTS.length]} ${filler}`));
    return tokenBatch(out.tokenIds, out.paddingMask);
  }
  return tokenBatch(Array.from({ length: rows }, (_, r) => Array.from({ length: seq }, (_, t) => ((r + 1) * 7919 + t * 104729) % backbone.vocabularySize)));
}
