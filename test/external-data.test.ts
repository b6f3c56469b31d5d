/**
 * Models beyond one ONNX protobuf (2 GiB of weights: full-size Gemma) keep their weights in an external data
 * file. Checked on a tiny Gemma 2 forced to split (same outputs as the embedded model, LoRA inputs included), and
 * on the size logic with > 2 GiB of initializers that all view one small buffer (nothing big is allocated).
 */
import { describe, expect, it } from "vitest";
import onnxProto from "onnx-proto";
import { GraphBuilder, MAX_EMBEDDED_BYTES } from "../shared/graph/graph-builder.js";
import { initLora, nodeRuntime, tokenBatch, wasmRuntime } from "../shared/node/index.js";
import { tinyGemma } from "./helpers/runner-fixtures.js";

describe("ONNX external data", () => {
  it("a split model gives exactly the embedded model's outputs on onnxruntime-node, adapters included", async () => {
    const backbone = tinyGemma();
    const runtime = nodeRuntime({ threads: 1 });
    const split = backbone.toOnnxModel({ lora: true, externalData: true });
    if (split instanceof Uint8Array) throw new Error("expected a split model");
    expect(split.model.byteLength).toBeLessThan(64 * 1024); // the graph only
    expect(split.externalData.bytes).toBeGreaterThan(backbone.countParams() * 4 * 0.9); // all but the small norm scales
    const embedded = await backbone.createSession(runtime, { lora: true });
    const external = await backbone.createSession(runtime, { lora: true, externalData: true });
    const adapter = initLora(backbone.loraTargets(), 4, 9, true);
    const batch = tokenBatch([[2, 10, 20, 30], [2, 11, 0, 0]], [[1, 1, 1, 1], [1, 1, 0, 0]]);
    const options = { adapters: [adapter], adapterIds: [0, -1] };
    const a = (await embedded.forward(batch, options)).sequenceOutput.data as Float32Array;
    const b = (await external.forward(batch, options)).sequenceOutput.data as Float32Array;
    expect(Array.from(b)).toEqual(Array.from(a));
    await expect(backbone.createSession(wasmRuntime(), { externalData: true })).rejects.toThrow(/wasm runtime cannot load ONNX external data .* use onnxruntime-node/);
  });

  it("splits automatically past 2 GiB, aligned to 4 KiB, without copying weights", () => {
    const g = new GraphBuilder("big");
    const slab = new Float32Array(2 ** 24); // 64 MiB, viewed by every initializer
    const x = g.input("x", "float32", [1]);
    let y = x;
    const count = Math.ceil(MAX_EMBEDDED_BYTES / slab.byteLength) + 1;
    for (let i = 0; i < count; i++) y = g.op("Add", [y, g.weight(`w${i}`, { dtype: "float32", shape: [slab.length], data: slab })]);
    g.output(y, "y", "float32", [slab.length]);
    expect(g.initializerBytes).toBeGreaterThan(MAX_EMBEDDED_BYTES);
    expect(() => g.encode()).toThrow(/do not fit in one ONNX protobuf \(2 GiB\); use external data/);
    const { model, externalData } = g.encodeSplit("weights.bin");
    expect(externalData.bytes).toBe(count * slab.byteLength);
    expect(externalData.chunks.filter((c) => c.buffer === slab.buffer)).toHaveLength(count); // views, not copies
    const decoded = onnxProto.onnx.ModelProto.decode(model);
    const entries = decoded.graph!.initializer!.map((t) => Object.fromEntries(t.externalData!.map((e) => [e.key, e.value])));
    expect(entries.map((e) => e.location)).toEqual(Array(count).fill("weights.bin"));
    expect(entries.every((e) => Number(e.offset) % 4096 === 0 && Number(e.length) === slab.byteLength)).toBe(true);
  });
});
