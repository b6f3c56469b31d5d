/**
 * safetensors read/write (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length,
 * a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian tensor bytes.
 * Reading returns views into the input buffer wherever alignment allows, so a file is never copied twice; the
 * header and per-tensor pieces are exported for readers that fetch byte ranges (presets/safetensors-source.ts).
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

/** Where one tensor lies in its file: `[begin, end)` are absolute byte offsets. */
export interface TensorEntry {
  dtype: FloatDType;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** Offset of the data section (8 + header length). */
  dataStart: number;
}

/** The header's JSON length, from the file's first 8 bytes. */
export function safetensorsHeaderLength(first8: Uint8Array, source: string): number {
  if (first8.byteLength < 8) throw new Error(`${source}: too short to be a safetensors file`);
  const length = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${source}: header length ${length} is not plausible`);
  return Number(length);
}

/**
 * Parses the JSON header (the bytes after the length). `include` selects tensors by name; others are not
 * checked, whatever their dtype. `fileSize`, when known, bounds every tensor's byte range. Shapes must be
 * non-negative integers, byte ranges in order, of the shape's size and not overlapping one another (the format's
 * rules: a file that breaks them would read its header or another tensor's bytes as weights).
 */
export function parseSafetensorsHeader(json: Uint8Array, source: string, include?: (name: string) => boolean, fileSize?: number): SafetensorsHeader {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(json));
  } catch {
    throw new Error(`${source}: header is not valid JSON`);
  }
  if (!isObject(header)) throw new Error(`${source}: header is not a JSON object`);
  const dataStart = 8 + json.byteLength;
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isObject(entry) || !Object.values(entry).every((v) => typeof v === "string")) throw new Error(`${source}: __metadata__ must map names to strings`);
      metadata = entry as Record<string, string>;
      continue;
    }
    if (include && !include(name)) continue;
    const { dtype: stDtype, shape, data_offsets: offsets } = (isObject(entry) ? entry : {}) as Partial<HeaderEntry>;
    const dtype = ST_TO_DTYPE[String(stDtype)];
    if (!dtype) throw new Error(`${source}: tensor "${name}" has dtype ${stDtype}; only F32, F16 and BF16 are supported`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${source}: tensor "${name}" has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
    const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [NaN, NaN];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
      throw new Error(`${source}: tensor "${name}" has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 <= begin <= end`);
    }
    if (end - begin !== sizeOf(shape) * bytesPerElement(dtype) || (fileSize !== undefined && dataStart + end > fileSize)) {
      throw new Error(`${source}: tensor "${name}" byte range [${begin}, ${end}) does not fit shape [${shape}] ${stDtype}`);
    }
    entries.set(name, { dtype, shape, begin: dataStart + begin, end: dataStart + end });
  }
  const ranges = [...entries].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const [previous, a] = ranges[i - 1];
    const [name, b] = ranges[i];
    if (b.begin < a.end) throw new Error(`${source}: tensor "${name}" overlaps tensor "${previous}" (data_offsets must not overlap)`);
  }
  return { entries, metadata, dataStart };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** A tensor over its bytes (exactly `entry`'s range): a view when aligned, else one copy. */
export function tensorFromBytes(entry: TensorEntry, bytes: Uint8Array): Tensor {
  const width = bytesPerElement(entry.dtype);
  const elements = sizeOf(entry.shape);
  // Typed-array views need element alignment; copy only the rare misaligned tensor.
  const aligned = bytes.byteOffset % width === 0;
  const buffer = aligned ? bytes.buffer : bytes.slice().buffer;
  const at = aligned ? bytes.byteOffset : 0;
  const data = entry.dtype === "float32" ? new Float32Array(buffer, at, elements) : new Uint16Array(buffer, at, elements);
  return { dtype: entry.dtype, shape: entry.shape, data };
}

/** The header of a whole file held in memory. */
export function headerOfBytes(bytes: Uint8Array, source: string, include?: (name: string) => boolean): SafetensorsHeader {
  const headerLength = safetensorsHeaderLength(bytes, source);
  if (headerLength > bytes.byteLength - 8) throw new Error(`${source}: header length ${headerLength} exceeds the file size`);
  return parseSafetensorsHeader(bytes.subarray(8, 8 + headerLength), source, include, bytes.byteLength);
}

/** Reads a whole file held in memory; tensors are views into `bytes` wherever alignment allows. */
export function readSafetensors(bytes: Uint8Array, source = "safetensors file", include?: (name: string) => boolean): SafetensorsFile {
  const { entries, metadata } = headerOfBytes(bytes, source, include);
  const tensors = new Map<string, Tensor>();
  for (const [name, entry] of entries) tensors.set(name, tensorFromBytes(entry, bytes.subarray(entry.begin, entry.end)));
  return { tensors, metadata };
}

/**
 * The file as parts (header, then each tensor's bytes as a view, nothing copied), for writers that stream:
 * a file of any size, where one buffer would cap at 4 GiB and double the memory.
 */
export function safetensorsParts(tensors: Iterable<[string, Tensor]>, metadata?: Record<string, string>): Uint8Array[] {
  const entries = [...tensors];
  const head = safetensorsHead(entries.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })), metadata);
  return [head, ...entries.map(([, t]) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
}

/**
 * The bytes before the data (length + JSON header) of a file holding these tensors in this order, for writers
 * that produce each tensor's bytes only when they write it.
 */
export function safetensorsHead(tensors: readonly { name: string; dtype: FloatDType; shape: readonly number[] }[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const { name, dtype, shape } of tensors) {
    const size = sizeOf(shape) * bytesPerElement(dtype);
    header[name] = { dtype: DTYPE_TO_ST[dtype], shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
  const head = new Uint8Array(8 + Math.ceil(json.length / 8) * 8).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(head.length - 8), true);
  head.set(json, 8);
  return head;
}

export function writeSafetensors(tensors: Iterable<[string, Tensor]>, metadata?: Record<string, string>): Uint8Array {
  return concatBytes(safetensorsParts(tensors, metadata));
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
