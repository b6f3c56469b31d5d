/**
 * Node-only: the two onnxruntime builds as `OnnxRuntime`s. `wasm` is onnxruntime-web (the same WASM the
 * edge runs, one thread); `node` is onnxruntime-node (native CPU, or a GPU provider when asked for).
 */
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import { availableParallelism } from "node:os";
import type { OnnxRuntime } from "../runtime/runtime.js";

export type RuntimeName = "wasm" | "node";

export function wasmRuntime(): OnnxRuntime {
  ortWeb.env.wasm.numThreads = 1; // as in workerd: no threads there
  ortWeb.env.wasm.proxy = false;
  return { name: "wasm", ort: ortWeb, sessionOptions: { executionProviders: ["wasm"] } };
}

export interface NodeRuntimeOptions {
  /** Intra-op threads; 0 = one per core. Default 0. */
  threads?: number;
  /** Execution providers in preference order; default CPU only. */
  executionProviders?: string[];
}

export function nodeRuntime(options: NodeRuntimeOptions = {}): OnnxRuntime {
  const threads = options.threads ?? 0;
  return {
    name: threads === 1 ? "node-1t" : "node",
    ort: ortNode,
    sessionOptions: {
      executionProviders: options.executionProviders ?? ["cpu"],
      intraOpNumThreads: threads || availableParallelism(),
      interOpNumThreads: 1,
    },
  };
}

export function runtimeByName(name: RuntimeName, options: NodeRuntimeOptions = {}): OnnxRuntime {
  if (name === "wasm") return wasmRuntime();
  if (name === "node") return nodeRuntime(options);
  throw new Error(`unknown runtime "${name}" (expected wasm or node)`);
}
