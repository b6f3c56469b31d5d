/**
 * Node-only: the two onnxruntime builds as `OnnxRuntime`s. `wasm` is onnxruntime-web (the same WASM the
 * edge runs, one thread); `node` is onnxruntime-node (native CPU, or a GPU provider when asked for).
 */
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { InferenceSession } from "onnxruntime-common";
import type { SplitModel } from "../graph/graph-builder.js";
import type { OnnxRuntime } from "../runtime/runtime.js";
import { onnxruntimeWeb } from "../runtime/ort-web.js";
import { writeExternalData } from "./external-data.js";

export type RuntimeName = "wasm" | "node";

let wasmModule: WebAssembly.Module | undefined;

/**
 * onnxruntime-web on the same .wasm build the worker imports, one thread, set up exactly as in workerd: from a
 * compiled module (so that, as there, no copy of the binary stays in JavaScript memory).
 */
export function wasmRuntime(): OnnxRuntime {
  // The package exports no path to its .wasm: find it beside the package's entry.
  const { Module } = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WebAssembly.Module } }).WebAssembly;
  wasmModule ??= new Module(readFileSync(join(dirname(createRequire(import.meta.url).resolve("onnxruntime-web")), "ort-wasm-simd-threaded.wasm")));
  return onnxruntimeWeb(ortWeb, wasmModule);
}

export interface NodeRuntimeOptions {
  /** Intra-op threads; 0 = one per core. Default 0. */
  threads?: number;
  /** Execution providers in preference order; default CPU only. */
  executionProviders?: string[];
}

export function nodeRuntime(options: NodeRuntimeOptions = {}): OnnxRuntime {
  const threads = options.threads ?? 0;
  const sessionOptions = {
    executionProviders: options.executionProviders ?? ["cpu"],
    intraOpNumThreads: threads || availableParallelism(),
    interOpNumThreads: 1,
  };
  return {
    name: threads === 1 ? "node-1t" : "node",
    ort: ortNode,
    sessionOptions,
    createSplitSession: (model) => createSplitSession(model, sessionOptions),
  };
}

/**
 * onnxruntime-node finds external data next to a model loaded from a path: both files go to a temporary
 * directory for the session's creation and are removed afterwards. Lazy weights are read from their checkpoint
 * as the data file is written. On Linux ORT maps the file: its weights stay file-backed until MatMul pre-packing
 * copies them (the originals are then unmapped); what stays mapped, like the embedding, remains readable after
 * the unlink until the session is released.
 */
async function createSplitSession({ model, externalData }: SplitModel, sessionOptions: InferenceSession.SessionOptions): Promise<InferenceSession> {
  const dir = await mkdtemp(join(tmpdir(), "edgebone-model-"));
  try {
    const modelPath = join(dir, "model.onnx");
    await writeFile(modelPath, model);
    await writeExternalData(join(dir, externalData.location), externalData.chunks);
    return await ortNode.InferenceSession.create(modelPath, sessionOptions);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function runtimeByName(name: RuntimeName, options: NodeRuntimeOptions = {}): OnnxRuntime {
  if (name === "wasm") return wasmRuntime();
  if (name === "node") return nodeRuntime(options);
  throw new Error(`unknown runtime "${name}" (expected wasm or node)`);
}
