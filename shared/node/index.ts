/**
 * Node entry point: the whole library plus the node-only pieces (filesystem preset store, hub downloads,
 * onnxruntime builds). Importing it makes the filesystem store the default for `fromPreset`/`saveToPreset`
 * and lets them download hf://, kaggle:// and built-in presets into the hubs' caches.
 * The worker never imports this module.
 */
import { readFile, writeFile } from "node:fs/promises";
import { registerLoraFormat, setLoraFileAccess } from "../lora/files.js";
import { registerKerasWeightsFormat } from "../presets/keras-weights.js";
import { setPresetDownloader } from "../presets/hub.js";
import { setDefaultPresetStore } from "../presets/store.js";
import { FsPresetStore } from "./fs-preset-store.js";
import { hubDownloader } from "./hub/index.js";
import { kerasH5WeightsFormat } from "./keras-weights-h5.js";
import { loraH5Format } from "./lora-h5.js";

setDefaultPresetStore(new FsPresetStore());
setPresetDownloader(hubDownloader());
registerLoraFormat(loraH5Format);
registerKerasWeightsFormat(kerasH5WeightsFormat);
setLoraFileAccess({ read: async (path) => readFile(path), write: (path, bytes) => writeFile(path, bytes) });

export * from "../index.js";
export { FsPresetStore, defaultPresetRoot, directoryFiles, pathPresetFiles } from "./fs-preset-store.js";
export { writeExternalData } from "./external-data.js";
export { loraH5Format } from "./lora-h5.js";
export { kerasH5WeightsFormat } from "./keras-weights-h5.js";
export { nodeRuntime, runtimeByName, wasmRuntime, type NodeRuntimeOptions, type RuntimeName } from "./runtimes.js";
