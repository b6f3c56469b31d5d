/**
 * Node entry point: the whole library plus the node-only pieces (filesystem preset store, onnxruntime
 * builds). Importing it makes the filesystem store the default for `fromPreset`/`saveToPreset`.
 * The worker never imports this module.
 */
import { setDefaultPresetStore } from "../presets/store.js";
import { FsPresetStore } from "./fs-preset-store.js";

setDefaultPresetStore(new FsPresetStore());

export * from "../index.js";
export { FsPresetStore, defaultPresetRoot, directoryFiles } from "./fs-preset-store.js";
export { nodeRuntime, runtimeByName, wasmRuntime, type NodeRuntimeOptions, type RuntimeName } from "./runtimes.js";
