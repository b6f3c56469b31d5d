/** Hugging Face `gemma` / `gemma2` checkpoints → GemmaBackbone (spec §2.5, KerasHub convert_gemma.py). */
import type { HfConverter } from "../../backbone/registry.js";
import { hfNumber, hfOptionalNumber, requireHf } from "../../presets/hf-config.js";
import { reshape, transpose } from "../../tensor/ops.js";
import type { Tensor } from "../../tensor/tensor.js";
import { GemmaBackbone } from "./gemma-backbone.js";

export const gemmaHfConverter: HfConverter = {
  modelTypes: ["gemma", "gemma2"],
  backboneFor: () => GemmaBackbone,
  anchorKey: "embed_tokens.weight",
  lazyWeights: true,
  convertConfig(hf) {
    const gemma2 = hf.model_type === "gemma2";
    requireHf(hf, "rope_theta", [10000], 10000);
    requireHf(hf, "attention_bias", [false], false);
    // HF Gemma 1 uses tanh-GELU whatever `hidden_act` says unless `hidden_activation` is set explicitly.
    requireHf(hf, "hidden_activation", ["gelu_pytorch_tanh"], "gelu_pytorch_tanh");
    const hiddenDim = hfNumber(hf, "hidden_size");
    const numQueryHeads = hfNumber(hf, "num_attention_heads");
    const headDim = hfNumber(hf, "head_dim", hiddenDim / numQueryHeads);
    const args = {
      vocabularySize: hfNumber(hf, "vocab_size"),
      numLayers: hfNumber(hf, "num_hidden_layers"),
      numQueryHeads,
      numKeyValueHeads: hfNumber(hf, "num_key_value_heads", numQueryHeads),
      hiddenDim,
      intermediateDim: hfNumber(hf, "intermediate_size") * 2,
      headDim,
      layerNormEpsilon: hfNumber(hf, "rms_norm_eps", 1e-6),
    };
    if (!gemma2) return args;
    // Honour query_pre_attn_scalar exactly; express it as the KerasHub flag whenever the flag can.
    const scalar = hfNumber(hf, "query_pre_attn_scalar", headDim);
    const perHead = Math.floor(hiddenDim / numQueryHeads);
    const slidingWindow = hfOptionalNumber(hf, "sliding_window");
    return {
      ...args,
      queryHeadDimNormalize: scalar === headDim || scalar !== perHead,
      queryPreAttnScalar: scalar === headDim || scalar === perHead ? null : scalar,
      usePostFfwNorm: true,
      usePostAttentionNorm: true,
      attentionLogitSoftCap: hfOptionalNumber(hf, "attn_logit_softcapping"),
      finalLogitSoftCap: hfOptionalNumber(hf, "final_logit_softcapping"),
      useSlidingWindowAttention: slidingWindow !== null,
      slidingWindowSize: slidingWindow ?? 4096,
    };
  },
  async convertWeights(checkpoint, backbone, hf) {
    const gemma = backbone as GemmaBackbone;
    const { numLayers, numQueryHeads: nq, numKeyValueHeads: nkv, hiddenDim: H, headDim: hd } = gemma.config;
    const gemma2 = hf.model_type === "gemma2";
    const get = (key: string) => checkpoint.get(key);
    // HF projection [heads·hd, H] → Keras (heads, H, hd).
    const headsKernel = (t: Tensor, heads: number) => transpose(reshape(t, [heads, hd, H]), [0, 2, 1]);
    const out = new Map<string, Tensor>([["token_embedding/embeddings", await get("embed_tokens.weight")]]);
    for (let i = 0; i < numLayers; i++) {
      const l = `layers.${i}`;
      const b = `decoder_block_${i}`;
      out.set(`${b}/pre_attention_norm/scale`, await get(`${l}.input_layernorm.weight`));
      if (gemma2) {
        out.set(`${b}/post_attention_norm/scale`, await get(`${l}.post_attention_layernorm.weight`));
        out.set(`${b}/pre_ffw_norm/scale`, await get(`${l}.pre_feedforward_layernorm.weight`));
        out.set(`${b}/post_ffw_norm/scale`, await get(`${l}.post_feedforward_layernorm.weight`));
      } else {
        out.set(`${b}/pre_ffw_norm/scale`, await get(`${l}.post_attention_layernorm.weight`));
      }
      out.set(`${b}/attention/query/kernel`, headsKernel(await get(`${l}.self_attn.q_proj.weight`), nq));
      out.set(`${b}/attention/key/kernel`, headsKernel(await get(`${l}.self_attn.k_proj.weight`), nkv));
      out.set(`${b}/attention/value/kernel`, headsKernel(await get(`${l}.self_attn.v_proj.weight`), nkv));
      // o_proj [H, Nq·hd] → (Nq, hd, H).
      out.set(`${b}/attention/attention_output/kernel`, transpose(reshape(await get(`${l}.self_attn.o_proj.weight`), [H, nq, hd]), [1, 2, 0]));
      out.set(`${b}/ffw_gating/kernel`, transpose(await get(`${l}.mlp.gate_proj.weight`), [1, 0]));
      out.set(`${b}/ffw_gating_2/kernel`, transpose(await get(`${l}.mlp.up_proj.weight`), [1, 0]));
      out.set(`${b}/ffw_linear/kernel`, transpose(await get(`${l}.mlp.down_proj.weight`), [1, 0]));
    }
    out.set("final_normalization/scale", await get("norm.weight"));
    return out;
  },
};
