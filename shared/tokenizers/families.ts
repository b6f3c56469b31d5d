/**
 * The four tokenizer families and what KerasHub fixes for each (spec §6, §4.6, §3.10): class and module
 * names, special tokens, and the template that turns one or two texts into model input.
 */

export type TokenizerFamily = "distil_bert" | "roberta" | "xlm_roberta" | "gemma";

/** One element of a packing template: a special token by role, or segment A / B. */
export type TemplatePart = "A" | "B" | { special: SpecialRole };
export type SpecialRole = "start" | "end" | "pad" | "unk" | "mask";

export interface FamilySpec {
  family: TokenizerFamily;
  /** KerasHub tokenizer class and module (the preset's `tokenizer.json`). */
  className: string;
  module: string;
  /** Default layer name KerasHub gives the tokenizer. */
  layerName: string;
  /** Token strings by role. `start`/`end` double as [CLS]/[SEP] for BERT. */
  specials: Partial<Record<SpecialRole, string>>;
  single: TemplatePart[];
  /** null: the family has no text-pair input (Gemma). */
  pair: TemplatePart[] | null;
  /** KerasHub backbone classes and Hugging Face `model_type`s of the family. */
  backbones: readonly string[];
  hfModelTypes: readonly string[];
  /** Files KerasHub keeps under assets/tokenizer/ (`file_assets`). */
  kerasAssets: readonly string[];
}

const S = (special: SpecialRole): TemplatePart => ({ special });

export const FAMILIES: Record<TokenizerFamily, FamilySpec> = {
  distil_bert: {
    family: "distil_bert",
    className: "DistilBertTokenizer",
    module: "keras_hub.src.models.distil_bert.distil_bert_tokenizer",
    layerName: "distil_bert_tokenizer",
    specials: { start: "[CLS]", end: "[SEP]", pad: "[PAD]", unk: "[UNK]", mask: "[MASK]" },
    single: [S("start"), "A", S("end")],
    pair: [S("start"), "A", S("end"), "B", S("end")],
    backbones: ["DistilBertBackbone"],
    hfModelTypes: ["distilbert", "bert"],
    kerasAssets: ["vocabulary.txt"],
  },
  roberta: {
    family: "roberta",
    className: "RobertaTokenizer",
    module: "keras_hub.src.models.roberta.roberta_tokenizer",
    layerName: "roberta_tokenizer",
    specials: { start: "<s>", end: "</s>", pad: "<pad>", unk: "<unk>", mask: "<mask>" },
    single: [S("start"), "A", S("end")],
    // KerasHub and fairseq double the separator between segments.
    pair: [S("start"), "A", S("end"), S("end"), "B", S("end")],
    backbones: ["RobertaBackbone"],
    hfModelTypes: ["roberta"],
    kerasAssets: ["vocabulary.json", "merges.txt"],
  },
  xlm_roberta: {
    family: "xlm_roberta",
    className: "XLMRobertaTokenizer",
    module: "keras_hub.src.models.xlm_roberta.xlm_roberta_tokenizer",
    layerName: "xlm_roberta_tokenizer",
    specials: { start: "<s>", end: "</s>", pad: "<pad>", unk: "<unk>", mask: "<mask>" },
    single: [S("start"), "A", S("end")],
    pair: [S("start"), "A", S("end"), S("end"), "B", S("end")],
    backbones: ["XLMRobertaBackbone"],
    hfModelTypes: ["xlm-roberta"],
    kerasAssets: ["vocabulary.spm"],
  },
  gemma: {
    family: "gemma",
    className: "GemmaTokenizer",
    module: "keras_hub.src.models.gemma.gemma_tokenizer",
    layerName: "gemma_tokenizer",
    specials: { start: "<bos>", end: "<eos>", pad: "<pad>", unk: "<unk>" },
    // Backbone input is `<bos> x` (spec §3.10 generate_preprocess); `<eos>` ends training examples only.
    single: [S("start"), "A"],
    pair: null,
    backbones: ["GemmaBackbone"],
    hfModelTypes: ["gemma", "gemma2"],
    kerasAssets: ["vocabulary.spm"],
  },
};

export const TOKENIZER_FAMILIES = Object.keys(FAMILIES) as TokenizerFamily[];

export function familyByClassName(className: string): FamilySpec | undefined {
  return Object.values(FAMILIES).find((f) => f.className === className);
}

export function familyByBackbone(className: string): FamilySpec | undefined {
  return Object.values(FAMILIES).find((f) => f.backbones.includes(className));
}

export function familyByHfModelType(modelType: string): FamilySpec | undefined {
  return Object.values(FAMILIES).find((f) => f.hfModelTypes.includes(modelType));
}
