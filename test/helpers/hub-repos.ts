/** Repositories for the fake hubs, built from the tiny golden checkpoints (test/fixtures/golden). */
import { mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { readSafetensors, writeSafetensors } from "../../shared/node/index.js";
import { GOLDEN_DIR, type GoldenModel } from "./golden.js";
import { wordPieceFiles } from "./tiny-tokenizers.js";

export const tmp = (prefix = "edgebone-hub-") => mkdtempSync(join(tmpdir(), prefix));

/** A golden model as a Hugging Face repository: config.json and model.safetensors. */
export function goldenRepoFiles(model: GoldenModel): Record<string, Uint8Array> {
  return { "config.json": readFileSync(join(GOLDEN_DIR, model, "config.json")), "model.safetensors": readFileSync(join(GOLDEN_DIR, model, "model.safetensors")) };
}

/** The golden weights as two shards and `model.safetensors.index.json`, as transformers saves large models. */
export function shardedWeights(model: GoldenModel): Record<string, Uint8Array> {
  const { tensors } = readSafetensors(readFileSync(join(GOLDEN_DIR, model, "model.safetensors")));
  const names = [...tensors.keys()];
  const half = Math.ceil(names.length / 2);
  const shards = [names.slice(0, half), names.slice(half)].map((part) => writeSafetensors(part.map((n) => [n, tensors.get(n)!]), { format: "pt" }));
  const shardName = (i: number) => `model-0000${i + 1}-of-00002.safetensors`;
  const weightMap = Object.fromEntries(names.map((n, i) => [n, shardName(i < half ? 0 : 1)]));
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  return {
    "model.safetensors.index.json": new TextEncoder().encode(JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap })),
    [shardName(0)]: shards[0],
    [shardName(1)]: shards[1],
  };
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2));

/**
 * A sentence-transformers DistilBERT (like intfloat/e5): sharded weights, a WordPiece tokenizer, CLS pooling,
 * Normalize, e5's prompts with `query` as the default, and files a preset does not need.
 */
export function sentenceTransformersRepo(): Record<string, Uint8Array> {
  return {
    "config.json": goldenRepoFiles("distilbert")["config.json"],
    ...shardedWeights("distilbert"),
    ...wordPieceFiles(),
    "tokenizer_config.json": json({ do_lower_case: true, model_max_length: 512 }),
    "modules.json": json([
      { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
      { idx: 1, name: "1", path: "1_Pooling", type: "sentence_transformers.models.Pooling" },
      { idx: 2, name: "2", path: "2_Normalize", type: "sentence_transformers.models.Normalize" },
    ]),
    "1_Pooling/config.json": json({ word_embedding_dimension: 64, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false, pooling_mode_max_tokens: false, pooling_mode_mean_sqrt_len_tokens: false, pooling_mode_weightedmean_tokens: false, pooling_mode_lasttoken: false, include_prompt: true }),
    "config_sentence_transformers.json": json({ __version__: { sentence_transformers: "3.0.1" }, prompts: { query: "query: ", passage: "passage: " }, default_prompt_name: "query", similarity_fn_name: "cosine" }),
    "sentence_bert_config.json": json({ max_seq_length: 512, do_lower_case: false }),
    "README.md": new TextEncoder().encode("# tiny e5\n"),
    "pytorch_model.bin": new Uint8Array(64),
    "onnx/model.onnx": new Uint8Array(64),
  };
}

/** Every file under `dir` (relative paths, `/`-separated). */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path).split("\\").join("/"));
    }
  };
  walk(dir);
  return out.sort();
}
