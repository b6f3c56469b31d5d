/**
 * Node-only: reads KerasHub's `model.weights.h5` (spec §2.6) — groups by snake-cased class name with per-class
 * counters, `vars/<i>` datasets by position, bf16 as `|V2` — into variables keyed by KerasHub path.
 * A backbone saved inside a task file sits under `layers/<name>_backbone/`; that prefix is detected.
 */
import type { Dataset, File as H5File, Group } from "h5wasm/node";
import type { Backbone } from "../backbone/backbone.js";
import type { KerasWeightsFormat } from "../presets/keras-weights.js";
import type { Tensor } from "../tensor/tensor.js";
import { join } from "node:path";
import { hasFile } from "../presets/store.js";
import { directoryOf } from "./fs-preset-store.js";
import { datasetTensor, h5, readH5 } from "./h5.js";

const FILE = "model.weights.h5";

export const kerasH5WeightsFormat: KerasWeightsFormat = {
  file: FILE,
  async read(files, backbone, source) {
    // A preset directory's file is opened where it is (weights beyond 2 GiB cannot be read into one buffer).
    const dir = directoryOf(files);
    const input = dir ? ((await hasFile(files, FILE)) ? { path: join(dir, FILE) } : null) : await files.read(FILE);
    if (!input) return null;
    const classes = await h5(); // loaded lazily: `instanceof` needs its Group/Dataset classes
    return readH5(input, source, (file) => readVariables(file, backbone, source, classes));
  },
};

type H5Classes = { Group: typeof Group; Dataset: typeof Dataset };

function readVariables(file: H5File, backbone: Backbone, source: string, classes: H5Classes): Map<string, Tensor> {
  const datasets = listDatasets(file, classes);
  const expected = backbone.kerasH5Paths();
  const prefix = detectPrefix(datasets, expected, source, backbone);
  const weights = new Map<string, Tensor>();
  const missing: string[] = [];
  for (const [variable, candidates] of expected) {
    const path = candidates.map((c) => prefix + c).find((c) => datasets.has(c));
    if (!path) missing.push(`${variable} (${prefix}${candidates[0]})`);
    else weights.set(variable, datasetTensor(file.get(path) as Dataset, `${source}:/${path}`));
  }
  if (missing.length) {
    throw new Error(`${source} lacks ${missing.length} ${backbone.className} variable(s): ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", …" : ""}`);
  }
  return weights;
}

/** Every dataset path in the file (walking groups once avoids HDF5 errors from probing missing paths). */
function listDatasets(file: H5File, { Group, Dataset }: H5Classes): Set<string> {
  const out = new Set<string>();
  const walk = (group: Group, at: string) => {
    for (const key of group.keys()) {
      const path = at ? `${at}/${key}` : key;
      const entity = group.get(key);
      if (entity instanceof Group) walk(entity, path);
      else if (entity instanceof Dataset) out.add(path);
    }
  };
  walk(file, "");
  return out;
}

function detectPrefix(datasets: Set<string>, expected: Map<string, string[]>, source: string, backbone: Backbone): string {
  const [anchor] = expected.values().next().value!;
  for (const path of datasets) {
    if (path === anchor) return "";
    if (path.endsWith(`/${anchor}`)) return path.slice(0, path.length - anchor.length);
  }
  throw new Error(`${source} has no ${anchor}: not a ${backbone.className} weights file`);
}
