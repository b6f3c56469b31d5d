/**
 * Node-only: KerasHub `.lora.h5` files (spec §1.7.3–1.7.5) through h5wasm, the maintained HDF5 build for JS.
 *   /lora/vars/rank                    int64 scalar
 *   /lora/<i>/vars/lora_kernel_a|b     float32 (bf16 as opaque |V2 with attribute dtype="bfloat16" on read)
 * `<i>` is the layer's index in KerasHub's flattened layer list; on read, indices are sorted and mapped to
 * [block0.value, block0.query, block1.value, …] (the rule that holds for every family).
 */
import type { Dataset, Group } from "h5wasm/node";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backbone } from "../backbone/backbone.js";
import { toKerasLayout, type LoraFactors } from "../lora/adapter.js";
import type { LoraFileFormat } from "../lora/files.js";
import { toFloat32, type Tensor } from "../tensor/tensor.js";

/** Every HDF5 file Keras writes starts with the format signature (no user block). */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** h5wasm is loaded on first use: its WASM takes ~1 s to compile, which every CLI start would pay. */
let h5wasmModule: Promise<typeof import("h5wasm/node").default> | null = null;
async function h5(): Promise<typeof import("h5wasm/node").default> {
  h5wasmModule ??= import("h5wasm/node").then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return h5wasmModule;
}

/** h5wasm works on files; encode/decode go through a private temporary directory. */
async function withTempFile<T>(fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "edgebone-h5-"));
  try {
    return await fn(join(dir, "adapter.lora.h5"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function kerasOrder(backbone: Backbone) {
  return backbone.loraTargets().map((t) => ({ t, index: backbone.kerasLoraIndex(t) })).sort((x, y) => x.index - y.index);
}

export const loraH5Format: LoraFileFormat = {
  suffix: ".lora.h5",
  async encode(adapter, backbone) {
    const keras = toKerasLayout(adapter, backbone.loraTargets());
    const h5wasm = await h5();
    return withTempFile(async (path) => {
      const file = new h5wasm.File(path, "w");
      try {
        const lora = file.create_group("lora");
        lora.create_group("vars").create_dataset({ name: "rank", data: BigInt64Array.from([BigInt(keras.rank)]), shape: [], dtype: "<q" });
        for (const { t, index } of kerasOrder(backbone)) {
          const { a, b } = keras.factors.get(t.kernelPath)!;
          const vars = lora.create_group(String(index)).create_group("vars");
          vars.create_dataset({ name: "lora_kernel_a", data: toFloat32(a), shape: [...a.shape], dtype: "<f" });
          vars.create_dataset({ name: "lora_kernel_b", data: toFloat32(b), shape: [...b.shape], dtype: "<f" });
        }
      } finally {
        file.close();
      }
      return new Uint8Array(await readFile(path));
    });
  },
  async decode(bytes, backbone, source) {
    if (!HDF5_SIGNATURE.every((byte, i) => bytes[i] === byte)) throw new Error(`${source} is not an HDF5 file`);
    const h5wasm = await h5();
    return withTempFile(async (path) => {
      await writeFile(path, bytes);
      const file = new h5wasm.File(path, "r");
      try {
        const rankSet = file.get("lora/vars/rank") as Dataset | null;
        if (!rankSet) throw new Error(`${source} has no /lora/vars/rank: not a KerasHub LoRA file`);
        const rank = Number(rankSet.value);
        const stored = (file.get("lora") as Group).keys().filter((k) => k !== "vars").map(Number).sort((x, y) => x - y);
        const order = kerasOrder(backbone);
        if (stored.length !== order.length) {
          throw new Error(`${source} holds ${stored.length} LoRA layers, ${backbone.className} has ${order.length} (query and value of each attention layer)`);
        }
        const factors = new Map<string, LoraFactors>();
        order.forEach(({ t }, i) => {
          const at = `lora/${stored[i]}/vars`;
          const read = (name: string): Tensor => dataset(file.get(`${at}/${name}`) as Dataset | null, `${source}:/${at}/${name}`);
          factors.set(t.kernelPath, { a: read("lora_kernel_a"), b: read("lora_kernel_b") });
        });
        return { rank, scale: 1, layout: "per_head" as const, factors };
      } finally {
        file.close();
      }
    });
  },
};

/** A float32, float64 or KerasHub bf16 (|V2 + dtype attribute) dataset as a Tensor. */
function dataset(d: Dataset | null, name: string): Tensor {
  if (!d) throw new Error(`${name} is missing`);
  const shape = d.shape ?? [];
  const value = d.value;
  if (value instanceof Float32Array) return { dtype: "float32", shape, data: value };
  if (value instanceof Float64Array) return { dtype: "float32", shape, data: Float32Array.from(value) };
  if (d.attrs?.dtype?.value === "bfloat16" && value instanceof Uint8Array) {
    // KerasHub writes bf16 as 2-byte opaque values: the raw upper halves of float32s.
    return { dtype: "bfloat16", shape, data: new Uint16Array(value.slice().buffer) };
  }
  throw new Error(`${name} has unsupported dtype ${d.dtype}`);
}
