/**
 * Hugging Face PEFT LoRA adapters (`adapter_config.json` + `adapter_model.safetensors`) → flat adapters.
 * PEFT keys (peft/utils/save_and_load.py, get_peft_model_state_dict) are the base model's module path with the
 * adapter name removed, under `base_model.model.`: e.g.
 *   base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight   [r, in]     (nn.Linear(in, r))
 *   base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight   [out, r]    (nn.Linear(r, out))
 * and Δ = (lora_alpha / r) · B·A, or lora_alpha / √r with `use_rslora` (peft/tuners/lora/layer.py).
 * Source: https://github.com/huggingface/peft/blob/main/src/peft/tuners/lora/layer.py (update_layer, scaling).
 */
import { readJson, type PresetFiles } from "../presets/store.js";
import { transpose } from "../tensor/ops.js";
import { readSafetensors } from "../weights/safetensors.js";
import type { Tensor } from "../tensor/tensor.js";
import type { LoraAdapter, LoraFactors, LoraTarget } from "./adapter.js";

export interface PeftConfig {
  r?: number;
  lora_alpha?: number;
  target_modules?: string[] | string | null;
  use_rslora?: boolean;
  use_dora?: boolean;
  fan_in_fan_out?: boolean;
  bias?: string;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  peft_type?: string;
}

export function importPeftAdapter(config: PeftConfig, tensors: ReadonlyMap<string, Tensor>, targets: readonly LoraTarget[], source = "PEFT adapter"): LoraAdapter {
  if (config.peft_type && config.peft_type !== "LORA") throw new Error(`${source}: peft_type ${config.peft_type} is not LoRA`);
  if (config.use_dora) throw new Error(`${source}: DoRA adapters (use_dora) are not supported`);
  if (config.fan_in_fan_out) throw new Error(`${source}: fan_in_fan_out adapters (Conv1D models) are not supported`);
  if (config.bias && config.bias !== "none") throw new Error(`${source}: LoRA bias "${config.bias}" is not supported`);
  for (const key of ["rank_pattern", "alpha_pattern"] as const) {
    if (config[key] && Object.keys(config[key]!).length) throw new Error(`${source}: per-module ${key} is not supported`);
  }
  const r = config.r;
  if (!Number.isInteger(r) || r! <= 0) throw new Error(`${source}: adapter_config.json needs a positive integer "r"`);
  const alpha = config.lora_alpha ?? r!;

  const adaptable = new Set(targets.map((t) => t.hfModule.split(".").at(-1)!));
  if (Array.isArray(config.target_modules)) {
    const unsupported = config.target_modules.filter((m) => !adaptable.has(m.split(".").at(-1)!));
    if (unsupported.length) {
      throw new Error(`${source} targets ${unsupported.join(", ")}; only the query and value projections (${[...adaptable].join(", ")}) can be adapted`);
    }
  }

  const factors = new Map<string, LoraFactors>();
  const used = new Set<string>();
  for (const t of targets) {
    const find = (factor: "A" | "B") => [...tensors.keys()].find((k) => k === `${t.hfModule}.lora_${factor}.weight` || k.endsWith(`.${t.hfModule}.lora_${factor}.weight`));
    const aKey = find("A");
    const bKey = find("B");
    if (!aKey && !bKey) continue;
    if (!aKey || !bKey) throw new Error(`${source}: ${t.hfModule} has lora_${aKey ? "A" : "B"} but not lora_${aKey ? "B" : "A"}`);
    used.add(aKey).add(bKey);
    const a = tensors.get(aKey)!;
    const b = tensors.get(bKey)!;
    const out = t.heads * t.headDim;
    if (a.shape.join() !== `${r},${t.inputDim}` || b.shape.join() !== `${out},${r}`) {
      throw new Error(`${source}: ${t.hfModule} has lora_A [${a.shape}] and lora_B [${b.shape}], expected [${r}, ${t.inputDim}] and [${out}, ${r}]`);
    }
    factors.set(t.kernelPath, { a: transpose(a, [1, 0]), b: transpose(b, [1, 0]) });
  }
  const unmatched = [...tensors.keys()].filter((k) => /lora_[AB]/.test(k) && !used.has(k));
  if (unmatched.length) {
    throw new Error(`${source} adapts modules that are not query/value projections of this backbone: ${unmatched.slice(0, 3).join(", ")}${unmatched.length > 3 ? ", …" : ""}`);
  }
  if (factors.size === 0) throw new Error(`${source} has no LoRA weights for this backbone's query/value projections`);
  return { rank: r!, scale: config.use_rslora ? alpha / Math.sqrt(r!) : alpha / r!, layout: "flat", factors };
}

/** Reads a PEFT adapter directory (`adapter_config.json` + `adapter_model.safetensors`) from any file source. */
export async function readPeftAdapter(files: PresetFiles, targets: readonly LoraTarget[]): Promise<LoraAdapter> {
  const config = await readJson(files, "adapter_config.json");
  if (!config) throw new Error(`${files.location} has no adapter_config.json: not a PEFT adapter`);
  const bytes = await files.read("adapter_model.safetensors");
  if (!bytes) {
    const bin = (await files.read("adapter_model.bin")) !== null;
    throw new Error(`${files.location} has no adapter_model.safetensors${bin ? " (adapter_model.bin is not supported: save with safe_serialization=True)" : ""}`);
  }
  const { tensors } = readSafetensors(bytes, `${files.location}/adapter_model.safetensors`);
  return importPeftAdapter(config as PeftConfig, tensors, targets, files.location);
}
