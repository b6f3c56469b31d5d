/**
 * The backbone families known to `Backbone.fromPreset`: their class, built-in presets, and how to convert
 * a Hugging Face checkpoint. Each family module registers itself when imported.
 */
import type { Backbone, BackboneArgs } from "./backbone.js";
import type { PresetInfo } from "../presets/preset-info.js";
import type { HfCheckpoint } from "../presets/hf-checkpoint.js";
import type { Tensor } from "../tensor/tensor.js";

export type ConcreteBackboneClass = (new (args: any) => Backbone) & { readonly className: string; readonly module: string };

export interface HfConverter {
  /** HF `model_type` values handled, e.g. ["gemma", "gemma2"]. */
  modelTypes: readonly string[];
  /** The class a given HF config loads as (RoBERTa vs XLM-R). */
  backboneFor(hfConfig: Record<string, unknown>): ConcreteBackboneClass;
  /** HF config.json → constructor args (camelCase). Throws for features the port does not implement. */
  convertConfig(hfConfig: Record<string, unknown>): Record<string, unknown> & BackboneArgs;
  /** A key every checkpoint of the family has, to detect the key prefix. */
  anchorKey: string;
  /**
   * True when `convertWeights` only rearranges tensors with shared/tensor/ops (reshape, transpose, …) and never
   * reads their values, so it also works on lazy tensors (`fromPreset(…, { lazyWeights: true })`).
   */
  lazyWeights?: boolean;
  /** HF tensors → KerasHub variable paths and layouts. */
  convertWeights(checkpoint: HfCheckpoint, backbone: Backbone, hfConfig: Record<string, unknown>): Promise<Map<string, Tensor>>;
}

/** How a `sequence_output` becomes one sentence vector: mean of valid tokens, the first token, the last valid one. */
export const POOLINGS = ["mean", "cls", "last", "max"] as const;
export type Pooling = (typeof POOLINGS)[number];

/** What servers decide by family (placement, pooling) instead of matching class names. */
export interface FamilyTraits {
  /** A causal decoder (Gemma): large vocabularies, no position limit (RoPE). */
  decoder: boolean;
  /** The pooling of sentence embeddings when a preset names none. */
  defaultPooling: Pooling;
}

export interface BackboneFamily {
  classes: readonly ConcreteBackboneClass[];
  presets: readonly PresetInfo[];
  traits: FamilyTraits;
  hf?: HfConverter;
}

const families: BackboneFamily[] = [];

export function registerFamily(family: BackboneFamily): void {
  families.push(family);
}

export function registeredFamilies(): readonly BackboneFamily[] {
  return families;
}

/** The class registered under a KerasHub class name ("GemmaBackbone"). */
export function classByName(className: string): ConcreteBackboneClass | undefined {
  return families.flatMap((f) => f.classes).find((c) => c.className === className);
}

/** The traits of the family that registered `className` ("GemmaBackbone"). */
export function familyTraits(className: string): FamilyTraits {
  const family = families.find((f) => f.classes.some((c) => c.className === className));
  if (!family) throw new Error(`no backbone family registers ${className}`);
  return family.traits;
}

export function builtinPresets(): Map<string, PresetInfo> {
  return new Map(families.flatMap((f) => f.presets).map((p) => [p.name, p]));
}

export function hfConverterFor(modelType: string): HfConverter | undefined {
  return families.find((f) => f.hf?.modelTypes.includes(modelType))?.hf;
}
