/**
 * kaggle:// and built-in preset downloads against a fake Kaggle Models API on loopback
 * (test/helpers/fake-hub.ts): kagglehub's cache layout and completion markers, latest-version resolution,
 * only a preset's files, KerasHub model.weights.h5 through h5wasm, credentials, resume and MD5 verification.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Backbone, MemoryPresetStore, nodeRuntime, tokenBatch } from "../shared/node/index.js";
import { FakeHub } from "./helpers/fake-hub.js";
import { loadGolden, maxAbsDiff, type GoldenModel } from "./helpers/golden.js";
import { listTree, tmp } from "./helpers/hub-repos.js";
import { encoderLayout, gemmaLayout, writeKerasPreset } from "./helpers/keras-presets.js";
import { gemmaStyleModel } from "./helpers/tiny-tokenizers.js";

const TINY = "keras/tinygemma/keras/tiny_gemma";
const BUILTIN = "keras/distil_bert/keras/distil_bert_base_en_uncased"; // distil_bert_base_en_uncased's handle, version 2

let hub: FakeHub;
let kaggleCache: string;
const versionDir = (instance: string, version: number) => join(kaggleCache, "models", ...instance.split("/"), String(version));
const load = (preset: string, options: { loadWeights?: boolean } = {}) => Backbone.fromPreset(preset, { store: new MemoryPresetStore(), download: true, ...options });

/** A KerasHub preset dir's files (config.json, metadata.json, model.weights.h5, …) as a version's files. */
function filesOf(dir: string): Record<string, Uint8Array> {
  return Object.fromEntries(listTree(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

async function expectGolden(backbone: Backbone, model: GoldenModel): Promise<void> {
  const golden = loadGolden(model);
  const { sequenceOutput } = await (await backbone.createSession(nodeRuntime({ threads: 1 }))).forward(tokenBatch(golden.inputIds, golden.attentionMask));
  expect(maxAbsDiff(sequenceOutput, golden.lastHiddenState, golden.validLengths)).toBeLessThanOrEqual(1e-4);
}

beforeAll(async () => {
  hub = await FakeHub.start();
  const gemma = filesOf(await writeKerasPreset("gemma", gemmaLayout(2, false)));
  const tokenizerConfig = { module: "keras_hub.src.models.gemma.gemma_tokenizer", class_name: "GemmaTokenizer", config: { name: "gemma_tokenizer" }, registered_name: "keras_hub>GemmaTokenizer" };
  hub.kaggle.set(TINY, {
    versions: {
      1: { "config.json": gemma["config.json"], "model.weights.h5": new Uint8Array(16) },
      2: {
        ...gemma,
        "tokenizer.json": JSON.stringify(tokenizerConfig),
        "assets/tokenizer/vocabulary.spm": gemmaStyleModel(),
        "preprocessor.json": "{}",
        "task.json": "{}",
        "task.weights.h5": new Uint8Array(32),
      },
    },
  });
  hub.kaggle.set(BUILTIN, { versions: { 2: filesOf(await writeKerasPreset("distilbert", encoderLayout("token_and_position_embedding", 2, "query_dense"))) }, consented: ["alice"] });
  hub.kaggleUsers.set("alice", "alice-key").set("bob", "bob-key");
  process.env.KAGGLE_API_ENDPOINT = hub.url;
  process.env.HF_HUB_DISABLE_PROGRESS_BARS = "1";
});

afterAll(() => hub.close());

beforeEach(() => {
  kaggleCache = tmp("edgebone-kagglehub-");
  process.env.KAGGLEHUB_CACHE = kaggleCache;
  process.env.KAGGLE_CONFIG_DIR = tmp("edgebone-kaggle-config-");
  delete process.env.KAGGLE_USERNAME;
  delete process.env.KAGGLE_KEY;
  hub.requests.length = 0;
  hub.clearFaults();
});

describe("kaggle:// downloads", () => {
  it("resolve the latest version and fetch a KerasHub preset (model.weights.h5 through h5wasm) into kagglehub's cache", async () => {
    process.env.KAGGLE_USERNAME = "bob";
    process.env.KAGGLE_KEY = "bob-key";
    await expectGolden(await load(`kaggle://${TINY}`), "gemma");
    const dir = versionDir(TINY, 2);
    expect(listTree(dir)).toEqual(["assets/tokenizer/vocabulary.spm", "config.json", "metadata.json", "model.weights.h5", "tokenizer.json"]);
    const markers = join(kaggleCache, "models", ...TINY.split("/"), ".complete", "2");
    expect(listTree(markers)).toEqual(["assets/tokenizer/vocabulary.spm.complete", "config.json.complete", "metadata.json.complete", "model.weights.h5.complete", "tokenizer.json.complete"]);

    const api = hub.requests.filter((r) => r.server === "hub").map((r) => r.path);
    expect(api[0]).toBe(`/api/v1/models/${TINY}/get`);
    expect(api.filter((p) => p.endsWith("/2/files"))).toHaveLength(4); // 7 files, two per page
    expect(api.some((p) => /task|preprocessor/.test(p))).toBe(false);
    expect(hub.requests.filter((r) => r.server === "hub").every((r) => r.authorization === `Basic ${Buffer.from("bob:bob-key").toString("base64")}`)).toBe(true);
    expect(hub.requests.filter((r) => r.server === "files").every((r) => r.authorization === undefined)).toBe(true); // signed URLs only
  });

  it("a second load downloads nothing; a pinned version's config alone is one download", async () => {
    await load(`kaggle://${TINY}`);
    hub.requests.length = 0;
    await expectGolden(await load(`kaggle://${TINY}`), "gemma");
    expect(hub.downloads()).toEqual([]);

    kaggleCache = process.env.KAGGLEHUB_CACHE = tmp("edgebone-kagglehub-");
    hub.requests.length = 0;
    expect((await load(`kaggle://${TINY}/2`, { loadWeights: false })).className).toBe("GemmaBackbone");
    expect(hub.requests.map((r) => `${r.server} ${r.path.replace(/\?.*/, "")}`)).toEqual([
      `hub /api/v1/models/${TINY}/2/download/config.json`,
      `files /gcs/kaggle/${TINY}/2/config.json`,
    ]);
  });

  it("reuses a version kagglehub downloaded whole (its bundle marker)", async () => {
    const dir = versionDir(TINY, 2);
    const files = hub.kaggle.get(TINY)!.versions[2];
    for (const [name, bytes] of Object.entries(files)) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    writeFileSync(`${dir}.complete`, "");
    await expectGolden(await load(`kaggle://${TINY}/2`), "gemma");
    expect(hub.downloads()).toEqual([]);
  });

  it("built-in names download their Kaggle handle; a gated model says how to get access", async () => {
    await expect(load("distil_bert_base_en_uncased")).rejects.toThrow(
      new RegExp(`built-in preset "distil_bert_base_en_uncased" is not installed .*downloading kaggle://${BUILTIN}/2 failed: kaggle://${BUILTIN}/2: access denied \\(403\\)\\. The model may require accepting its licence: open ${hub.url}/models/keras/distil_bert, accept the terms with your Kaggle account, then set KAGGLE_USERNAME and KAGGLE_KEY`),
    );
    process.env.KAGGLE_USERNAME = "alice";
    process.env.KAGGLE_KEY = "wrong";
    await expect(load("distil_bert_base_en_uncased")).rejects.toThrow(/Kaggle rejected the credentials from KAGGLE_USERNAME\/KAGGLE_KEY \(401\)/);
    process.env.KAGGLE_USERNAME = "bob";
    process.env.KAGGLE_KEY = "bob-key";
    await expect(load("distil_bert_base_en_uncased")).rejects.toThrow(/access denied \(403\).*\(the one of the credentials from KAGGLE_USERNAME\/KAGGLE_KEY\)/);
    delete process.env.KAGGLE_USERNAME;
    delete process.env.KAGGLE_KEY;
    writeFileSync(join(process.env.KAGGLE_CONFIG_DIR!, "kaggle.json"), JSON.stringify({ username: "alice", key: "alice-key" }));
    await expectGolden(await load("distil_bert_base_en_uncased"), "distilbert");
    expect(existsSync(join(versionDir(BUILTIN, 2), "model.weights.h5"))).toBe(true);
    await expect(load("kaggle://keras/nope/keras/x/1")).rejects.toThrow(/kaggle:\/\/keras\/nope\/keras\/x\/1 was not found \(404\): check the owner, model, framework, variation and version/);
  });

  it("resumes model.weights.h5 after a cut and rejects a corrupted byte by its MD5 (x-goog-hash)", async () => {
    hub.fault("model.weights.h5", "cut", 2048);
    await expectGolden(await load(`kaggle://${TINY}/2`), "gemma");
    expect(hub.requests.filter((r) => r.server === "files" && r.path.endsWith("model.weights.h5")).map((r) => r.range)).toEqual([undefined, "bytes=2048-"]);

    kaggleCache = process.env.KAGGLEHUB_CACHE = tmp("edgebone-kagglehub-");
    hub.fault("model.weights.h5", "corrupt", 5000);
    await expect(load(`kaggle://${TINY}/2`)).rejects.toThrow(/kaggle:\/\/keras\/tinygemma\/keras\/tiny_gemma\/2 model\.weights\.h5: the downloaded file's md5 is \S+, expected \S+/);
    expect(existsSync(join(versionDir(TINY, 2), "model.weights.h5"))).toBe(false);
    expect(readdirSync(join(kaggleCache, "models", ...TINY.split("/"), ".complete", "2"))).not.toContain("model.weights.h5.complete");
    await expectGolden(await load(`kaggle://${TINY}/2`), "gemma");
  });

  it("a complete file without its marker (a crash before the marker) is fetched again: its range is past the end (416)", async () => {
    await load(`kaggle://${TINY}/2`, { loadWeights: false });
    rmSync(join(kaggleCache, "models", ...TINY.split("/"), ".complete"), { recursive: true });
    hub.requests.length = 0;
    await load(`kaggle://${TINY}/2`, { loadWeights: false });
    const size = readFileSync(join(versionDir(TINY, 2), "config.json")).byteLength;
    expect(hub.requests.filter((r) => r.server === "files").map((r) => r.range)).toEqual([`bytes=${size}-`, undefined]);
  });
});
