/**
 * Loads an edge artifact (artifact.ts) into onnxruntime sessions and runs it: the same code in the worker, the CLI
 * and the tests. Loading keeps memory lean: the token table goes to a JavaScript buffer once; each stage's weights
 * are read, handed to onnxruntime (which copies them into its WASM heap) and dropped before the next stage is read,
 * so the peak is about the weights once plus one stage, not twice the model.
 */
import type { InferenceSession } from "onnxruntime-common";
import type { Backbone } from "../backbone/backbone.js";
import { checkBatch, type TokenBatch } from "../backbone/inputs.js";
import type { ForwardOptions, ForwardResult } from "../backbone/session.js";
import type { LoraAdapter } from "../lora/adapter.js";
import { AdapterFeeds } from "../lora/stack.js";
import type { PresetFiles } from "../presets/store.js";
import { dequantizeRow, type BlockQuantized } from "../quant/quantize.js";
import { sha256Hex } from "../runner/signing.js";
import type { OnnxRuntime } from "../runtime/runtime.js";
import { EDGE_DIR, EDGE_MANIFEST, EdgeArtifactError, parseEdgeManifest, type EdgeManifest } from "./artifact.js";

/** Where an artifact's files come from: any preset store's files, plus a copy-free read where the store has one. */
export interface EdgeFiles extends Pick<PresetFiles, "location" | "read"> {
  /**
   * Reads the whole file into `target` when its size is `target.byteLength`: returns its actual size (nothing is
   * read when it differs), the filled bytes (`target`'s memory, possibly under a new ArrayBuffer: a BYOB stream
   * reader transfers the buffer it fills) and the sha256 the store keeps for it, if any; null when it does not exist.
   */
  readInto?(file: string, target: Uint8Array): Promise<{ size: number; data?: Uint8Array; sha256?: string } | null>;
}

type FileRef = { file: string; bytes: number; sha256: string };

export interface EdgeLoadOptions {
  /** Hash every file against the manifest even when the store has no checksum of its own (costs a copy per file). */
  verify?: boolean;
  /**
   * Refuse to grow the runtime's WASM memory beyond this many bytes (checked before each stage, against the
   * stage's weights): an isolate over its limit is killed with every request in it, a refused load is an error.
   */
  memoryLimitBytes?: number;
  /** Called after each file is loaded (for progress and memory sampling). */
  onProgress?(step: { file: string; done: number; total: number }): void;
}

/** The runtime cannot take the artifact within the memory limit. */
export class EdgeMemoryError extends Error {
  override name = "EdgeMemoryError";
}

/** Whether the preset has an edge artifact (without loading it). */
export async function readEdgeManifest(files: Pick<PresetFiles, "location" | "read">): Promise<EdgeManifest | null> {
  const bytes = await files.read(EDGE_MANIFEST);
  return bytes === null ? null : parseEdgeManifest(bytes, files.location);
}

export class EdgeModel {
  private readonly feeds: AdapterFeeds | null;

  private constructor(
    readonly manifest: EdgeManifest,
    readonly runtime: OnnxRuntime,
    private readonly backbone: Backbone,
    private readonly table: BlockQuantized | null,
    private readonly sessions: InferenceSession[],
  ) {
    this.feeds = manifest.lora ? new AdapterFeeds(backbone.loraTargets()) : null;
  }

  /** Loads the artifact of `files` for `backbone` (its config; weights are never materialised). */
  static async load(files: EdgeFiles, backbone: Backbone, runtime: OnnxRuntime, options: EdgeLoadOptions = {}): Promise<EdgeModel> {
    const manifest = await readEdgeManifest(files);
    if (!manifest) throw new EdgeArtifactError(`${files.location} has no edge artifact (${EDGE_MANIFEST})`);
    checkCompatible(manifest, backbone, runtime, files.location);
    const limit = options.memoryLimitBytes ?? Infinity;
    const total = (manifest.embedding ? 1 : 0) + 2 * manifest.stages.length;
    let done = 0;
    // Stage weights are read into one reused buffer: ORT copies them into its heap, so JavaScript never holds more
    // than the largest stage (and makes no garbage per stage for the GC to find later).
    const scratchBytes = Math.max(...manifest.stages.map((s) => s.data.bytes));
    let scratch: Uint8Array = new Uint8Array(scratchBytes);
    const read = async (ref: FileRef, into?: Uint8Array): Promise<Uint8Array> => {
      const fail = (problem: string) => new EdgeArtifactError(`${files.location}/${ref.file} ${problem}: reinstall the preset`);
      let bytes: Uint8Array;
      let storedSha256: string | undefined;
      if (into && files.readInto) {
        const got = await files.readInto(ref.file, into.subarray(0, ref.bytes));
        if (got === null) throw fail("is missing");
        if (got.size !== ref.bytes || !got.data) throw fail(`has ${got.size} bytes, the manifest says ${ref.bytes}: the artifact is truncated or was replaced`);
        bytes = got.data;
        // A BYOB read hands the memory back under a new ArrayBuffer (the old one is detached): keep using it.
        if (bytes.buffer !== scratch.buffer) scratch = new Uint8Array(bytes.buffer, bytes.byteOffset, scratchBytes);
        storedSha256 = got.sha256;
      } else {
        const whole = await files.read(ref.file);
        if (whole === null) throw fail("is missing");
        if (whole.byteLength !== ref.bytes) throw fail(`has ${whole.byteLength} bytes, the manifest says ${ref.bytes}: the artifact is truncated or was replaced`);
        bytes = whole;
      }
      // The store's own checksum (R2 keeps the sha256 sent at upload) costs nothing; hashing costs a copy.
      const sha256 = storedSha256 ?? (options.verify ? await sha256Hex(bytes) : ref.sha256);
      if (sha256 !== ref.sha256) throw fail("does not match its sha256 in the manifest");
      options.onProgress?.({ file: ref.file, done: ++done, total });
      return bytes;
    };

    const table = manifest.embedding ? embeddingTable(manifest.embedding, await read(manifest.embedding)) : null;
    const sessions: InferenceSession[] = [];
    try {
      for (const stage of manifest.stages) {
        const used = runtime.memoryBytes?.() ?? 0;
        if (used + stage.data.bytes > limit) {
          throw new EdgeMemoryError(`loading ${files.location}/${stage.data.file} (${mib(stage.data.bytes)}) would grow onnxruntime's memory (${mib(used)}) past the limit of ${mib(limit)}`);
        }
        const graph = await read(stage.graph);
        const data = await read(stage.data, scratch);
        const externalData = [{ path: stage.data.file.slice(EDGE_DIR.length), data }];
        // No memory patterns: rows come in every length, and ORT keeps one planned buffer per input shape it sees.
        sessions.push(await runtime.ort.InferenceSession.create(graph, { ...runtime.sessionOptions, enableMemPattern: false, externalData }));
      }
    } catch (e) {
      await Promise.all(sessions.map((s) => s.release()));
      throw e;
    }
    return new EdgeModel(manifest, runtime, backbone, table, sessions);
  }

  /** Bytes the model holds in this isolate: the token table plus the stages' weights. */
  get bytes(): number {
    return this.manifest.total_bytes;
  }

  /**
   * Runs the batch one row at a time, each cut to its last valid token: one WASM thread gains nothing from
   * batching, padding costs nothing, activations stay one row's size, and a row's result does not depend on its
   * batch-mates (int8 activations are quantized per tensor). Positions after a row's last valid token are 0.
   */
  async forward(batch: TokenBatch, options: ForwardOptions = {}): Promise<ForwardResult> {
    checkBatch(batch, { vocabularySize: this.backbone.vocabularySize, maxSequenceLength: this.backbone.maxSequenceLength });
    if (!this.feeds && (options.adapters?.length || options.adapterIds)) throw new EdgeArtifactError("this edge artifact was built without LoRA inputs");
    const { batchSize: B, sequenceLength: T } = batch;
    const H = this.manifest.hidden_dim;
    const adapters = this.feeds?.rowAdapters(B, options);
    const out = new Float32Array(B * T * H);
    for (let b = 0; b < B; b++) {
      const mask = batch.paddingMask.subarray(b * T, (b + 1) * T);
      const length = mask.lastIndexOf(1) + 1;
      if (length === 0) continue;
      const row = await this.forwardRow(batch.tokenIds.subarray(b * T, b * T + length), mask.subarray(0, length), adapters?.[b] ?? null);
      out.set(row, b * T * H);
    }
    return { sequenceOutput: { dtype: "float32", shape: [B, T, H], data: out } };
  }

  private async forwardRow(tokenIds: Int32Array, paddingMask: Int32Array, adapter: LoraAdapter | null): Promise<Float32Array> {
    const { Tensor } = this.runtime.ort;
    const L = tokenIds.length;
    const feeds: Record<string, InstanceType<typeof Tensor>> = { padding_mask: new Tensor("int32", paddingMask, [1, L]) };
    if (this.feeds) {
      const { ids, inputs } = this.feeds.feeds(1, { adapters: adapter ? [adapter] : [] });
      feeds.adapter_ids = new Tensor("int32", ids, [1]);
      for (const [name, { data, dims }] of inputs) feeds[name] = new Tensor("float32", data, dims);
    }
    if (this.table) feeds.token_vectors = new Tensor("float32", this.lookup(tokenIds), [1, L, this.manifest.hidden_dim]);
    else feeds.token_ids = new Tensor("int32", tokenIds, [1, L]);
    let hidden: InstanceType<typeof Tensor> | undefined;
    for (const session of this.sessions) {
      const stageFeeds: Record<string, InstanceType<typeof Tensor>> = {};
      for (const name of session.inputNames) stageFeeds[name] = name === "hidden" ? hidden! : feeds[name];
      hidden = (await session.run(stageFeeds)).hidden_out;
    }
    return hidden!.data as Float32Array;
  }

  /** Token vectors [B·T, H] dequantized from the table. */
  private lookup(ids: Int32Array): Float32Array {
    const table = this.table!;
    const out = new Float32Array(ids.length * table.columns);
    for (let i = 0; i < ids.length; i++) dequantizeRow(table, ids[i], out, i * table.columns);
    return out;
  }

  async release(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}

function checkCompatible(manifest: EdgeManifest, backbone: Backbone, runtime: OnnxRuntime, location: string): void {
  const config = backbone.config as { numLayers?: number };
  if (manifest.class_name !== backbone.className || manifest.num_layers !== config.numLayers || manifest.hidden_dim !== backbone.hiddenDim) {
    throw new EdgeArtifactError(
      `${location}/${EDGE_MANIFEST} was built for a ${manifest.class_name} with ${manifest.num_layers} layers of ${manifest.hidden_dim}, not this preset's ${backbone.className} (${config.numLayers} × ${backbone.hiddenDim}): reinstall the preset`,
    );
  }
  const wanted = `onnxruntime-web ${manifest.onnxruntime_web}`;
  if (runtime.version !== wanted) {
    throw new EdgeArtifactError(`${location}/${EDGE_MANIFEST} was built for ${wanted}; this runtime is ${runtime.version ?? runtime.name}: rebuild the edge artifact (reinstall the preset)`);
  }
}

function embeddingTable(entry: NonNullable<EdgeManifest["embedding"]>, bytes: Uint8Array): BlockQuantized {
  const view = ([offset, length]: [number, number]) => bytes.subarray(offset, offset + length);
  const floats = (section: [number, number]) => {
    let b = view(section);
    if (b.byteOffset % 4) b = b.slice(); // a Float32Array view needs 4-byte alignment
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  return {
    bits: entry.bits,
    blockSize: entry.block_size,
    rows: entry.rows,
    columns: entry.columns,
    codes: view(entry.codes),
    scales: floats(entry.scales),
    zeroPoints: view(entry.zero_points),
    columnScales: floats(entry.column_scales),
  };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 1)} MiB`;
