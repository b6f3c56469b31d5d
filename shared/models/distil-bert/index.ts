import { registerFamily } from "../../backbone/registry.js";
import { DistilBertBackbone } from "./distil-bert-backbone.js";
import { distilBertHfConverter } from "./distil-bert-hf.js";
import { distilBertPresets } from "./distil-bert-presets.js";

registerFamily({ classes: [DistilBertBackbone], presets: distilBertPresets, traits: { decoder: false, defaultPooling: "mean" }, hf: distilBertHfConverter });

export { DistilBertBackbone } from "./distil-bert-backbone.js";
