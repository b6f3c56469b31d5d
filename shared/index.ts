/**
 * Edgebone's backbone library: KerasHub backbones as ONNX graphs, runtime-agnostic (workerd and Node).
 * Importing this module registers every family with `Backbone.fromPreset`.
 */
export { Backbone, type BackboneArgs, type GraphOptions, type SessionOptions, type PresetSummary, type VariableSpec } from "./backbone/backbone.js";
export { BackboneSession, type ForwardResult } from "./backbone/session.js";
export { InputError, batchRows, checkBatch, tokenBatch, type TokenBatch } from "./backbone/inputs.js";
export { POOLINGS, familyTraits, type FamilyTraits, type Pooling } from "./backbone/registry.js";
export { ConfigError } from "./backbone/config.js";
export { embedTokens, tiedLogits } from "./backbone/embedding.js";
export * from "./models/gemma/index.js";
export * from "./models/distil-bert/index.js";
export * from "./models/roberta/index.js";
export { presetFiles, type FromPresetOptions } from "./presets/loader.js";
export { parsePresetHandle, type PresetHandle } from "./presets/handles.js";
export {
  EMBEDDING_SETTINGS_FILE,
  parseEmbeddingSettings,
  sentenceTransformersSettings,
  type EmbeddingSettings,
} from "./presets/embedding-settings.js";
export { type PresetInfo, formatParams } from "./presets/preset-info.js";
export {
  MemoryPresetStore,
  PresetNotFoundError,
  getDefaultPresetStore,
  setDefaultPresetStore,
  type PresetFiles,
  type PresetStore,
} from "./presets/store.js";
export type { OnnxRuntime, OrtApi } from "./runtime/runtime.js";
export { ORT_WEB_VERSION, onnxruntimeWeb, workerdWasmRuntime } from "./runtime/ort-web.js";
export { castTensor, toFloat32, type FloatDType, type Tensor } from "./tensor/tensor.js";
export { LazyTensor, isLazy } from "./tensor/lazy.js";
export type { SplitModel } from "./graph/graph-builder.js";
export { readSafetensors, writeSafetensors } from "./weights/safetensors.js";
export * from "./tokenizers/index.js";
export {
  factorShapes,
  initLora,
  kernelDelta,
  loraVariablePath,
  toKerasLayout,
  validateAdapter,
  type LoraAdapter,
  type LoraFactors,
  type LoraLayout,
  type LoraTarget,
} from "./lora/adapter.js";
export { loraFileFormat, loraSafetensorsFormat, registerLoraFormat, setLoraFileAccess, type LoraFileFormat } from "./lora/files.js";
export { importPeftAdapter, readPeftAdapter, type PeftConfig } from "./lora/peft.js";
export { type ForwardOptions } from "./backbone/session.js";
export { DENSE_SCHEMES, EMBEDDING_SCHEMES, NAMED_PLANS, parsePlan, planName, type DenseScheme, type EmbeddingScheme, type QuantPlan } from "./quant/plan.js";
export { QuantizedWeights, type CalibrationStats } from "./quant/weight-encoder.js";
export { CALIBRATION_TEXTS, calibrate, calibrationBatches, sampleBatch } from "./quant/calibrate.js";
export { FIDELITY_BARS, fidelity, meetsBars, type Fidelity } from "./quant/fidelity.js";
export { EDGE_MANIFEST, EdgeArtifactError, buildEdgeArtifact, supportsEdgeArtifact, type EdgeArtifact, type EdgeBuildOptions, type EdgeManifest, type PipelinePlan, type PipelineStageEntry } from "./edge/artifact.js";
export { EdgeEmbedding, EdgeMemoryError, EdgeModel, readEdgeManifest, type EdgeFiles, type EdgeLoadOptions } from "./edge/edge-model.js";
export {
  DEFAULT_COSTS,
  ISOLATE_ALLOWANCE_BYTES,
  ISOLATE_BUDGET_BYTES,
  PipelinePlanError,
  describeStage,
  formatMiB,
  pipelineLayout,
  planPipeline,
  rowActivationBytes,
  stagePeak,
  type PipelineCosts,
} from "./edge/pipeline.js";
