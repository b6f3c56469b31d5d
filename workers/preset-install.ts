/**
 * Preset installs (`PUT /admin/presets/:name/:file`, workers/tools/install-preset.ts is the client). A preset
 * exists, for this worker and for the runners, once `presets/<name>/record.json` is stored (shared/runner/layout.ts:
 * "an object without its record does not exist yet"), and the worker stores the record only after checking the
 * install it commits:
 *
 *   - the record parses (`{"files": {"<file>": {size, sha256}}}`, config.json listed) and every file it lists is in
 *     R2 with that size and, where R2 kept one (installs send x-sha256), that sha256;
 *   - config.json builds a backbone; the tokenizer, if the preset has one, loads; `edgebone.json`, if any, parses;
 *     the edge artifact's manifest (`edge/manifest.json`), if any, parses and its files are in R2 at their sizes.
 *
 * Anything else is a 422 naming the file and the problem, and no record is written. Any other file's PUT first
 * removes the preset's record: a re-install is invisible (404) from its first file until its new record commits,
 * so no request ever sees a mix of two installs' files.
 */
import type { Context } from "hono";
import { Backbone, EDGE_MANIFEST, NoTokenizerError, Preprocessor, EMBEDDING_SETTINGS_FILE, parseEmbeddingSettings, readEdgeManifest, type EdgeManifest } from "../shared/index.js";
import { presetFileKey, presetRecordKey, presetRecordSchema, type PresetRecord } from "../shared/runner/layout.js";
import type { AppEnv } from "./context.js";
import { sha256Hex } from "../shared/runner/signing.js";
import { numberVar, type R2BucketLike } from "./env.js";
import { ApiError, badRequest, unprocessable } from "./errors.js";
import { readBody, tooLarge } from "./http.js";
import { R2PresetStore, isPresetName, toHex } from "./r2-preset-store.js";

const FILE_PART = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** R2's longest object key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
/** JSON files (config, record, tokenizer, manifests) are read whole when an install commits. */
const MAX_JSON_FILE_BYTES = 64 * 1024 * 1024;
/** R2's largest single upload. */
const DEFAULT_PRESET_FILE_MAX_BYTES = 5 * 1024 ** 3;
const RECORD = "record.json";

/** Stores one file of an install, or commits it (record.json); answers what was stored. */
export async function putPresetFile(c: Context<AppEnv>, name: string, file: string): Promise<{ preset: string; file: string; size: number }> {
  if (!isPresetName(name)) throw unprocessable(`invalid preset name "${name}": 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit`, "invalid_preset_name", "name");
  if (!file.split("/").every((part) => FILE_PART.test(part))) throw unprocessable(`invalid preset file name "${file}"`, "invalid_file_name", "file");
  const key = presetFileKey(name, file);
  const keyBytes = new TextEncoder().encode(key).byteLength;
  if (keyBytes > MAX_KEY_BYTES) throw unprocessable(`the file name makes an object key of ${keyBytes} bytes, over R2's ${MAX_KEY_BYTES}`, "invalid_file_name", "file");
  const length = Number(c.req.header("content-length") ?? NaN);
  const body = c.req.raw.body;
  if (!Number.isSafeInteger(length) || length < 0 || !body) throw new ApiError(411, "send the file with a Content-Length", "length_required");
  const max = file.endsWith(".json") ? MAX_JSON_FILE_BYTES : numberVar(c.env.PRESET_FILE_MAX_BYTES, DEFAULT_PRESET_FILE_MAX_BYTES);
  if (length > max) throw tooLarge(`${file} of ${length} bytes exceeds the limit of ${max} bytes for ${file.endsWith(".json") ? "a JSON file" : "a preset file"}`);
  const sha256 = c.req.header("x-sha256");
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw badRequest("x-sha256 must be 64 lowercase hex digits", "invalid_sha256", "x-sha256");
  const bucket = c.env.BUCKET;
  const services = c.var.services;

  if (file === RECORD) {
    const bytes = await readBody(c, max);
    if (sha256 && (await sha256Hex(bytes)) !== sha256) throw unprocessable(`${file}: the body does not match x-sha256 ${sha256}`, "checksum_mismatch", "x-sha256");
    await checkInstall(bucket, name, parseRecord(bytes));
    await bucket.put(key, bytes);
    services.forgetPreset(name);
    return { preset: name, file, size: bytes.byteLength };
  }

  await bucket.delete(presetRecordKey(name));
  services.forgetPreset(name);
  let object;
  try {
    object = await bucket.put(key, body, sha256 ? { sha256 } : undefined);
  } catch (e) {
    if (sha256 && /sha-?256|checksum|digest/i.test(String((e as Error).message))) throw unprocessable(`${file}: the body does not match x-sha256 ${sha256}`, "checksum_mismatch", "x-sha256");
    throw e;
  }
  return { preset: name, file, size: object?.size ?? length };
}

function parseRecord(bytes: Uint8Array): PresetRecord {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw unprocessable(`record.json is not valid JSON: ${(e as Error).message}`, "invalid_record", "file");
  }
  const parsed = presetRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw unprocessable(`record.json: ${issue.path.join(".") || "record"}: ${issue.message}`, "invalid_record", "file");
  }
  const bad = Object.keys(parsed.data.files).find((f) => f === RECORD || !FILE_PART.test(f));
  if (bad !== undefined) throw unprocessable(`record.json lists "${bad}": records list the preset's flat files, not record.json`, "invalid_record", "file");
  return parsed.data;
}

/** 422 `invalid_preset` naming what is wrong with the files an install would commit. */
async function checkInstall(bucket: R2BucketLike, name: string, record: PresetRecord): Promise<void> {
  const invalid = (message: string) => unprocessable(`preset "${name}" cannot be committed: ${message}`, "invalid_preset", "file");
  for (const [file, want] of Object.entries(record.files)) {
    const object = await bucket.head(presetFileKey(name, file));
    if (!object) throw invalid(`record.json lists ${file}, which was not uploaded`);
    if (object.size !== want.size) throw invalid(`${file} has ${object.size} bytes, record.json says ${want.size}`);
    const stored = object.checksums?.sha256 ? toHex(object.checksums.sha256) : undefined;
    if (stored !== undefined && stored !== want.sha256) throw invalid(`${file} has sha256 ${stored}, record.json says ${want.sha256}`);
  }
  // The store the worker serves from, reading this preset's files as they are now.
  const store = new R2PresetStore(bucket);
  const files = store.open(name);
  const checked = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw invalid(`${what}: ${(e as Error).message}`);
    }
  };
  await checked("config.json does not build a backbone", () => Backbone.fromPreset(name, { store, loadWeights: false }));
  await checked("the tokenizer does not load", async () => {
    try {
      await Preprocessor.fromPreset(files);
    } catch (e) {
      if (!(e instanceof NoTokenizerError)) throw e; // a preset without a tokenizer takes token ids
    }
  });
  const settings = await files.read(EMBEDDING_SETTINGS_FILE);
  if (settings) await checked(`${EMBEDDING_SETTINGS_FILE} does not parse`, async () => parseEmbeddingSettings(settings, EMBEDDING_SETTINGS_FILE));
  const manifest = await checked(`${EDGE_MANIFEST} does not parse`, () => readEdgeManifest(files));
  if (manifest) {
    for (const ref of edgeFiles(manifest)) {
      const object = await bucket.head(presetFileKey(name, ref.file));
      if (!object) throw invalid(`${EDGE_MANIFEST} lists ${ref.file}, which was not uploaded`);
      if (object.size !== ref.bytes) throw invalid(`${ref.file} has ${object.size} bytes, ${EDGE_MANIFEST} says ${ref.bytes}`);
    }
  }
}

function edgeFiles(manifest: EdgeManifest): { file: string; bytes: number }[] {
  return [...(manifest.embedding ? [manifest.embedding] : []), ...manifest.stages.flatMap((s) => [s.graph, s.data])];
}
