/**
 * The object-store layout the edge writes (R2) and runners read (R2, S3 or a local directory):
 *
 *   presets/<preset key>/config.json, metadata.json, model.safetensors   (saveToPreset's files)
 *   presets/<preset key>/record.json                                     {"files": {"<file>": {size, sha256}}}
 *   adapters/<tenant>/<name>.lora.safetensors                            (loraSafetensorsFormat)
 *   adapters/<tenant>/<name>.lora.safetensors.record.json                {size, sha256}
 *
 * Records are written last: an object without its record does not exist yet, and a reader checks every download
 * against the record (size and sha256), so a half-written or replaced object is detected, never served.
 */
import { z } from "zod";
import { objectRecordSchema, type ObjectRecord } from "./protocol.js";
import { sha256Hex } from "./signing.js";

/** Byte-level store access, the part the edge (R2 binding) and the runner (R2/S3/directory) share. */
export interface ObjectStore {
  /** Human-readable location, used in error messages (`s3://bucket`, `local directory /x`). */
  readonly description: string;
  /** The object's bytes, or null when it does not exist. */
  get(key: string, signal?: AbortSignal): Promise<Uint8Array | null>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

/** A relative key without empty, `.` or `..` segments (safe as a path under a directory or a URL). */
export const isObjectKey = (key: string): boolean => !key.split("/").some((part) => part === "" || part === "." || part === "..");

export const PRESET_FILES = ["config.json", "metadata.json", "model.safetensors"] as const;

export const presetFileKey = (preset: string, file: string) => `presets/${preset}/${file}`;
export const presetRecordKey = (preset: string) => `presets/${preset}/record.json`;
export const adapterKey = (tenant: string, name: string) => `adapters/${tenant}/${name}.lora.safetensors`;
export const adapterRecordKey = (tenant: string, name: string) => `${adapterKey(tenant, name)}.record.json`;

export const presetRecordSchema = z.object({
  files: z.record(z.string(), objectRecordSchema).refine((files) => "config.json" in files, "must list config.json"),
});
export type PresetRecord = z.infer<typeof presetRecordSchema>;

export async function recordOf(bytes: Uint8Array): Promise<ObjectRecord> {
  return { size: bytes.byteLength, sha256: await sha256Hex(bytes) };
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");

/** Stores an adapter file (`.lora.safetensors` bytes) for a tenant; returns its record (what D1 keeps). */
export async function publishAdapter(store: ObjectStore, tenant: string, name: string, bytes: Uint8Array): Promise<ObjectRecord> {
  const record = await recordOf(bytes);
  await store.put(adapterKey(tenant, name), bytes);
  await store.put(adapterRecordKey(tenant, name), json(record));
  return record;
}

/** Stores a preset's files (e.g. collected from `saveToPreset(collectPresetFiles())`), then its record. */
export async function publishPreset(store: ObjectStore, preset: string, files: ReadonlyMap<string, Uint8Array>): Promise<PresetRecord> {
  if (!files.has("config.json")) throw new Error(`preset ${preset} has no config.json`);
  const record: PresetRecord = { files: {} };
  for (const [file, bytes] of files) {
    if (file.includes("/") || file === "record.json") throw new Error(`preset file name "${file}" is not allowed (flat names only, not record.json)`);
    record.files[file] = await recordOf(bytes);
    await store.put(presetFileKey(preset, file), bytes);
  }
  await store.put(presetRecordKey(preset), json(record));
  return record;
}

/** A `PresetFiles` target for `saveToPreset` that keeps the files in memory, for `publishPreset`. */
export function collectPresetFiles(location = "memory:preset"): {
  location: string;
  files: Map<string, Uint8Array>;
  read(file: string): Promise<Uint8Array | null>;
  write(file: string, bytes: Uint8Array): Promise<void>;
} {
  const files = new Map<string, Uint8Array>();
  return {
    location,
    files,
    read: async (file) => files.get(file) ?? null,
    write: async (file, bytes) => void files.set(file, bytes),
  };
}
