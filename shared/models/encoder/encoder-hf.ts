/** HF → KerasHub weights for the post-LN encoders (spec §2.5): Linear weights [out, in] become kernels [in, …]. */
import type { HfCheckpoint } from "../../presets/hf-checkpoint.js";
import { reshape, transpose } from "../../tensor/ops.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { EncoderBackbone } from "./encoder-backbone.js";

/** HF module names (without `.weight`/`.bias`) of one encoder layer. */
export interface EncoderLayerNames {
  query: string;
  key: string;
  value: string;
  attentionOutput: string;
  attentionNorm: string;
  intermediate: string;
  output: string;
  outputNorm: string;
}

export interface EncoderHfNames {
  wordEmbeddings: string;
  embeddingsNorm: string;
  layer(i: number): EncoderLayerNames;
}

export async function convertEncoderWeights(
  checkpoint: HfCheckpoint,
  backbone: EncoderBackbone,
  names: EncoderHfNames,
  positionTable: Tensor,
): Promise<Map<string, Tensor>> {
  const { numLayers, numHeads, hiddenDim: H } = backbone.config;
  const dh = H / numHeads;
  const get = (key: string) => checkpoint.get(key);
  const kernel = async (module: string) => transpose(await get(`${module}.weight`), [1, 0]);
  const e = backbone.tokenEmbeddingPath.split("/")[0];
  const out = new Map<string, Tensor>([
    [`${e}/token_embedding/embeddings`, await get(`${names.wordEmbeddings}.weight`)],
    [`${e}/position_embedding/embeddings`, positionTable],
    ["embeddings_layer_norm/gamma", await get(`${names.embeddingsNorm}.weight`)],
    ["embeddings_layer_norm/beta", await get(`${names.embeddingsNorm}.bias`)],
  ]);
  for (let i = 0; i < numLayers; i++) {
    const n = names.layer(i);
    const l = `transformer_layer_${i}`;
    const attn = `${l}/self_attention_layer`;
    for (const [proj, module] of [["query", n.query], ["key", n.key], ["value", n.value]] as const) {
      out.set(`${attn}/${proj}/kernel`, reshape(await kernel(module), [H, numHeads, dh]));
      out.set(`${attn}/${proj}/bias`, reshape(await get(`${module}.bias`), [numHeads, dh]));
    }
    out.set(`${attn}/attention_output/kernel`, reshape(await kernel(n.attentionOutput), [numHeads, dh, H]));
    out.set(`${attn}/attention_output/bias`, await get(`${n.attentionOutput}.bias`));
    out.set(`${l}/self_attention_layer_norm/gamma`, await get(`${n.attentionNorm}.weight`));
    out.set(`${l}/self_attention_layer_norm/beta`, await get(`${n.attentionNorm}.bias`));
    out.set(`${l}/feedforward_intermediate_dense/kernel`, await kernel(n.intermediate));
    out.set(`${l}/feedforward_intermediate_dense/bias`, await get(`${n.intermediate}.bias`));
    out.set(`${l}/feedforward_output_dense/kernel`, await kernel(n.output));
    out.set(`${l}/feedforward_output_dense/bias`, await get(`${n.output}.bias`));
    out.set(`${l}/feedforward_layer_norm/gamma`, await get(`${n.outputNorm}.weight`));
    out.set(`${l}/feedforward_layer_norm/beta`, await get(`${n.outputNorm}.bias`));
  }
  return out;
}
