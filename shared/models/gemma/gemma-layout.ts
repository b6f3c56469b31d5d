/**
 * `GemmaBackbone.get_layout_map` (spec §3.8): regexes over variable paths → sharding specs for a device
 * mesh, following the Gemma paper's training config. Norm scales and LoRA kernels match no key (replicated).
 */

/** A logical mesh of devices (keras.distribution.DeviceMesh). */
export interface DeviceMesh {
  shape: readonly number[];
  axisNames: readonly string[];
  devices?: readonly string[];
}

/** One sharding spec entry per tensor axis: a mesh axis name, or null (not sharded). */
export type TensorLayout = readonly (string | null)[];

export interface LayoutMap {
  deviceMesh: DeviceMesh;
  /** Regex (matched with search semantics, like `re.search`) → layout, in KerasHub's insertion order. */
  entries: ReadonlyArray<readonly [pattern: string, layout: TensorLayout]>;
  /** The layout of a variable path: exact key first, then the single matching regex; null = replicated. */
  get(path: string): TensorLayout | null;
}

export function getLayoutMap(deviceMesh: DeviceMesh, modelParallelDimName = "model", dataParallelDimName = "batch"): LayoutMap {
  if (!deviceMesh || !Array.isArray(deviceMesh.shape) || !Array.isArray(deviceMesh.axisNames)) {
    throw new TypeError(`deviceMesh must be a DeviceMesh ({shape, axisNames}), got ${JSON.stringify(deviceMesh)}`);
  }
  if (deviceMesh.shape.length !== deviceMesh.axisNames.length) {
    throw new Error(`deviceMesh has ${deviceMesh.shape.length} dims but ${deviceMesh.axisNames.length} axis names`);
  }
  for (const [role, name] of [["model_parallel_dim_name", modelParallelDimName], ["data_parallel_dim_name", dataParallelDimName]]) {
    if (!deviceMesh.axisNames.includes(name)) {
      throw new Error(`${role} "${name}" is not an axis of the device mesh (axes: ${deviceMesh.axisNames.join(", ")})`);
    }
  }
  const model = modelParallelDimName;
  const data = dataParallelDimName;
  const entries: [string, TensorLayout][] = [
    ["token_embedding/embeddings", [model, data]],
    ["decoder_block.*attention.*(query|key|value).kernel", [model, data, null]],
    ["decoder_block.*attention_output.kernel", [model, null, data]],
    ["decoder_block.*ffw_gating.kernel", [data, model]],
    ["decoder_block.*ffw_gating_2.kernel", [data, model]],
    ["decoder_block.*ffw_linear.kernel", [model, data]],
  ];
  return {
    deviceMesh,
    entries,
    get(path: string) {
      const exact = entries.find(([pattern]) => pattern === path);
      if (exact) return exact[1];
      const matches = entries.filter(([pattern]) => new RegExp(pattern).test(path));
      if (matches.length > 1) {
        throw new Error(`path "${path}" matches several layout keys: ${matches.map(([p]) => p).join(", ")}`);
      }
      return matches[0]?.[1] ?? null;
    },
  };
}
