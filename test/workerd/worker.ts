/**
 * Test worker for test/workerd.test.ts: runs a backbone forward pass inside workerd on onnxruntime-web,
 * using only the runtime-agnostic library (`shared/`, never `shared/node/`). Bundled by esbuild in the test;
 * `./ort-wasm-simd-threaded.wasm` stays external and is given to Miniflare as a CompiledWasm module.
 *
 * POST /load     multipart form: config.json, model.safetensors (files) -> creates the session
 * POST /forward  JSON { input_ids, attention_mask } -> { shape, data } (sequence_output, float32 as numbers)
 */
import * as ort from "onnxruntime-web/wasm";
import ortWasm from "./ort-wasm-simd-threaded.wasm";
import { Backbone, MemoryPresetStore, toFloat32, tokenBatch, type BackboneSession } from "../../shared/index.js";
import { workerdWasmRuntime } from "../../shared/runtime/ort-web.js";

let session: BackboneSession | undefined;

async function load(request: Request): Promise<Response> {
  const form = await request.formData();
  const store = new MemoryPresetStore();
  const files = store.open("golden");
  for (const name of ["config.json", "model.safetensors"]) {
    const file = form.get(name);
    if (typeof file === "string" || file === null) return new Response(`missing ${name}`, { status: 400 });
    await files.write(name, new Uint8Array(await file.arrayBuffer()));
  }
  const backbone = await Backbone.fromPreset("golden", { store });
  session = await backbone.createSession(workerdWasmRuntime(ort, ortWasm));
  return Response.json({ ok: true });
}

async function forward(request: Request): Promise<Response> {
  if (!session) return new Response("no session: POST /load first", { status: 409 });
  const { input_ids, attention_mask } = (await request.json()) as { input_ids: number[][]; attention_mask: number[][] };
  const { sequenceOutput } = await session.forward(tokenBatch(input_ids, attention_mask));
  return Response.json({ shape: sequenceOutput.shape, data: Array.from(toFloat32(sequenceOutput)) });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    try {
      if (request.method === "POST" && path === "/load") return await load(request);
      if (request.method === "POST" && path === "/forward") return await forward(request);
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e), { status: 500 });
    }
  },
};
