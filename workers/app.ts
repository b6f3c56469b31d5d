/**
 * The Edgebone edge worker's Hono app. `createApp(options)` takes the onnxruntime to run models on and optional
 * hooks, so the entry (workers/index.ts) and tests share every route.
 *
 * Public:  GET /health, GET /info
 * Admin (Bearer ADMIN_TOKEN): POST /admin/tenants, POST /admin/tenants/:id/keys, DELETE /admin/keys/:id
 * Tenant (Bearer API key):   POST /v1/models/:preset/forward; PUT|GET|DELETE /v1/adapters/:name, GET /v1/adapters
 * Runners (signed):          GET /internal/objects/<key> (presets and adapters from R2)
 */
import { drizzle } from "drizzle-orm/d1";
import { eq, sql } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { z } from "zod";
import { embeddingsBody, forwardBody, keyBody, teiDecodeBody, teiEmbedAllBody, teiEmbedBody, teiTokenizeBody, tenantBody } from "./schemas.js";
import { openApiDocument } from "./openapi.js";
import { VERSION_INFO } from "./version.js";
import { InputError, Preprocessor, checkBatch, tokenBatch, toFloat32, type Backbone } from "../shared/index.js";
import { findReadyAdapter, deleteAdapter, type AdapterRow, isAdapterName, listReadyAdapters, parseAdapter, publicAdapter, storeAdapter } from "./adapters.js";
import { newKey, requireAdmin, requireTenant, sha256Hex } from "./auth.js";
import type { AppEnv, Db } from "./context.js";
import * as schema from "./db/schema.js";
import { numberVar } from "./env.js";
import { internalObjects } from "./internal-objects.js";
import { ApiError, badRequest, errorBody, errorResponse, notFound, unprocessable } from "./errors.js";
import { embed, parseModel, toBase64, type RunBatch } from "./embeddings.js";
import { isPresetName, presetKey } from "./r2-preset-store.js";
import { Services, type AppOptions } from "./services.js";

export const VERSION = VERSION_INFO.version;
export const MAX_BATCH_ROWS = 64;
export const MAX_BATCH_TOKENS = 16_384;
const DEFAULT_ADAPTER_MAX_BYTES = 64 * 1024 * 1024;

async function jsonBody<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.infer<T>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest("request body is not valid JSON", "invalid_json");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.join(".");
    throw unprocessable(`${path ? `${path}: ` : ""}${issue.message}`, "validation_error", path || null);
  }
  return parsed.data;
}

async function readLimited(c: Context<AppEnv>, max: number): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? NaN);
  if (declared > max) throw new ApiError(413, `payload of ${declared} bytes exceeds the limit of ${max} bytes`, "payload_too_large");
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > max) throw new ApiError(413, `payload of ${bytes.byteLength} bytes exceeds the limit of ${max} bytes`, "payload_too_large");
  return bytes;
}

function utcDay(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** Adds one request and its tokens to the tenant's usage of the day. */
export async function recordUsage(db: Db, tenantId: string, tokens: number): Promise<void> {
  await db
    .insert(schema.usage)
    .values({ tenantId, day: utcDay(), requests: 1, tokens })
    .onConflictDoUpdate({
      target: [schema.usage.tenantId, schema.usage.day],
      set: { requests: sql`${schema.usage.requests} + 1`, tokens: sql`${schema.usage.tokens} + ${tokens}` },
    });
}

/** The tenant's ready adapter `name` for `preset` (404 unknown or another tenant's, 422 for another base). */
async function adapterRow(c: Context<AppEnv>, preset: string, name: string, param: string): Promise<AdapterRow> {
  const row = isAdapterName(name) ? await findReadyAdapter(c.var.db, c.var.tenantId, name) : undefined;
  if (!row) throw notFound(`adapter "${name}" not found`, "adapter_not_found");
  if (row.basePreset !== preset) throw unprocessable(`adapter "${name}" was uploaded for preset "${row.basePreset}", not "${preset}"`, "adapter_base_mismatch", param);
  return row;
}

interface Executor {
  backbone: Backbone;
  backend: "isolate" | "runner";
  /** Runs one padded batch; sets `x-edgebone-runner` and `x-edgebone-attempts` when a runner answered. */
  run: RunBatch;
}

/** The isolate's `waitUntil`, when there is an execution context (not in plain `app.fetch` calls). */
function backgroundWork(c: Context<AppEnv>): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}

/** Where and how `preset` (with the tenant's adapter, if named) runs: the isolate's session or the runner pool. */
async function executor(c: Context<AppEnv>, preset: string, adapterName: string | undefined, param: string): Promise<Executor> {
  const services = c.var.services;
  const { backbone, where } = await services.placement(preset);
  const row = adapterName === undefined ? null : await adapterRow(c, preset, adapterName, param);
  c.header("x-edgebone-backend", where);
  if (where === "runner") {
    return {
      backbone,
      backend: where,
      run: async (tokenIds, paddingMask) => {
        checkBatch(tokenBatch(tokenIds, paddingMask), { vocabularySize: backbone.vocabularySize, maxSequenceLength: backbone.maxSequenceLength });
        const result = await services.runners.forward(c.env, { preset, tenantId: c.var.tenantId, adapter: row, tokenIds, paddingMask }, backgroundWork(c));
        if (result.runnerId) c.header("x-edgebone-runner", result.runnerId);
        c.header("x-edgebone-attempts", String(result.attempts)); // > 1: another runner failed first
        return result;
      },
    };
  }
  const model = await services.model(preset);
  const adapters = row ? [await services.adapter(row.id, row.r2Key, model.backbone)] : [];
  return {
    backbone: model.backbone,
    backend: where,
    run: async (tokenIds, paddingMask) => {
      const batch = tokenBatch(tokenIds, paddingMask);
      const { sequenceOutput } = await services.limiter.run(() => model.session.forward(batch, { adapters }));
      return { shape: sequenceOutput.shape, data: toFloat32(sequenceOutput) };
    },
  };
}

export function createApp(options: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let services: Services | undefined;

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    if (error instanceof InputError) return errorResponse(c, unprocessable(error.message, "invalid_input"));
    console.error(error);
    // details go to the log, not to the client (they can name tables, keys, stack frames)
    return errorResponse(c, new ApiError(500, "internal server error", "internal_error"));
  });
  app.notFound((c) => c.json(errorBody(c.req.path, 404, `no route for ${c.req.method} ${c.req.path}`, "route_not_found"), 404));

  app.use("*", async (c, next) => {
    c.set("db", drizzle(c.env.DB as never, { schema }) as unknown as Db);
    services ??= new Services(c.env.BUCKET, c.env, options);
    c.set("services", services);
    await next();
  });

  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  app.get("/info", (c) =>
    c.json({
      model_id: "edgebone",
      version: VERSION,
      max_client_batch_size: MAX_BATCH_ROWS,
      max_batch_tokens: MAX_BATCH_TOKENS,
      edge_memory_budget_mb: Math.round(c.var.services.budgetBytes / (1024 * 1024)),
      loaded_presets: c.var.services.models.size,
    }),
  );

  // ---- GPU runners reading the bucket (signed; workers/internal-objects.ts) ----
  app.route("/internal/objects", internalObjects());

  // ---- admin ----
  const admin = new Hono<AppEnv>();
  admin.use("*", requireAdmin);
  admin.post("/tenants", async (c) => {
    const { name } = await jsonBody(c, tenantBody);
    const tenant = { id: crypto.randomUUID(), name, createdAt: Date.now() };
    await c.var.db.insert(schema.tenants).values(tenant);
    return c.json({ id: tenant.id, name, created_at: Math.floor(tenant.createdAt / 1000) }, 201);
  });
  admin.post("/tenants/:id/keys", async (c) => {
    const tenantId = c.req.param("id");
    const { name } = c.req.header("content-length") === "0" ? { name: undefined } : await jsonBody(c, keyBody);
    const tenant = await c.var.db.select({ id: schema.tenants.id }).from(schema.tenants).where(eq(schema.tenants.id, tenantId)).limit(1);
    if (!tenant.length) throw notFound(`tenant "${tenantId}" not found`, "tenant_not_found");
    const { key, prefix } = newKey();
    const row = { id: crypto.randomUUID(), tenantId, name: name ?? null, prefix, hash: await sha256Hex(key), createdAt: Date.now() };
    await c.var.db.insert(schema.apiKeys).values(row);
    // The key itself is returned once and never stored.
    return c.json({ id: row.id, tenant_id: tenantId, name: row.name, prefix, key, created_at: Math.floor(row.createdAt / 1000) }, 201);
  });
  admin.delete("/keys/:id", async (c) => {
    const id = c.req.param("id");
    const now = Date.now();
    const rows = await c.var.db.update(schema.apiKeys).set({ revokedAt: now }).where(eq(schema.apiKeys.id, id)).returning({ id: schema.apiKeys.id, revokedAt: schema.apiKeys.revokedAt });
    if (!rows.length) throw notFound(`API key "${id}" not found`, "key_not_found");
    return c.json({ id, revoked: true });
  });
  // Preset install (workers/tools/install-preset.ts): files are streamed into R2 under presets/<name>/<file>;
  // the client sends record.json last, so a runner never sees a preset without all its files.
  admin.put("/presets/:name/:file{.+}", async (c) => {
    const name = c.req.param("name");
    const file = c.req.param("file");
    if (!isPresetName(name)) throw unprocessable(`invalid preset name "${name}"`, "invalid_preset_name", "name");
    if (!file.split("/").every((part) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(part))) throw unprocessable(`invalid preset file name "${file}"`, "invalid_file_name", "file");
    const length = Number(c.req.header("content-length") ?? NaN);
    const body = c.req.raw.body;
    if (!Number.isInteger(length) || length < 0 || !body) throw new ApiError(411, "send the file with a Content-Length", "length_required");
    const sha256 = c.req.header("x-sha256");
    if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw badRequest("x-sha256 must be 64 lowercase hex digits", "invalid_sha256");
    let object;
    try {
      object = await c.env.BUCKET.put(presetKey(name, file), body, sha256 ? { sha256 } : undefined);
    } catch (e) {
      if (sha256 && /sha-?256|checksum|digest/i.test(String((e as Error).message))) throw unprocessable(`${file}: the body does not match x-sha256 ${sha256}`, "checksum_mismatch", "x-sha256");
      throw e;
    }
    c.var.services.forgetPreset(name);
    return c.json({ preset: name, file, size: object?.size ?? length }, 201);
  });
  app.route("/admin", admin);

  // ---- tenant API ----
  const v1 = new Hono<AppEnv>();
  v1.use("*", requireTenant);

  v1.put("/adapters/:name", async (c) => {
    const name = c.req.param("name");
    if (!isAdapterName(name)) throw unprocessable(`invalid adapter name "${name}": 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit`, "invalid_adapter_name", "name");
    const base = c.req.query("base");
    if (!base) throw badRequest("query parameter base=<preset> is required: the preset the adapter was trained on", "missing_base", "base");
    const max = numberVar(c.env.ADAPTER_MAX_BYTES, DEFAULT_ADAPTER_MAX_BYTES);
    const backbone = await c.var.services.config(base);
    const contentType = c.req.header("content-type") ?? "";
    let input: Parameters<typeof parseAdapter>[0];
    if (contentType.startsWith("multipart/form-data")) {
      const declared = Number(c.req.header("content-length") ?? NaN);
      if (declared > max) throw new ApiError(413, `payload of ${declared} bytes exceeds the limit of ${max} bytes`, "payload_too_large");
      const form = await c.req.formData();
      const file = async (field: string): Promise<Uint8Array> => {
        const value = form.get(field);
        if (value === null || typeof value === "string") throw unprocessable(`PEFT upload needs a file field "${field}"`, "invalid_adapter", field);
        return new Uint8Array(await value.arrayBuffer());
      };
      input = { kind: "peft", config: await file("adapter_config.json"), weights: await file("adapter_model.safetensors") };
      if (input.config.byteLength + input.weights.byteLength > max) throw new ApiError(413, `adapter exceeds the limit of ${max} bytes`, "payload_too_large");
    } else {
      input = { kind: "bytes", bytes: await readLimited(c, max) };
      if (!input.bytes.byteLength) throw badRequest("empty body: send the .lora.safetensors bytes, or PEFT files as multipart/form-data", "empty_body");
    }
    const parsed = await parseAdapter(input, backbone, `adapter "${name}"`);
    if (parsed.bytes.byteLength > max) throw new ApiError(413, `adapter of ${parsed.bytes.byteLength} bytes exceeds the limit of ${max} bytes`, "payload_too_large");
    const { row, replaced } = await storeAdapter({
      db: c.var.db,
      bucket: c.env.BUCKET,
      tenantId: c.var.tenantId,
      name,
      basePreset: base,
      parsed,
      afterPut: options.hooks?.afterAdapterPut,
    });
    return c.json(publicAdapter(row), replaced ? 200 : 201);
  });

  v1.get("/adapters", async (c) => c.json({ object: "list", data: (await listReadyAdapters(c.var.db, c.var.tenantId)).map(publicAdapter) }));

  v1.get("/adapters/:name", async (c) => {
    const row = await findReadyAdapter(c.var.db, c.var.tenantId, c.req.param("name"));
    if (!row) throw notFound(`adapter "${c.req.param("name")}" not found`, "adapter_not_found");
    return c.json(publicAdapter(row));
  });

  v1.delete("/adapters/:name", async (c) => {
    const name = c.req.param("name");
    if (!(await deleteAdapter(c.var.db, c.env.BUCKET, c.var.tenantId, name))) throw notFound(`adapter "${name}" not found`, "adapter_not_found");
    return c.json({ object: "adapter", id: name, deleted: true });
  });

  v1.post("/models/:preset/forward", async (c) => {
    const preset = c.req.param("preset");
    const body = await jsonBody(c, forwardBody);
    const adapterName = c.req.query("adapter") ?? body.adapter;
    let tokenIds = body.token_ids;
    let paddingMask = body.padding_mask;
    const t00 = performance.now();
    if (body.inputs !== undefined) {
      const texts = typeof body.inputs === "string" ? [body.inputs] : body.inputs;
      if (texts.length > MAX_BATCH_ROWS) throw unprocessable(`${texts.length} inputs exceed the limit of ${MAX_BATCH_ROWS} per request`, "too_many_inputs", "inputs");
      await c.var.services.config(preset); // 404 before looking for a tokenizer
      const p = await c.var.services.preprocessor(preset);
      const pre = (body.truncate ? new Preprocessor(p.tokenizer, { truncate: "right" }, p.sequenceLength) : p).call(texts);
      tokenIds = pre.tokenIds;
      paddingMask = pre.paddingMask;
      c.header("x-tokenization-time", String(Math.round(performance.now() - t00)));
    }
    const batch = tokenBatch(tokenIds, paddingMask);
    if (batch.batchSize > MAX_BATCH_ROWS) throw unprocessable(`${batch.batchSize} inputs exceed the limit of ${MAX_BATCH_ROWS} per request`, "too_many_inputs", "token_ids");
    if (batch.batchSize * batch.sequenceLength > MAX_BATCH_TOKENS) {
      throw new ApiError(413, `${batch.batchSize}×${batch.sequenceLength} tokens exceed the limit of ${MAX_BATCH_TOKENS} per request`, "too_many_tokens", "token_ids");
    }
    const t0 = performance.now();
    const exec = await executor(c, preset, adapterName, "adapter");
    const t1 = performance.now();
    const { shape, data } = await exec.run(tokenIds!, Array.from({ length: batch.batchSize }, (_, b) => Array.from(batch.paddingMask.subarray(b * batch.sequenceLength, (b + 1) * batch.sequenceLength))));
    const t2 = performance.now();
    let tokens = 0;
    for (const m of batch.paddingMask) tokens += m;
    await recordUsage(c.var.db, c.var.tenantId, tokens);
    c.header("x-queue-time", String(Math.round(t1 - t0)));
    c.header("x-inference-time", String(Math.round(t2 - t1)));
    c.header("x-compute-time", String(Math.round(t2 - t0)));
    if ((c.req.header("accept") ?? "").includes("application/octet-stream")) {
      c.header("x-shape", shape.join(","));
      c.header("x-dtype", "float32");
      return c.body(new Uint8Array(Float32Array.from(data).buffer), 200, { "content-type": "application/octet-stream" });
    }
    return c.json({ sequence_output: { shape, data: Array.from(data) }, ...(body.inputs !== undefined ? { token_ids: tokenIds, padding_mask: paddingMask } : {}) });
  });

  v1.post("/embeddings", async (c) => {
    const body = await jsonBody(c, embeddingsBody);
    const { preset, adapter: adapterName } = parseModel(body.model);
    const input = body.input;
    const texts = typeof input === "string" ? [input] : input.every((x) => typeof x === "string") ? (input as string[]) : undefined;
    const ids = texts ? undefined : Array.isArray(input[0]) ? (input as number[][]) : [input as number[]];
    const services = c.var.services;
    const t0 = performance.now();
    const exec = await executor(c, preset, adapterName, "model");
    const pooling = await services.pooling(preset, exec.backbone);
    const t1 = performance.now();
    const result = await embed(exec.run, () => services.preprocessor(preset), pooling, { texts, ids, truncate: body.truncate, dimensions: body.dimensions }, MAX_BATCH_ROWS);
    await recordUsage(c.var.db, c.var.tenantId, result.promptTokens);
    c.header("x-queue-time", String(Math.round(t1 - t0)));
    c.header("x-tokenization-time", String(Math.round(result.tokenizationMs)));
    c.header("x-inference-time", String(Math.round(result.inferenceMs)));
    c.header("x-compute-time", String(Math.round(performance.now() - t0)));
    const base64 = body.encoding_format === "base64";
    return c.json({
      object: "list",
      data: result.vectors.map((v, index) => ({ object: "embedding", index, embedding: base64 ? toBase64(v) : Array.from(v) })),
      model: body.model,
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    });
  });

  app.route("/v1", v1);

  // ---- TEI-shaped routes (text-embeddings-inference): tenant key; the model is the body's `model`
  // (preset or preset:adapter, an Edgebone extension) or the TEI_DEFAULT_PRESET var ----
  const tei = new Hono<AppEnv>();
  for (const path of ["/embed", "/embed_all", "/tokenize", "/decode"]) tei.use(path, requireTenant);
  const teiModelOf = (c: Context<AppEnv>, model: string | undefined) => {
    const chosen = model ?? c.env.TEI_DEFAULT_PRESET;
    if (!chosen) throw unprocessable("no model: send \"model\" (preset or preset:adapter) or configure TEI_DEFAULT_PRESET", "missing_model", "model");
    return parseModel(chosen);
  };
  const asList = (inputs: string | string[]) => (typeof inputs === "string" ? [inputs] : inputs);

  tei.post("/embed", async (c) => {
    const body = await jsonBody(c, teiEmbedBody);
    const { preset, adapter: adapterName } = teiModelOf(c, body.model);
    const services = c.var.services;
    const exec = await executor(c, preset, adapterName, "model");
    const pooling = await services.pooling(preset, exec.backbone);
    const result = await embed(exec.run, () => services.preprocessor(preset), pooling, { texts: asList(body.inputs), truncate: body.truncate, dimensions: body.dimensions, normalize: body.normalize }, MAX_BATCH_ROWS);
    await recordUsage(c.var.db, c.var.tenantId, result.promptTokens);
    c.header("x-tokenization-time", String(Math.round(result.tokenizationMs)));
    c.header("x-inference-time", String(Math.round(result.inferenceMs)));
    return c.json(result.vectors.map((v) => Array.from(v)));
  });

  tei.post("/embed_all", async (c) => {
    const body = await jsonBody(c, teiEmbedAllBody);
    const { preset, adapter: adapterName } = teiModelOf(c, body.model);
    const services = c.var.services;
    const exec = await executor(c, preset, adapterName, "model");
    const p = await services.preprocessor(preset);
    const texts = asList(body.inputs);
    if (texts.length > MAX_BATCH_ROWS) throw unprocessable(`${texts.length} inputs exceed the limit of ${MAX_BATCH_ROWS}`, "too_many_inputs", "inputs");
    const pre = (body.truncate ? new Preprocessor(p.tokenizer, { truncate: "right" }, p.sequenceLength) : p).call(texts);
    const { shape, data } = await exec.run(pre.tokenIds, pre.paddingMask);
    const [, seq, hidden] = shape;
    let tokens = 0;
    const out = pre.paddingMask.map((mask, b) => {
      const rows: number[][] = [];
      mask.forEach((m, t) => m && rows.push(Array.from(data.subarray((b * seq + t) * hidden, (b * seq + t + 1) * hidden))));
      tokens += rows.length;
      return rows;
    });
    await recordUsage(c.var.db, c.var.tenantId, tokens);
    return c.json(out);
  });

  tei.post("/tokenize", async (c) => {
    const body = await jsonBody(c, teiTokenizeBody);
    const { preset } = teiModelOf(c, body.model);
    await c.var.services.config(preset); // 404 for an unknown preset
    const { tokenizer } = await c.var.services.preprocessor(preset);
    return c.json(
      asList(body.inputs).map((text) => {
        const e = tokenizer.encode(text, { addSpecialTokens: body.add_special_tokens ?? true });
        return e.ids.map((id, i) => ({ id, text: e.tokens[i], special: e.special[i], start: e.special[i] ? null : e.offsets[i][0], stop: e.special[i] ? null : e.offsets[i][1] }));
      }),
    );
  });

  tei.post("/decode", async (c) => {
    const body = await jsonBody(c, teiDecodeBody);
    const { preset } = teiModelOf(c, body.model);
    const backbone = await c.var.services.config(preset);
    const { tokenizer } = await c.var.services.preprocessor(preset);
    const one = body.ids.length > 0 && !Array.isArray(body.ids[0]);
    const rows = (one ? [body.ids] : body.ids) as number[][];
    for (const row of rows) {
      const bad = row.find((id) => id >= backbone.vocabularySize);
      if (bad !== undefined) throw unprocessable(`token id ${bad} is out of range for a vocabulary of ${backbone.vocabularySize}`, "invalid_input", "ids");
    }
    const texts = rows.map((row) => tokenizer.decode(row, { skipSpecialTokens: body.skip_special_tokens ?? true }));
    return c.json(one ? texts[0] : texts);
  });

  app.route("/", tei);
  return app;
}
