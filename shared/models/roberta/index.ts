import { registerFamily } from "../../backbone/registry.js";
import { RobertaBackbone, XLMRobertaBackbone } from "./roberta-backbone.js";
import { robertaHfConverter } from "./roberta-hf.js";
import { robertaPresets } from "./roberta-presets.js";

registerFamily({ classes: [RobertaBackbone, XLMRobertaBackbone], presets: robertaPresets, traits: { decoder: false, defaultPooling: "mean" }, hf: robertaHfConverter });

export { RobertaBackbone, XLMRobertaBackbone } from "./roberta-backbone.js";
