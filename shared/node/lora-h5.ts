/**
 * Node-only: KerasHub `.lora.h5` files (spec §1.7.3–1.7.5) through h5wasm, the maintained HDF5 build for JS.
 *   /lora/vars/rank                    int64 scalar
 *   /lora/<i>/vars/lora_kernel_a|b     float32 (bf16 as opaque |V2 with attribute dtype="bfloat16" on read)
 * `<i>` is the layer's index in KerasHub's flattened layer list; on read, indices are sorted and mapped to
 * [block0.value, block0.query, block1.value, …] (the rule that holds for every family).
 */
import type { Dataset, Group } from "h5wasm/node";
import type { Backbone } from "../backbone/backbone.js";
import { toKerasLayout, type LoraFactors } from "../lora/adapter.js";
import type { LoraFileFormat } from "../lora/files.js";
import { toFloat32, type Tensor } from "../tensor/tensor.js";
import { datasetTensor, readH5, writeH5 } from "./h5.js";

function kerasOrder(backbone: Backbone) {
  return backbone.loraTargets().map((t) => ({ t, index: backbone.kerasLoraIndex(t) })).sort((x, y) => x.index - y.index);
}

export const loraH5Format: LoraFileFormat = {
  suffix: ".lora.h5",
  async encode(adapter, backbone) {
    const keras = toKerasLayout(adapter, backbone.loraTargets());
    return writeH5((file) => {
      const lora = file.create_group("lora");
      lora.create_group("vars").create_dataset({ name: "rank", data: BigInt64Array.from([BigInt(keras.rank)]), shape: [], dtype: "<q" });
      for (const { t, index } of kerasOrder(backbone)) {
        const { a, b } = keras.factors.get(t.kernelPath)!;
        const vars = lora.create_group(String(index)).create_group("vars");
        vars.create_dataset({ name: "lora_kernel_a", data: toFloat32(a), shape: [...a.shape], dtype: "<f" });
        vars.create_dataset({ name: "lora_kernel_b", data: toFloat32(b), shape: [...b.shape], dtype: "<f" });
      }
    });
  },
  async decode(bytes, backbone, source) {
    return readH5(bytes, source, (file) => {
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
        const read = (name: string): Tensor => datasetTensor(file.get(`${at}/${name}`) as Dataset | null, `${source}:/${at}/${name}`);
        factors.set(t.kernelPath, { a: read("lora_kernel_a"), b: read("lora_kernel_b") });
      });
      return { rank, scale: 1, layout: "per_head" as const, factors };
    });
  },
};
