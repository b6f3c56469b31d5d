/**
 * Encoders for quantization tests: seeded random weights (loadWeights: false), optionally with the outlier channels
 * trained BERT-family checkpoints have (a few LayerNorm gammas and embedding dimensions scaled 20-50x), which is
 * what breaks naive int8 activation quantization.
 */
import { DistilBertBackbone, RobertaBackbone, Tokenizer, Preprocessor, tokenBatch, toFloat32, type TokenBatch } from "../../shared/node/index.js";
import type { EncoderBackbone } from "../../shared/models/encoder/encoder-backbone.js";
import { TOKENIZER_FIXTURES, tokenizerFixturesPresent } from "./tokenizer-fixtures.js";

/** Sentences for fidelity checks (not the calibration corpus: measured on text the calibration never saw). */
export const FIDELITY_TEXTS = [
  "The weather in Paris is lovely this time of year, especially along the river in the early evening.",
  "Quantized encoders must keep their embeddings close to the float model on real sentences.",
  "Our quarterly report shows that revenue grew by 12% while operating costs stayed flat.",
  "Can you recommend a good book about the history of mathematics?",
];

export const SMALL_ENCODER = { vocabularySize: 30522, numLayers: 3, numHeads: 4, hiddenDim: 128, intermediateDim: 512, maxSequenceLength: 128 };

/**
 * Scales a few channels of every LayerNorm gamma (×20–50) and of the token embedding (×30). With `compensate`,
 * the rows of the projections that read those channels (query/key/value, feed-forward input) are divided by the
 * same factor, as in trained checkpoints: the residual stream carries the outliers, the layers barely see them.
 */
export function withOutliers<B extends EncoderBackbone>(backbone: B, options: { compensate?: boolean } = {}): B {
  const H = backbone.hiddenDim;
  const channels = [3, Math.floor(H / 3), H - 5];
  const weights = new Map(backbone.weights);
  const scale = (path: string, cols: number[], factor: number) => {
    const t = weights.get(path)!;
    const data = Float32Array.from(toFloat32(t));
    for (let i = 0; i < data.length; i++) if (cols.includes(i % H)) data[i] *= factor;
    weights.set(path, { dtype: "float32", shape: t.shape, data });
  };
  const scaleRows = (path: string, factor: number) => {
    if (!options.compensate) return;
    const t = weights.get(path)!;
    const data = Float32Array.from(toFloat32(t));
    const rowSize = data.length / H;
    for (const c of channels) for (let i = c * rowSize; i < (c + 1) * rowSize; i++) data[i] /= factor;
    weights.set(path, { dtype: "float32", shape: t.shape, data });
  };
  const qkv = (l: number, factor: number) => {
    for (const p of ["query", "key", "value"]) scaleRows(`transformer_layer_${l}/self_attention_layer/${p}/kernel`, factor);
  };
  scale(backbone.tokenEmbeddingPath, [7, H - 11], 30);
  scale("embeddings_layer_norm/gamma", channels, 40);
  qkv(0, 40);
  for (let l = 0; l < backbone.config.numLayers; l++) {
    scale(`transformer_layer_${l}/self_attention_layer_norm/gamma`, channels, 20);
    scaleRows(`transformer_layer_${l}/feedforward_intermediate_dense/kernel`, 20);
    scale(`transformer_layer_${l}/feedforward_layer_norm/gamma`, channels, 50);
    if (l + 1 < backbone.config.numLayers) qkv(l + 1, 50);
  }
  backbone.setWeights(weights);
  return backbone;
}

export function smallEncoder(kind: "distilbert" | "roberta", config: Partial<typeof SMALL_ENCODER> = {}): EncoderBackbone {
  const args = { ...SMALL_ENCODER, ...config, seed: 7 };
  return kind === "distilbert" ? new DistilBertBackbone(args) : new RobertaBackbone({ ...args, maxSequenceLength: 130 });
}

/**
 * Real text as token ids: the real BERT uncased WordPiece vocabulary from ../shared when present, else synthetic ids
 * (ragged rows with padding, so masked positions are exercised either way).
 */
export async function fidelityBatch(vocabularySize: number): Promise<{ batch: TokenBatch; realText: boolean }> {
  if (tokenizerFixturesPresent && vocabularySize >= 30522) {
    const tokenizer = await Tokenizer.fromPreset(`${TOKENIZER_FIXTURES}bert_uncased`);
    const p = new Preprocessor(tokenizer, { truncate: "right" }, 128).call(FIDELITY_TEXTS);
    return { batch: tokenBatch(p.tokenIds, p.paddingMask), realText: true };
  }
  const lengths = [23, 17, 31, 9];
  const T = Math.max(...lengths);
  const ids = lengths.map((n, b) => Array.from({ length: T }, (_, t) => (t < n ? ((b + 3) * 7919 + t * 104729) % (vocabularySize - 10) + 5 : 0)));
  const mask = lengths.map((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0)));
  return { batch: tokenBatch(ids, mask), realText: false };
}

