/**
 * Loads an edge artifact (artifact.ts) into onnxruntime sessions and runs it: the same code in the worker, the CLI
 * and the tests. Loading keeps memory lean: the token table goes to a JavaScript buffer once; each stage's weights
 * are read, handed to onnxruntime (which copies them into its WASM heap) and dropped before the next stage is read,
 * so the peak is about the weights once plus one stage, not twice the model.
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import type { Backbone } from "../backbone/backbone.js";
import { InputError, checkBatch, type TokenBatch } from "../backbone/inputs.js";
import type { ForwardOptions, ForwardResult } from "../backbone/session.js";
import type { LoraAdapter } from "../lora/adapter.js";
import { AdapterFeeds } from "../lora/stack.js";
import type { PresetFiles } from "../presets/store.js";
import { dequantizeRow, type BlockQuantized } from "../quant/quantize.js";
import { sha256Hex } from "../runner/signing.js";
import type { OnnxRuntime } from "../runtime/runtime.js";
import { EDGE_DIR, EDGE_MANIFEST, EdgeArtifactError, parseEdgeManifest, type EdgeManifest, type EdgeStageEntry } from "./artifact.js";

/** Where an artifact's files come from: any preset store's files, plus copy-free and ranged reads where it has them. */
export interface EdgeFiles extends Pick<PresetFiles, "location" | "read" | "readRange"> {
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
  /**
   * Load only the artifact's stages [from, to) and no token table (a pipeline's block stage): the model then runs
   * hidden states (`forwardHidden`), not token ids.
   */
  stages?: [number, number];
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
  /** The projections this model's blocks adapt (all of them for a whole model). */
  private readonly targets: ReadonlySet<string>;
  private readonly slices = new WeakMap<LoraAdapter, LoraAdapter | null>();

  private constructor(
    readonly manifest: EdgeManifest,
    readonly runtime: OnnxRuntime,
    private readonly backbone: Backbone,
    private readonly table: EdgeEmbedding | null,
    /** The artifact stages loaded, in order, and their sessions. */
    private readonly parts: readonly EdgeStageEntry[],
    private readonly sessions: InferenceSession[],
    private readonly whole: boolean,
  ) {
    const [from, to] = [parts[0].blocks[0], parts[parts.length - 1].blocks[1]];
    const targets = backbone.loraTargets().filter((t) => t.layer >= from && t.layer < to);
    this.targets = new Set(targets.map((t) => t.kernelPath));
    this.feeds = manifest.lora ? new AdapterFeeds(targets) : null;
  }

  /** Loads the artifact of `files` for `backbone` (its config; weights are never materialised), or a range of its stages. */
  static async load(files: EdgeFiles, backbone: Backbone, runtime: OnnxRuntime, options: EdgeLoadOptions = {}): Promise<EdgeModel> {
    const manifest = await readEdgeManifest(files);
    if (!manifest) throw new EdgeArtifactError(`${files.location} has no edge artifact (${EDGE_MANIFEST})`);
    checkCompatible(manifest, backbone, runtime, files.location);
    const [from, to] = options.stages ?? [0, manifest.stages.length];
    if (!(from >= 0 && from < to && to <= manifest.stages.length)) throw new EdgeArtifactError(`${files.location}/${EDGE_MANIFEST} has ${manifest.stages.length} stages, not [${from}, ${to})`);
    const parts = manifest.stages.slice(from, to);
    const whole = options.stages === undefined;
    const limit = options.memoryLimitBytes ?? Infinity;
    const total = (whole && manifest.embedding ? 1 : 0) + 2 * parts.length;
    let done = 0;
    // Stage weights are read into one reused buffer: ORT copies them into its heap, so JavaScript never holds more
    // than the largest stage (and makes no garbage per stage for the GC to find later).
    const scratchBytes = Math.max(...parts.map((s) => s.data.bytes));
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
        const file = await files.read(ref.file);
        if (file === null) throw fail("is missing");
        if (file.byteLength !== ref.bytes) throw fail(`has ${file.byteLength} bytes, the manifest says ${ref.bytes}: the artifact is truncated or was replaced`);
        bytes = file;
      }
      // The store's own checksum (R2 keeps the sha256 sent at upload) costs nothing; hashing costs a copy.
      const sha256 = storedSha256 ?? (options.verify ? await sha256Hex(bytes) : ref.sha256);
      if (sha256 !== ref.sha256) throw fail("does not match its sha256 in the manifest");
      options.onProgress?.({ file: ref.file, done: ++done, total });
      return bytes;
    };

    const table = whole && manifest.embedding ? EdgeEmbedding.fromFile(manifest.embedding, await read(manifest.embedding)) : null;
    const sessions: InferenceSession[] = [];
    try {
      for (const stage of parts) {
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
    return new EdgeModel(manifest, runtime, backbone, table, parts, sessions, whole);
  }

  /** Bytes of the artifact this model holds in the isolate: the token table (whole models) plus its stages' files. */
  get bytes(): number {
    if (this.whole) return this.manifest.total_bytes;
    return this.parts.reduce((n, s) => n + s.graph.bytes + s.data.bytes, 0);
  }

  /**
   * Runs the batch one row at a time, each cut to its last valid token: one WASM thread gains nothing from
   * batching, padding costs nothing, activations stay one row's size, and a row's result does not depend on its
   * batch-mates (int8 activations are quantized per tensor). Positions after a row's last valid token are 0.
   */
  async forward(batch: TokenBatch, options: ForwardOptions = {}): Promise<ForwardResult> {
    if (!this.whole) throw new Error("internal: a model loaded for some stages runs hidden states (forwardHidden), not token ids");
    checkBatch(batch, { vocabularySize: this.backbone.vocabularySize, maxSequenceLength: this.backbone.maxSequenceLength });
    if (!this.feeds && (options.adapters?.length || options.adapterIds)) throw new EdgeArtifactError("this edge artifact was built without LoRA inputs");
    const { batchSize: B, sequenceLength: T } = batch;
    const H = this.manifest.hidden_dim;
    const adapters = this.feeds?.rowAdapters(B, options);
    const out = new Float32Array(B * T * H);
    const { Tensor } = this.runtime.ort;
    for (let b = 0; b < B; b++) {
      const mask = batch.paddingMask.subarray(b * T, (b + 1) * T);
      const length = mask.lastIndexOf(1) + 1;
      if (length === 0) continue;
      const ids = batch.tokenIds.subarray(b * T, b * T + length);
      const first = this.table
        ? { name: "token_vectors", tensor: new Tensor("float32", this.table.lookup(ids), [1, length, H]) }
        : { name: "token_ids", tensor: new Tensor("int32", ids, [1, length]) };
      out.set(await this.run(first, mask.subarray(0, length), adapters?.[b] ?? null), b * T * H);
    }
    return { sequenceOutput: { dtype: "float32", shape: [B, T, H], data: out } };
  }

  /**
   * One row through this model's stages (a pipeline's block stage): `input` [L, H] is the token vectors when its
   * first stage embeds them, else the previous stage's hidden states; `paddingMask` has the row's L entries. The
   * adapter is applied to the projections of this model's blocks (its factors for other blocks are left out).
   */
  async forwardHidden(input: Float32Array, paddingMask: Int32Array, adapter: LoraAdapter | null): Promise<Float32Array> {
    const H = this.manifest.hidden_dim;
    const L = paddingMask.length;
    if (input.length !== L * H) throw new InputError(`hidden states of ${input.length} values are not ${L} positions × ${H}`);
    if (adapter && !this.feeds) throw new EdgeArtifactError("this edge artifact was built without LoRA inputs");
    const embed = this.parts[0].embed;
    if (embed === "ids") throw new Error("internal: this stage gathers token ids itself; it has no hidden-state input");
    const first = { name: embed === "vectors" ? "token_vectors" : "hidden", tensor: new this.runtime.ort.Tensor("float32", input, [1, L, H]) };
    return this.run(first, paddingMask, adapter && this.slice(adapter));
  }

  private async run(first: { name: string; tensor: Tensor }, paddingMask: Int32Array, adapter: LoraAdapter | null): Promise<Float32Array> {
    const { Tensor } = this.runtime.ort;
    const L = paddingMask.length;
    const feeds: Record<string, Tensor> = { padding_mask: new Tensor("int32", paddingMask, [1, L]), [first.name]: first.tensor };
    if (this.feeds) {
      const { ids, inputs } = this.feeds.feeds(1, { adapters: adapter ? [adapter] : [] });
      feeds.adapter_ids = new Tensor("int32", ids, [1]);
      for (const [name, { data, dims }] of inputs) feeds[name] = new Tensor("float32", data, dims);
    }
    let hidden: Tensor | undefined;
    for (const session of this.sessions) {
      const stageFeeds: Record<string, Tensor> = {};
      for (const name of session.inputNames) stageFeeds[name] = name === "hidden" && hidden ? hidden : feeds[name];
      hidden = (await session.run(stageFeeds)).hidden_out;
    }
    return hidden!.data as Float32Array;
  }

  /** The adapter's factors for this model's blocks (the same object when it has no others), or null if none. */
  private slice(adapter: LoraAdapter): LoraAdapter | null {
    let slice = this.slices.get(adapter);
    if (slice === undefined) {
      const factors = new Map([...adapter.factors].filter(([path]) => this.targets.has(path)));
      slice = factors.size === adapter.factors.size ? adapter : factors.size ? { ...adapter, factors } : null;
      this.slices.set(adapter, slice); // the same object each time: the stacked inputs are cached per adapter object
    }
    return slice;
  }

  async release(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}

/**
 * The token table, or rows [from, to) of it (a pipeline's embedding shard), in JavaScript: block-quantized rows,
 * dequantized on lookup. Outside onnxruntime, whose WebAssembly memory never shrinks.
 */
export class EdgeEmbedding {
  private constructor(
    /** Rows [from, to) of the table held here. */
    readonly rows: readonly [number, number],
    private readonly table: BlockQuantized,
  ) {}

  /** The whole table from the bytes of `embedding.bin`. */
  static fromFile(entry: EmbeddingEntry, bytes: Uint8Array): EdgeEmbedding {
    const view = ([offset, length]: [number, number]) => bytes.subarray(offset, offset + length);
    return new EdgeEmbedding([0, entry.rows], { ...shape(entry), rows: entry.rows, codes: view(entry.codes), scales: floats(view(entry.scales)), zeroPoints: view(entry.zero_points), columnScales: floats(view(entry.column_scales)) });
  }

  /**
   * Rows [from, to) of the artifact's table, each section read with a ranged read where the store has them (R2:
   * ranged gets; nothing else of the file is read), else cut from the whole file. A ranged read cannot be checked
   * against the file's sha256; its lengths are (a truncated file fails).
   */
  static async load(files: EdgeFiles, manifest: EdgeManifest, [from, to]: readonly [number, number]): Promise<EdgeEmbedding> {
    const entry = manifest.embedding;
    if (!entry) throw new EdgeArtifactError(`${files.location}/${EDGE_MANIFEST} has no JavaScript token table`);
    if (!(from >= 0 && from < to && to <= entry.rows)) throw new EdgeArtifactError(`${files.location}: the token table has ${entry.rows} rows, not [${from}, ${to})`);
    const whole = files.readRange ? null : await files.read(entry.file);
    /** A section's bytes: the held rows' part of a per-row section, or all of it. */
    const section = async ([offset, length]: [number, number], perRow: boolean): Promise<Uint8Array> => {
      const rowBytes = length / entry.rows;
      const [start, size] = perRow ? [offset + from * rowBytes, (to - from) * rowBytes] : [offset, length];
      const bytes = whole ? whole.slice(start, start + size) : await files.readRange!(entry.file, start, size);
      if (bytes === null) throw new EdgeArtifactError(`${files.location}/${entry.file} is missing: reinstall the preset`);
      if (bytes.byteLength !== size) throw new EdgeArtifactError(`${files.location}/${entry.file} is shorter than the manifest says: the artifact is truncated or was replaced: reinstall the preset`);
      return bytes;
    };
    const [codes, scales, zeroPoints, columnScales] = await Promise.all([section(entry.codes, true), section(entry.scales, true), section(entry.zero_points, true), section(entry.column_scales, false)]);
    return new EdgeEmbedding([from, to], { ...shape(entry), rows: to - from, codes, scales: floats(scales), zeroPoints, columnScales: floats(columnScales) });
  }

  /** Bytes of the rows held. */
  get bytes(): number {
    const t = this.table;
    return t.codes.byteLength + t.scales.byteLength + t.zeroPoints.byteLength + t.columnScales!.byteLength;
  }

  /** Token vectors [n, H] of `ids` (each within `rows`). */
  lookup(ids: ArrayLike<number>): Float32Array {
    const { table, rows } = this;
    const out = new Float32Array(ids.length * table.columns);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(id >= rows[0] && id < rows[1])) throw new InputError(`token id ${id} is not in rows [${rows[0]}, ${rows[1]}) of this table`);
      dequantizeRow(table, id - rows[0], out, i * table.columns);
    }
    return out;
  }
}

type EmbeddingEntry = NonNullable<EdgeManifest["embedding"]>;
const shape = (entry: EmbeddingEntry) => ({ bits: entry.bits, blockSize: entry.block_size, columns: entry.columns });

/** A Float32Array over bytes (copied when they are not 4-byte aligned). */
function floats(bytes: Uint8Array): Float32Array {
  const b = bytes.byteOffset % 4 ? bytes.slice() : bytes;
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
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

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 1)} MiB`;
