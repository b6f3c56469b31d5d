/**
 * Tokenizers and preprocessing: text → `token_ids` / `padding_mask` for every family, id-exact with the
 * reference tokenizers, built on @huggingface/tokenizers from one canonical tokenizer.json, or loaded from its
 * compiled form (tokenizer.bin).
 */
export { AlignedText } from "./aligned.js";
export { chunkWindows, type ChunkSpan } from "./chunking.js";
export { NoTokenizerError, SequenceTooLongError, TokenizerError } from "./errors.js";
export { FAMILIES, TOKENIZER_FAMILIES, familyByBackbone, familyByHfModelType, type FamilySpec, type SpecialRole, type TokenizerFamily } from "./families.js";
export { importTokenizer, presetFamily, type ImportedTokenizer, type ImportOptions } from "./assets.js";
export { checkText, type RawToken } from "./engine.js";
export { CompileError } from "./compiled.js";
export { COMPILED_TOKENIZER_FILE, UnusableBinaryError } from "./tokenizer-binary.js";
export { PrecompiledCharsMap } from "./precompiled.js";
export {
  Preprocessor,
  type ChunkOptions,
  type Padding,
  type Preprocessed,
  type PreprocessorOptions,
  type RowSource,
  type Truncation,
} from "./preprocessor.js";
export { openPreset, saveTokenizer, type SavedTokenizer, type TokenizerPresetOptions } from "./preset.js";
export {
  bpeMerges,
  encodeSentencePieceModel,
  guessSentencePieceFamily,
  parseSentencePieceModel,
  sentencePieceTokenizerJson,
} from "./sentencepiece.js";
export { CANONICAL_TOKENIZER_FILE, parseTokenizerJson, type EdgeboneMeta, type TokenizerJson } from "./tokenizer-json.js";
export {
  DistilBertTokenizer,
  GemmaTokenizer,
  RobertaTokenizer,
  Tokenizer,
  XLMRobertaTokenizer,
  loadTokenizer,
  type DecodeOptions,
  type EncodeOptions,
  type BinaryOptions,
  type Encoding,
} from "./tokenizer.js";
export type { TokenizerAssets } from "./assets.js";
export { byteBpeTokenizerJson, parseMerges, parseVocabJson } from "./byte-bpe.js";
export { parseVocabTxt, wordPieceTokenizerJson } from "./wordpiece.js";
