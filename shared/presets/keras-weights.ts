/**
 * Weights of a KerasHub-format preset: `model.safetensors` keyed by variable path (what Edgebone writes, any
 * runtime; read tensor by tensor) or KerasHub's own `model.weights.h5` (spec §2.6; read by the Node entry
 * point through h5wasm, which workerd cannot run).
 */
import type { Backbone } from "../backbone/backbone.js";
import type { Tensor } from "../tensor/tensor.js";
import { SafetensorsSource } from "./safetensors-source.js";
import { hasFile, type PresetFiles } from "./store.js";

export interface KerasWeightsFormat {
  file: string;
  /**
   * The variables by KerasHub path, or null when the preset has no `file`. `lazy`: lazy tensors where the
   * format can read tensors one by one later (safetensors), else loaded ones.
   */
  read(files: PresetFiles, backbone: Backbone, source: string, lazy: boolean): Promise<Map<string, Tensor> | null>;
}

const safetensorsFormat: KerasWeightsFormat = {
  file: "model.safetensors",
  async read(files, backbone, _source, lazy) {
    const st = await SafetensorsSource.open(files, "model.safetensors");
    if (!st) return null;
    const weights = new Map<string, Tensor>();
    // Converted as read: a float16 preset loaded as float32 never holds both copies of every tensor.
    for (const name of st.names()) weights.set(name, lazy ? st.lazyTensor(name, backbone.dtype) : await st.tensor(name, backbone.dtype));
    return weights;
  },
};

const formats: KerasWeightsFormat[] = [safetensorsFormat];

export function registerKerasWeightsFormat(format: KerasWeightsFormat): void {
  if (!formats.some((f) => f.file === format.file)) formats.push(format);
}

/** The preset's weights by KerasHub variable path, from the first weights file it has. */
export async function readKerasWeights(files: PresetFiles, backbone: Backbone, lazy = false): Promise<{ weights: Map<string, Tensor>; source: string }> {
  for (const format of formats) {
    const source = `${files.location}/${format.file}`;
    const weights = await format.read(files, backbone, source, lazy);
    if (weights) return { weights, source };
  }
  if (await hasFile(files, "model.weights.h5")) {
    throw new Error(`${files.location} holds KerasHub model.weights.h5 weights, which need the Node entry point (shared/node) to read`);
  }
  throw new Error(`${files.location} has no model.safetensors or model.weights.h5`);
}
