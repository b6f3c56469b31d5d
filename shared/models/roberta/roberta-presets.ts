// Source: keras-team/keras-hub v0.18.1 keras_hub/src/models/{roberta/roberta_presets.py,xlm_roberta/xlm_roberta_presets.py} (configs per spec §5.1).
import type { PresetInfo } from "../../presets/preset-info.js";

export const robertaPresets: readonly PresetInfo[] = [
  {
    name: "roberta_base_en",
    className: "RobertaBackbone",
    description:
      "12-layer RoBERTa model where case is maintained.Trained on English Wikipedia, BooksCorpus, CommonCraw, and OpenWebText.",
    params: 124052736,
    kaggleHandle: "kaggle://keras/roberta/keras/roberta_base_en/2",
    config: {
      vocabulary_size: 50265,
      num_layers: 12,
      num_heads: 12,
      hidden_dim: 768,
      intermediate_dim: 3072,
      dropout: 0.1,
      max_sequence_length: 512,
    },
  },
  {
    name: "roberta_large_en",
    className: "RobertaBackbone",
    description:
      "24-layer RoBERTa model where case is maintained.Trained on English Wikipedia, BooksCorpus, CommonCraw, and OpenWebText.",
    params: 354307072,
    kaggleHandle: "kaggle://keras/roberta/keras/roberta_large_en/2",
    config: {
      vocabulary_size: 50265,
      num_layers: 24,
      num_heads: 16,
      hidden_dim: 1024,
      intermediate_dim: 4096,
      dropout: 0.1,
      max_sequence_length: 512,
    },
  },
  {
    name: "xlm_roberta_base_multi",
    className: "XLMRobertaBackbone",
    description:
      "12-layer XLM-RoBERTa model where case is maintained. Trained on CommonCrawl in 100 languages.",
    params: 277450752,
    kaggleHandle: "kaggle://keras/xlm_roberta/keras/xlm_roberta_base_multi/2",
    config: {
      vocabulary_size: 250002,
      num_layers: 12,
      num_heads: 12,
      hidden_dim: 768,
      intermediate_dim: 3072,
      dropout: 0.1,
      max_sequence_length: 512,
    },
  },
  {
    name: "xlm_roberta_large_multi",
    className: "XLMRobertaBackbone",
    description:
      "24-layer XLM-RoBERTa model where case is maintained. Trained on CommonCrawl in 100 languages.",
    params: 558837760,
    kaggleHandle: "kaggle://keras/xlm_roberta/keras/xlm_roberta_large_multi/2",
    config: {
      vocabulary_size: 250002,
      num_layers: 24,
      num_heads: 16,
      hidden_dim: 1024,
      intermediate_dim: 4096,
      dropout: 0.1,
      max_sequence_length: 512,
    },
  },
];
