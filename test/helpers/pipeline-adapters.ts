/**
 * The LoRA adapters of the worker pipeline tests, made the same way in Node (test/workers/global-setup.ts, for the
 * expected outputs) and in workerd (test/workers/pipeline.test.ts, uploaded through the API): rank 2, seeded;
 * `last` adapts only the last layer's projections.
 */
import { initLora, type LoraAdapter, type LoraTarget } from "../../shared/index.js";

export function pipelineAdapters(targets: readonly LoraTarget[]): Record<"all" | "last", LoraAdapter> {
  const all = initLora(targets, 2, 1, true);
  const lastLayer = Math.max(...targets.map((t) => t.layer));
  const late = initLora(targets, 2, 2, true);
  return { all, last: { ...late, factors: new Map([...late.factors].filter(([path]) => path.startsWith(`transformer_layer_${lastLayer}/`))) } };
}
