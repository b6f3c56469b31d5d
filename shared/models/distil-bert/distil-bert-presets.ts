// Source: keras-team/keras-hub v0.18.1 keras_hub/src/models/distil_bert/distil_bert_presets.py (configs per spec §5.1).
import type { PresetInfo } from "../../presets/preset-info.js";

export const distilBertPresets: readonly PresetInfo[] = [
  {
    name: "distil_bert_base_en_uncased",
    className: "DistilBertBackbone",
    description:
      "6-layer DistilBERT model where all input is lowercased. Trained on English Wikipedia + BooksCorpus using BERT as the teacher model.",
    params: 66362880,
    kaggleHandle: "kaggle://keras/distil_bert/keras/distil_bert_base_en_uncased/2",
    config: {
      vocabulary_size: 30522,
      num_layers: 6,
      num_heads: 12,
      hidden_dim: 768,
      intermediate_dim: 3072,
      dropout: 0.1,
      max_sequence_length: 512,
    },
  },
  {
    name: "distil_bert_base_en",
    className: "DistilBertBackbone",
    description:
      "6-layer DistilBERT model where case is maintained. Trained on English Wikipedia + BooksCorpus using BERT as the teacher model.",
    params: 65190912,
    kaggleHandle: "kaggle://keras/distil_bert/keras/distil_bert_base_en/2",
    config: {
      vocabulary_size: 28996,
      num_layers: 6,
      num_heads: 12,
      hidden_dim: 768,
      intermediate_dim: 3072,
      dropout: 0.1,
      max_sequence_length: 512,
    },
  },
  {
    name: "distil_bert_base_multi",
    className: "DistilBertBackbone",
    description:
      "6-layer DistilBERT model where case is maintained. Trained on Wikipedias of 104 languages",
    params: 134734080,
    kaggleHandle: "kaggle://keras/distil_bert/keras/distil_bert_base_multi/2",
    config: {
      vocabulary_size: 119547,
      num_layers: 6,
      num_heads: 12,
      hidden_dim: 768,
      intermediate_dim: 3072,
      dropout: 0.1,
      max_sequence_length: 512,
    },
  },
];
