/**
 * A preset's verified files (local paths, e.g. disk-cache leases) → an onnxruntime session, without a second
 * copy of the weights: the backbone is loaded with lazy weights (`fromPreset(…, { lazyWeights: true })`), so each
 * tensor is read from the files by byte range, converted and laid out only as the ONNX external data file is
 * written, and onnxruntime-node maps that file. Peak memory is about one copy of the weights in the compute
 * dtype (onnxruntime's), for checkpoints of any size. The files must stay in place until this returns.
 */
import { Backbone, BackboneSession, pathPresetFiles, type FloatDType, type OnnxRuntime, type SplitModel } from "../shared/node/index.js";
import { ServeError } from "./errors.js";

export interface PresetSession {
  session: BackboneSession;
  /** Config-only twin of the loaded backbone (no weights): LoRA targets, limits, adapter decoding. */
  shape: Backbone;
  /** Serialized graph size, weights included: what the model holds in memory. */
  bytes: number;
}

export interface PresetSessionOptions {
  runtime: OnnxRuntime;
  /** Storage dtype of the weights (16-bit on GPU providers); compute is float32. */
  weightDtype: FloatDType;
  /** Called with the model's size before onnxruntime gets it; throws to refuse (memory budget). */
  reserve(bytes: number): void;
}

export async function createPresetSession(preset: string, paths: ReadonlyMap<string, string>, o: PresetSessionOptions): Promise<PresetSession> {
  const files = pathPresetFiles(`runner store presets/${preset}`, paths);
  let backbone: Backbone;
  let graph: Uint8Array | SplitModel;
  try {
    const store = { description: files.location, open: () => files };
    backbone = await Backbone.fromPreset(preset, { store, lazyWeights: true, ...(o.weightDtype !== "float32" ? { dtype: o.weightDtype } : {}) });
    graph = backbone.toOnnxModel({ lora: true }); // the graph; lazy weights make it a split model
  } catch (e) {
    throw new ServeError("corrupt_object", `preset ${preset} cannot be loaded: ${(e as Error).message.split("\n")[0]}`);
  }
  const bytes = graph instanceof Uint8Array ? graph.byteLength : graph.model.byteLength + graph.externalData.bytes;
  o.reserve(bytes);
  const session = await BackboneSession.create(backbone, o.runtime, graph, { targets: backbone.loraTargets(), defaultAdapter: null });
  const shape = new (backbone.constructor as new (args: object) => Backbone)({ ...backbone.config, dtype: backbone.dtype, name: backbone.name });
  return { session, shape, bytes };
}
