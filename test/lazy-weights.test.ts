/**
 * Checkpoints of any size without a second copy of the weights: a backbone loaded with `lazyWeights` builds
 * the same graph as one loaded whole, and its ONNX external data is written tensor by tensor straight from the
 * checkpoint (bf16 converted, KerasHub layouts and fused kernels applied on the way), every checkpoint byte read
 * once, no weights file read whole. Checked on the golden Gemma / Gemma 2, a bf16 Gemma 2 in two shards and a
 * KerasHub-format preset; the runner serves a sharded checkpoint published as it is.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import onnxProto from "onnx-proto";
import {
  Backbone,
  castTensor,
  isLazy,
  nodeRuntime,
  readSafetensors,
  tokenBatch,
  writeExternalData,
  type GemmaBackbone,
  type LazyTensor,
  type SplitModel,
} from "../shared/node/index.js";
import type { TensorValues } from "../shared/tensor/lazy.js";
import { sizeOf } from "../shared/tensor/tensor.js";
import { createApp } from "../gpu-runner/app.js";
import { LocalDirStore } from "../gpu-runner/object-store.js";
import { countedFiles } from "./helpers/counted-files.js";
import { GOLDEN_DIR, loadGolden, maxAbsDiff } from "./helpers/golden.js";
import { writeHfShards, type ShardTensor } from "./helpers/hf-shards.js";
import { makeRunner, maxDiff, reference, signed, tmp, TENANT } from "./helpers/runner-fixtures.js";

const { onnx } = onnxProto;
const runtime = nodeRuntime({ threads: 1 });

interface Initializer {
  dataType: number;
  dims: number[];
  bytes: Buffer;
}

/** A split model's graph without initializers, and every initializer's bytes (embedded or from the external file). */
async function decode(split: SplitModel, dir: string, rangeBytes?: number) {
  const path = join(dir, split.externalData.location);
  expect(await writeExternalData(path, split.externalData.chunks, { rangeBytes })).toBe(split.externalData.bytes);
  const file = readFileSync(path);
  const { graph } = onnx.ModelProto.decode(split.model);
  const weights = new Map<string, Initializer>();
  for (const t of graph!.initializer!) {
    const ext = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, Number(e.value)]));
    const bytes = t.externalData?.length ? file.subarray(ext.offset, ext.offset + ext.length) : Buffer.from(t.rawData!);
    weights.set(t.name!, { dataType: t.dataType!, dims: t.dims!.map(Number), bytes });
  }
  const { node, input, output } = onnx.GraphProto.toObject(graph as onnxProto.onnx.GraphProto);
  return { structure: { node, input, output }, weights };
}

/** The lazy backbone's split model equals the loaded one's: same nodes, inputs, outputs, initializers and bytes. */
async function expectSameGraph(eager: Backbone, lazy: Backbone, rangeBytes?: number): Promise<void> {
  const eagerSplit = eager.toOnnxModel({ lora: true, externalData: true }) as SplitModel;
  const lazySplit = lazy.toOnnxModel({ lora: true }) as SplitModel;
  expect(lazySplit.externalData.chunks.some((c) => !(c instanceof Uint8Array))).toBe(true); // lazy tensors, read when written
  const [a, b] = [await decode(eagerSplit, tmp("edgebone-eager-")), await decode(lazySplit, tmp("edgebone-lazy-"), rangeBytes)];
  expect(b.structure).toEqual(a.structure);
  expect([...b.weights.keys()]).toEqual([...a.weights.keys()]);
  for (const [name, w] of a.weights) {
    const other = b.weights.get(name)!;
    expect({ name, dataType: other.dataType, dims: other.dims }).toEqual({ name, dataType: w.dataType, dims: w.dims });
    expect(other.bytes.equals(w.bytes), `${name} bytes`).toBe(true);
  }
}

/** Every safetensors file was read by ranges only, each byte once, all of it (header and every tensor). */
function expectEachByteReadOnce(counted: ReturnType<typeof countedFiles>, dir: string, weightFiles: string[]): void {
  expect(counted.wholeReads.filter((f) => f.endsWith(".safetensors"))).toEqual([]);
  for (const file of weightFiles) {
    const ranges = [...counted.ranges.get(file)!].sort((x, y) => x[0] - y[0]);
    let end = 0;
    for (const [offset, length] of ranges) {
      expect(offset, `${file}: a range read twice`).toBe(end);
      end = offset + length;
    }
    expect(end).toBe(statSync(join(dir, file)).size);
  }
}

describe.each(["gemma", "gemma2"] as const)("golden %s with lazy weights", (model) => {
  const golden = loadGolden(model);

  it("builds the same graph and weights as loaded ones, reads the checkpoint once by ranges, and gives the same outputs", async () => {
    const eager = await Backbone.fromPreset(golden.dir);
    const counted = countedFiles(golden.dir);
    const lazy = await Backbone.fromPreset(golden.dir, { store: counted.store, lazyWeights: true });
    expect([...lazy.weights.values()].every(isLazy)).toBe(true);
    const header = 8 + Number(readFileSync(join(golden.dir, "model.safetensors")).readBigUInt64LE(0));
    expect(counted.rangeBytes("model.safetensors")).toBe(header); // nothing but the header, so far
    await expectSameGraph(eager, lazy);
    expectEachByteReadOnce(counted, golden.dir, ["model.safetensors"]);

    const batch = tokenBatch(golden.inputIds, golden.attentionMask);
    const embedded = await (await eager.createSession(runtime, { hiddenStates: true })).forward(batch); // one protobuf
    const streamed = await (await lazy.createSession(runtime, { hiddenStates: true })).forward(batch); // external data from the checkpoint
    expect(maxAbsDiff(streamed.sequenceOutput, embedded.sequenceOutput)).toBeLessThanOrEqual(1e-6);
    streamed.hiddenStates!.forEach((h, i) => expect(maxAbsDiff(h, embedded.hiddenStates![i]), `hidden_states.${i}`).toBeLessThanOrEqual(1e-6));
    expect(maxAbsDiff(streamed.sequenceOutput, golden.lastHiddenState, golden.validLengths)).toBeLessThanOrEqual(1e-4); // and HF's
  });
});

/** The golden Gemma 2 checkpoint in bf16, as two shards and an index (how HF saves large models). */
function bf16ShardedGemma2(): { dir: string; shards: string[] } {
  const dir = tmp("edgebone-bf16-");
  writeFileSync(join(dir, "config.json"), readFileSync(join(GOLDEN_DIR, "gemma2", "config.json")));
  const { tensors } = readSafetensors(readFileSync(join(GOLDEN_DIR, "gemma2", "model.safetensors")));
  const list: ShardTensor[] = [...tensors].map(([name, t]) => {
    const values = castTensor(t, "bfloat16").data as TensorValues;
    let at = 0;
    return { name, dtype: "bfloat16", shape: [...t.shape], next: (count) => values.subarray(at, (at += count)) };
  });
  return { dir, shards: writeHfShards(dir, list, 2) };
}

describe("a bf16 Gemma 2 in two shards", () => {
  it("is converted to float32 tensor by tensor, the embedding copied in ranges, each byte read once", async () => {
    const { dir, shards } = bf16ShardedGemma2();
    const eager = await Backbone.fromPreset(dir);
    const counted = countedFiles(dir);
    const lazy = await Backbone.fromPreset(dir, { store: counted.store, lazyWeights: true });
    expect(lazy.dtype).toBe("float32");
    const rangeBytes = 4096;
    await expectSameGraph(eager, lazy, rangeBytes);
    expectEachByteReadOnce(counted, dir, shards);
    expect(counted.wholeReads.sort()).toEqual(["config.json", "model.safetensors.index.json"]);
    // The embedding (first in shard 1) came in pieces of at most rangeBytes of float32, i.e. half as many bf16 bytes.
    const embedding = (eager.weight("token_embedding/embeddings").data.byteLength / 4) * 2;
    const pieces = counted.ranges.get(shards[0])!.filter(([, length]) => length <= rangeBytes / 2);
    expect(pieces.reduce((n, [, length]) => n + length, 0)).toBeGreaterThanOrEqual(embedding);
  });

  it("a KerasHub-format preset (saveToPreset) loads lazily too, in its saved dtype", async () => {
    const eager = await Backbone.fromPreset(bf16ShardedGemma2().dir, { dtype: "bfloat16" });
    const dir = tmp("edgebone-keras-");
    await eager.saveToPreset(dir);
    const counted = countedFiles(dir);
    const lazy = await Backbone.fromPreset(dir, { store: counted.store, lazyWeights: true });
    expect(lazy.dtype).toBe("bfloat16");
    await expectSameGraph(eager, lazy); // bf16 initializers with Cast nodes, as loaded
    expectEachByteReadOnce(counted, dir, ["model.safetensors"]);
  });

  it("lazy weights refuse to be read as values, with what to do", async () => {
    const lazy = await Backbone.fromPreset(bf16ShardedGemma2().dir, { lazyWeights: true });
    expect(() => lazy.weight("final_normalization/scale").data).toThrow(/model-00002-of-00002\.safetensors: norm\.weight is read lazily .* load\(\) it, or load the model without lazyWeights/);
    expect(() => lazy.toOnnx()).toThrow(/read lazily from their checkpoint, so they can only go to an external data file/);
    const loaded = await (lazy.weight("final_normalization/scale") as LazyTensor).load();
    expect(loaded.data).toEqual((await Backbone.fromPreset(bf16ShardedGemma2().dir)).weight("final_normalization/scale").data);
  });

  it("published as it is (publish --as-is), the runner serves it: same hidden states as the library", async () => {
    const { dir } = bf16ShardedGemma2();
    const root = tmp();
    const env = { ...process.env, RUNNER_STORE: join(root, "store") };
    const out = execFileSync(process.execPath, ["--import", "tsx", "gpu-runner/publish.ts", "preset", dir, "sharded", "--as-is"], { cwd: new URL("..", import.meta.url).pathname, env, encoding: "utf8" });
    expect(Object.keys(JSON.parse(out).files).sort()).toEqual(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"]);
    const store = new LocalDirStore(join(root, "store"));
    const eager = await Backbone.fromPreset(dir);
    const runner = await makeRunner({ dir: root, store, backbone: eager as GemmaBackbone, adapters: new Map(), adapterBytes: new Map() });
    try {
      const ids = [[2, 5, 9, 13, 17], [2, 7, 11, 0, 0]];
      const mask = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]];
      const app = await createApp(runner);
      const response = await app.request(await signed("POST", "/v1/forward", { preset: "sharded", tenant: TENANT, token_ids: ids, padding_mask: mask }));
      expect(response.status, await response.clone().text()).toBe(200);
      const served = new Float32Array(await response.arrayBuffer());
      const expected = await reference(await eager.createSession(runtime, { lora: true }), ids, [null, null], mask);
      expect(served.length).toBe(sizeOf([2, 5, eager.hiddenDim]));
      expect(maxDiff(served, expected)).toBeLessThanOrEqual(1e-6);
    } finally {
      await runner.close();
    }
  });
});
