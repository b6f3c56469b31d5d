/**
 * TEI-shaped routes (text-embeddings-inference): public `GET /info`; with a tenant key `POST /embed`,
 * `/embed_all`, `/tokenize`, `/decode`. The model is the body's `model` (preset or preset:adapter, an Edgebone
 * extension), else the TEI_DEFAULT_PRESET var, else the one installed preset (422 naming the choices when there
 * are several).
 */
import { Hono, type Context } from "hono";
import { VERSION_INFO } from "../version.js";
import { requireTenant } from "../auth.js";
import type { AppEnv } from "../context.js";
import { embed } from "../embeddings.js";
import { unprocessable } from "../errors.js";
import { jsonBody } from "../http.js";
import { Inference, modelRef, type ModelRef } from "../inference.js";
import { checkInputCount, checkTexts, checkTokens } from "../limits.js";
import { pipelineSummary } from "../pipeline.js";
import { listPresets } from "../r2-preset-store.js";
import { teiDecodeBody, teiEmbedAllBody, teiEmbedBody, teiTokenizeBody } from "../schemas.js";

const NAMES_SHOWN = 20;

/** The request's model: its own, the configured default, or the sole installed preset. */
async function teiModel(c: Context<AppEnv>, model: string | undefined): Promise<ModelRef> {
  if (model !== undefined) return modelRef(model, "model");
  if (c.env.TEI_DEFAULT_PRESET) return modelRef(c.env.TEI_DEFAULT_PRESET, "model");
  const presets = await listPresets(c.env.BUCKET);
  if (presets.length === 1) return modelRef(presets[0].name, "model");
  const names = presets.slice(0, NAMES_SHOWN).map((p) => p.name).join(", ") + (presets.length > NAMES_SHOWN ? ", …" : "");
  const choices = presets.length ? `one of the ${presets.length} installed presets (${names}), or preset:adapter` : "a preset (none is installed yet)";
  throw unprocessable(`no model: send "model" (${choices}), or configure TEI_DEFAULT_PRESET`, "missing_model", "model");
}

const asList = (inputs: string | string[]) => (typeof inputs === "string" ? [inputs] : inputs);

export function teiRoutes(): Hono<AppEnv> {
  const tei = new Hono<AppEnv>();
  for (const path of ["/embed", "/embed_all", "/tokenize", "/decode"]) tei.use(path, requireTenant);

  tei.get("/info", async (c) => {
    // The default model's isolate pipeline, when it has one (no default model: null).
    const model = await teiModel(c, undefined).catch(() => null);
    const edge = model && (await c.var.services.placement(model.preset).catch(() => null))?.edge;
    const limits = c.var.services.limits;
    const runtime = c.var.services.options.runtime();
    return c.json({
      model_id: "edgebone",
      version: VERSION_INFO.version,
      // TEI's names where TEI has the limit (workers/limits.ts)
      max_client_batch_size: limits.inputs,
      max_batch_tokens: limits.tokens,
      payload_limit: limits.payloadBytes,
      max_input_chars: limits.inputChars,
      max_request_chars: limits.requestChars,
      edge_memory_budget_mb: Math.round(c.var.services.budgetBytes / (1024 * 1024)),
      loaded_presets: c.var.services.models.size,
      // onnxruntime-web's WebAssembly memory in this isolate (it grows with loaded models and never shrinks)
      isolate_wasm_memory_mb: +((runtime.memoryBytes?.() ?? 0) / (1024 * 1024)).toFixed(1),
      isolate_wasm_growth: runtime.memoryGrowth?.() ?? null,
      pipeline: edge?.pipeline ? { preset: model!.preset, ...pipelineSummary(edge.pipeline, c.env) } : null,
    });
  });

  tei.post("/embed", async (c) => {
    const body = await jsonBody(c, teiEmbedBody);
    const inference = new Inference(c, await teiModel(c, body.model));
    const { vectors } = await embed(inference, { texts: asList(body.inputs), truncate: body.truncate, dimensions: body.dimensions, normalize: body.normalize, promptName: body.prompt_name, param: "inputs" });
    return c.json(vectors.map((v) => Array.from(v)));
  });

  tei.post("/embed_all", async (c) => {
    const body = await jsonBody(c, teiEmbedAllBody);
    const inference = new Inference(c, await teiModel(c, body.model));
    const { batch } = await inference.encode(asList(body.inputs), body.truncate ? "truncate" : "reject", "inputs");
    const { shape, data } = await inference.run(batch, "inputs");
    const [rows, seq, hidden] = shape;
    // each text's vectors for its real tokens (padding dropped)
    return c.json(
      Array.from({ length: rows }, (_, b) => {
        const vectors: number[][] = [];
        for (let t = 0; t < seq; t++) if (batch.paddingMask[b * seq + t]) vectors.push(Array.from(data.subarray((b * seq + t) * hidden, (b * seq + t + 1) * hidden)));
        return vectors;
      }),
    );
  });

  // The response lists every token (~60 bytes each): it is bounded by the request's token limit.
  tei.post("/tokenize", async (c) => {
    const body = await jsonBody(c, teiTokenizeBody);
    const limits = c.var.services.limits;
    const texts = asList(body.inputs);
    checkTexts(texts, "inputs", limits);
    const { preset } = await teiModel(c, body.model);
    await c.var.services.config(preset); // 404 for an unknown preset
    const { tokenizer } = await c.var.services.preprocessor(preset);
    const encodings = texts.map((text) => tokenizer.encode(text, { addSpecialTokens: body.add_special_tokens ?? true }));
    const tokens = encodings.reduce((n, e) => n + e.ids.length, 0);
    checkTokens(tokens, `the inputs' ${tokens} tokens`, "inputs", limits);
    return c.json(encodings.map((e) => e.ids.map((id, i) => ({ id, text: e.tokens[i], special: e.special[i], start: e.special[i] ? null : e.offsets[i][0], stop: e.special[i] ? null : e.offsets[i][1] }))));
  });

  tei.post("/decode", async (c) => {
    const body = await jsonBody(c, teiDecodeBody);
    const one = body.ids.length > 0 && !Array.isArray(body.ids[0]);
    const rows = (one ? [body.ids] : body.ids) as number[][];
    const limits = c.var.services.limits;
    checkInputCount(rows.length, "ids", limits);
    const ids = rows.reduce((n, row) => n + row.length, 0);
    checkTokens(ids, `${ids} token ids`, "ids", limits);
    const { preset } = await teiModel(c, body.model);
    const backbone = await c.var.services.config(preset);
    const { tokenizer } = await c.var.services.preprocessor(preset);
    for (const row of rows) {
      const bad = row.find((id) => id >= backbone.vocabularySize);
      if (bad !== undefined) throw unprocessable(`token id ${bad} is out of range for a vocabulary of ${backbone.vocabularySize}`, "invalid_input", "ids");
    }
    const texts = rows.map((row) => tokenizer.decode(row, { skipSpecialTokens: body.skip_special_tokens ?? true }));
    return c.json(one ? texts[0] : texts);
  });

  return tei;
}
