/**
 * Pipeline plans: an edge artifact (artifact.ts) too large for one isolate, cut into stages that each fit one, to
 * run as a chain of isolates (Durable Objects: workers/pipeline-stage.ts). Two kinds of stage:
 *
 * - embedding shards: row ranges of the token table (`embedding.bin`), looked up in JavaScript, no onnxruntime:
 *   the rows, plus the isolate's own allowance (its code, request buffers);
 * - block stages: contiguous runs of the artifact's stages (its ONNX sessions): onnxruntime-web's base memory, the
 *   weights as they sit in its WebAssembly heap (copied in, plus each session's own structures), the largest stage
 *   file once more in JavaScript while it loads, one row's activations at the longest sequence, the allowance.
 *
 * Stages are cut from these predicted peaks (`basis: "sizes"`); the install step then measures every stage in a
 * fresh process on the same onnxruntime-web build and, where a prediction was short, re-plans with the measured
 * ratio (`basis: "measured"`: shared/node/edge-build.ts). Where each weight lives is also given in the vocabulary of
 * `getLayoutMap` (regexes over KerasHub variable paths): `pipelineLayout`.
 */
import { sha256Hex } from "../runner/signing.js";
import type { EdgeManifest, PipelinePlan, PipelineStageEntry } from "./artifact.js";

const MiB = 2 ** 20;

/** The default isolate budget of edge artifacts and pipeline stages: a Worker's 128 MB. */
export const ISOLATE_BUDGET_BYTES = 128 * MiB;
/** What an isolate holds besides a model: its code, the request's buffers. */
export const ISOLATE_ALLOWANCE_BYTES = 16 * MiB;
/** onnxruntime-web's WebAssembly memory before its first session. */
const ORT_BASE_BYTES = 16 * MiB;

/** "12.3 MiB", for logs and errors. */
export const formatMiB = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

export interface PipelineCosts {
  allowanceBytes: number;
  ortBaseBytes: number;
  /** WASM heap bytes per byte of a stage's files (the weights copied in, each session's own structures). */
  wasmPerFileByte: number;
  /** One row's activations at the model's longest sequence (`rowActivationBytes`). */
  activationBytes: number;
  /** Measured peak / predicted peak, per kind (1 until measured): scales the predictions of a re-plan. */
  correction: { embedding: number; blocks: number };
}

export const DEFAULT_COSTS: Omit<PipelineCosts, "activationBytes"> = {
  allowanceBytes: ISOLATE_ALLOWANCE_BYTES,
  ortBaseBytes: ORT_BASE_BYTES,
  // Measured 1.04 for RoBERTa-base int8 (12 sessions) since the heap grows to what malloc asks for (ort-web.ts);
  // 1.2 before, when Emscripten grew it by 20% steps.
  wasmPerFileByte: 1.05,
  correction: { embedding: 1, blocks: 1 },
};

/**
 * Float32 activations of one encoder row at `sequenceLength` tokens that can be alive at once: attention scores and
 * probabilities [heads, T, T], the fused QKV projection, the feed-forward's inner layer and a few [T, H] tensors.
 */
export function rowActivationBytes(config: { hiddenDim: number; numHeads: number; intermediateDim: number }, sequenceLength: number): number {
  const { hiddenDim: H, numHeads, intermediateDim: I } = config;
  const T = sequenceLength;
  return 4 * (2 * numHeads * T * T + T * (3 * H + I + 4 * H));
}

export class PipelinePlanError extends Error {
  override name = "PipelinePlanError";
}

/** Cuts `manifest`'s artifact into stages that each stay within `budgetBytes` (predicted from sizes). */
export async function planPipeline(manifest: EdgeManifest, budgetBytes: number, costs: PipelineCosts): Promise<PipelinePlan> {
  const table = manifest.embedding;
  if (!table) throw new PipelinePlanError("a pipeline needs the token table looked up in JavaScript (an int8 or int4 embedding): this artifact gathers it inside stage 0");

  // Embedding shards: equal row ranges, as few as fit.
  const rowBytes = (table.codes[1] + table.scales[1] + table.zero_points[1]) / table.rows;
  const shardCost = (rows: number) => Math.ceil((table.column_scales[1] + rows * rowBytes + costs.allowanceBytes) * costs.correction.embedding);
  const rowsPerShard = Math.floor((budgetBytes / costs.correction.embedding - costs.allowanceBytes - table.column_scales[1]) / rowBytes);
  if (rowsPerShard < 1) throw new PipelinePlanError(`one token-table row does not fit the ${formatMiB(budgetBytes)} budget beside the isolate's ${formatMiB(costs.allowanceBytes)}`);
  const shardCount = Math.ceil(table.rows / rowsPerShard);
  const shards: PipelineStageEntry[] = Array.from({ length: shardCount }, (_, k) => {
    const rows: [number, number] = [Math.floor((k * table.rows) / shardCount), Math.floor(((k + 1) * table.rows) / shardCount)];
    const n = rows[1] - rows[0];
    return { kind: "embedding", rows, bytes: Math.round(n * rowBytes), estimated_bytes: shardCost(n), weights: ["token_embedding/embeddings"] };
  });

  // Block stages: contiguous runs of artifact stages, as few as fit, then balanced (the smallest largest cost).
  const files = manifest.stages.map((s) => s.graph.bytes + s.data.bytes);
  const runCost = (from: number, to: number) => {
    const stageFiles = files.slice(from, to);
    const wasm = costs.ortBaseBytes + costs.wasmPerFileByte * stageFiles.reduce((a, b) => a + b, 0);
    return Math.ceil((costs.allowanceBytes + wasm + Math.max(...stageFiles) + costs.activationBytes) * costs.correction.blocks);
  };
  const cut = (cap: number): [number, number][] | null => {
    const runs: [number, number][] = [];
    for (let from = 0; from < files.length; ) {
      let to = from + 1;
      if (runCost(from, to) > cap) return null;
      while (to < files.length && runCost(from, to + 1) <= cap) to++;
      runs.push([from, to]);
      from = to;
    }
    return runs;
  };
  const fewest = cut(budgetBytes);
  if (!fewest) {
    const worst = files.findIndex((_, k) => runCost(k, k + 1) > budgetBytes);
    throw new PipelinePlanError(`artifact stage ${worst} alone needs ${formatMiB(runCost(worst, worst + 1))}, over the ${formatMiB(budgetBytes)} budget: rebuild the artifact with smaller stages`);
  }
  let [lo, hi] = [0, budgetBytes];
  while (hi - lo > 4096) {
    const mid = Math.floor((lo + hi) / 2);
    const runs = cut(mid);
    if (runs && runs.length <= fewest.length) hi = mid;
    else lo = mid;
  }
  const blocks: PipelineStageEntry[] = cut(hi)!.map(([from, to]) => {
    const parts = manifest.stages.slice(from, to);
    const layers = Array.from({ length: parts[parts.length - 1].blocks[1] - parts[0].blocks[0] }, (_, i) => parts[0].blocks[0] + i);
    const weights = parts[0].embed ? ["position_embedding/embeddings", "embeddings_layer_norm/"] : [];
    if (layers.length) weights.push(`^transformer_layer_(${layers.join("|")})/`);
    return {
      kind: "blocks",
      stages: [from, to],
      blocks: [parts[0].blocks[0], parts[parts.length - 1].blocks[1]],
      bytes: files.slice(from, to).reduce((a, b) => a + b, 0),
      estimated_bytes: runCost(from, to),
      weights,
    };
  });

  const digest = await sha256Hex([table.sha256, ...manifest.stages.flatMap((s) => [s.graph.sha256, s.data.sha256])].join(","));
  return { budget_bytes: budgetBytes, basis: "sizes", id: digest.slice(0, 16), stages: [...shards, ...blocks] };
}

/** The stage's peak: measured where it was, predicted otherwise. */
export const stagePeak = (stage: PipelineStageEntry): number => stage.measured_bytes ?? stage.estimated_bytes;

/** "stage 2 (blocks 0-5)": for logs, errors and headers (ASCII). */
export function describeStage(plan: PipelinePlan, k: number): string {
  const s = plan.stages[k];
  return s.kind === "embedding" ? `stage ${k} (token rows ${s.rows[0]}-${s.rows[1] - 1})` : `stage ${k} (blocks ${s.blocks[0]}-${s.blocks[1] - 1})`;
}

/** Where a weight lives, in `getLayoutMap`'s shape: (regex over variable paths, the stages that hold it), in order. */
export interface PipelineLayout {
  entries: ReadonlyArray<readonly [pattern: string, where: string[]]>;
  /** The stages holding a variable path (search semantics, like `re.search`); [] if none. */
  get(path: string): string[];
}

export function pipelineLayout(plan: PipelinePlan): PipelineLayout {
  const entries = new Map<string, string[]>();
  plan.stages.forEach((s, k) => {
    const where = s.kind === "embedding" ? `stage ${k} rows [${s.rows[0]}, ${s.rows[1]})` : `stage ${k}`;
    for (const pattern of s.weights) entries.set(pattern, [...(entries.get(pattern) ?? []), where]);
  });
  const list = [...entries];
  return { entries: list, get: (path) => list.filter(([pattern]) => new RegExp(pattern).test(path)).flatMap(([, where]) => where) };
}
