/**
 * Edge artifacts: a preset's forward pass compiled once, at install time, into what a 128 MB isolate can load
 * without building anything: quantized stage graphs (ONNX, weights as external data) and the token embedding table
 * as block-quantized rows that are looked up in JavaScript, outside onnxruntime's never-shrinking WASM heap.
 *
 *   edge/manifest.json       this file's `EdgeManifest`: plan, stages, sizes, sha256s, measured memory and speed
 *   edge/embedding.bin       token table: codes | scales | zero points (offsets in the manifest)
 *   edge/stage-<k>.onnx      stage k's graph (embeddings and/or a range of blocks)
 *   edge/stage-<k>.bin       stage k's weights (ONNX external data, 4 KiB-aligned)
 *
 * Stages exist so that loading never holds more than one stage's weights in JavaScript beside onnxruntime's copy:
 * each stage is its own session, created from its own file and dropped before the next is read.
 */
import { z } from "zod";
import type { Backbone } from "../backbone/backbone.js";
import { GraphBuilder } from "../graph/graph-builder.js";
import type { EncoderBackbone, EncoderStage } from "../models/encoder/encoder-backbone.js";
import { planName, type QuantPlan } from "../quant/plan.js";
import { EMBEDDING_BLOCK, quantizeEmbedding, QuantizedWeights, type CalibrationStats } from "../quant/weight-encoder.js";
import { sha256Hex } from "../runner/signing.js";
import { concatBytes } from "../weights/safetensors.js";

export const EDGE_DIR = "edge/";
export const EDGE_MANIFEST = `${EDGE_DIR}manifest.json`;
const EDGE_FORMAT = "edgebone-edge";
const EDGE_FORMAT_VERSION = 1;
/** Default weight bytes per stage: one base-size encoder block at int8. */
const DEFAULT_STAGE_BYTES = 8 * 2 ** 20;

const fileRef = z.object({ file: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const range = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);

const byteCount = z.number().int().nonnegative();
const stageCost = {
  /** Bytes of the stage's part of the artifact's files. */
  bytes: byteCount,
  /** Peak isolate memory the cost model predicts (weights, onnxruntime, activations, the isolate's own). */
  estimated_bytes: byteCount,
  /** Peak isolate memory measured in a fresh process on the same onnxruntime-web build (install time). */
  measured_bytes: byteCount.optional(),
  /** Regexes over KerasHub variable paths (`getLayoutMap`'s vocabulary, matched like `re.search`): what it holds. */
  weights: z.array(z.string()),
};

const pipelineSchema = z.object({
  /** Peak isolate memory every stage must stay within. */
  budget_bytes: byteCount,
  /** Whether the stages' peaks were measured (each in a fresh process) or only predicted from sizes. */
  basis: z.enum(["sizes", "measured"]),
  /** Digest of the files the stages load: a stage loaded for another version of the artifact reloads. */
  id: z.string().regex(/^[0-9a-f]{16}$/),
  stages: z
    .array(
      z.discriminatedUnion("kind", [
        /** Rows [from, to) of the token table, looked up in JavaScript (no onnxruntime). */
        z.object({ kind: z.literal("embedding"), rows: range, ...stageCost }),
        /** The artifact's stages [from, to), i.e. its blocks [from, to) (and the embeddings' norm with stage 0). */
        z.object({ kind: z.literal("blocks"), stages: range, blocks: range, ...stageCost }),
      ]),
    )
    .min(2),
});

const edgeManifestSchema = z.object({
  format: z.literal(EDGE_FORMAT),
  version: z.number().int(),
  /** The onnxruntime-web version the graphs were built for and measured on (contrib ops, ORT-internal loading). */
  onnxruntime_web: z.string(),
  class_name: z.string(),
  num_layers: z.number().int().positive(),
  hidden_dim: z.number().int().positive(),
  plan: z.string(),
  /** The stage graphs take LoRA adapters (stacked factors + adapter_ids) as inputs. */
  lora: z.boolean(),
  /** The token table looked up in JavaScript; null when stage 0 gathers from its own (quantized) table. */
  embedding: fileRef
    .extend({
      bits: z.union([z.literal(4), z.literal(8)]),
      block_size: z.number().int().positive(),
      rows: z.number().int().positive(),
      columns: z.number().int().positive(),
      /** [offset, length] of each section in the file. */
      codes: range,
      scales: range,
      zero_points: range,
      column_scales: range,
    })
    .nullable(),
  stages: z
    .array(
      z.object({
        graph: fileRef,
        data: fileRef,
        embed: z.enum(["ids", "vectors"]).nullable(),
        blocks: range,
      }),
    )
    .min(1),
  /** Bytes of every file (what R2 holds and, roughly, what the isolate holds once loaded). */
  total_bytes: z.number().int().nonnegative(),
  /** How the artifact is cut over a chain of isolates when it does not fit one (shared/edge/pipeline.ts). */
  pipeline: pipelineSchema.optional(),
  /** Filled by `measureEdgeArtifact` (Node, same onnxruntime-web build) at install time. */
  measured: z
    .object({
      runtime: z.string(),
      /** Isolate memory at its peak: JS heap + ArrayBuffers + onnxruntime's WebAssembly.Memory, loading included. */
      peak_bytes: z.record(z.string(), z.number()),
      wasm_memory_bytes: z.number(),
      load_ms: z.number(),
      tokens_per_second: z.record(z.string(), z.number()),
      at: z.string(),
    })
    .optional(),
});

export type EdgeManifest = z.infer<typeof edgeManifestSchema>;
export type EdgeStageEntry = EdgeManifest["stages"][number];
export type PipelinePlan = z.infer<typeof pipelineSchema>;
export type PipelineStageEntry = PipelinePlan["stages"][number];

export interface EdgeBuildOptions {
  plan: QuantPlan;
  /** SmoothQuant statistics for int8 layers (`shared/quant/calibrate.ts`). */
  calibration?: CalibrationStats;
  /** Where the token table is read: in JavaScript (default; needs an int8/int4 embedding) or inside stage 0. */
  lookup?: "js" | "graph";
  /**
   * Values per scale in the JavaScript token table: default one scale per row for int8 (256 levels need no finer
   * blocks, and a scale and zero point per 32 values would add 16% to the table), 32 for int4 (GatherBlockQuantized's
   * layout, which the in-graph lookup reads).
   */
  tableBlock?: number | "row";
  /** Weight bytes per stage (default 8 MiB): more stages, smaller transient copies while loading. */
  stageBytes?: number;
  /** Stage graphs with LoRA inputs (default true: the platform serves adapters on every preset). */
  lora?: boolean;
  /** The onnxruntime-web version the artifact targets (recorded; the loader refuses others). */
  onnxruntimeWeb: string;
}

export interface EdgeArtifact {
  manifest: EdgeManifest;
  /** Contents by file name (relative to the preset, `edge/…`), as chunks in order. */
  files: Map<string, Uint8Array[]>;
}

/** Whether a backbone can be compiled into edge stages (the encoders). */
export function supportsEdgeArtifact(backbone: Backbone): backbone is EncoderBackbone {
  return "buildStage" in backbone;
}

export async function buildEdgeArtifact(backbone: Backbone, options: EdgeBuildOptions): Promise<EdgeArtifact> {
  if (!supportsEdgeArtifact(backbone)) throw new Error(`${backbone.className} has no edge artifact: only encoders (DistilBERT, RoBERTa, XLM-R) run in the isolate`);
  const { plan } = options;
  const lookup = options.lookup ?? (plan.embedding === "float" ? "graph" : "js");
  if (lookup === "js" && plan.embedding === "float") throw new Error("a JavaScript embedding lookup needs a quantized embedding (int8 or int4)");
  const lora = options.lora ?? true;
  const weights = new QuantizedWeights(plan, options.calibration);
  const files = new Map<string, Uint8Array[]>();
  const ref = async (file: string, chunks: Uint8Array[]) => {
    files.set(file, chunks);
    return { file, bytes: chunks.reduce((n, c) => n + c.byteLength, 0), sha256: await sha256Hex(concatBytes(chunks)) };
  };

  let embedding: EdgeManifest["embedding"] = null;
  if (lookup === "js") {
    const bits = plan.embedding === "int8" ? 8 : 4;
    const t = quantizeEmbedding(backbone.tokenEmbedding, bits, options.tableBlock ?? (bits === 8 ? "row" : EMBEDDING_BLOCK));
    const floats = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const sections = [t.codes, floats(t.scales), t.zeroPoints, floats(t.columnScales!)];
    const chunks: Uint8Array[] = [];
    const offsets: [number, number][] = [];
    let at = 0;
    for (const section of sections) {
      const start = Math.ceil(at / 8) * 8; // Float32Array views need 4-byte alignment
      if (start > at) chunks.push(new Uint8Array(start - at));
      chunks.push(section);
      offsets.push([start, section.byteLength]);
      at = start + section.byteLength;
    }
    embedding = {
      ...(await ref(`${EDGE_DIR}embedding.bin`, chunks)),
      bits: t.bits, block_size: t.blockSize, rows: t.rows, columns: t.columns,
      codes: offsets[0], scales: offsets[1], zero_points: offsets[2], column_scales: offsets[3],
    };
  }

  const stages: EdgeStageEntry[] = [];
  for (const [k, stage] of stagePlan(backbone, weights, lookup, lora, options.stageBytes ?? DEFAULT_STAGE_BYTES).entries()) {
    const g = new GraphBuilder(`${backbone.name}_stage_${k}`, { weights });
    backbone.buildStage(g, stage);
    const data = `${EDGE_DIR}stage-${k}.bin`;
    const split = g.encodeSplit(data.slice(EDGE_DIR.length));
    stages.push({
      graph: await ref(`${EDGE_DIR}stage-${k}.onnx`, [split.model]),
      data: await ref(data, split.externalData.chunks),
      embed: stage.embed,
      blocks: stage.blocks,
    });
  }

  const manifest: EdgeManifest = {
    format: EDGE_FORMAT,
    version: EDGE_FORMAT_VERSION,
    onnxruntime_web: options.onnxruntimeWeb,
    class_name: backbone.className,
    num_layers: backbone.config.numLayers,
    hidden_dim: backbone.hiddenDim,
    plan: planName(plan),
    lora,
    embedding,
    stages,
    total_bytes: [...files.values()].flat().reduce((n, c) => n + c.byteLength, 0),
  };
  return { manifest, files };
}

/** Blocks grouped so that each stage's weights stay within `stageBytes` (at least one block per stage). */
function stagePlan(backbone: EncoderBackbone, weights: QuantizedWeights, lookup: "js" | "graph", lora: boolean, stageBytes: number): EncoderStage[] {
  const bytesOf = (stage: EncoderStage) => {
    const g = new GraphBuilder("size", { weights });
    backbone.buildStage(g, stage);
    return g.initializerBytes;
  };
  const layers = backbone.config.numLayers;
  const embed = lookup === "js" ? "vectors" : "ids";
  const embedBytes = bytesOf({ embed, blocks: [0, 0], lora: false });
  const blockBytes = Math.max(1, bytesOf({ embed: null, blocks: [0, 1], lora: false }));
  const perStage = Math.max(1, Math.floor(stageBytes / blockBytes));
  // Stage 0 also takes the blocks that fit beside the embeddings: at least one, unless the embeddings fill it.
  const first = Math.min(layers, embedBytes >= stageBytes ? 0 : Math.max(1, Math.floor((stageBytes - embedBytes) / blockBytes)));
  const stages: EncoderStage[] = [{ embed, blocks: [0, first], lora }];
  for (let from = first; from < layers; from += perStage) stages.push({ embed: null, blocks: [from, Math.min(layers, from + perStage)], lora });
  return stages;
}

/** The manifest of an artifact's bytes, or an error naming what is wrong with it. */
export function parseEdgeManifest(bytes: Uint8Array, location: string): EdgeManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new EdgeArtifactError(`${location}/${EDGE_MANIFEST} is not valid JSON`);
  }
  const parsed = edgeManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdgeArtifactError(`${location}/${EDGE_MANIFEST}: ${issue.path.join(".") || "manifest"}: ${issue.message}`);
  }
  if (parsed.data.version !== EDGE_FORMAT_VERSION) {
    throw new EdgeArtifactError(`${location}/${EDGE_MANIFEST} is edge format version ${parsed.data.version}; this Edgebone reads version ${EDGE_FORMAT_VERSION}: rebuild the artifact (reinstall the preset)`);
  }
  return parsed.data;
}

/** A missing, truncated, corrupted or incompatible artifact. */
export class EdgeArtifactError extends Error {
  override name = "EdgeArtifactError";
}
