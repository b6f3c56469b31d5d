/**
 * sentence-transformers metadata → a preset's embedding defaults (edgebone.json), and the worker's embedding
 * code applying them: pooling (cls, mean, max, last), normalize, named prompts and their default.
 */
import { describe, expect, it } from "vitest";
import { MemoryPresetStore, Preprocessor, Tokenizer, batchRows, parseEmbeddingSettings, sentenceTransformersSettings, type PresetFiles, type TokenBatch } from "../shared/node/index.js";
import { embed, poolRow, type EmbeddingDefaults } from "../workers/embeddings.js";
import type { Inference } from "../workers/inference.js";
import { wordPieceFiles } from "./helpers/tiny-tokenizers.js";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
let n = 0;

async function repo(files: Record<string, unknown>): Promise<PresetFiles> {
  const preset = new MemoryPresetStore().open(`st-${n++}`);
  for (const [name, value] of Object.entries(files)) await preset.write(name, value instanceof Uint8Array ? value : enc(value));
  return preset;
}

const modules = (...types: [string, string][]) => [{ idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" }, ...types.map(([path, type], i) => ({ idx: i + 1, name: String(i + 1), path, type: `sentence_transformers.models.${type}` }))];
const pooling = (flags: Record<string, boolean>) => ({ word_embedding_dimension: 64, pooling_mode_mean_tokens: false, ...flags });

describe("sentence-transformers metadata", () => {
  it("becomes pooling, normalize and prompts (e5's query/passage, a default prompt)", async () => {
    const files = await repo({
      "modules.json": modules(["1_Pooling", "Pooling"], ["2_Normalize", "Normalize"]),
      "1_Pooling/config.json": pooling({ pooling_mode_cls_token: true, include_prompt: true }),
      "config_sentence_transformers.json": { prompts: { query: "query: ", passage: "passage: ", empty: "" }, default_prompt_name: "passage" },
    });
    expect(await sentenceTransformersSettings(files)).toEqual({ pooling: "cls", normalize: true, prompts: { query: "query: ", passage: "passage: " }, default_prompt_name: "passage" });
  });

  it("maps each supported pooling mode; no Normalize module means unnormalised vectors", async () => {
    for (const [flag, expected] of [["pooling_mode_mean_tokens", "mean"], ["pooling_mode_max_tokens", "max"], ["pooling_mode_lasttoken", "last"]] as const) {
      const files = await repo({ "modules.json": modules(["1_Pooling", "Pooling"]), "1_Pooling/config.json": pooling({ [flag]: true }) });
      expect(await sentenceTransformersSettings(files)).toEqual({ pooling: expected, normalize: false });
    }
    expect(await sentenceTransformersSettings(await repo({ "config.json": {} }))).toBeNull(); // not a sentence-transformers repo
  });

  it("refuses pipelines whose vectors Edgebone would not reproduce", async () => {
    const twoModes = await repo({ "modules.json": modules(["1_Pooling", "Pooling"]), "1_Pooling/config.json": pooling({ pooling_mode_mean_tokens: true, pooling_mode_max_tokens: true }) });
    await expect(sentenceTransformersSettings(twoModes)).rejects.toThrow(/1_Pooling\/config\.json: pooling mean_tokens \+ max_tokens is not supported \(Edgebone pools with exactly one of cls, mean, max, lasttoken\)/);
    const weighted = await repo({ "modules.json": modules(["1_Pooling", "Pooling"]), "1_Pooling/config.json": pooling({ pooling_mode_weightedmean_tokens: true }) });
    await expect(sentenceTransformersSettings(weighted)).rejects.toThrow(/pooling weightedmean_tokens is not supported/);
    const dense = await repo({ "modules.json": modules(["1_Pooling", "Pooling"], ["2_Dense", "Dense"]), "1_Pooling/config.json": pooling({ pooling_mode_mean_tokens: true }) });
    await expect(sentenceTransformersSettings(dense)).rejects.toThrow(/module sentence_transformers\.models\.Dense \(2_Dense\) is not supported/);
    const instructor = await repo({
      "modules.json": modules(["1_Pooling", "Pooling"]),
      "1_Pooling/config.json": pooling({ pooling_mode_mean_tokens: true, include_prompt: false }),
      "config_sentence_transformers.json": { prompts: { query: "Represent the query: " } },
    });
    await expect(sentenceTransformersSettings(instructor)).rejects.toThrow(/prompts excluded from pooling \(include_prompt: false\) are not supported/);
    const missing = await repo({ "modules.json": modules(["1_Pooling", "Pooling"]) });
    await expect(sentenceTransformersSettings(missing)).rejects.toThrow(/lists a Pooling module, but .*1_Pooling\/config\.json is missing/);
  });

  it("edgebone.json is validated with errors that name the field", () => {
    expect(() => parseEmbeddingSettings(enc({ pooling: "sum" }), "presets/x/edgebone.json")).toThrow(/presets\/x\/edgebone\.json: pooling: /);
    expect(() => parseEmbeddingSettings(enc({ prompts: { q: "q: " }, default_prompt_name: "d" }), "e.json")).toThrow(/e\.json: default_prompt_name: default_prompt_name must name one of prompts/);
    expect(() => parseEmbeddingSettings(new TextEncoder().encode("{"), "e.json")).toThrow(/e\.json is not valid JSON/);
  });
});

describe("embeddings with a preset's defaults", () => {
  // [1, 3, 2] outputs per row: token vectors (1, -4), (3, 2), (-2, 5).
  const hidden = [1, -4, 3, 2, -2, 5];

  it("max pooling takes the element-wise max over valid tokens (padding ignored)", () => {
    expect(Array.from(poolRow(Float32Array.from(hidden), 3, 2, [1, 1, 0], 0, "max").vector)).toEqual([3, 2]);
    expect(Array.from(poolRow(Float32Array.from(hidden), 3, 2, [1, 1, 1], 0, "max").vector)).toEqual([3, 5]);
    expect(Array.from(poolRow(Float32Array.from(hidden), 3, 2, [0, 0, 0], 0, "max").vector)).toEqual([0, 0]);
  });

  it("applies the default prompt, a named prompt, the preset's normalize, and max across windows", async () => {
    const tokenizer = await Tokenizer.fromPreset(await repo({ "vocab.txt": wordPieceFiles()["vocab.txt"] }), { family: "distil_bert" });
    const preprocessor = new Preprocessor(tokenizer, {}, 4); // 2 tokens of text per window
    const seen: number[][][] = [];
    let defaults: EmbeddingDefaults = { pooling: "max", normalize: false, prompts: { query: "hello ", passage: "world " }, defaultPrompt: "hello " };
    // The request's inference (workers/inference.ts) with the preset's tokenizer and a model whose vector at every
    // position of a row is (sum of the row's ids, 10 - row index).
    const inference = {
      backbone: async () => ({ hiddenDim: 2 }),
      embeddingDefaults: async () => defaults,
      encode: async (texts: readonly string[]) => {
        const out = preprocessor.chunk(texts);
        return { batch: Preprocessor.toTokenBatch(out), sources: out.rows };
      },
      run: async (batch: TokenBatch) => {
        const rows = batchRows(batch).tokenIds;
        seen.push(rows);
        const data = new Float32Array(rows.length * rows[0].length * 2);
        rows.forEach((row, r) => row.forEach((_, t) => data.set([row.reduce((a, b) => a + b, 0), 10 - r], (r * row.length + t) * 2)));
        return { shape: [rows.length, rows[0].length, 2], data };
      },
    } as unknown as Inference;
    const result = await embed(inference, { texts: ["the quick brown fox"], param: "input" });
    const expected = preprocessor.chunk(["hello the quick brown fox"]);
    expect(seen[0]).toEqual(expected.tokenIds); // the prompt went in front of the text
    expect(expected.tokenIds.length).toBeGreaterThan(2);
    const sums = expected.tokenIds.map((row) => row.reduce((a, b) => a + b, 0));
    expect(Array.from(result.vectors[0])).toEqual([Math.max(...sums), 10]); // max over windows, not normalised

    seen.length = 0;
    await embed(inference, { texts: ["fox"], promptName: "passage", normalize: true, param: "input" });
    expect(seen[0]).toEqual(preprocessor.chunk(["world fox"]).tokenIds);
    await expect(embed(inference, { texts: ["fox"], promptName: "nope", param: "input" })).rejects.toThrow(/prompt_name "nope" is not one of the preset's prompts \(query, passage\)/);
    defaults = { ...defaults, normalize: true };
    const normalised = await embed(inference, { texts: ["fox"], param: "input" });
    expect(Math.hypot(...normalised.vectors[0])).toBeCloseTo(1, 6);
  });
});
