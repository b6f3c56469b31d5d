/**
 * A preset's embedding defaults, kept in `edgebone.json` beside its config: how `sequence_output` is pooled,
 * whether vectors are L2-normalised, and named text prompts (e5's "query: " / "passage: "). They come from a
 * sentence-transformers repository's metadata (https://sbert.net/docs/sentence_transformer/usage/custom_models.html):
 * `modules.json` lists the pipeline (Transformer → Pooling → Normalize), `<Pooling path>/config.json` the
 * pooling mode, `config_sentence_transformers.json` the prompts.
 */
import { POOLINGS, type Pooling } from "../backbone/registry.js";
import { z } from "zod";
import type { PresetFiles } from "./store.js";

export const EMBEDDING_SETTINGS_FILE = "edgebone.json";

/** Edgebone's pooling names: sentence-transformers' `lasttoken` is `last`. */

const embeddingSettingsSchema = z
  .object({
    pooling: z.enum(POOLINGS).optional(),
    normalize: z.boolean().optional(),
    prompts: z.record(z.string(), z.string()).optional(),
    default_prompt_name: z.string().nullable().optional(),
  })
  .refine((s) => !s.default_prompt_name || (s.prompts && s.default_prompt_name in s.prompts), {
    message: "default_prompt_name must name one of prompts",
    path: ["default_prompt_name"],
  });

export type EmbeddingSettings = z.infer<typeof embeddingSettingsSchema>;

/** Validates `edgebone.json` bytes; errors name the file and the field. */
export function parseEmbeddingSettings(bytes: Uint8Array, source: string): EmbeddingSettings {
  return parseWith(embeddingSettingsSchema, parseJson(bytes, source), source);
}

const modulesSchema = z.array(z.object({ path: z.string(), type: z.string() }));
const poolingSchema = z.object({
  pooling_mode_cls_token: z.boolean().optional(),
  pooling_mode_mean_tokens: z.boolean().optional(),
  pooling_mode_max_tokens: z.boolean().optional(),
  pooling_mode_mean_sqrt_len_tokens: z.boolean().optional(),
  pooling_mode_weightedmean_tokens: z.boolean().optional(),
  pooling_mode_lasttoken: z.boolean().optional(),
  include_prompt: z.boolean().optional(),
});
const stConfigSchema = z.object({
  prompts: z.record(z.string(), z.string()).optional(),
  default_prompt_name: z.string().nullable().optional(),
});

/** sentence-transformers pooling flags → Edgebone pooling (the unsupported ones map to null). */
const MODES: [keyof z.infer<typeof poolingSchema>, Pooling | null][] = [
  ["pooling_mode_cls_token", "cls"],
  ["pooling_mode_mean_tokens", "mean"],
  ["pooling_mode_max_tokens", "max"],
  ["pooling_mode_lasttoken", "last"],
  ["pooling_mode_mean_sqrt_len_tokens", null],
  ["pooling_mode_weightedmean_tokens", null],
];

/**
 * The embedding defaults of a sentence-transformers repository, or null when it is not one (no
 * `modules.json`). A pipeline Edgebone cannot reproduce (a Dense layer, two pooling modes, prompts excluded
 * from pooling) fails here rather than serving different vectors than the model's.
 */
export async function sentenceTransformersSettings(files: PresetFiles): Promise<EmbeddingSettings | null> {
  const modulesBytes = await files.read("modules.json");
  if (!modulesBytes) return null;
  const at = (file: string) => `${files.location}/${file}`;
  const modules = parseWith(modulesSchema, parseJson(modulesBytes, at("modules.json")), at("modules.json"));
  const settings: EmbeddingSettings = { normalize: false };
  let includePrompt = true;
  for (const module of modules) {
    const kind = module.type.split(".").pop();
    if (kind === "Transformer") continue;
    if (kind === "Normalize") {
      settings.normalize = true;
    } else if (kind === "Pooling") {
      const file = `${module.path ? `${module.path}/` : ""}config.json`;
      const bytes = await files.read(file);
      if (!bytes) throw new Error(`${at("modules.json")} lists a Pooling module, but ${at(file)} is missing`);
      const config = parseWith(poolingSchema, parseJson(bytes, at(file)), at(file));
      const modes = MODES.filter(([flag]) => config[flag]);
      const pooling = modes.length === 1 ? modes[0][1] : null;
      if (!pooling) {
        const names = modes.map(([flag]) => flag.replace("pooling_mode_", "")).join(" + ") || "none";
        throw new Error(`${at(file)}: pooling ${names} is not supported (Edgebone pools with exactly one of cls, mean, max, lasttoken)`);
      }
      settings.pooling = pooling;
      includePrompt = config.include_prompt ?? true;
    } else {
      throw new Error(`${at("modules.json")}: module ${module.type} (${module.path}) is not supported: Edgebone's embeddings would differ from the model's`);
    }
  }
  const stBytes = await files.read("config_sentence_transformers.json");
  if (stBytes) {
    const st = parseWith(stConfigSchema, parseJson(stBytes, at("config_sentence_transformers.json")), at("config_sentence_transformers.json"));
    const prompts = Object.fromEntries(Object.entries(st.prompts ?? {}).filter(([, text]) => text !== ""));
    if (Object.keys(prompts).length) {
      if (!includePrompt) throw new Error(`${files.location}: prompts excluded from pooling (include_prompt: false) are not supported`);
      settings.prompts = prompts;
      settings.default_prompt_name = st.default_prompt_name && st.default_prompt_name in prompts ? st.default_prompt_name : null;
    }
  }
  return settings;
}

function parseJson(bytes: Uint8Array, source: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${source} is not valid JSON (${(e as Error).message})`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, source: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${source}: ${issue.path.join(".") || "value"}: ${issue.message}`);
  }
  return result.data;
}
