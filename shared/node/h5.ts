/**
 * Node-only h5wasm plumbing shared by the KerasHub HDF5 formats (`.lora.h5`, `model.weights.h5`).
 * h5wasm compiles its WASM from bytes, which workerd forbids, so HDF5 stays on the Node side.
 */
import type { Dataset, File as H5File } from "h5wasm/node";
import { mkdtemp, open as openFile, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tensor } from "../tensor/tensor.js";

type H5Module = typeof import("h5wasm/node").default;

/** Every HDF5 file Keras writes starts with the format signature (no user block). */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** h5wasm is loaded on first use: its WASM takes ~1 s to compile, which every CLI start would pay. */
let h5wasmModule: Promise<H5Module> | null = null;
export async function h5(): Promise<H5Module> {
  h5wasmModule ??= import("h5wasm/node").then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return h5wasmModule;
}

/** h5wasm works on files: bytes go through a private temporary directory. */
async function withTempFile<T>(fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "edgebone-h5-"));
  try {
    return await fn(join(dir, "file.h5"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Opens HDF5 bytes, or a file on disk (no copy: files of any size), read-only for `fn`. */
export async function readH5<T>(input: Uint8Array | { path: string }, source: string, fn: (file: H5File) => T): Promise<T> {
  const head = input instanceof Uint8Array ? input : await readHead(input.path);
  if (!HDF5_SIGNATURE.every((byte, i) => head[i] === byte)) throw new Error(`${source} is not an HDF5 file`);
  const h5wasm = await h5();
  const open = (path: string) => {
    const file = new h5wasm.File(path, "r");
    try {
      return fn(file);
    } finally {
      file.close();
    }
  };
  if (!(input instanceof Uint8Array)) return open(input.path);
  return withTempFile(async (path) => {
    await writeFile(path, input);
    return open(path);
  });
}

async function readHead(path: string): Promise<Uint8Array> {
  const handle = await openFile(path, "r");
  try {
    const head = new Uint8Array(HDF5_SIGNATURE.length);
    await handle.read(head, 0, head.length, 0);
    return head;
  } finally {
    await handle.close();
  }
}

/** Builds an HDF5 file with `fn` and returns its bytes. */
export async function writeH5(fn: (file: H5File) => void): Promise<Uint8Array> {
  const h5wasm = await h5();
  return withTempFile(async (path) => {
    const file = new h5wasm.File(path, "w");
    try {
      fn(file);
    } finally {
      file.close();
    }
    return new Uint8Array(await readFile(path));
  });
}

/**
 * A float32/float64 dataset, or KerasHub's bf16 (|V2 opaque + attribute dtype="bfloat16"), as a Tensor.
 * The bf16 branch follows the spec; h5wasm cannot write opaque data, so no test file exercises it.
 */
export function datasetTensor(d: Dataset | null, name: string): Tensor {
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
