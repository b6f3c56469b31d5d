/** Small units: safetensors, dtype conversions, layout map, tied embedding, portability of shared/. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { castTensor, embedTokens, getLayoutMap, readSafetensors, toFloat32, writeSafetensors, type Tensor } from "../shared/node/index.js";

describe("safetensors", () => {
  it("round-trips F32, F16 and BF16 with an 8-byte aligned data section and metadata", () => {
    const f32: Tensor = { dtype: "float32", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-3, 65504]) };
    const tensors: [string, Tensor][] = [["a", f32], ["b", castTensor(f32, "float16")], ["c", castTensor(f32, "bfloat16")]];
    const bytes = writeSafetensors(tensors, { format: "pt" });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const read = readSafetensors(bytes);
    expect(read.metadata).toEqual({ format: "pt" });
    for (const [name, t] of tensors) {
      expect(read.tensors.get(name)).toEqual({ dtype: t.dtype, shape: [2, 3], data: t.data });
    }
    // Views, not copies.
    expect(read.tensors.get("a")!.data.buffer).toBe(bytes.buffer);
  });

  it("rejects truncated or inconsistent files", () => {
    expect(() => readSafetensors(new Uint8Array(4))).toThrow(/too short/);
    const bytes = writeSafetensors([["a", { dtype: "float32", shape: [4], data: new Float32Array(4) }]]);
    expect(() => readSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(/does not fit shape/);
  });
});

describe("dtype conversions", () => {
  it("rounds to nearest even and handles specials", () => {
    const values = Float32Array.from([0, -0, 1, -1, 0.1, 65504, 70000, 1e-8, 6.1e-5, Infinity, -Infinity, NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11]);
    const half = toFloat32(castTensor({ dtype: "float32", shape: [values.length], data: values }, "float16"));
    expect(Array.from(half)).toEqual([0, -0, 1, -1, 0.0999755859375, 65504, Infinity, 0, 0.00006097555160522461, Infinity, -Infinity, NaN, 1, 1 + 2 ** -9]);
    const bf = toFloat32(castTensor({ dtype: "float32", shape: [values.length], data: values }, "bfloat16"));
    expect(bf[4]).toBe(0.10009765625);
    expect(bf[12]).toBe(1);
    expect(Number.isNaN(bf[11])).toBe(true);
  });
});

describe("Gemma getLayoutMap", () => {
  const mesh = { shape: [1, 8], axisNames: ["batch", "model"] };
  it("returns KerasHub's regex → sharding specs", () => {
    const map = getLayoutMap(mesh);
    expect(map.entries).toEqual([
      ["token_embedding/embeddings", ["model", "batch"]],
      ["decoder_block.*attention.*(query|key|value).kernel", ["model", "batch", null]],
      ["decoder_block.*attention_output.kernel", ["model", null, "batch"]],
      ["decoder_block.*ffw_gating.kernel", ["batch", "model"]],
      ["decoder_block.*ffw_gating_2.kernel", ["batch", "model"]],
      ["decoder_block.*ffw_linear.kernel", ["model", "batch"]],
    ]);
    expect(map.get("decoder_block_3/attention/query/kernel")).toEqual(["model", "batch", null]);
    expect(map.get("decoder_block_3/attention/attention_output/kernel")).toEqual(["model", null, "batch"]);
    expect(map.get("decoder_block_3/ffw_gating_2/kernel")).toEqual(["batch", "model"]);
    // Norms and LoRA kernels are replicated.
    expect(map.get("decoder_block_3/pre_attention_norm/scale")).toBeNull();
    expect(map.get("decoder_block_3/attention/query/lora_kernel_a")).toBeNull();
  });
  it("uses custom axis names and rejects missing ones", () => {
    const custom = getLayoutMap({ shape: [2, 4], axisNames: ["data", "mp"] }, "mp", "data");
    expect(custom.get("token_embedding/embeddings")).toEqual(["mp", "data"]);
    expect(() => getLayoutMap(mesh, "tensor")).toThrow(/model_parallel_dim_name "tensor" is not an axis of the device mesh \(axes: batch, model\)/);
    expect(() => getLayoutMap(mesh, "model", "data")).toThrow(/data_parallel_dim_name "data"/);
    expect(() => getLayoutMap(null as never)).toThrow(/deviceMesh must be a DeviceMesh/);
  });
});

describe("embedTokens", () => {
  it("gathers rows and range-checks ids", () => {
    const e: Tensor = { dtype: "float32", shape: [3, 2], data: Float32Array.from([0, 1, 2, 3, 4, 5]) };
    expect(Array.from(embedTokens(e, [2, 0]).data)).toEqual([4, 5, 0, 1]);
    expect(() => embedTokens(e, [3])).toThrow(/out of range for vocabulary size 3/);
  });
});

describe("shared/ core portability", () => {
  it("imports nothing node-only outside shared/node (the worker bundles the core unchanged)", () => {
    const root = new URL("../shared/", import.meta.url).pathname;
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
          if (path !== join(root, "node")) walk(path);
        } else if (name.endsWith(".ts")) {
          const source = readFileSync(path, "utf8");
          for (const m of source.matchAll(/from\s+"([^"]+)"/g)) {
            if (/^node:|^(fs|path|os|onnxruntime-node|onnxruntime-web)$/.test(m[1]) || m[1].includes("/node/")) offenders.push(`${path}: ${m[1]}`);
          }
          if (/\bprocess\.|\bBuffer\b|__dirname/.test(source)) offenders.push(`${path}: uses a Node global`);
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
