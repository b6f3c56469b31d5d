/**
 * onnxruntime-web (WASM) inside Cloudflare workerd. workerd refuses to compile WebAssembly from bytes; a
 * Worker only gets a compiled `WebAssembly.Module` by importing the `.wasm` file (wrangler/miniflare
 * "CompiledWasm" rule). ORT takes the binary only as bytes (`env.wasm.wasmBinary`), which its Emscripten glue
 * hands to `WebAssembly.instantiate(new Uint8Array(wasmBinary), imports)`. So: give ORT a marker ArrayBuffer
 * as `wasmBinary` (which also stops it resolving the .wasm via `import.meta.url`, empty in workerd), and wrap
 * `WebAssembly.instantiate` so that the call carrying that buffer instantiates the compiled module instead.
 * Every other call passes through unchanged. One thread and no proxy (workerd has no Web Workers).
 *
 * ```ts
 * import * as ort from "onnxruntime-web/wasm";                            // the wasm-only ESM bundle
 * import ortWasm from "./ort-wasm-simd-threaded.wasm";                    // CompiledWasm module, same ORT version
 * const runtime = workerdWasmRuntime(ort, ortWasm);
 * ```
 * The caller passes its own `onnxruntime-web` (the library never imports a runtime).
 */
import type { Env } from "onnxruntime-common";
import type { OnnxRuntime, OrtApi } from "./runtime.js";

const marker = new ArrayBuffer(8);
let compiled: WebAssembly.Module | undefined;

type Instantiate = (source: unknown, imports?: object) => Promise<unknown>;
const wasmApi = (globalThis as unknown as { WebAssembly: { instantiate: Instantiate } }).WebAssembly;

export function workerdWasmRuntime(ort: OrtApi & { env: Env }, wasmModule: WebAssembly.Module): OnnxRuntime {
  if (compiled === undefined) {
    const instantiate = wasmApi.instantiate;
    wasmApi.instantiate = (source, imports) =>
      ArrayBuffer.isView(source) && source.buffer === marker
        ? instantiate.call(wasmApi, compiled, imports).then((instance) => ({ instance, module: compiled }))
        : instantiate.call(wasmApi, source, imports);
  } else if (compiled !== wasmModule) {
    throw new Error("workerdWasmRuntime: onnxruntime-web is already set up with another WebAssembly.Module");
  }
  compiled = wasmModule;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = marker;
  return { name: "wasm", ort, sessionOptions: { executionProviders: ["wasm"] } };
}
