/**
 * The backbone library runs unchanged in Cloudflare's workerd on onnxruntime-web: test/workerd/worker.ts
 * (only `shared/` imports) is bundled with esbuild and run in Miniflare's workerd, with ORT's .wasm as a
 * CompiledWasm module (workerd cannot compile WASM from bytes); its DistilBERT forward pass must match Hugging
 * Face like test/golden.test.ts. Loopback only, nothing downloaded.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { bundleForWorkerd } from "./helpers/workerd-bundle.js";
import { FormData, Miniflare } from "miniflare"; // its undici FormData: Node's global one is not serialised as multipart
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { float32Tensor } from "../shared/tensor/tensor.js";
import { loadGolden, maxAbsDiff } from "./helpers/golden.js";

const TOLERANCE = 1e-4;
const golden = loadGolden("distilbert");
const ortWasmPath = createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm");

let mf: Miniflare;
const timings: Record<string, number> = {};

async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings[label] = Math.round(performance.now() - t0);
  }
}

async function ok(response: Response): Promise<Response> {
  if (!response.ok) throw new Error(`worker answered ${response.status}: ${await response.text()}`);
  return response;
}

describe("workerd (Miniflare) + onnxruntime-web", () => {
  beforeAll(async () => {
    const bundled = await timed("bundle", () => bundleForWorkerd(new URL("./workerd/worker.ts", import.meta.url), ["./ort-wasm-simd-threaded.wasm"]));
    mf = new Miniflare({
      modules: [
        { type: "ESModule", path: "worker.mjs", contents: bundled },
        { type: "CompiledWasm", path: "ort-wasm-simd-threaded.wasm", contents: readFileSync(ortWasmPath) },
      ],
      compatibilityDate: "2026-04-01",
    });
    await timed("start", () => mf.ready);
  });

  afterAll(async () => {
    await mf?.dispose();
    console.log(`workerd: ${JSON.stringify(timings)} (ms; maxAbsError vs HF)`);
  });

  it("runs the DistilBERT golden forward pass and matches HF last_hidden_state", async () => {
    const dir = golden.dir;
    const form = new FormData();
    for (const name of ["config.json", "model.safetensors"]) form.append(name, new Blob([readFileSync(`${dir}/${name}`)]), name);
    await timed("load+createSession", async () => ok(await mf.dispatchFetch("http://worker/load", { method: "POST", body: form })));

    const body = JSON.stringify({ input_ids: golden.inputIds, attention_mask: golden.attentionMask });
    const forward = async () => (await ok(await mf.dispatchFetch("http://worker/forward", { method: "POST", body }))).json();
    const first = (await timed("forward1", forward)) as { shape: number[]; data: number[] };
    const second = (await timed("forward2", forward)) as { shape: number[]; data: number[] };

    const out = float32Tensor(first.shape, Float32Array.from(first.data));
    expect(out.shape).toEqual(golden.lastHiddenState.shape);
    const error = maxAbsDiff(out, golden.lastHiddenState, golden.validLengths);
    timings.maxAbsError = error;
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    expect(second.data).toEqual(first.data);
  });
});
