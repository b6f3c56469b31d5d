/**
 * Checkpoints of any size: safetensors files and shards beyond 4 GiB (written sparse: tensors at the start and
 * the end, gigabytes of holes between) are read tensor by tensor through byte ranges, never whole, and
 * 16-bit tensors are converted one at a time.
 */
import { closeSync, ftruncateSync, openSync, rmSync, statSync, truncateSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { castTensor, directoryFiles, toFloat32, type Tensor } from "../shared/node/index.js";
import { HfCheckpoint } from "../shared/presets/hf-checkpoint.js";
import { SafetensorsSource } from "../shared/presets/safetensors-source.js";
import { countedFiles } from "./helpers/counted-files.js";
import { tmp } from "./helpers/hub-repos.js";

const GiB = 2 ** 30;
const dirs: string[] = [];
const largeDir = () => {
  dirs.push(tmp("edgebone-large-"));
  return dirs.at(-1)!;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true }))); // sparse, but 4 GiB apparent size each

interface Placed {
  name: string;
  dtype: "F32" | "BF16" | "F16";
  shape: number[];
  /** Written at this data offset (null: a hole, never written). */
  bytes: Uint8Array | null;
  size: number;
}

/** A safetensors file written sparse: only the header and the tensors with bytes touch the disk. */
function writeSparse(path: string, tensors: Placed[]): number {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.size] };
    offset += t.size;
  }
  const json = Buffer.from(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8));
  const fd = openSync(path, "w");
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, head, 0, 8, 0);
  writeSync(fd, json, 0, json.length, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    if (t.bytes) writeSync(fd, t.bytes, 0, t.bytes.byteLength, at);
    at += t.size;
  }
  ftruncateSync(fd, at); // holes at the end too
  closeSync(fd);
  return at;
}

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
const bf16 = (values: number[]) => {
  const t = castTensor({ dtype: "float32", shape: [values.length], data: Float32Array.from(values) }, "bfloat16");
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
};
/** Four 1 GiB tensors nobody reads: the holes that push the last tensor past 4 GiB. */
const padding = (prefix: string): Placed[] => Array.from({ length: 4 }, (_, i) => ({ name: `${prefix}pad.${i}`, dtype: "F32", shape: [GiB / 4], bytes: null, size: GiB }));

const values = (t: Tensor) => Array.from(toFloat32(t));

describe("safetensors beyond 4 GiB", () => {
  it("reads the first and the last tensor of a 4 GiB+ file by byte range, converting bf16 as it reads", async () => {
    const dir = largeDir();
    const first = [1.5, -2, 3.25, 4, 0.5, 6, -7, 8];
    const last = [0.5, -1.5, 2.25, 100, -0.0078125, 3, 65280, 1];
    const size = writeSparse(join(dir, "model.safetensors"), [
      { name: "first", dtype: "F32", shape: [2, 4], bytes: f32(first), size: 32 },
      ...padding(""),
      { name: "last", dtype: "BF16", shape: [2, 4], bytes: bf16(last), size: 16 },
    ]);
    expect(statSync(join(dir, "model.safetensors")).size).toBe(size);
    expect(size).toBeGreaterThan(4 * GiB);

    const { files, rangeBytes, wholeReads } = countedFiles(dir);
    const rss = process.memoryUsage().rss;
    const source = (await SafetensorsSource.open(files, "model.safetensors"))!;
    expect(values(await source.tensor("first"))).toEqual(first);
    const stored = await source.tensor("last");
    expect(stored.dtype).toBe("bfloat16");
    const converted = await source.tensor("last", "float32");
    expect(converted).toMatchObject({ dtype: "float32", shape: [2, 4] });
    expect(values(converted)).toEqual(last); // all exactly representable in bf16
    expect(wholeReads).toEqual([]);
    expect(rangeBytes()).toBeLessThan(4096); // the header and 48 bytes of tensors
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 2 ** 20);
  });

  it("an HF checkpoint with a 4 GiB+ shard: the index maps keys to shards, tensors come by range", async () => {
    const dir = largeDir();
    writeSparse(join(dir, "model-00001-of-00002.safetensors"), [{ name: "model.embed_tokens.weight", dtype: "F16", shape: [2, 2], bytes: new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x4200]).buffer), size: 8 }]);
    writeSparse(join(dir, "model-00002-of-00002.safetensors"), [...padding("model."), { name: "model.norm.weight", dtype: "BF16", shape: [4], bytes: bf16([1, 2, -3, 0.25]), size: 8 }]);
    const weightMap = { "model.embed_tokens.weight": "model-00001-of-00002.safetensors", "model.norm.weight": "model-00002-of-00002.safetensors" };
    for (let i = 0; i < 4; i++) Object.assign(weightMap, { [`model.pad.${i}`]: "model-00002-of-00002.safetensors" });
    const { files, rangeBytes, wholeReads } = countedFiles(dir);
    await files.write("model.safetensors.index.json", new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 4 * GiB + 16 }, weight_map: weightMap })));

    const checkpoint = await HfCheckpoint.open(files, "float32");
    checkpoint.detectPrefix("embed_tokens.weight");
    expect(await checkpoint.get("norm.weight")).toMatchObject({ dtype: "float32", data: Float32Array.from([1, 2, -3, 0.25]) });
    expect(values(await checkpoint.get("embed_tokens.weight"))).toEqual([1, -2, 0.5, 3]); // fp16 → fp32
    expect(wholeReads).toEqual(["model.safetensors.index.json"]);
    expect(rangeBytes()).toBeLessThan(4096);
  });

  it("a truncated shard names the tensor whose bytes are missing", async () => {
    const dir = largeDir();
    const path = join(dir, "model.safetensors");
    writeSparse(path, [{ name: "a", dtype: "F32", shape: [4], bytes: f32([1, 2, 3, 4]), size: 16 }, { name: "b", dtype: "F32", shape: [2 ** 18], bytes: null, size: 2 ** 20 }]);
    truncateSync(path, statSync(path).size - 100); // cut in the middle of "b"
    const source = (await SafetensorsSource.open(directoryFiles(dir), "model.safetensors"))!;
    expect(values(await source.tensor("a"))).toEqual([1, 2, 3, 4]);
    await expect(source.tensor("b")).rejects.toThrow(/model\.safetensors is truncated: tensor "b" needs bytes \[\d+, \d+\), the file ends before/);
  });
});
