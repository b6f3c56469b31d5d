/**
 * Puts presets and adapters into the runner's object store in the layout the edge writes (objects, then their
 * records), for running a runner without the edge. Store settings come from the same RUNNER_* variables.
 *
 *   tsx gpu-runner/publish.ts preset <name|dir|hf://…|kaggle://…> <preset key> [--random-weights] [--dtype D]
 *   tsx gpu-runner/publish.ts preset <dir> <preset key> --as-is      (a directory's files unchanged, any size)
 *   tsx gpu-runner/publish.ts adapter <file.lora.safetensors|file.lora.h5|peft-dir> <preset key> <tenant> <name>
 *
 * Failures are one line on stderr and exit code 1 (2 for usage).
 */
import { createHash } from "node:crypto";
import { createReadStream, readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Backbone, loraSafetensorsFormat, type FloatDType } from "../shared/node/index.js";
import { readAdapter } from "../shared/node/adapters.js";
import { collectPresetFiles, presetFileKey, publishAdapter, publishPreset, publishPresetRecord, type PresetRecord } from "../shared/runner/layout.js";
import { nameSchema, presetKeySchema } from "../shared/runner/protocol.js";
import { storeFromConfig, type RunnerStore } from "./object-store.js";

const USAGE = `usage:
  publish preset <name|dir|hf://…|kaggle://…> <preset key> [--random-weights] [--dtype float32|float16|bfloat16]
  publish preset <dir> <preset key> --as-is    (the directory's files unchanged: an HF checkpoint of any size)
  publish adapter <file.lora.safetensors|file.lora.h5|peft-dir> <preset key> <tenant> <name>
store: RUNNER_STORE (directory, default .edgebone/store, or s3://bucket[/prefix] with RUNNER_S3_*)`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { "random-weights": { type: "boolean" }, dtype: { type: "string" }, "as-is": { type: "boolean" } } });
  const [command, ...rest] = positionals;
  const env = process.env;
  const store = storeFromConfig({
    store: env.RUNNER_STORE || ".edgebone/store",
    s3: { endpoint: env.RUNNER_S3_ENDPOINT, region: env.RUNNER_S3_REGION || "auto", accessKeyId: env.RUNNER_S3_ACCESS_KEY_ID || env.AWS_ACCESS_KEY_ID, secretAccessKey: env.RUNNER_S3_SECRET_ACCESS_KEY || env.AWS_SECRET_ACCESS_KEY },
  });
  if (command === "preset" && rest.length === 2) {
    const [source, key] = rest;
    check("preset key", key, presetKeySchema);
    if (values["as-is"]) {
      const record = await publishDirectory(store, key, source);
      console.log(JSON.stringify({ preset: key, store: store.description, files: record.files }));
      return;
    }
    const dtype = values.dtype as FloatDType | undefined;
    const backbone = await Backbone.fromPreset(source, { loadWeights: !values["random-weights"], ...(dtype ? { dtype } : {}) });
    const files = collectPresetFiles();
    await backbone.saveToPreset(files);
    const record = await publishPreset(store, key, files.files);
    console.log(JSON.stringify({ preset: key, store: store.description, files: record.files }));
    return;
  }
  if (command === "adapter" && rest.length === 4) {
    const [path, presetKey, tenant, name] = rest;
    check("preset key", presetKey, presetKeySchema);
    check("tenant", tenant, nameSchema);
    check("adapter name", name, nameSchema);
    // The preset's config is enough to check and convert the adapter (no weights are loaded).
    const backbone = await Backbone.fromPreset(presetKey, { loadWeights: false, store: presetStoreOver(store, presetKey) });
    const adapter = await readAdapter(path, backbone);
    const record = await publishAdapter(store, tenant, name, await loraSafetensorsFormat.encode(adapter, backbone));
    console.log(JSON.stringify({ tenant, name, rank: adapter.rank, layout: adapter.layout, store: store.description, ...record }));
    return;
  }
  throw Object.assign(new Error(USAGE), { usage: true });
}

/**
 * A preset directory's flat files as they are (an HF checkpoint's config, shards and index; tokenizer files),
 * each hashed and copied by streaming, then the record. The runner reads such checkpoints tensor by tensor.
 */
async function publishDirectory(store: RunnerStore, key: string, dir: string): Promise<PresetRecord> {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--as-is publishes a directory's files: ${dir} is not a directory`);
  const files = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && e.name !== "record.json").map((e) => e.name).sort();
  if (!files.includes("config.json")) throw new Error(`${dir} has no config.json: not a preset directory`);
  const record: PresetRecord = { files: {} };
  for (const file of files) {
    const path = join(dir, file);
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    record.files[file] = { size: statSync(path).size, sha256: hash.digest("hex") };
    await (store.putFile ? store.putFile(presetFileKey(key, file), path) : store.put(presetFileKey(key, file), await readFile(path)));
  }
  await publishPresetRecord(store, key, record);
  return record;
}

function check(what: string, value: string, schema: typeof nameSchema | typeof presetKeySchema): void {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${what} "${value}" ${result.error.issues[0].message}`);
}

/** The published preset's files (config.json is all `loadWeights: false` reads), read from the object store. */
function presetStoreOver(store: ReturnType<typeof storeFromConfig>, key: string) {
  const files = { location: `${store.description} ${presetFileKey(key, "")}`, read: (file: string) => store.get(presetFileKey(key, file)), write: async () => {} };
  return { description: store.description, open: () => files };
}

main(process.argv.slice(2)).catch((e: Error & { usage?: boolean }) => {
  console.error(e.usage ? e.message : `publish: ${e.message.split("\n")[0]}`);
  process.exit(e.usage ? 2 : 1);
});
