/**
 * One inference request, end to end, on a `TokenBatch` from the request's token ids (or the preset's tokenizer)
 * to the session: the request limits, where the preset runs (`Services.placement`: this isolate's onnxruntime-web
 * session, a pipeline of isolates, or the GPU runner pool, whose JSON wire alone turns the batch back into rows),
 * the tenant's adapter, the tenant's quota (workers/quota.ts), usage in D1 and TEI's timing headers
 * (`x-queue-time`: placement and model load, `x-tokenization-time`, `x-inference-time`: admission and the forward
 * pass, `x-compute-time`: all of it).
 */
import { sql } from "drizzle-orm";
import type { Context } from "hono";
import { Preprocessor, SequenceTooLongError, checkBatch, tokenBatch, toFloat32, type Backbone, type RowSource, type TokenBatch } from "../shared/index.js";
import { findReadyAdapter, isAdapterName, type AdapterRow } from "./adapters.js";
import type { AppEnv, Db } from "./context.js";
import * as schema from "./db/schema.js";
import { ApiError, badRequest, unprocessable } from "./errors.js";
import { admitQuota } from "./quota.js";
import { checkRows, checkTexts, checkTokens, type RequestLimits } from "./limits.js";
import { PipelineError } from "./pipeline.js";
import { IsolateLoadError, type Backend, type Placement } from "./services.js";
import type { EmbeddingDefaults } from "./embeddings.js";

interface Output {
  shape: readonly number[];
  data: Float32Array;
}

/** A preset, optionally with one of the tenant's adapters, and the request fields that named them (for `param`). */
export interface ModelRef {
  preset: string;
  adapter?: string;
  /** null when the preset is in the path. */
  presetParam: string | null;
  adapterParam: string;
}

/** `preset` or `preset:adapter` (OpenAI's `model`, TEI's `model` extension), named by the field `param`. */
export function modelRef(model: string, param: string): ModelRef {
  const i = model.indexOf(":");
  if (i === 0 || i === model.length - 1) throw badRequest(`model "${model}" must be "preset" or "preset:adapter"`, "invalid_model", param);
  return i < 0 ? { preset: model, presetParam: param, adapterParam: param } : { preset: model.slice(0, i), adapter: model.slice(i + 1), presetParam: param, adapterParam: param };
}

/** What to do with a text longer than the model's window: refuse it (422), cut it, or cut it into overlapping windows. */
type Fit = "reject" | "truncate" | "chunk";

interface EncodedTexts {
  batch: TokenBatch;
  /** Row → the text (and span) it holds; several rows per text when chunked. */
  sources: readonly RowSource[];
}

/** Adds one request and its tokens to the tenant's usage of a UTC day (the record the quota starts each day from). */
async function recordUsage(db: Db, tenantId: string, day: string, tokens: number): Promise<void> {
  await db
    .insert(schema.usage)
    .values({ tenantId, day, requests: 1, tokens })
    .onConflictDoUpdate({
      target: [schema.usage.tenantId, schema.usage.day],
      set: { requests: sql`${schema.usage.requests} + 1`, tokens: sql`${schema.usage.tokens} + ${tokens}` },
    });
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

const ms = (x: number) => String(Math.round(x));

/** One request's inference: `encode` texts (or build a batch from ids), then `run` it once. */
export class Inference {
  private readonly start = performance.now();
  private tokenizationMs = 0;
  private backend: Backend = "isolate";

  constructor(
    private readonly c: Context<AppEnv>,
    readonly model: ModelRef,
  ) {}

  get limits(): RequestLimits {
    return this.c.var.services.limits;
  }

  /** The preset's backbone from its config alone. */
  backbone(): Promise<Backbone> {
    return this.named(this.c.var.services.config(this.model.preset));
  }

  /** How the preset makes embeddings: pooling, normalization, prompts (workers/embeddings.ts). */
  async embeddingDefaults(): Promise<EmbeddingDefaults> {
    return this.c.var.services.embeddingDefaults(this.model.preset, await this.backbone());
  }

  /** A 404 for the preset names the request field that named it. */
  private async named<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new ApiError(404, e.message, e.code, this.model.presetParam);
      throw e;
    }
  }

  /**
   * Texts → one batch with the preset's tokenizer; the request limits (inputs, characters: workers/limits.ts) are
   * checked before tokenizing, and with `reject` a text over the window is a 422.
   */
  async encode(texts: readonly string[], fit: Fit, param: string): Promise<EncodedTexts> {
    checkTexts(texts, param, this.limits);
    await this.backbone();
    const t0 = performance.now();
    const preprocessor = await this.c.var.services.preprocessor(this.model.preset);
    let out;
    try {
      if (fit === "chunk") out = preprocessor.chunk(texts);
      else out = (fit === "truncate" ? new Preprocessor(preprocessor.tokenizer, { truncate: "right" }, preprocessor.sequenceLength) : preprocessor).call(texts);
    } catch (e) {
      if (!(e instanceof SequenceTooLongError)) throw e;
      throw unprocessable(`${param}[${e.text}] is ${e.tokens} tokens long, more than the model's ${e.sequenceLength}: shorten it or send "truncate": true to cut it`, "input_too_long", param);
    }
    this.tokenizationMs += performance.now() - t0;
    return { batch: Preprocessor.toTokenBatch(out), sources: out.rows };
  }

  /**
   * Runs the request's batch where the preset is placed: 422 beyond the row limit and 413 beyond the token limit,
   * then 429 over the tenant's quota (before any placement), then usage and the timing headers. `param` is the
   * field the batch came from.
   */
  async run(batch: TokenBatch, param: string): Promise<Output> {
    checkRows(batch.batchSize, param);
    checkTokens(batch.batchSize * batch.sequenceLength, `${batch.batchSize}×${batch.sequenceLength} tokens`, param, this.limits);
    let tokens = 0;
    for (const m of batch.paddingMask) tokens += m;
    // The tenant's quota (workers/quota.ts): the tokens are reserved now and settled with what was used.
    const quota = await admitQuota(this.c, tokens);
    let used = 0;
    try {
      const output = await this.execute(batch, tokens, quota.day);
      used = tokens;
      return output;
    } finally {
      // after the response (waitUntil): until it lands the tokens stay reserved, so the budget still holds
      const settled = quota.settle(used);
      const background = backgroundWork(this.c);
      if (background) background(settled);
      else await settled;
    }
  }

  /** Placement, the forward pass, the request's usage in D1 (on the quota's `day`) and the timing headers. */
  private async execute(batch: TokenBatch, tokens: number, day: string): Promise<Output> {
    const c = this.c;
    const services = c.var.services;
    const t0 = performance.now();
    const placement = await this.named(services.placement(this.model.preset));
    const { backbone } = placement;
    const adapter = this.model.adapter === undefined ? null : await this.adapterRow(this.model.adapter);
    let forward: (batch: TokenBatch) => Promise<Output>;
    this.setBackend(placement.where);
    if (placement.where === "isolate") {
      try {
        forward = await this.inIsolate(adapter);
      } catch (e) {
        // A preset the isolate failed to load (broken artifact, memory) is served by the runner pool when there is
        // one; without one the 503 says why.
        if (!(e instanceof IsolateLoadError) || !services.runners.isConfigured(c.env)) throw e;
        this.setBackend("runner");
        forward = this.onRunners(backbone, adapter);
      }
    } else if (placement.where === "pipeline") {
      forward = this.onPipeline(placement, adapter);
    } else {
      forward = this.onRunners(backbone, adapter);
    }
    const t1 = performance.now();
    let output: Output;
    try {
      output = await forward(batch);
      services.metrics.inferences.inc({ backend: this.backend, outcome: "ok" });
    } catch (e) {
      services.metrics.inferences.inc({ backend: this.backend, outcome: "error" });
      throw e;
    }
    const t2 = performance.now();
    await recordUsage(c.var.db, c.var.tenantId, day, tokens);
    c.header("x-queue-time", ms(t1 - t0));
    c.header("x-tokenization-time", ms(this.tokenizationMs));
    c.header("x-inference-time", ms(t2 - t1));
    c.header("x-compute-time", ms(t2 - this.start));
    return output;
  }

  /** The tenant's ready adapter for the preset (404 unknown or another tenant's, 422 uploaded for another base). */
  private async adapterRow(name: string): Promise<AdapterRow> {
    const { preset, adapterParam } = this.model;
    const row = isAdapterName(name) ? await findReadyAdapter(this.c.var.db, this.c.var.tenantId, name) : undefined;
    if (!row) throw new ApiError(404, `adapter "${name}" not found`, "adapter_not_found", adapterParam);
    if (row.basePreset !== preset) throw unprocessable(`adapter "${name}" was uploaded for preset "${row.basePreset}", not "${preset}"`, "adapter_base_mismatch", adapterParam);
    return row;
  }

  /** Where the request runs (`x-edgebone-backend`); on the runner pool, the edge's failure that sent it there, if any. */
  private setBackend(where: Backend): void {
    this.backend = where;
    this.c.header("x-edgebone-backend", where);
    const failure = where === "runner" ? this.c.var.services.loadFailure(this.model.preset) : null;
    if (failure) this.c.header("x-edgebone-isolate-failure", failure.slice(0, 200));
  }

  /**
   * The preset's isolate pipeline (workers/pipeline.ts). When it cannot serve (a stage failed on two replicas,
   * or the deadline passed), the preset goes to the runner pool for a while and so does this request; without a
   * pool, 503 `pipeline_failed` with the reason.
   */
  private onPipeline({ backbone, edge }: Placement, adapter: AdapterRow | null): (batch: TokenBatch) => Promise<Output> {
    const { c, model } = this;
    const services = c.var.services;
    return async (batch) => {
      checkBatch(batch, { vocabularySize: backbone.vocabularySize, maxSequenceLength: backbone.maxSequenceLength });
      const H = backbone.hiddenDim;
      try {
        const request = { preset: model.preset, plan: edge!.pipeline!, hiddenDim: H, batch, adapter: adapter && { id: adapter.id, r2Key: adapter.r2Key } };
        return { shape: [batch.batchSize, batch.sequenceLength, H], data: await services.pipelines.forward(c.env, request) };
      } catch (e) {
        if (!(e instanceof PipelineError)) throw e;
        services.recordFailure(model.preset, `isolate pipeline: ${e.message}`);
        if (!services.runners.isConfigured(c.env)) throw new ApiError(503, `preset "${model.preset}" could not be served by its isolate pipeline: ${e.message}`, "pipeline_failed");
        this.setBackend("runner");
        return this.onRunners(backbone, adapter)(batch);
      }
    };
  }

  private onRunners(backbone: Backbone, adapter: AdapterRow | null): (batch: TokenBatch) => Promise<Output> {
    const c = this.c;
    return async (batch) => {
      // the pool's answer to a bad batch would be a runner error: check it here, as the isolate's session does
      checkBatch(batch, { vocabularySize: backbone.vocabularySize, maxSequenceLength: backbone.maxSequenceLength });
      const result = await c.var.services.runners.forward(c.env, { preset: this.model.preset, tenantId: c.var.tenantId, adapter, batch }, backgroundWork(c));
      if (result.runnerId) c.header("x-edgebone-runner", result.runnerId);
      c.header("x-edgebone-attempts", String(result.attempts)); // > 1: another runner failed first
      return result;
    };
  }

  private async inIsolate(adapter: AdapterRow | null): Promise<(batch: TokenBatch) => Promise<Output>> {
    const services = this.c.var.services;
    const model = await services.model(this.model.preset);
    const adapters = adapter ? [await services.adapter(adapter.id, adapter.r2Key, model.backbone)] : [];
    return async (batch) => {
      const { sequenceOutput } = await services.limiter.run(() => model.session.forward(batch, { adapters }));
      return { shape: sequenceOutput.shape, data: toFloat32(sequenceOutput) };
    };
  }
}

/** Token id rows (special tokens are the caller's), right-padded with id 0 into one batch. */
export function idBatch(rows: readonly (readonly number[])[], param: string): TokenBatch {
  if (!rows.length || rows.some((r) => r.length === 0)) throw unprocessable("token id rows must not be empty", "empty_input", param);
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  return tokenBatch(
    rows.map((r) => Array.from({ length: width }, (_, t) => r[t] ?? 0)),
    rows.map((r) => Array.from({ length: width }, (_, t) => (t < r.length ? 1 : 0))),
  );
}
