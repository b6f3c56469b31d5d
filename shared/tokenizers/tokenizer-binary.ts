/**
 * `tokenizer.bin`: a compiled tokenizer (compiled.ts) in one file, written beside `tokenizer.hf.json` at save
 * time and preferred by the loader. Loading it is a header check, one checksum pass and typed-array views of
 * its tables: no JSON.parse of the vocabulary, no per-token objects.
 *
 * Layout (little-endian):
 *   0  "EBTOKBIN"                       magic
 *   8  u32 format version               FORMAT_VERSION; any other version is ignored (the JSON is loaded)
 *   12 u32 header length H
 *   16 8 bytes checksum of the source tokenizer.hf.json (a stale binary is ignored)
 *   24 8 bytes checksum of bytes 32..end (a damaged binary is ignored)
 *   32 header: UTF-8 JSON {config, info, tables: [{name, type, offset, length}]} (the config is a few KB)
 *   then the tables, each at an 8-byte aligned offset, the file padded to a multiple of 8.
 * The checksum is two murmur3 lanes over alternate 32-bit words (JS, ~0.5 ms per MB).
 */
import type { CompiledInfo, CompiledTokenizer, Table } from "./compiled.js";
import { TokenizerError } from "./errors.js";
import type { TokenizerJson } from "./tokenizer-json.js";

export const COMPILED_TOKENIZER_FILE = "tokenizer.bin";
const FORMAT_VERSION = 1;
const MAGIC = "EBTOKBIN";
const PREFIX = 32;

/** Why a binary cannot be used; the loader then falls back to the JSON with this as the warning. */
export class UnusableBinaryError extends TokenizerError {
  override name = "UnusableBinaryError";
}

const TYPES = { u8: Uint8Array, i32: Int32Array, u32: Uint32Array, f32: Float32Array, f64: Float64Array } as const;
type TypeName = keyof typeof TYPES;

function typeName(t: Table): TypeName {
  for (const [name, type] of Object.entries(TYPES) as [TypeName, (typeof TYPES)[TypeName]][]) if (t instanceof type) return name;
  throw new TokenizerError(`unsupported table type ${t.constructor.name}`);
}

const align8 = (n: number) => (n + 7) & ~7;

export function writeTokenizerBinary(compiled: CompiledTokenizer, sourceChecksum: string): Uint8Array {
  const entries = Object.entries(compiled.tables);
  const layout = (start: number) => {
    let at = start;
    return entries.map(([name, t]) => {
      const entry = { name, type: typeName(t), offset: at, length: t.length };
      at = align8(at + t.byteLength);
      return entry;
    });
  };
  // The header (which holds the offsets) decides where the tables start: grow the start until it fits.
  let tablesStart = PREFIX;
  let header: Uint8Array;
  for (;;) {
    header = new TextEncoder().encode(JSON.stringify({ config: compiled.config, info: compiled.info, tables: layout(tablesStart) }));
    if (PREFIX + header.length <= tablesStart) break;
    tablesStart = align8(PREFIX + header.length);
  }
  const tables = layout(tablesStart);
  const last = tables.at(-1);
  const total = last ? align8(last.offset + last.length * TYPES[last.type].BYTES_PER_ELEMENT) : tablesStart;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, header.length, true);
  out.set(hexBytes(sourceChecksum), 16);
  out.set(header, PREFIX);
  entries.forEach(([, t], i) => out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), tables[i].offset));
  out.set(hexBytes(checksum(out.subarray(PREFIX))), 24);
  return out;
}

/** Magic, version and source checksum, without reading further. */
function readBinaryHeader(bytes: Uint8Array, where: string): { version: number; sourceChecksum: string } {
  if (bytes.length < PREFIX || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new UnusableBinaryError(`${where} is not a compiled tokenizer (no ${MAGIC} header)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { version: view.getUint32(8, true), sourceChecksum: hex(bytes.subarray(16, 24)) };
}

/**
 * The compiled tokenizer in `bytes`, its tables views of them (copied once when `bytes` is not 8-byte aligned).
 * With `sourceChecksum`, a binary made from another tokenizer.hf.json is refused (UnusableBinaryError).
 */
export function readTokenizerBinary(bytes: Uint8Array, where: string, sourceChecksum?: string): CompiledTokenizer {
  const header = readBinaryHeader(bytes, where);
  if (header.version !== FORMAT_VERSION) {
    throw new UnusableBinaryError(`${where} is compiled tokenizer format ${header.version}; this Edgebone reads format ${FORMAT_VERSION}`);
  }
  if (sourceChecksum !== undefined && header.sourceChecksum !== sourceChecksum) {
    throw new UnusableBinaryError(`${where} was compiled from another tokenizer.hf.json (checksum ${header.sourceChecksum}, the file's is ${sourceChecksum})`);
  }
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new UnusableBinaryError(`${where}: compiled tokenizers are little-endian, this machine is not`);
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  if (bytes.length % 8 !== 0 || hex(bytes.subarray(24, 32)) !== checksum(bytes.subarray(PREFIX))) {
    throw new UnusableBinaryError(`${where} is damaged (checksum mismatch)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(12, true);
  let parsed: { config: TokenizerJson; info: CompiledInfo; tables: { name: string; type: TypeName; offset: number; length: number }[] };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX, PREFIX + headerLength)));
  } catch (e) {
    throw new UnusableBinaryError(`${where} has an unreadable header (${(e as Error).message})`);
  }
  const tables: Record<string, Table> = {};
  for (const { name, type, offset, length } of parsed.tables) {
    const Type = TYPES[type];
    if (!Type || offset % 8 !== 0 || offset + length * Type.BYTES_PER_ELEMENT > bytes.length) {
      throw new UnusableBinaryError(`${where}: table ${name} lies outside the file`);
    }
    tables[name] = new Type(bytes.buffer as ArrayBuffer, bytes.byteOffset + offset, length);
  }
  return { config: parsed.config, info: parsed.info, tables, bytes };
}

/** 64-bit checksum (16 hex digits) of `bytes`: two murmur3 lanes over alternate little-endian 32-bit words. */
export function checksum(bytes: Uint8Array): string {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >>> 2);
  let a = 0x9747b28c | 0;
  let b = 0x5bd1e995 | 0;
  const pairs = words.length & ~1;
  for (let i = 0; i < pairs; i += 2) {
    a = lane(a, words[i]);
    b = lane(b, words[i + 1]);
  }
  if (pairs < words.length) a = lane(a, words[pairs]);
  let tail = 0;
  for (let i = words.length * 4; i < aligned.length; i++) tail |= aligned[i] << (8 * (i & 3));
  b = lane(b, tail);
  return hex32(fmix(a ^ aligned.length)) + hex32(fmix(b ^ Math.floor(aligned.length / 2 ** 32)));
}

function lane(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const hex32 = (n: number) => n.toString(16).padStart(8, "0");
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const hexBytes = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
