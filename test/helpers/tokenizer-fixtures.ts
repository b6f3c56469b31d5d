/**
 * The third-party tokenizer assets in ../shared/fixtures/tokenizers (read in place, never copied into the
 * project). Tests that need them skip, with a visible notice, when ../shared is absent.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const REPO_ROOT = new URL("../../", import.meta.url);
export const TOKENIZER_FIXTURES = fileURLToPath(new URL("../shared/fixtures/tokenizers/", REPO_ROOT));
export const tokenizerFixturesPresent = existsSync(`${TOKENIZER_FIXTURES}golden_ids.json`);

if (!tokenizerFixturesPresent) {
  console.warn(`[tokenizers] ${TOKENIZER_FIXTURES} is absent: the golden-id and real-vocabulary tests are skipped`);
}

export interface GoldenEntry {
  text: string;
  ids: number[];
  ids_with_special: number[];
  hf_fast_ids?: number[];
  hf_fast_ids_with_special?: number[];
  special_token_text_in_input?: string[] | boolean;
  accent_stripping_changes_ids?: boolean;
  source?: string;
}

export type GoldenFamily = "bert_uncased" | "bert_cased" | "roberta" | "xlm_roberta" | "gemma" | "gemma_like" | "xlmr_like";

export function loadGoldenIds(): Record<GoldenFamily, GoldenEntry[]> {
  return JSON.parse(readFileSync(`${TOKENIZER_FIXTURES}golden_ids.json`, "utf8"));
}

/** Fixture folder of each golden family that has real assets here (the real Gemma / XLM-R models are missing). */
export const FIXTURE_DIRS: Partial<Record<GoldenFamily, string>> = {
  bert_uncased: "bert_uncased",
  bert_cased: "bert_cased",
  roberta: "roberta",
  gemma_like: "spm_gemma_like",
  xlmr_like: "spm_xlmr_like",
};
