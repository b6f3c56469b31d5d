/**
 * safetensors read/write (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length,
 * a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian tensor bytes.
 * Reading returns views into the input buffer wherever alignment allows, so a file is never copied twice.
 */
import type { FloatDType, Tensor } from "../tensor/tensor.js";
import { bytesPerElement, sizeOf } from "../tensor/tensor.js";

const DTYPE_TO_ST: Record<FloatDType, string> = { float32: "F32", float16: "F16", bfloat16: "BF16" };
const ST_TO_DTYPE: Record<string, FloatDType> = { F32: "float32", F16: "float16", BF16: "bfloat16" };

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** `include` selects tensors by name (others are not decoded, whatever their dtype). */
export function readSafetensors(bytes: Uint8Array, source = "safetensors file", include?: (name: string) => boolean): SafetensorsFile {
  if (bytes.byteLength < 8) throw new Error(`${source}: too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8) throw new Error(`${source}: header length ${headerLength} exceeds the file size`);
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new Error(`${source}: header is not valid JSON`);
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = entry as Record<string, string>;
      continue;
    }
    if (include && !include(name)) continue;
    const { dtype: stDtype, shape, data_offsets: [begin, end] } = entry as HeaderEntry;
    const dtype = ST_TO_DTYPE[stDtype];
    if (!dtype) throw new Error(`${source}: tensor "${name}" has dtype ${stDtype}; only F32, F16 and BF16 are supported`);
    const expected = sizeOf(shape) * bytesPerElement(dtype);
    if (end - begin !== expected || dataStart + end > bytes.byteLength) {
      throw new Error(`${source}: tensor "${name}" byte range [${begin}, ${end}) does not fit shape [${shape}] ${stDtype}`);
    }
    const offset = bytes.byteOffset + dataStart + begin;
    const elements = sizeOf(shape);
    const width = bytesPerElement(dtype);
    // Typed-array views need element alignment; copy only the rare misaligned tensor.
    const buffer = offset % width === 0 ? bytes.buffer : bytes.slice(dataStart + begin, dataStart + end).buffer;
    const at = offset % width === 0 ? offset : 0;
    const data = dtype === "float32" ? new Float32Array(buffer, at, elements) : new Uint16Array(buffer, at, elements);
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

export function writeSafetensors(tensors: Iterable<[string, Tensor]>, metadata?: Record<string, string>): Uint8Array {
  const entries = [...tensors];
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const size = t.data.byteLength;
    header[name] = { dtype: DTYPE_TO_ST[t.dtype], shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
