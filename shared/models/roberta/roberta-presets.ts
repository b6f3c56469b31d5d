// Source: keras-team/keras-hub v0.18.1 keras_hub/src/models/{roberta/roberta_presets.py,xlm_roberta/xlm_roberta_presets.py} (configs per spec §5.1).
import type { PresetInfo } from "../../presets/preset-info.js";

/** KerasHub encoder config: all presets use dropout 0.1 and 512 positions. */
const encoder = (vocabulary_size: number, num_layers: number, num_heads: number, hidden_dim: number, intermediate_dim: number): PresetInfo["config"] => ({
  vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout: 0.1, max_sequence_length: 512,
});

export const robertaPresets: readonly PresetInfo[] = [
  {
    name: "roberta_base_en",
    className: "RobertaBackbone",
    description: "12-layer RoBERTa model where case is maintained.Trained on English Wikipedia, BooksCorpus, CommonCraw, and OpenWebText.",
    params: 124052736,
    kaggleHandle: "kaggle://keras/roberta/keras/roberta_base_en/2",
    config: encoder(50265, 12, 12, 768, 3072),
  },
  {
    name: "roberta_large_en",
    className: "RobertaBackbone",
    description: "24-layer RoBERTa model where case is maintained.Trained on English Wikipedia, BooksCorpus, CommonCraw, and OpenWebText.",
    params: 354307072,
    kaggleHandle: "kaggle://keras/roberta/keras/roberta_large_en/2",
    config: encoder(50265, 24, 16, 1024, 4096),
  },
  {
    name: "xlm_roberta_base_multi",
    className: "XLMRobertaBackbone",
    description: "12-layer XLM-RoBERTa model where case is maintained. Trained on CommonCrawl in 100 languages.",
    params: 277450752,
    kaggleHandle: "kaggle://keras/xlm_roberta/keras/xlm_roberta_base_multi/2",
    config: encoder(250002, 12, 12, 768, 3072),
  },
  {
    name: "xlm_roberta_large_multi",
    className: "XLMRobertaBackbone",
    description: "24-layer XLM-RoBERTa model where case is maintained. Trained on CommonCrawl in 100 languages.",
    params: 558837760,
    kaggleHandle: "kaggle://keras/xlm_roberta/keras/xlm_roberta_large_multi/2",
    config: encoder(250002, 24, 16, 1024, 4096),
  },
];
