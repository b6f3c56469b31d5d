// Source: keras-team/keras-hub v0.18.1 keras_hub/src/models/distil_bert/distil_bert_presets.py (configs per spec §5.1).
import type { PresetInfo } from "../../presets/preset-info.js";

/** KerasHub encoder config: all presets use dropout 0.1 and 512 positions. */
const encoder = (vocabulary_size: number, num_layers: number, num_heads: number, hidden_dim: number, intermediate_dim: number): PresetInfo["config"] => ({
  vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout: 0.1, max_sequence_length: 512,
});

export const distilBertPresets: readonly PresetInfo[] = [
  {
    name: "distil_bert_base_en_uncased",
    className: "DistilBertBackbone",
    description: "6-layer DistilBERT model where all input is lowercased. Trained on English Wikipedia + BooksCorpus using BERT as the teacher model.",
    params: 66362880,
    kaggleHandle: "kaggle://keras/distil_bert/keras/distil_bert_base_en_uncased/2",
    config: encoder(30522, 6, 12, 768, 3072),
  },
  {
    name: "distil_bert_base_en",
    className: "DistilBertBackbone",
    description: "6-layer DistilBERT model where case is maintained. Trained on English Wikipedia + BooksCorpus using BERT as the teacher model.",
    params: 65190912,
    kaggleHandle: "kaggle://keras/distil_bert/keras/distil_bert_base_en/2",
    config: encoder(28996, 6, 12, 768, 3072),
  },
  {
    name: "distil_bert_base_multi",
    className: "DistilBertBackbone",
    description: "6-layer DistilBERT model where case is maintained. Trained on Wikipedias of 104 languages",
    params: 134734080,
    kaggleHandle: "kaggle://keras/distil_bert/keras/distil_bert_base_multi/2",
    config: encoder(119547, 6, 12, 768, 3072),
  },
];
