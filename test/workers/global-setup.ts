/**
 * Global setup of the `workers` project (runs in Node, once per run): builds the presets the worker tests
 * serve and hands them to the workerd side as base64 (`inject("edgePresets")` in test/workers/setup.ts, which
 * writes them into each test file's fresh R2 bucket). Everything is generated here: the tiny DistilBERT is
 * the golden one (test/fixtures/golden, re-saved in the library's preset layout) with a small WordPiece
 * tokenizer built by test/helpers/tiny-tokenizers.ts; the Gemma preset (config and a tiny SentencePiece
 * tokenizer) and the oversized DistilBERT (config only) are routed to the runner pool, never loaded here.
 * `edge-*` are small DistilBERTs with int8 edge artifacts (what the isolate loads instead of building graphs):
 * a good one, whose expected output the library computes here on the same onnxruntime-web build, and broken ones
 * (a truncated stage, an artifact built for another onnxruntime-web, a manifest whose measured peak is far over
 * the budget, and one that under-reports its peak). `edge-pipeline*` are a small DistilBERT whose artifact has a
 * pipeline plan forced over several stages by a tiny budget (test/workers/pipeline.test.ts), with its expected
 * outputs (base, and with LoRA adapters of every layer or of the last one only), and broken variants.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestProject } from "vitest/node";
import {
  Backbone,
  DistilBertBackbone,
  EDGE_MANIFEST,
  GemmaBackbone,
  ORT_WEB_VERSION,
  buildEdgeArtifact,
  loadTokenizer,
  loraSafetensorsFormat,
  parsePlan,
  planPipeline,
  saveTokenizer,
  type EdgeManifest,
  type PresetFiles,
} from "../../shared/node/index.js";
import { concatBytes as concat } from "../../shared/weights/safetensors.js";
import { edgeReference } from "../helpers/edge-reference.js";
import { GOLDEN_DIR } from "../helpers/golden.js";
import { pipelineAdapters } from "../helpers/pipeline-adapters.js";
import { gemmaStyleModel, wordPieceFiles } from "../helpers/tiny-tokenizers.js";

export type EdgePresets = Record<string, Record<string, string>>;

/** The edge-distilbert preset's output for `batch`, computed by the library in Node. */
export interface EdgeExpected {
  tokenIds: number[][];
  paddingMask: number[][];
  shape: number[];
  data: number[];
}

/** The edge-pipeline preset's outputs for `tokenIds`, per adapter: none, every layer's (seed 1), the last layer's (seed 2). */
export interface PipelineExpected {
  tokenIds: number[][];
  paddingMask: number[][];
  shape: number[];
  outputs: Record<"base" | "all" | "last", number[]>;
}

declare module "vitest" {
  export interface ProvidedContext {
    edgePresets: EdgePresets;
    edgeExpected: EdgeExpected;
    pipelineExpected: PipelineExpected;
  }
}

/**
 * A small DistilBERT with an int8 artifact cut into a pipeline by a budget so small (and no fixed overheads) that
 * the token table needs 3 shards and each artifact stage a block stage of its own; copies of it for tests that
 * break one (each preset has its own stage objects and failure memory), one with a truncated block stage, and one
 * whose second block stage claims a peak that leaves no room beside a co-located stage.
 */
async function pipelinePresets(): Promise<{ presets: Record<string, Map<string, Uint8Array>>; expected: PipelineExpected }> {
  const backbone = new DistilBertBackbone({ vocabularySize: 3000, numLayers: 3, numHeads: 4, hiddenDim: 64, intermediateDim: 128, maxSequenceLength: 64, seed: 13 });
  const files = new Map<string, Uint8Array>();
  await backbone.saveToPreset(collector(files, "memory:edge-pipeline"));
  files.delete("model.safetensors");
  const artifact = await buildEdgeArtifact(backbone, { plan: parsePlan("int8"), stageBytes: 40_000, onnxruntimeWeb: ORT_WEB_VERSION });
  for (const [file, chunks] of artifact.files) files.set(file, concat(chunks));
  const stageFiles = artifact.manifest.stages.map((s) => s.graph.bytes + s.data.bytes);
  const bare = { allowanceBytes: 0, ortBaseBytes: 0, wasmPerFileByte: 1, activationBytes: 0, correction: { embedding: 1, blocks: 1 } };
  const pipeline = await planPipeline(artifact.manifest, Math.max(Math.ceil(artifact.manifest.embedding!.bytes / 2.5), Math.ceil(Math.max(...stageFiles) * 2.05)), bare);
  const manifest = { ...artifact.manifest, pipeline };
  const withManifest = (m: EdgeManifest) => new Map([...files, [EDGE_MANIFEST, new TextEncoder().encode(JSON.stringify(m))]]);
  const good = withManifest(manifest);

  const dir = mkdtempSync(join(tmpdir(), "edgebone-pipeline-preset-"));
  for (const [file, bytes] of good) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), bytes);
  }
  const adapters = pipelineAdapters(backbone.loraTargets());
  for (const [name, adapter] of Object.entries(adapters)) writeFileSync(join(dir, `${name}.safetensors`), await loraSafetensorsFormat.encode(adapter, backbone));
  const tokenIds = [[2, 17, 2999, 512, 3, 0, 0], [2, 1500, 6, 7, 8, 1000, 3]];
  const paddingMask = [[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]];
  const batch = { token_ids: tokenIds, padding_mask: paddingMask };
  const [base, all, last] = await Promise.all([undefined, "all", "last"].map((adapter) => edgeReference(dir, { ...batch, adapter: adapter && `${adapter}.safetensors` })));
  rmSync(dir, { recursive: true, force: true });

  const lastBlocks = pipeline.stages.length - 1;
  const stage = artifact.manifest.stages[(pipeline.stages[lastBlocks] as { stages: [number, number] }).stages[0]].data.file;
  const truncated = new Map(good);
  truncated.set(stage, good.get(stage)!.subarray(0, 1000));
  const firstBlocks = pipeline.stages.findIndex((s) => s.kind === "blocks");
  const heavy = { ...pipeline, stages: pipeline.stages.map((s, k) => (k === firstBlocks + 1 ? { ...s, measured_bytes: 127 * 2 ** 20 } : s)) };
  return {
    presets: { "edge-pipeline": good, "edge-pipeline-hang": good, "edge-pipeline-broken": truncated, "edge-pipeline-heavy": withManifest({ ...manifest, pipeline: heavy }) },
    expected: { tokenIds, paddingMask, shape: base.shape, outputs: { base: base.data, all: all.data, last: last.data } },
  };
}

/** A small DistilBERT with its int8 edge artifact, its variants with a broken artifact, and its expected output. */
async function edgePresets(): Promise<{ presets: Record<string, Map<string, Uint8Array>>; expected: EdgeExpected }> {
  const backbone = new DistilBertBackbone({ vocabularySize: 1000, numLayers: 3, numHeads: 4, hiddenDim: 64, intermediateDim: 128, maxSequenceLength: 64, seed: 11 });
  const files = new Map<string, Uint8Array>();
  await backbone.saveToPreset(collector(files, "memory:edge-distilbert"));
  files.delete("model.safetensors"); // the isolate never reads the float weights of a preset with an artifact
  const artifact = await buildEdgeArtifact(backbone, { plan: parsePlan("int8"), stageBytes: 40_000, onnxruntimeWeb: ORT_WEB_VERSION });
  for (const [file, chunks] of artifact.files) files.set(file, concat(chunks));
  const withManifest = (manifest: EdgeManifest) => new Map([...files, [EDGE_MANIFEST, new TextEncoder().encode(JSON.stringify(manifest))]]);
  const good = withManifest(artifact.manifest);

  // onnxruntime-web cannot load inside vitest's own process: the reference runs in a fresh Node process.
  const dir = mkdtempSync(join(tmpdir(), "edgebone-edge-preset-"));
  for (const [file, bytes] of good) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), bytes);
  }
  const tokenIds = [[2, 17, 99, 512, 3, 0], [2, 5, 6, 7, 8, 3]];
  const paddingMask = [[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]];
  const out = await edgeReference(dir, { token_ids: tokenIds, padding_mask: paddingMask });
  rmSync(dir, { recursive: true, force: true });

  const stage = artifact.manifest.stages[1].data.file;
  const truncated = new Map(good);
  truncated.set(stage, good.get(stage)!.subarray(0, 1000));
  const measured = (peak: number) => ({ runtime: `onnxruntime-web ${ORT_WEB_VERSION}`, peak_bytes: { "1x128": peak, "2x128": peak }, wasm_memory_bytes: peak, load_ms: 1, tokens_per_second: { "1x128": 1, "2x128": 1 }, at: "2026-12-01T00:00:00Z" });
  return {
    presets: {
      "edge-distilbert": good,
      "edge-truncated": truncated,
      "edge-old-ort": withManifest({ ...artifact.manifest, onnxruntime_web: "1.29.0" }),
      "edge-heavy": withManifest({ ...artifact.manifest, measured: measured(900 * 2 ** 20) }),
      "edge-underreported": withManifest({ ...artifact.manifest, measured: measured(2 ** 20) }),
    },
    expected: { tokenIds, paddingMask, ...out },
  };
}

function collector(files: Map<string, Uint8Array>, location: string): PresetFiles {
  return { location, read: async (f) => files.get(f) ?? null, write: async (f, bytes) => void files.set(f, bytes) };
}

const b64 = (files: Map<string, Uint8Array>) => Object.fromEntries([...files].map(([f, bytes]) => [f, Buffer.from(bytes).toString("base64")]));

export default async function setup(project: TestProject): Promise<void> {
  const distilbert = new Map<string, Uint8Array>();
  const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}distilbert`);
  await backbone.saveToPreset(collector(distilbert, "memory:tiny-distilbert"));
  for (const [file, bytes] of Object.entries(wordPieceFiles())) distilbert.set(file, bytes);
  await saveTokenizer(await loadTokenizer(collector(distilbert, "memory:tiny-distilbert")), collector(distilbert, "memory:tiny-distilbert"));
  distilbert.delete("vocab.txt");

  const gemma = new Map<string, Uint8Array>();
  const tinyGemma = new GemmaBackbone({ vocabularySize: 512, numLayers: 2, numQueryHeads: 4, numKeyValueHeads: 2, hiddenDim: 32, intermediateDim: 64, headDim: 8, seed: 7 });
  await tinyGemma.saveToPreset(collector(gemma, "memory:tiny-gemma"));
  const gemmaTokenizer = new Map([["config.json", gemma.get("config.json")!], ["tokenizer.model", gemmaStyleModel()]]);
  await saveTokenizer(await loadTokenizer(collector(gemmaTokenizer, "memory:tiny-gemma")), collector(gemmaTokenizer, "memory:tiny-gemma"));
  gemmaTokenizer.delete("tokenizer.model");

  // far over the 128 MB isolate budget; only its config is needed to route it
  const hf = JSON.parse(readFileSync(`${GOLDEN_DIR}distilbert/config.json`, "utf8"));
  const huge = new Map([["config.json", new TextEncoder().encode(JSON.stringify({ ...hf, dim: 2048, hidden_dim: 8192, n_layers: 24, n_heads: 16 }))]]);

  const [edge, pipeline] = await Promise.all([edgePresets(), pipelinePresets()]);
  project.provide("edgeExpected", edge.expected);
  project.provide("pipelineExpected", pipeline.expected);
  project.provide("edgePresets", {
    ...Object.fromEntries(Object.entries({ ...edge.presets, ...pipeline.presets }).map(([name, files]) => [name, b64(files)])),
    "tiny-distilbert": b64(distilbert),
    "tiny-distilbert-copy": b64(distilbert), // same architecture, another base name
    "tiny-gemma": b64(gemmaTokenizer), // config and tokenizer: routed, tokenized, never loaded here
    "huge-distilbert": b64(huge),
  });
}
