/**
 * Node-only: compiles a preset directory's edge artifact (shared/edge) at install time. The float model is
 * calibrated on text through the preset's tokenizer (random ids without one), each candidate plan is built,
 * checked against the float graph (FIDELITY_BARS) and measured in a fresh process (edge-measure.ts); `auto`
 * keeps the first plan that meets the bars within the isolate budget, or none (the preset then runs on the
 * runner pool).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import {
  EDGE_MANIFEST,
  EdgeModel,
  FIDELITY_BARS,
  NoTokenizerError,
  ORT_WEB_VERSION,
  Preprocessor,
  buildEdgeArtifact,
  calibrate,
  calibrationBatches,
  fidelity,
  meetsBars,
  parsePlan,
  supportsEdgeArtifact,
  toFloat32,
  type Backbone,
  type EdgeManifest,
  type Fidelity,
} from "../index.js";
import { EDGE_DIR } from "../edge/artifact.js";
import { writeFileParts } from "../presets/store.js";
import { directoryFiles } from "./fs-preset-store.js";
import { measureEdgeArtifact, type EdgeMeasurement } from "./edge-measure.js";
import { nodeRuntime, wasmRuntime } from "./runtimes.js";

/** Plans `auto` tries, best first: int8 speed, then smaller mixed and int4 plans. */
const AUTO_PLANS = ["int8", "mixed", "int4"] as const;
const DEFAULT_BUDGET_BYTES = 128 * 2 ** 20;

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
  log?: (line: string) => void;
}

/**
 * Writes `<dir>/edge/` for the preset in `dir` (whose backbone, with weights, is `backbone`). Returns the kept
 * manifest, or null when no plan qualifies (auto) — then `<dir>/edge/` is removed.
 */
export async function writeEdgeArtifact(backbone: Backbone, dir: string, options: WriteEdgeOptions = {}): Promise<{ manifest: EdgeManifest | null; reports: EdgeBuildReport[] }> {
  if (!supportsEdgeArtifact(backbone)) throw new Error(`${backbone.className} has no edge artifact: only encoders run in the isolate`);
  const log = options.log ?? (() => {});
  const budget = options.budgetBytes ?? DEFAULT_BUDGET_BYTES;
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
    const measured = options.measure === false ? null : await measureEdgeArtifact(dir, options.preload);
    const peak = measured ? Math.max(measured.peak_bytes["1x128"], measured.peak_bytes["2x128"]) : null;
    const rejected = !meetsBars(f)
      ? `fidelity below the bars (pooled ${f.minPooled.toFixed(5)} < ${FIDELITY_BARS.pooled} or token ${f.minToken.toFixed(5)} < ${FIDELITY_BARS.token})`
      : peak !== null && peak > budget
        ? `peak isolate memory ${mib(peak)} over the ${mib(budget)} budget`
        : null;
    reports.push({ plan: name, fidelity: f, measured, rejected });
    log(
      `${name}: ${mib(artifact.manifest.total_bytes)} of files, pooled cosine ${f.minPooled.toFixed(5)}, token cosine ≥ ${f.minToken.toFixed(5)}` +
        (measured ? `, peak ${mib(peak!)}, ${measured.tokens_per_second["1x128"]} tokens/s (1×128, WASM)` : "") +
        (rejected ? ` — ${auto ? "rejected" : "warning"}: ${rejected}` : ""),
    );
    if (auto && rejected) continue;
    const manifest: EdgeManifest = { ...artifact.manifest, ...(measured ? { measured: toManifestMeasurement(measured) } : {}) };
    await files.write(EDGE_MANIFEST, json(manifest));
    return { manifest, reports };
  }
  await rm(join(dir, EDGE_DIR), { recursive: true, force: true });
  return { manifest: null, reports };
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
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
