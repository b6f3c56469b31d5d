/**
 * onnxruntime-web (WASM, one thread, no proxy) as an `OnnxRuntime`, in workerd and in Node, with the two things
 * Edgebone needs from inside it. Both depend on how onnxruntime-web 1.30's Emscripten glue loads its binary, so
 * they are pinned to that version (`ORT_WEB_VERSION`; a different version is refused at setup, and
 * test/ort-web.test.ts fails when the package changes):
 *
 * 1. Loading. workerd refuses to compile WebAssembly from bytes; a Worker only gets a compiled
 *    `WebAssembly.Module` by importing the `.wasm` file (wrangler/miniflare "CompiledWasm" rule). ORT takes the
 *    binary only as bytes (`env.wasm.wasmBinary`), which its glue hands to `WebAssembly.instantiate(new
 *    Uint8Array(wasmBinary), imports)`. So ORT gets a marker buffer as `wasmBinary` (which also stops it resolving
 *    the .wasm via `import.meta.url`, empty in workerd), and `WebAssembly.instantiate` is wrapped so that the call
 *    carrying that buffer instantiates the compiled module instead. Every other call passes through unchanged.
 * 2. Memory. Isolate memory includes ORT's `WebAssembly.Memory`, which only grows. The glue creates it in JS and
 *    passes it among the imports of that same call, where the wrapper records it (`memoryBytes()`).
 * 3. Growth. When malloc runs out, the glue's `emscripten_resize_heap` (import `a.la`) grows the memory to at least
 *    20% more than its current size (up to +96 MiB): the last growth while loading an 80 MiB model adds ~20 MiB that
 *    is never used and never returned. The wrapper replaces that import with one that grows to the size asked for,
 *    rounded up to `GROWTH_STEP`, then lets the original refresh the glue's views of the memory (it finds nothing
 *    left to grow and returns false; the replacement answers true).
 *
 * ```ts
 * import * as ort from "onnxruntime-web/wasm";                            // the wasm-only ESM bundle
 * import ortWasm from "./ort-wasm-simd-threaded.wasm";                    // CompiledWasm module, same ORT version
 * const runtime = onnxruntimeWeb(ort, ortWasm);                           // Node: a Module compiled from the file
 * ```
 * The caller passes its own `onnxruntime-web` (the library never imports a runtime).
 */
import type { Env } from "onnxruntime-common";
import type { OnnxRuntime, OrtApi } from "./runtime.js";

/** The onnxruntime-web version these hooks are written for. */
export const ORT_WEB_VERSION = "1.30.0";

type Instantiate = (source: unknown, imports?: object) => Promise<unknown>;
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
const wasmApi = (globalThis as unknown as { WebAssembly: { instantiate: Instantiate; Memory: new (...args: never[]) => WasmMemory } }).WebAssembly;

/** Growth granularity of ORT's memory (Emscripten's own policy: +20% of the current size). */
export const GROWTH_STEP = 2 ** 20;
/** The glue's import names (onnxruntime-web 1.30.0's Emscripten glue, minified): memory, emscripten_resize_heap. */
const GLUE_IMPORTS = "a";
const RESIZE_HEAP = "la";
const WASM_PAGE = 65536;
const MAX_MEMORY = 65536 * WASM_PAGE; // the glue's maximum (4 GiB)

const marker = new ArrayBuffer(8); // what ORT is given as wasmBinary
let compiled: WebAssembly.Module | undefined; // what is instantiated instead
let memory: WasmMemory | undefined;
let growth: "exact" | "emscripten" | undefined; // known once ORT has instantiated its module

function findMemory(imports: object | undefined): WasmMemory | undefined {
  for (const module of Object.values(imports ?? {})) {
    for (const value of Object.values(module as object)) if (value instanceof wasmApi.Memory) return value;
  }
  return undefined;
}

function installHook(): void {
  const instantiate = wasmApi.instantiate;
  wasmApi.instantiate = (source, imports) => {
    if (!(ArrayBuffer.isView(source) && source.buffer === marker)) return instantiate.call(wasmApi, source, imports);
    memory = findMemory(imports);
    growth = memory && exactGrowth(imports as Record<string, Record<string, unknown>>, memory) ? "exact" : "emscripten";
    const module = compiled;
    return instantiate.call(wasmApi, module, imports).then((instance) => ({ instance, module }));
  };
}

/** Replaces the glue's geometric heap growth with growth to the size asked for (point 3 above); false if it cannot. */
function exactGrowth(imports: Record<string, Record<string, unknown>>, memory: WasmMemory): boolean {
  const glue = imports[GLUE_IMPORTS];
  const resize = glue?.[RESIZE_HEAP];
  // Recognised by what it does; anything else means the glue changed: keep its own policy (test/ort-web.test.ts fails).
  if (typeof resize !== "function" || !/\.grow\(/.test(String(resize))) return false;
  glue[RESIZE_HEAP] = (requested: number): boolean => {
    requested >>>= 0;
    const current = memory.buffer.byteLength;
    if (requested > current) {
      if (requested > MAX_MEMORY) return false;
      const target = Math.ceil(requested / GROWTH_STEP) * GROWTH_STEP; // ≤ MAX_MEMORY: both are whole MiB
      try {
        memory.grow((target - current) / WASM_PAGE);
      } catch {
        return false; // out of memory: malloc returns null and ORT reports the failure
      }
    }
    (resize as (size: number) => boolean)(requested); // refreshes the glue's HEAP views over the grown buffer
    return true;
  };
  return true;
}

export function onnxruntimeWeb(ort: OrtApi & { env: Env }, wasm: WebAssembly.Module): OnnxRuntime {
  const version = ort.env.versions?.web;
  if (version !== ORT_WEB_VERSION) {
    throw new Error(`onnxruntime-web ${version} is not ${ORT_WEB_VERSION}, the version Edgebone's loading hooks (shared/runtime/ort-web.ts) and edge artifacts are built for: pin onnxruntime-web to ${ORT_WEB_VERSION} or update the hooks`);
  }
  if (compiled === undefined) {
    installHook();
    compiled = wasm;
    ort.env.wasm.wasmBinary = marker; // viewed by the glue (`new Uint8Array(buffer)`), never copied
    ort.env.wasm.numThreads = 1; // workerd has no Web Workers; Node runs it the same way to measure the same thing
    ort.env.wasm.proxy = false;
  } else if (wasm !== compiled) {
    throw new Error("onnxruntime-web is already set up with another WebAssembly.Module");
  }
  return {
    name: "wasm",
    version: `onnxruntime-web ${version}`,
    ort,
    sessionOptions: { executionProviders: ["wasm"] },
    memoryBytes: () => memory?.buffer.byteLength ?? 0,
    memoryGrowth: () => growth ?? null,
  };
}

/** The worker's runtime: onnxruntime-web on the `.wasm` module wrangler compiled. */
export const workerdWasmRuntime = (ort: OrtApi & { env: Env }, wasmModule: WebAssembly.Module): OnnxRuntime => onnxruntimeWeb(ort, wasmModule);
