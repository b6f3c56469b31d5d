// Source: keras-team/keras-hub v0.18.1 keras_hub/src/models/gemma/gemma_presets.py (configs per spec §5.2).
import type { PresetInfo } from "../../presets/preset-info.js";

type Config = PresetInfo["config"];

/** Gemma 1: no post norms, no soft caps, global attention everywhere. */
const gemma1 = (num_layers: number, num_query_heads: number, num_key_value_heads: number, hidden_dim: number, intermediate_dim: number): Config => ({
  vocabulary_size: 256000, num_layers, num_query_heads, num_key_value_heads, hidden_dim, intermediate_dim, head_dim: 256,
  query_head_dim_normalize: true, use_post_ffw_norm: false, use_post_attention_norm: false,
  attention_logit_soft_cap: null, final_logit_soft_cap: null, use_sliding_window_attention: false, sliding_window_size: 4096,
  layer_norm_epsilon: 1e-6, dropout: 0,
});

/** Gemma 2: post norms, soft caps 50 (attention) / 30 (final logits), 4096-token sliding window on even blocks. */
const gemma2 = (num_layers: number, num_query_heads: number, num_key_value_heads: number, hidden_dim: number, intermediate_dim: number, head_dim: number, query_head_dim_normalize: boolean): Config => ({
  vocabulary_size: 256000, num_layers, num_query_heads, num_key_value_heads, hidden_dim, intermediate_dim, head_dim,
  query_head_dim_normalize, use_post_ffw_norm: true, use_post_attention_norm: true,
  attention_logit_soft_cap: 50, final_logit_soft_cap: 30, use_sliding_window_attention: true, sliding_window_size: 4096,
  layer_norm_epsilon: 1e-6, dropout: 0,
});

const GEMMA_2B = gemma1(18, 8, 1, 2048, 32768);
const GEMMA_7B = gemma1(28, 16, 16, 3072, 49152);
const GEMMA2_2B = gemma2(26, 8, 4, 2304, 18432, 256, true);
const GEMMA2_9B = gemma2(42, 16, 8, 3584, 28672, 256, true);
// 46 layers reproduce the parameter count (the description's "42-layer" is wrong, spec §5.2).
const GEMMA2_27B = gemma2(46, 32, 16, 4608, 73728, 128, false);

const preset = (name: string, description: string, params: number, kaggleHandle: string, config: Config): PresetInfo => ({
  name, className: "GemmaBackbone", description, params, kaggleHandle, config,
});

export const gemmaPresets: readonly PresetInfo[] = [
  preset("gemma_2b_en", "2 billion parameter, 18-layer, base Gemma model.", 2506172416, "kaggle://keras/gemma/keras/gemma_2b_en/2", GEMMA_2B),
  preset("gemma_instruct_2b_en", "2 billion parameter, 18-layer, instruction tuned Gemma model.", 2506172416, "kaggle://keras/gemma/keras/gemma_instruct_2b_en/2", GEMMA_2B),
  preset("gemma_1.1_instruct_2b_en", "2 billion parameter, 18-layer, instruction tuned Gemma model. The 1.1 update improves model quality.", 2506172416, "kaggle://keras/gemma/keras/gemma_1.1_instruct_2b_en/3", GEMMA_2B),
  preset("code_gemma_1.1_2b_en", "2 billion parameter, 18-layer, CodeGemma model. This model has been trained on a fill-in-the-middle (FIM) task for code completion. The 1.1 update improves model quality.", 2506172416, "kaggle://keras/codegemma/keras/code_gemma_1.1_2b_en/1", GEMMA_2B),
  preset("code_gemma_2b_en", "2 billion parameter, 18-layer, CodeGemma model. This model has been trained on a fill-in-the-middle (FIM) task for code completion.", 2506172416, "kaggle://keras/codegemma/keras/code_gemma_2b_en/1", GEMMA_2B),
  preset("gemma_7b_en", "7 billion parameter, 28-layer, base Gemma model.", 8537680896, "kaggle://keras/gemma/keras/gemma_7b_en/2", GEMMA_7B),
  preset("gemma_instruct_7b_en", "7 billion parameter, 28-layer, instruction tuned Gemma model.", 8537680896, "kaggle://keras/gemma/keras/gemma_instruct_7b_en/2", GEMMA_7B),
  preset("gemma_1.1_instruct_7b_en", "7 billion parameter, 28-layer, instruction tuned Gemma model. The 1.1 update improves model quality.", 8537680896, "kaggle://keras/gemma/keras/gemma_1.1_instruct_7b_en/3", GEMMA_7B),
  preset("code_gemma_7b_en", "7 billion parameter, 28-layer, CodeGemma model. This model has been trained on a fill-in-the-middle (FIM) task for code completion.", 8537680896, "kaggle://keras/codegemma/keras/code_gemma_7b_en/1", GEMMA_7B),
  preset("code_gemma_instruct_7b_en", "7 billion parameter, 28-layer, instruction tuned CodeGemma model. This model has been trained for chat use cases related to code.", 8537680896, "kaggle://keras/codegemma/keras/code_gemma_instruct_7b_en/1", GEMMA_7B),
  preset("code_gemma_1.1_instruct_7b_en", "7 billion parameter, 28-layer, instruction tuned CodeGemma model. This model has been trained for chat use cases related to code. The 1.1 update improves model quality.", 8537680896, "kaggle://keras/codegemma/keras/code_gemma_1.1_instruct_7b_en/1", GEMMA_7B),
  preset("gemma2_2b_en", "2 billion parameter, 26-layer, base Gemma model.", 2614341888, "kaggle://keras/gemma2/keras/gemma2_2b_en/1", GEMMA2_2B),
  preset("gemma2_instruct_2b_en", "2 billion parameter, 26-layer, instruction tuned Gemma model.", 2614341888, "kaggle://keras/gemma2/keras/gemma2_instruct_2b_en/1", GEMMA2_2B),
  preset("gemma2_9b_en", "9 billion parameter, 42-layer, base Gemma model.", 9241705984, "kaggle://keras/gemma2/keras/gemma2_9b_en/2", GEMMA2_9B),
  preset("gemma2_instruct_9b_en", "9 billion parameter, 42-layer, instruction tuned Gemma model.", 9241705984, "kaggle://keras/gemma2/keras/gemma2_instruct_9b_en/2", GEMMA2_9B),
  preset("gemma2_27b_en", "27 billion parameter, 42-layer, base Gemma model.", 27227128320, "kaggle://keras/gemma2/keras/gemma2_27b_en/1", GEMMA2_27B),
  preset("gemma2_instruct_27b_en", "27 billion parameter, 42-layer, instruction tuned Gemma model.", 27227128320, "kaggle://keras/gemma2/keras/gemma2_instruct_27b_en/1", GEMMA2_27B),
  preset("shieldgemma_2b_en", "2 billion parameter, 26-layer, ShieldGemma model.", 2614341888, "kaggle://google/shieldgemma/keras/shieldgemma_2b_en/1", GEMMA2_2B),
  preset("shieldgemma_9b_en", "9 billion parameter, 42-layer, ShieldGemma model.", 9241705984, "kaggle://google/shieldgemma/keras/shieldgemma_9b_en/1", GEMMA2_9B),
  preset("shieldgemma_27b_en", "27 billion parameter, 42-layer, ShieldGemma model.", 27227128320, "kaggle://google/shieldgemma/keras/shieldgemma_27b_en/1", GEMMA2_27B),
];
