/**
 * Presets that do not run in the isolate (all Gemma, and anything whose estimated footprint exceeds the
 * isolate budget) go to the GPU runner pool (shared/runner: signed requests, rendezvous hashing on
 * (preset, adapter), retries on the next runner, attempt timeouts, circuit breakers). The pool is per isolate;
 * its periodic health checks are not started in workerd (no timers outside requests): failed attempts and the
 * breakers take a runner out of rotation instead.
 *
 * Runners read adapters at `adapters/<tenant>/<name>.lora.safetensors` (+ `.record.json`, shared/runner/layout),
 * while uploads live at per-upload keys (workers/adapters.ts). Before a request with an adapter goes to the pool,
 * the edge makes sure the runner-layout copy holds the ready version (record sha256 equal to D1's; else it
 * copies the bytes, record last). The request pins that version ({name, size, sha256}), so a runner never
 * serves another one: a stale or half-written copy is a runner-side verification error, never a wrong answer.
 */
import { PoolError, RunnerError, RunnerPool, adapterKey as runnerAdapterKey, adapterRecordKey, publishAdapter, type ObjectStore } from "../shared/runner/index.js";
import type { AdapterRow } from "./adapters.js";
import { numberVar, type Env, type R2BucketLike } from "./env.js";
import { ApiError } from "./errors.js";

export function r2ObjectStore(bucket: R2BucketLike): ObjectStore {
  return {
    description: "R2 bucket BUCKET",
    async get(key) {
      const object = await bucket.get(key);
      return object ? new Uint8Array(await object.arrayBuffer()) : null;
    },
    async put(key, bytes) {
      await bucket.put(key, bytes);
    },
  };
}

/** Publishes the ready version of an adapter where runners read it, unless it is already there. */
export async function ensureRunnerCopy(bucket: R2BucketLike, row: AdapterRow): Promise<void> {
  const record = await bucket.get(adapterRecordKey(row.tenantId, row.name));
  if (record) {
    try {
      const { sha256 } = JSON.parse(new TextDecoder().decode(await record.arrayBuffer())) as { sha256?: string };
      if (sha256 === row.sha256) return;
    } catch {
      // unreadable record: rewrite it
    }
  }
  const object = await bucket.get(row.r2Key);
  if (!object) throw new ApiError(500, `adapter object ${row.r2Key} is missing from R2`, "adapter_object_missing");
  await publishAdapter(r2ObjectStore(bucket), row.tenantId, row.name, new Uint8Array(await object.arrayBuffer()));
}

/** Removes the runner-layout copy of a deleted adapter (a later version re-publishes it on first use). */
export async function deleteRunnerCopy(bucket: R2BucketLike, tenantId: string, name: string): Promise<void> {
  await bucket.delete([runnerAdapterKey(tenantId, name), adapterRecordKey(tenantId, name)]);
}

export class RunnerBackend {
  private pool: RunnerPool | null = null;
  private configured = "";

  /** The pool for the env's RUNNER_URLS / RUNNER_SIGNING_KEY; 503 when none is configured. */
  poolFor(env: Env): RunnerPool {
    const urls = (env.RUNNER_URLS ?? "").split(",").map((u) => u.trim()).filter(Boolean);
    if (!urls.length || !env.RUNNER_SIGNING_KEY) throw new ApiError(503, "this preset runs on the GPU runner pool, and no runner is configured (RUNNER_URLS, RUNNER_SIGNING_KEY)", "no_runner_configured");
    const deadlineMs = numberVar(env.RUNNER_TIMEOUT_MS, 30_000);
    const id = `${urls.join(",")}\u0000${env.RUNNER_SIGNING_KEY}\u0000${deadlineMs}`;
    if (!this.pool || this.configured !== id) {
      this.pool = new RunnerPool({ runners: urls, signingKey: env.RUNNER_SIGNING_KEY, deadlineMs, attemptTimeoutMs: Math.min(15_000, deadlineMs) });
      this.configured = id;
    }
    return this.pool;
  }

  async forward(
    env: Env,
    request: { preset: string; tenantId: string; adapter: AdapterRow | null; tokenIds: number[][]; paddingMask: number[][] },
  ): Promise<{ shape: number[]; data: Float32Array; runnerId: string | null }> {
    const pool = this.poolFor(env);
    if (request.adapter) await ensureRunnerCopy(env.BUCKET, request.adapter);
    try {
      const result = await pool.forward({
        preset: request.preset,
        ...(request.adapter ? { tenant: request.tenantId, adapter: { name: request.adapter.name, size: request.adapter.size, sha256: request.adapter.sha256 } } : {}),
        token_ids: request.tokenIds,
        padding_mask: request.paddingMask as (0 | 1)[][],
      });
      return { shape: result.shape, data: result.data, runnerId: result.runnerId };
    } catch (e) {
      if (e instanceof PoolError) throw new ApiError(e.status, `no healthy runner could serve the request: ${e.message}`, e.status === 504 ? "runner_timeout" : "no_healthy_runner");
      if (e instanceof RunnerError) {
        const status = e.status === 400 ? 422 : e.status === 404 || e.status === 413 ? e.status : 502;
        throw new ApiError(status, `runner: ${e.message}`, e.code || "runner_error");
      }
      throw e;
    }
  }
}
