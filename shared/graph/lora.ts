/**
 * LoRA as graph inputs: one session per base model serves every adapter. Each batch row picks its adapter
 * from the stacked factors by `adapter_ids` (a gather, in the spirit of Punica's BGMV), so rows with different
 * adapters, or none, share one batch. Two paths, one per adapter layout (see lora/adapter.ts):
 *   per-head (KerasHub): Δ = reshape(x · A[H, heads·r], [heads, r]) · B[r, hd]
 *   flat (PEFT):         Δ = (x · A[H, r]) · B[r, heads·hd]
 */
import { int, type GraphBuilder } from "./graph-builder.js";
import type { LoraTarget } from "../lora/adapter.js";
import { loraInputNames } from "../lora/stack.js";

/**
 * `projected` + Δ, with the LoRA branch inside an `If` that runs only when a row of the batch has an adapter
 * (`adapter_ids` > 0 somewhere): batches without adapters, the common case, pay nothing for the path.
 */
export function withLora(g: GraphBuilder, x: string, projected: string, target: LoraTarget, adapterIds: string): string {
  const then = g.branch("with_lora", () => [g.op("Add", [projected, loraDelta(g, x, target, adapterIds)])]);
  const otherwise = g.branch("without_lora", () => [projected]);
  return g.op("If", [anyAdapter(g, adapterIds)], { then_branch: { graph: then }, else_branch: { graph: otherwise } });
}

const anyAdapterOf = new WeakMap<GraphBuilder, { ids: string; value: string }>();

/** Whether any row has an adapter: a bool scalar, made once per graph. */
function anyAdapter(g: GraphBuilder, adapterIds: string): string {
  const known = anyAdapterOf.get(g);
  if (known?.ids === adapterIds) return known.value;
  const max = g.op("ReduceMax", [g.op("Cast", [adapterIds], { to: int(1 /* FLOAT */) })], { keepdims: int(0) });
  const value = g.op("Cast", [max], { to: int(9 /* BOOL */) });
  anyAdapterOf.set(g, { ids: adapterIds, value });
  return value;
}

/** Δ [B, T, heads·hd] for input `x` [B, T, H]; `adapterIds` is the int32 [B] graph input. */
function loraDelta(g: GraphBuilder, x: string, target: LoraTarget, adapterIds: string): string {
  const { heads, headDim, inputDim } = target;
  const names = loraInputNames(target);
  // Ranks are per target (routing differs with the head count), so each gets its own symbolic dims.
  g.input(names.a, "float32", ["adapters", inputDim, heads, `${names.a}.rank`]);
  g.input(names.b, "float32", ["adapters", `${names.a}.rank`, headDim]);
  g.input(names.flatA, "float32", ["adapters", inputDim, `${names.flatA}.rank`]);
  g.input(names.flatB, "float32", ["adapters", `${names.flatA}.rank`, heads * headDim]);
  const rows = (stack: string) => g.op("Gather", [stack, adapterIds], { axis: int(0) });

  return g.scope("lora", () => {
    const a = g.op("Reshape", [rows(names.a), g.constInt64([0, 0, -1])]); // [B, H, heads·r]
    const xa = g.op("Reshape", [g.op("MatMul", [x, a]), g.constInt64([0, 0, heads, -1])]); // [B, T, heads, r]
    const b = g.op("Unsqueeze", [rows(names.b), g.constInt64([1])]); // [B, 1, r, hd]
    const perHead = g.op("Reshape", [g.op("MatMul", [xa, b]), g.constInt64([0, 0, -1])]);
    const flat = g.op("MatMul", [g.op("MatMul", [x, rows(names.flatA)]), rows(names.flatB)]);
    return g.op("Add", [perHead, flat]);
  });
}
