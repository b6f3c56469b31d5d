/** Hugging Face `distilbert` checkpoints → DistilBertBackbone (spec §2.5, KerasHub convert_distilbert.py). */
import type { HfConverter } from "../../backbone/registry.js";
import { hfNumber, requireHf } from "../../presets/hf-config.js";
import { convertEncoderWeights } from "../encoder/encoder-hf.js";
import { DistilBertBackbone } from "./distil-bert-backbone.js";

export const distilBertHfConverter: HfConverter = {
  modelTypes: ["distilbert"],
  backboneFor: () => DistilBertBackbone,
  anchorKey: "embeddings.word_embeddings.weight",
  convertConfig(hf) {
    requireHf(hf, "activation", ["gelu"], "gelu");
    return {
      vocabularySize: hfNumber(hf, "vocab_size"),
      numLayers: hfNumber(hf, "n_layers"),
      numHeads: hfNumber(hf, "n_heads"),
      hiddenDim: hfNumber(hf, "dim"),
      intermediateDim: hfNumber(hf, "hidden_dim"),
      dropout: hfNumber(hf, "dropout", 0.1),
      maxSequenceLength: hfNumber(hf, "max_position_embeddings"),
    };
  },
  async convertWeights(checkpoint, backbone) {
    return convertEncoderWeights(
      checkpoint,
      backbone as DistilBertBackbone,
      {
        wordEmbeddings: "embeddings.word_embeddings",
        embeddingsNorm: "embeddings.LayerNorm",
        layer: (i) => {
          const l = `transformer.layer.${i}`;
          return {
            query: `${l}.attention.q_lin`,
            key: `${l}.attention.k_lin`,
            value: `${l}.attention.v_lin`,
            attentionOutput: `${l}.attention.out_lin`,
            attentionNorm: `${l}.sa_layer_norm`,
            intermediate: `${l}.ffn.lin1`,
            output: `${l}.ffn.lin2`,
            outputNorm: `${l}.output_layer_norm`,
          };
        },
      },
      await checkpoint.get("embeddings.position_embeddings.weight"),
    );
  },
};
