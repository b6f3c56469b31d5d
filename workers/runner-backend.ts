/**
 * Presets that do not run in the isolate (all Gemma, and anything whose estimated footprint exceeds the
 * isolate budget) go to the GPU runner pool (shared/runner: signed requests, rendezvous hashing on
 * (preset, adapter), retries on the next runner, attempt timeouts, circuit breakers). The pool is per isolate.
 * Workers have no timers outside requests, so health checks run piggybacked on requests: when the last round is
 * older than the interval, a request starts one in `waitUntil` (it never delays the request itself).
 *
 * An adapter is sent as its D1 record pinned to its immutable per-upload R2 key ({name, size, sha256, key}): the
 * runner reads exactly that object and verifies it, so nothing is copied and two versions of one name can never
 * be confused.
 */
import { batchRows, type TokenBatch } from "../shared/index.js";
import { PoolError, RunnerError, RunnerPool } from "../shared/runner/index.js";
import type { AdapterRow } from "./adapters.js";
import { numberVar, type Env } from "./env.js";
import { ApiError } from "./errors.js";

const runnerUrls = (env: Env) => (env.RUNNER_URLS ?? "").split(",").map((u) => u.trim()).filter(Boolean);

export class RunnerBackend {
  private pool: RunnerPool | null = null;
  private configured = "";

  /** Whether the env names a runner pool at all. */
  isConfigured(env: Env): boolean {
    return runnerUrls(env).length > 0 && !!env.RUNNER_SIGNING_KEY;
  }

  /** The pool for the env's RUNNER_URLS / RUNNER_SIGNING_KEY; 503 when none is configured. */
  poolFor(env: Env): RunnerPool {
    const urls = runnerUrls(env);
    if (!urls.length || !env.RUNNER_SIGNING_KEY) throw new ApiError(503, "this preset runs on the GPU runner pool, and no runner is configured (RUNNER_URLS, RUNNER_SIGNING_KEY)", "no_runner_configured");
    const deadlineMs = numberVar(env.RUNNER_TIMEOUT_MS, 30_000);
    const healthIntervalMs = numberVar(env.RUNNER_HEALTH_INTERVAL_MS, 5_000);
    const id = `${urls.join(",")}\u0000${env.RUNNER_SIGNING_KEY}\u0000${deadlineMs}\u0000${healthIntervalMs}`;
    if (!this.pool || this.configured !== id) {
      this.pool = new RunnerPool({ runners: urls, signingKey: env.RUNNER_SIGNING_KEY, deadlineMs, attemptTimeoutMs: Math.min(15_000, deadlineMs), healthIntervalMs });
      this.configured = id;
    }
    return this.pool;
  }

  async forward(
    env: Env,
    request: { preset: string; tenantId: string; adapter: AdapterRow | null; batch: TokenBatch },
    waitUntil?: (work: Promise<unknown>) => void,
  ): Promise<{ shape: number[]; data: Float32Array; runnerId: string | null; attempts: number }> {
    const pool = this.poolFor(env);
    const due = pool.checkHealthIfDue();
    if (due) waitUntil?.(due);
    const { tokenIds, paddingMask } = batchRows(request.batch); // the wire is JSON rows
    try {
      const result = await pool.forward({
        preset: request.preset,
        ...(request.adapter ? { tenant: request.tenantId, adapter: { name: request.adapter.name, size: request.adapter.size, sha256: request.adapter.sha256, key: request.adapter.r2Key } } : {}),
        token_ids: tokenIds,
        padding_mask: paddingMask as (0 | 1)[][],
      });
      return { shape: result.shape, data: result.data, runnerId: result.runnerId, attempts: result.attempts };
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
