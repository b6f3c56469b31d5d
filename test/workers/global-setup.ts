/**
 * Global setup of the `workers` project (runs in Node, once per run): builds the presets the worker tests
 * serve and hands them to the workerd side as base64 (`inject("edgePresets")` in test/workers/setup.ts, which
 * writes them into each test file's fresh R2 bucket). Everything is generated here: the tiny DistilBERT is
 * the golden one (test/fixtures/golden, re-saved in the library's preset layout) with a small WordPiece
 * tokenizer built by test/helpers/tiny-tokenizers.ts; the Gemma preset (config and a tiny SentencePiece
 * tokenizer) and the oversized DistilBERT (config only) are routed to the runner pool, never loaded here.
 */
import { readFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { Backbone, GemmaBackbone, loadTokenizer, saveTokenizer, type PresetFiles } from "../../shared/node/index.js";
import { GOLDEN_DIR } from "../helpers/golden.js";
import { gemmaStyleModel, wordPieceFiles } from "../helpers/tiny-tokenizers.js";

export type EdgePresets = Record<string, Record<string, string>>;

declare module "vitest" {
  export interface ProvidedContext {
    edgePresets: EdgePresets;
  }
}

function collector(files: Map<string, Uint8Array>, location: string): PresetFiles {
  return { location, read: async (f) => files.get(f) ?? null, write: async (f, bytes) => void files.set(f, bytes) };
}

const b64 = (files: Map<string, Uint8Array>) => Object.fromEntries([...files].map(([f, bytes]) => [f, Buffer.from(bytes).toString("base64")]));

export default async function setup(project: TestProject): Promise<void> {
  const distilbert = new Map<string, Uint8Array>();
  const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}distilbert`);
  await backbone.saveToPreset(collector(distilbert, "memory:tiny-distilbert"));
  for (const [file, bytes] of Object.entries(wordPieceFiles())) distilbert.set(file, bytes);
  await saveTokenizer(await loadTokenizer(collector(distilbert, "memory:tiny-distilbert")), collector(distilbert, "memory:tiny-distilbert"));
  distilbert.delete("vocab.txt");

  const gemma = new Map<string, Uint8Array>();
  const tinyGemma = new GemmaBackbone({ vocabularySize: 512, numLayers: 2, numQueryHeads: 4, numKeyValueHeads: 2, hiddenDim: 32, intermediateDim: 64, headDim: 8, seed: 7 });
  await tinyGemma.saveToPreset(collector(gemma, "memory:tiny-gemma"));
  const gemmaTokenizer = new Map([["config.json", gemma.get("config.json")!], ["tokenizer.model", gemmaStyleModel()]]);
  await saveTokenizer(await loadTokenizer(collector(gemmaTokenizer, "memory:tiny-gemma")), collector(gemmaTokenizer, "memory:tiny-gemma"));
  gemmaTokenizer.delete("tokenizer.model");

  // far over the 128 MB isolate budget; only its config is needed to route it
  const hf = JSON.parse(readFileSync(`${GOLDEN_DIR}distilbert/config.json`, "utf8"));
  const huge = new Map([["config.json", new TextEncoder().encode(JSON.stringify({ ...hf, dim: 2048, hidden_dim: 8192, n_layers: 24, n_heads: 16 }))]]);

  project.provide("edgePresets", {
    "tiny-distilbert": b64(distilbert),
    "tiny-distilbert-copy": b64(distilbert), // same architecture, another base name
    "tiny-gemma": b64(gemmaTokenizer), // config and tokenizer: routed, tokenized, never loaded here
    "huge-distilbert": b64(huge),
  });
}
