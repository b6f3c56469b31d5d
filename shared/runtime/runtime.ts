/**
 * The onnxruntime a session runs on. The library never imports a runtime itself: onnxruntime-web
 * (WASM, edge and Node) and onnxruntime-node (CPU/GPU, runner) share the onnxruntime-common API, and the
 * caller passes the one it has (`shared/node/runtimes.ts` in Node, the worker's own in workerd).
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import type { SplitModel } from "../graph/graph-builder.js";

export interface OrtApi {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  env: { versions?: Record<string, string> };
  Tensor: typeof Tensor;
}

export interface OnnxRuntime {
  /** "wasm", "node", … (reported in benchmarks and response headers). */
  readonly name: string;
  /** Package and version ("onnxruntime-web 1.30.0"), where known. */
  readonly version?: string;
  readonly ort: OrtApi;
  readonly sessionOptions?: InferenceSession.SessionOptions;
  /**
   * Loads a model whose weights are in an external data file (models over one protobuf's 2 GiB). Only runtimes
   * that can read such files have it (onnxruntime-node: `shared/node/runtimes.ts`).
   */
  createSplitSession?(model: SplitModel): Promise<InferenceSession>;
  /** Bytes of the runtime's WebAssembly memory (onnxruntime-web: grows, never shrinks); absent for native runtimes. */
  memoryBytes?(): number;
  /**
   * How that memory grows: "exact" (to what malloc asks for, in MiB steps) or "emscripten" (the glue's +20% steps,
   * kept when the glue is not the one the hook knows); null until the runtime has loaded. Absent for native runtimes.
   */
  memoryGrowth?(): "exact" | "emscripten" | null;
}
