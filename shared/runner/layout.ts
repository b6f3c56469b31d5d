/**
 * The object-store layout the edge writes (R2) and runners read (R2, S3 or a local directory); every key is
 * built here and nowhere else:
 *
 *   presets/<preset key>/config.json, metadata.json, model.safetensors   (saveToPreset's files)
 *   presets/<preset key>/record.json                                     {"files": {"<file>": {size, sha256}}}
 *   adapters/<tenant>/<name>/<upload id>.lora.safetensors                an edge upload (its record is in D1)
 *   adapters/<tenant>/<name>.lora.safetensors                            published by name (publishAdapter)
 *   adapters/<tenant>/<name>.lora.safetensors.record.json                {size, sha256}
 *
 * Records are written last: an object without its record does not exist yet, and a reader checks every download
 * against the record (size and sha256), so a half-written or replaced object is detected, never served. An edge
 * upload's key is new for every upload and never rewritten, so a request pinned to it (key + D1's record) can
 * never read another version.
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

export const PRESET_PREFIX = "presets/";
export const ADAPTER_PREFIX = "adapters/";

export const presetFileKey = (preset: string, file: string) => `${PRESET_PREFIX}${preset}/${file}`;
export const presetRecordKey = (preset: string) => presetFileKey(preset, "record.json");

/** The preset a `presets/<name>/record.json` key commits (a preset exists once its record is stored), else null. */
export function presetOfRecordKey(key: string): string | null {
  const name = key.startsWith(PRESET_PREFIX) && key.endsWith("/record.json") ? key.slice(PRESET_PREFIX.length, -"/record.json".length) : "";
  return name && !name.includes("/") ? name : null;
}

/** Every adapter object of a tenant lies under this prefix (runners refuse a key outside the request's tenant). */
export const tenantAdapterPrefix = (tenant: string) => `${ADAPTER_PREFIX}${tenant}/`;
/** An edge upload: a fresh id per upload, never rewritten. */
export const uploadedAdapterKey = (tenant: string, name: string, uploadId: string) => `${tenantAdapterPrefix(tenant)}${name}/${uploadId}.lora.safetensors`;
const UPLOADED_ADAPTER_KEY = /^adapters\/[^/]+\/[^/]+\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.lora\.safetensors$/;
/** Whether a key has the form `uploadedAdapterKey` makes (the edge's sweeper deletes no other key). */
export const isUploadedAdapterKey = (key: string): boolean => UPLOADED_ADAPTER_KEY.test(key);
/** An adapter published by name, with its record beside it (`publishAdapter`; runners read it without an edge). */
export const publishedAdapterKey = (tenant: string, name: string) => `${tenantAdapterPrefix(tenant)}${name}.lora.safetensors`;
export const adapterRecordKey = (tenant: string, name: string) => `${publishedAdapterKey(tenant, name)}.record.json`;

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
  await store.put(publishedAdapterKey(tenant, name), bytes);
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
  await publishPresetRecord(store, preset, record);
  return record;
}

/** Stores a preset's record, after all its files: from then on runners serve the preset. */
export async function publishPresetRecord(store: ObjectStore, preset: string, record: PresetRecord): Promise<void> {
  await store.put(presetRecordKey(preset), json(record));
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
