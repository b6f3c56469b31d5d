/**
 * A request through a preset's isolate pipeline (shared/edge/pipeline.ts, workers/pipeline-stage.ts): the worker
 * has tokenized; each row (cut to its last valid token) gets its token vectors from the embedding shards (one call
 * per shard, all at once), then goes through the block stages in order, the rows of a request concurrently, so that
 * stages pipeline: while stage 2 runs one row (or request), stage 1 runs the next.
 *
 * Each stage call picks one of EDGE_PIPELINE_REPLICAS replicas (round-robin per request) and has a timeout; a call
 * that fails or times out is retried once on another replica (with one replica configured, a spare one). The whole
 * request has EDGE_PIPELINE_TIMEOUT_MS: past it, or after a failed retry, a `PipelineError` says which stage failed
 * and why (the caller falls back to the runner pool or answers 503). Never a hung request.
 */
import { describeStage, pipelineLayout, type PipelinePlan, type TokenBatch } from "../shared/index.js";
import { numberVar, type Env } from "./env.js";
import type { PipelineStageRpc, StageCall } from "./pipeline-stage.js";

/** The pipeline could not serve the request: the reason names the stage. */
export class PipelineError extends Error {
  override name = "PipelineError";
}

export interface PipelineRequest {
  preset: string;
  plan: PipelinePlan;
  hiddenDim: number;
  batch: TokenBatch;
  adapter: { id: string; r2Key: string } | null;
}

export class PipelineBackend {
  private turn = 0;

  /** The batch's sequence output [B, T, H] (zeros past each row's last valid token). */
  async forward(env: Env, { preset, plan, hiddenDim: H, batch, adapter }: PipelineRequest): Promise<Float32Array> {
    const namespace = env.PIPELINE_STAGE;
    if (!namespace) throw new PipelineError("this worker has no PIPELINE_STAGE Durable Object binding");
    const replicas = replicasOf(env);
    const deadline = Date.now() + numberVar(env.EDGE_PIPELINE_TIMEOUT_MS, 30_000);
    const replica = this.turn++ % replicas;
    const call = async <T>(k: number, method: (stub: PipelineStageRpc, at: StageCall) => Promise<T>): Promise<T> => {
      const tries = [replica, (replica + 1) % Math.max(2, replicas)];
      const failures: string[] = [];
      for (const [i, r] of tries.entries()) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const stub = namespace.get(namespace.idFromName(`${preset}/${k}/${r}`));
        try {
          // the first try leaves time for the retry
          return await withTimeout(method(stub, { preset, stage: k, pipelineId: plan.id }), i + 1 < tries.length ? left / 2 : left);
        } catch (e) {
          failures.push(`replica ${r}: ${(e as Error).message}`);
        }
      }
      throw new PipelineError(`${describeStage(plan, k)} failed (${failures.join("; ") || "no time left"})`);
    };

    const { batchSize: B, sequenceLength: T } = batch;
    const rows = Array.from({ length: B }, (_, b) => {
      const mask = batch.paddingMask.subarray(b * T, (b + 1) * T);
      const length = mask.lastIndexOf(1) + 1;
      return { ids: batch.tokenIds.subarray(b * T, b * T + length), mask: mask.slice(0, length) };
    });

    // Token vectors: each shard is asked once for the distinct ids in its rows.
    const vectors = new Map<number, Float32Array>();
    const shards = plan.stages.flatMap((s, k) => (s.kind === "embedding" ? [{ k, rows: s.rows }] : []));
    const distinct = [...new Set(rows.flatMap((r) => [...r.ids]))];
    await Promise.all(
      shards.map(async ({ k, rows: [from, to] }) => {
        const ids = Int32Array.from(distinct.filter((id) => id >= from && id < to));
        if (!ids.length) return;
        const got = await call(k, (stub, at) => stub.lookup({ ...at, ids }));
        ids.forEach((id, i) => vectors.set(id, got.subarray(i * H, (i + 1) * H)));
      }),
    );

    const blocks = plan.stages.flatMap((s, k) => (s.kind === "blocks" ? [k] : []));
    const out = new Float32Array(B * T * H);
    await Promise.all(
      rows.map(async ({ ids, mask }, b) => {
        if (!ids.length) return;
        let hidden: Float32Array = new Float32Array(ids.length * H);
        ids.forEach((id, i) => hidden.set(vectors.get(id)!, i * H));
        for (const k of blocks) hidden = await call(k, (stub, at) => stub.forward({ ...at, hidden, paddingMask: mask, adapter }));
        out.set(hidden, b * T * H);
      }),
    );
    return out;
  }
}

/** A plan as `GET /v1/models/:id` and `/info` show it: its stages, where each weight lives, the replicas. */
export function pipelineSummary(plan: PipelinePlan, env: Env) {
  return { ...plan, replicas: replicasOf(env), layout: pipelineLayout(plan).entries };
}

const replicasOf = (env: Env) => Math.floor(numberVar(env.EDGE_PIPELINE_REPLICAS, 1));

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
