/**
 * Node-only: compiles a preset directory's edge artifact (shared/edge) at install time. The float model is
 * calibrated on text through the preset's tokenizer (random ids without one), each candidate plan is built,
 * checked against the float graph (FIDELITY_BARS) and measured in a fresh process (edge-measure.ts); `auto`
 * keeps the first plan that meets the bars within the isolate budget. When none fits one isolate, the first plan
 * that meets the bars is cut into a pipeline of isolates (shared/edge/pipeline.ts), each stage measured in a fresh
 * process; when that fails too, no artifact is kept (the preset then runs on the runner pool).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import {
  DEFAULT_COSTS,
  EDGE_MANIFEST,
  EdgeModel,
  FIDELITY_BARS,
  ISOLATE_BUDGET_BYTES,
  NoTokenizerError,
  ORT_WEB_VERSION,
  Preprocessor,
  buildEdgeArtifact,
  calibrate,
  calibrationBatches,
  fidelity,
  formatMiB,
  meetsBars,
  parsePlan,
  PipelinePlanError,
  describeStage,
  planPipeline,
  rowActivationBytes,
  supportsEdgeArtifact,
  toFloat32,
  type Backbone,
  type EdgeManifest,
  type Fidelity,
  type PipelineCosts,
  type PipelinePlan,
} from "../index.js";
import type { EncoderBackbone } from "../models/encoder/encoder-backbone.js";
import { EDGE_DIR } from "../edge/artifact.js";
import { writeFileParts } from "../presets/store.js";
import { directoryFiles } from "./fs-preset-store.js";
import { measureEdgeArtifact, measurePipelineStage, type EdgeMeasurement } from "./edge-measure.js";
import { nodeRuntime, wasmRuntime } from "./runtimes.js";

/** Plans `auto` tries, best first: int8 speed, then smaller mixed and int4 plans. */
const AUTO_PLANS = ["int8", "mixed", "int4"] as const;

export interface EdgeBuildReport {
  plan: string;
  fidelity: Fidelity;
  measured: EdgeMeasurement | null;
  /** Why the plan was not kept (auto), or null. */
  rejected: string | null;
}

export interface WriteEdgeOptions {
  /** `auto` (default), a named plan (`int8`, `int4`, `mixed`) or `attention=…,ffn=…,embedding=…`. */
  plan?: string;
  /** Peak isolate memory a kept plan may reach (default 128 MiB). */
  budgetBytes?: number;
  /** Modules the measurement imports first (the worker's code, so that its heap counts). */
  preload?: readonly string[];
  /** Skip the measurement (the manifest then has no `measured`; placement falls back to sizes). */
  measure?: boolean;
  /** Cut the artifact into a pipeline of isolates when no plan fits one (default true). */
  pipeline?: boolean;
  log?: (line: string) => void;
}

/**
 * Writes `<dir>/edge/` for the preset in `dir` (whose backbone, with weights, is `backbone`). Returns the kept
 * manifest, or null when no plan qualifies (auto) — then `<dir>/edge/` is removed.
 */
export async function writeEdgeArtifact(backbone: Backbone, dir: string, options: WriteEdgeOptions = {}): Promise<{ manifest: EdgeManifest | null; reports: EdgeBuildReport[] }> {
  if (!supportsEdgeArtifact(backbone)) throw new Error(`${backbone.className} has no edge artifact: only encoders run in the isolate`);
  const log = options.log ?? (() => {});
  const budget = options.budgetBytes ?? ISOLATE_BUDGET_BYTES;
  const auto = (options.plan ?? "auto") === "auto";
  const plans = auto ? [...AUTO_PLANS] : [options.plan!];
  const files = directoryFiles(dir);

  let preprocessor: Preprocessor | null = null;
  try {
    preprocessor = await Preprocessor.fromPreset(files);
  } catch (e) {
    if (!(e instanceof NoTokenizerError)) throw e;
  }
  const batches = calibrationBatches(backbone, preprocessor);
  log(`calibrating on ${preprocessor ? "text through the preset's tokenizer" : "random token ids (no tokenizer)"}…`);
  const calibration = await calibrate(backbone, nodeRuntime({ threads: 0 }), batches);
  const reference = await floatReference(backbone, batches);

  const reports: EdgeBuildReport[] = [];
  for (const name of plans) {
    const plan = parsePlan(name);
    await rm(join(dir, EDGE_DIR), { recursive: true, force: true });
    log(`building the ${name} edge artifact…`);
    const artifact = await buildEdgeArtifact(backbone, { plan, calibration, onnxruntimeWeb: ORT_WEB_VERSION });
    for (const [file, chunks] of artifact.files) await writeFileParts(files, file, chunks);
    await files.write(EDGE_MANIFEST, json(artifact.manifest));

    const f = await edgeFidelity(files, backbone, batches, reference);
    // Files beyond the budget need no measurement to be over it (the isolate holds them all).
    const tooBig = artifact.manifest.total_bytes > budget;
    const measured = options.measure === false || tooBig ? null : await measureEdgeArtifact(dir, options.preload);
    const peak = measured ? Math.max(measured.peak_bytes["1x128"], measured.peak_bytes["2x128"]) : null;
    const overBudget = tooBig ? `its files (${formatMiB(artifact.manifest.total_bytes)}) alone exceed the ${formatMiB(budget)} budget` : peak !== null && peak > budget ? `peak isolate memory ${formatMiB(peak)} over the ${formatMiB(budget)} budget` : null;
    const rejected = !meetsBars(f) ? `fidelity below the bars (pooled ${f.minPooled.toFixed(5)} < ${FIDELITY_BARS.pooled} or token ${f.minToken.toFixed(5)} < ${FIDELITY_BARS.token})` : overBudget;
    reports.push({ plan: name, fidelity: f, measured, rejected });
    log(
      `${name}: ${formatMiB(artifact.manifest.total_bytes)} of files, pooled cosine ${f.minPooled.toFixed(5)}, token cosine ≥ ${f.minToken.toFixed(5)}` +
        (measured ? `, peak ${formatMiB(peak!)}, ${measured.tokens_per_second["1x128"]} tokens/s (1×128, WASM)` : "") +
        (rejected ? ` — ${auto ? "rejected" : overBudget && options.pipeline !== false ? "over one isolate" : "warning"}: ${rejected}` : ""),
    );
    if (auto && rejected) continue;
    const manifest: EdgeManifest = { ...artifact.manifest, ...(measured ? { measured: toManifestMeasurement(measured) } : {}) };
    if (overBudget && options.pipeline !== false) return { manifest: await writePipeline(backbone, dir, manifest, budget, options), reports };
    await files.write(EDGE_MANIFEST, json(manifest));
    return { manifest, reports };
  }
  // No plan fits one isolate: the first that meets the bars, over a pipeline of isolates.
  const fit = reports.find((r) => meetsBars(r.fidelity));
  if (fit && options.pipeline !== false) {
    await rm(join(dir, EDGE_DIR), { recursive: true, force: true });
    log(`no plan fits one isolate: rebuilding ${fit.plan} for a pipeline of isolates…`);
    const artifact = await buildEdgeArtifact(backbone, { plan: parsePlan(fit.plan), calibration, onnxruntimeWeb: ORT_WEB_VERSION });
    for (const [file, chunks] of artifact.files) await writeFileParts(files, file, chunks);
    const manifest = await writePipeline(backbone, dir, artifact.manifest, budget, options);
    if (manifest) return { manifest, reports };
  }
  await rm(join(dir, EDGE_DIR), { recursive: true, force: true });
  return { manifest: null, reports };
}

/** Re-plans after a measurement this many times at most before giving up on a pipeline. */
const PIPELINE_ATTEMPTS = 3;
/** Measured peaks under this share of their predictions: the predictions were generous, try a tighter plan. */
const GENEROUS = 0.9;
/** Headroom on measured ratios when re-planning. */
const MARGIN = 1.03;

/**
 * Cuts the artifact in `dir` (manifest `manifest`) into a pipeline of isolates and writes the manifest with it: the
 * stages are cut from sizes, then each is measured in a fresh process (as its Durable Object holds it, the worker's
 * code preloaded). A stage measured over the budget re-plans with the measured ratios; a kind of stage (token-table
 * shards, block runs) that all measured well under their predictions is re-planned tighter the same way, and the
 * tighter plan is kept when it needs fewer isolates and measures within the budget too. Returns the manifest, or
 * null (the manifest removed) when no pipeline fits.
 */
async function writePipeline(backbone: EncoderBackbone, dir: string, manifest: EdgeManifest, budget: number, options: WriteEdgeOptions): Promise<EdgeManifest | null> {
  const log = options.log ?? (() => {});
  const files = directoryFiles(dir);
  const costs: PipelineCosts = { ...DEFAULT_COSTS, correction: { ...DEFAULT_COSTS.correction }, activationBytes: rowActivationBytes(backbone.config, backbone.maxSequenceLength) };
  let best: EdgeManifest | null = null;
  for (let attempt = 1; attempt <= PIPELINE_ATTEMPTS; attempt++) {
    let plan: PipelinePlan;
    try {
      plan = await planPipeline(manifest, budget, costs);
    } catch (e) {
      if (!(e instanceof PipelinePlanError)) throw e;
      log(`no pipeline of isolates: ${e.message}`);
      break;
    }
    if (best && plan.stages.length >= best.pipeline!.stages.length) break; // not tighter
    const count = (kind: string) => plan.stages.filter((s) => s.kind === kind).length;
    log(`pipeline of ${plan.stages.length} isolates: token-table shards ${count("embedding")}, block stages ${count("blocks")} (predicted peaks ≤ ${formatMiB(Math.max(...plan.stages.map((s) => s.estimated_bytes)))})`);
    await files.write(EDGE_MANIFEST, json({ ...manifest, pipeline: plan }));
    if (options.measure === false) return { ...manifest, pipeline: plan };
    for (const [k, stage] of plan.stages.entries()) {
      stage.measured_bytes = (await measurePipelineStage(dir, k, options.preload)).peak_bytes;
      log(`  ${describeStage(plan, k)}: measured ${formatMiB(stage.measured_bytes)}, predicted ${formatMiB(stage.estimated_bytes)}`);
    }
    const over = plan.stages.filter((s) => s.measured_bytes! > budget);
    const ratios = { embedding: [] as number[], blocks: [] as number[] };
    for (const s of plan.stages) ratios[s.kind].push(s.measured_bytes! / s.estimated_bytes);
    if (!over.length) best = { ...manifest, pipeline: { ...plan, basis: "measured" } };
    const worst = (kind: "embedding" | "blocks") => (ratios[kind].length ? Math.max(...ratios[kind]) : 1);
    const generous = (["embedding", "blocks"] as const).filter((kind) => worst(kind) < GENEROUS);
    if (!over.length && !generous.length) break;
    // Re-plan with the measured ratios: looser after a stage over the budget, tighter for a kind of stage whose
    // predictions were all generous.
    for (const kind of ["embedding", "blocks"] as const) {
      if (over.length) costs.correction[kind] *= Math.max(1, worst(kind) * MARGIN);
      else if (generous.includes(kind)) costs.correction[kind] *= worst(kind) * MARGIN;
    }
    log(over.length ? `${over.length} stage(s) measured over the ${formatMiB(budget)} budget: re-planning with the measured ratios` : `${generous.join(" and ")} stages measured well under their predictions: trying a tighter plan with the measured ratios`);
  }
  if (best) {
    await files.write(EDGE_MANIFEST, json(best));
    log(`kept the pipeline of ${best.pipeline!.stages.length} isolates`);
    return best;
  }
  await rm(join(dir, EDGE_DIR), { recursive: true, force: true });
  return null;
}

async function floatReference(backbone: Backbone, batches: ReturnType<typeof calibrationBatches>): Promise<Float32Array[]> {
  const session = await backbone.createSession(nodeRuntime({ threads: 0 }));
  try {
    const out: Float32Array[] = [];
    for (const batch of batches) out.push(Float32Array.from(toFloat32((await session.forward(batch)).sequenceOutput)));
    return out;
  } finally {
    await session.release();
  }
}

/** The artifact, loaded as the worker loads it, against the float graph on the calibration batches. */
async function edgeFidelity(files: ReturnType<typeof directoryFiles>, backbone: Backbone, batches: ReturnType<typeof calibrationBatches>, reference: Float32Array[]): Promise<Fidelity> {
  const model = await EdgeModel.load(files, backbone, wasmRuntime());
  try {
    let worst: Fidelity = { minToken: 1, meanToken: 1, minPooled: 1 };
    for (const [i, batch] of batches.entries()) {
      const f = fidelity(reference[i], toFloat32((await model.forward(batch)).sequenceOutput), batch.paddingMask, batch.batchSize);
      worst = { minToken: Math.min(worst.minToken, f.minToken), meanToken: Math.min(worst.meanToken, f.meanToken), minPooled: Math.min(worst.minPooled, f.minPooled) };
    }
    return worst;
  } finally {
    await model.release();
  }
}

function toManifestMeasurement(m: EdgeMeasurement): NonNullable<EdgeManifest["measured"]> {
  return { runtime: m.runtime, peak_bytes: m.peak_bytes, wasm_memory_bytes: m.wasm_memory_bytes, load_ms: m.load_ms, tokens_per_second: m.tokens_per_second, at: m.at };
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
