/**
 * Hugging Face `roberta` / `xlm-roberta` checkpoints → RobertaBackbone / XLMRobertaBackbone.
 * KerasHub 0.18 has no such converter; this follows its fairseq conversion (spec §2.5): HF positions start at
 * padding_idx + 1, so rows [pad + 1, pad + 1 + max_len) become KerasHub positions 0..max_len-1, and the
 * token-type row 0 (added to every token by HF) is folded into them, so outputs match HF exactly.
 */
import type { HfConverter } from "../../backbone/registry.js";
import { hfNumber, requireHf } from "../../presets/hf-config.js";
import { toFloat32, type Tensor } from "../../tensor/tensor.js";
import { convertEncoderWeights } from "../encoder/encoder-hf.js";
import { RobertaBackbone, XLMRobertaBackbone } from "./roberta-backbone.js";

export const robertaHfConverter: HfConverter = {
  modelTypes: ["roberta", "xlm-roberta"],
  backboneFor: (hf) => (hf.model_type === "xlm-roberta" ? XLMRobertaBackbone : RobertaBackbone),
  anchorKey: "embeddings.word_embeddings.weight",
  convertConfig(hf) {
    requireHf(hf, "hidden_act", ["gelu"], "gelu");
    requireHf(hf, "layer_norm_eps", [1e-5], 1e-5);
    requireHf(hf, "position_embedding_type", ["absolute"], "absolute");
    return {
      vocabularySize: hfNumber(hf, "vocab_size"),
      numLayers: hfNumber(hf, "num_hidden_layers"),
      numHeads: hfNumber(hf, "num_attention_heads"),
      hiddenDim: hfNumber(hf, "hidden_size"),
      intermediateDim: hfNumber(hf, "intermediate_size"),
      dropout: hfNumber(hf, "hidden_dropout_prob", 0.1),
      maxSequenceLength: hfNumber(hf, "max_position_embeddings") - positionOffset(hf),
    };
  },
  async convertWeights(checkpoint, backbone, hf) {
    const roberta = backbone as RobertaBackbone;
    const positions = await checkpoint.get("embeddings.position_embeddings.weight");
    const tokenType = checkpoint.has("embeddings.token_type_embeddings.weight")
      ? await checkpoint.get("embeddings.token_type_embeddings.weight")
      : null;
    const table = foldPositions(positions, tokenType, positionOffset(hf), roberta.config.maxSequenceLength);
    return convertEncoderWeights(checkpoint, roberta, {
      wordEmbeddings: "embeddings.word_embeddings",
      embeddingsNorm: "embeddings.LayerNorm",
      layer: (i) => {
        const l = `encoder.layer.${i}`;
        return {
          query: `${l}.attention.self.query`,
          key: `${l}.attention.self.key`,
          value: `${l}.attention.self.value`,
          attentionOutput: `${l}.attention.output.dense`,
          attentionNorm: `${l}.attention.output.LayerNorm`,
          intermediate: `${l}.intermediate.dense`,
          output: `${l}.output.dense`,
          outputNorm: `${l}.output.LayerNorm`,
        };
      },
    }, table);
  },
};

/** HF RoBERTa position ids start at padding_idx + 1. */
function positionOffset(hf: Record<string, unknown>): number {
  return hfNumber(hf, "pad_token_id", 1) + 1;
}

function foldPositions(positions: Tensor, tokenType: Tensor | null, offset: number, length: number): Tensor {
  const H = positions.shape[1];
  const src = toFloat32(positions);
  const type0 = tokenType ? toFloat32(tokenType).subarray(0, H) : null;
  const out = new Float32Array(length * H);
  for (let p = 0; p < length; p++) {
    for (let h = 0; h < H; h++) out[p * H + h] = src[(p + offset) * H + h] + (type0 ? type0[h] : 0);
  }
  return { dtype: "float32", shape: [length, H], data: out };
}
