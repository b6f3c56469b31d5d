/**
 * OpenAI-compatible routes (mounted under /v1; the API key is checked by the app): `POST /embeddings`, and the
 * model list the openai client's `models.list()` / `models.retrieve()` read: every installed preset, and the
 * calling tenant's adapters as `preset:adapter` (no other tenant's).
 */
import { Hono } from "hono";
import { presetRecordKey } from "../../shared/runner/layout.js";
import { findReadyAdapter, isAdapterName, listReadyAdapters, type AdapterRow } from "../adapters.js";
import type { AppEnv } from "../context.js";
import { embed, toBase64 } from "../embeddings.js";
import { notFound } from "../errors.js";
import { jsonBody } from "../http.js";
import { Inference, modelRef } from "../inference.js";
import { pipelineSummary } from "../pipeline.js";
import { isPresetName, listPresets } from "../r2-preset-store.js";
import { embeddingsBody } from "../schemas.js";

const seconds = (ms: number) => Math.floor(ms / 1000);
const presetModel = (name: string, uploaded: Date) => ({ id: name, object: "model", created: seconds(uploaded.getTime()), owned_by: "edgebone" });
const adapterModel = (row: AdapterRow) => ({ id: `${row.basePreset}:${row.name}`, object: "model", created: seconds(row.createdAt), owned_by: row.tenantId });

export function openAiRoutes(): Hono<AppEnv> {
  const openai = new Hono<AppEnv>();

  openai.post("/embeddings", async (c) => {
    const body = await jsonBody(c, embeddingsBody);
    const input = body.input;
    const texts = typeof input === "string" ? [input] : input.every((x) => typeof x === "string") ? (input as string[]) : undefined;
    const ids = texts ? undefined : Array.isArray(input[0]) ? (input as number[][]) : [input as number[]];
    const inference = new Inference(c, modelRef(body.model, "model"));
    const { vectors, tokens } = await embed(inference, { texts, ids, truncate: body.truncate, dimensions: body.dimensions, promptName: body.prompt_name, param: "input" });
    const base64 = body.encoding_format === "base64";
    return c.json({
      object: "list",
      data: vectors.map((v, index) => ({ object: "embedding", index, embedding: base64 ? toBase64(v) : Array.from(v) })),
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  });

  openai.get("/models", async (c) => {
    const [presets, adapters] = await Promise.all([listPresets(c.env.BUCKET), listReadyAdapters(c.var.db, c.var.tenantId)]);
    return c.json({ object: "list", data: [...presets.map((p) => presetModel(p.name, p.uploaded)), ...adapters.map(adapterModel)] });
  });

  openai.get("/models/:id", async (c) => {
    const id = c.req.param("id");
    const missing = () => notFound(`model "${id}" not found`, "model_not_found", "id");
    const { preset, adapter } = modelRef(id, "id");
    if (adapter !== undefined) {
      const row = isAdapterName(adapter) ? await findReadyAdapter(c.var.db, c.var.tenantId, adapter) : undefined;
      if (!row || row.basePreset !== preset) throw missing();
      return c.json(adapterModel(row));
    }
    const record = isPresetName(preset) ? await c.env.BUCKET.head(presetRecordKey(preset)) : null;
    if (!record) throw missing();
    // Beyond OpenAI's fields: where the preset runs and how it makes embeddings.
    const services = c.var.services;
    const { backbone, where, footprint, edge } = await services.placement(preset);
    const defaults = await services.embeddingDefaults(preset, backbone);
    return c.json({
      ...presetModel(preset, record.uploaded),
      edgebone: {
        class_name: backbone.className,
        backend: where,
        footprint_bytes: footprint,
        edge_artifact: edge ? { plan: edge.plan, bytes: edge.total_bytes, measured: edge.measured ?? null } : null,
        pipeline: edge?.pipeline ? pipelineSummary(edge.pipeline, c.env) : null,
        isolate_load_failure: services.loadFailure(preset),
        embedding: { pooling: defaults.pooling, normalize: defaults.normalize, prompts: defaults.prompts, default_prompt: defaults.defaultPrompt },
      },
    });
  });

  return openai;
}
