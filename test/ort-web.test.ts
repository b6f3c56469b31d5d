/**
 * The onnxruntime-web hooks (shared/runtime/ort-web.ts) depend on how onnxruntime-web 1.30's Emscripten glue loads
 * its binary and creates its memory. These tests fail loudly when the package changes: update the hooks (and the
 * edge artifacts' recorded version) together with the pin.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ORT_WEB_VERSION, onnxruntimeWeb, wasmRuntime } from "../shared/node/index.js";
import { GROWTH_STEP } from "../shared/runtime/ort-web.js";
import { GraphBuilder } from "../shared/graph/graph-builder.js";

describe("onnxruntime-web hooks", () => {
  it("are written for the pinned onnxruntime-web", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const installed = JSON.parse(readFileSync(new URL("../node_modules/onnxruntime-web/package.json", import.meta.url), "utf8"));
    expect(pkg.dependencies["onnxruntime-web"]).toBe(ORT_WEB_VERSION);
    expect(installed.version).toBe(ORT_WEB_VERSION);
  });

  it("refuse another onnxruntime-web version", () => {
    const fake = { env: { versions: { web: "1.29.0" }, wasm: {} }, InferenceSession: { create: () => Promise.reject() }, Tensor: class {} };
    expect(() => onnxruntimeWeb(fake as never, {} as WebAssembly.Module)).toThrow(/onnxruntime-web 1\.29\.0 is not 1\.30\.0/);
  });

  it("instantiate ORT from a compiled module and find its WebAssembly.Memory, which grows with a model's weights", async () => {
    const runtime = wasmRuntime();
    const g = new GraphBuilder("w");
    const x = g.input("x", "float32", [1, 1024]);
    g.output(g.op("MatMul", [x, g.weight("w", { dtype: "float32", shape: [1024, 4096], data: new Float32Array(1024 * 4096) })]), "y", "float32", [1, 4096]);
    const session = await runtime.ort.InferenceSession.create(g.encode(), runtime.sessionOptions);
    const loaded = runtime.memoryBytes!();
    expect(loaded).toBeGreaterThanOrEqual(16 * 2 ** 20 + 16 * 2 ** 20); // ORT's initial 16 MiB + the 16 MiB weight
    await session.release();
    expect(runtime.memoryBytes!()).toBe(loaded); // WebAssembly memory never shrinks
  });

  it("grow ORT's memory to what malloc asks for, not by Emscripten's +20% steps that are never returned", async () => {
    const runtime = wasmRuntime();
    const MiB = 2 ** 20;
    const session = (columns: number) => {
      const g = new GraphBuilder("w");
      const x = g.input("x", "float32", [1, 1024]);
      g.output(g.op("MatMul", [x, g.weight("w", { dtype: "float32", shape: [1024, columns], data: new Float32Array(1024 * columns).fill(1) })]), "y", "float32", [1, columns]);
      return runtime.ort.InferenceSession.create(g.encode(), runtime.sessionOptions);
    };
    const sessions = [await session(16)];
    expect(runtime.memoryGrowth!()).toBe("exact");
    const growth: number[] = [];
    for (let i = 0; i < 12; i++) {
      const before = runtime.memoryBytes!();
      sessions.push(await session(1024)); // 4 MiB of weights each
      growth.push(runtime.memoryBytes!() - before);
    }
    // Emscripten's policy grows this sequence by 11.6 and 13.9 MiB at once; exact growth by one or two sessions' weights.
    expect(Math.max(...growth)).toBeLessThanOrEqual(8 * MiB);
    expect(growth.reduce((a, b) => a + b)).toBeLessThanOrEqual(12 * 4 * MiB + 12 * MiB);
    expect(runtime.memoryBytes!() % GROWTH_STEP).toBe(0);
    await Promise.all(sessions.map((s) => s.release()));
  });
});
