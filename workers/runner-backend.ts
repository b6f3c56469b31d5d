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
import { drizzle } from "drizzle-orm/d1";
import { asc, gt } from "drizzle-orm";
import { batchRows, type TokenBatch } from "../shared/index.js";
import { PoolError, RunnerError, RunnerPool } from "../shared/runner/index.js";
import type { AdapterRow } from "./adapters.js";
import { runners } from "./db/schema.js";
import { numberVar, type Env } from "./env.js";
import { ApiError } from "./errors.js";

const runnerUrls = (env: Env) => (env.RUNNER_URLS ?? "").split(",").map((u) => u.trim().replace(/\/+$/, "")).filter(Boolean);

export class RunnerBackend {
  private pool: RunnerPool | null = null;
  private configured = "";
  /** RUNNER_URLS as of the last request. */
  private listed: string[] = [];
  /** Runners announced by heartbeat (D1), as last read by this isolate. */
  private discovered: string[] = [];
  private discoveredAt = -Infinity;
  private reading: Promise<void> | null = null;

  /** Whether the env names a runner pool at all (RUNNER_URLS, or runners that announced themselves). */
  isConfigured(env: Env): boolean {
    return !!env.RUNNER_SIGNING_KEY && (runnerUrls(env).length > 0 || this.discovered.length > 0);
  }

  /** Drops a runner that said it is leaving from this isolate's membership at once (others see it on their next read). */
  forget(url: string): void {
    this.discovered = this.discovered.filter((u) => u !== url);
    this.syncMembership();
  }

  /**
   * The pool for the env: RUNNER_URLS plus the runners announced in D1 (re-read at most every
   * RUNNER_DISCOVERY_INTERVAL_MS); 503 when there are none or no signing key.
   */
  async poolFor(env: Env): Promise<RunnerPool> {
    await this.discover(env);
    this.listed = runnerUrls(env);
    const urls = this.membership();
    if (!urls.length || !env.RUNNER_SIGNING_KEY) throw new ApiError(503, "this preset runs on the GPU runner pool, and no runner is configured (RUNNER_URLS, RUNNER_SIGNING_KEY) or announced", "no_runner_configured");
    const deadlineMs = numberVar(env.RUNNER_TIMEOUT_MS, 30_000);
    const healthIntervalMs = numberVar(env.RUNNER_HEALTH_INTERVAL_MS, 5_000);
    const affinityHeader = env.RUNNER_AFFINITY_HEADER ?? "x-session-token";
    const id = `${env.RUNNER_SIGNING_KEY}\u0000${deadlineMs}\u0000${healthIntervalMs}\u0000${affinityHeader}`;
    if (!this.pool || this.configured !== id) {
      this.pool = new RunnerPool({ runners: urls, signingKey: env.RUNNER_SIGNING_KEY, deadlineMs, attemptTimeoutMs: Math.min(15_000, deadlineMs), healthIntervalMs, ...(affinityHeader ? { affinityHeader } : {}) });
      this.configured = id;
    }
    this.syncMembership();
    return this.pool;
  }

  private membership(): string[] {
    return [...new Set([...this.listed, ...this.discovered])];
  }

  private syncMembership(): void {
    const urls = this.membership();
    if (this.pool && urls.length) this.pool.setRunners(urls);
  }

  /**
   * Reads the live announced runners when the last read is older than the interval (one read at a time). A failed
   * read keeps the previous membership until the next interval: RUNNER_URLS alone can still serve.
   */
  private async discover(env: Env): Promise<void> {
    if (Date.now() - this.discoveredAt < numberVar(env.RUNNER_DISCOVERY_INTERVAL_MS, 5_000)) return;
    this.reading ??= (async () => {
      try {
        const rows = await drizzle(env.DB as never).select({ url: runners.url }).from(runners).where(gt(runners.expiresAt, Date.now())).orderBy(asc(runners.url));
        this.discovered = rows.map((r) => r.url);
      } catch (e) {
        console.warn(`runner discovery: cannot read announced runners (${(e as Error).message}); keeping ${this.discovered.length}`);
      } finally {
        this.discoveredAt = Date.now();
        this.reading = null;
      }
    })();
    await this.reading;
  }

  async forward(
    env: Env,
    request: { preset: string; tenantId: string; adapter: AdapterRow | null; batch: TokenBatch },
    waitUntil?: (work: Promise<unknown>) => void,
  ): Promise<{ shape: number[]; data: Float32Array; runnerId: string | null; attempts: number }> {
    const pool = await this.poolFor(env);
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
