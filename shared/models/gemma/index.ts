import { registerFamily } from "../../backbone/registry.js";
import { GemmaBackbone } from "./gemma-backbone.js";
import { gemmaHfConverter } from "./gemma-hf.js";
import { gemmaPresets } from "./gemma-presets.js";

registerFamily({ classes: [GemmaBackbone], presets: gemmaPresets, traits: { decoder: true, defaultPooling: "last" }, hf: gemmaHfConverter });

export { GemmaBackbone, gemmaConfigSchema, type GemmaArgs, type GemmaConfig } from "./gemma-backbone.js";
export { getLayoutMap, type DeviceMesh, type LayoutMap } from "./gemma-layout.js";
