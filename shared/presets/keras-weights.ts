/**
 * Weights of a KerasHub-format preset: `model.safetensors` keyed by variable path (what Edgebone writes, any
 * runtime) or KerasHub's own `model.weights.h5` (spec §2.6; read by the Node entry point through h5wasm,
 * which workerd cannot run).
 */
import type { Backbone } from "../backbone/backbone.js";
import type { Tensor } from "../tensor/tensor.js";
import { readSafetensors } from "../weights/safetensors.js";
import type { PresetFiles } from "./store.js";

export interface KerasWeightsFormat {
  file: string;
  read(bytes: Uint8Array, backbone: Backbone, source: string): Promise<Map<string, Tensor>>;
}

const formats: KerasWeightsFormat[] = [
  { file: "model.safetensors", read: async (bytes, _backbone, source) => readSafetensors(bytes, source).tensors },
];

export function registerKerasWeightsFormat(format: KerasWeightsFormat): void {
  if (!formats.some((f) => f.file === format.file)) formats.push(format);
}

/** The preset's weights by KerasHub variable path, from the first weights file it has. */
export async function readKerasWeights(files: PresetFiles, backbone: Backbone): Promise<{ weights: Map<string, Tensor>; source: string }> {
  for (const format of formats) {
    const bytes = await files.read(format.file);
    const source = `${files.location}/${format.file}`;
    if (bytes) return { weights: await format.read(bytes, backbone, source), source };
  }
  if (await files.read("model.weights.h5")) {
    throw new Error(`${files.location} holds KerasHub model.weights.h5 weights, which need the Node entry point (shared/node) to read`);
  }
  throw new Error(`${files.location} has no model.safetensors or model.weights.h5`);
}
