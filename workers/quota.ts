/**
 * Per-tenant quotas on inference: requests per second and tokens per UTC day.
 *
 * - Per tenant, not per key: every key of a tenant draws on one budget (D1 records usage per tenant, and minting
 *   more keys must not multiply a budget).
 * - Limits: the tenant's own (PUT /admin/tenants/:id/limits, stored on its D1 row), else the deployment's default
 *   (TENANT_REQUESTS_PER_SECOND, TENANT_TOKENS_PER_DAY; unset or 0: no limit).
 * - Enforcement: the tenant's `TenantQuota` Durable Object (workers/tenant-quota.ts), which every isolate asks, so
 *   they agree. The Workers Rate Limiting binding cannot do it: its limit is fixed in wrangler.toml (not per
 *   tenant), its period is 10 or 60 s, and it counts per Cloudflare location.
 * - What counts: every request that runs inference (forward, embeddings, TEI embed / embed_all) is one request
 *   and its batch's real tokens (padding excluded), reserved before placement and inference and settled after
 *   (released if it failed). Over a limit: 429 with Retry-After, the code naming the limit
 *   (`requests_per_second_exceeded`, `tokens_per_day_exceeded`).
 */
import type { Context } from "hono";
import type { AppEnv } from "./context.js";
import { numberVar, type Env } from "./env.js";
import { ApiError } from "./errors.js";

/** `YYYY-MM-DD` (UTC) of a time in ms: the day of D1's usage rows. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A tenant's limits; null: none (effective) or the default (stored). */
export interface TenantLimits {
  requestsPerSecond: number | null;
  tokensPerDay: number | null;
}

const defaultLimit = (value: string | undefined) => {
  const n = Math.floor(numberVar(value, 0));
  return n > 0 ? n : null;
};

/** The deployment's default limits (wrangler.toml vars). */
export function defaultLimits(env: Env): TenantLimits {
  return { requestsPerSecond: defaultLimit(env.TENANT_REQUESTS_PER_SECOND), tokensPerDay: defaultLimit(env.TENANT_TOKENS_PER_DAY) };
}

/** The limits in force: the tenant's own over the defaults. */
export function effectiveLimits(own: TenantLimits, env: Env): TenantLimits {
  const defaults = defaultLimits(env);
  return { requestsPerSecond: own.requestsPerSecond ?? defaults.requestsPerSecond, tokensPerDay: own.tokensPerDay ?? defaults.tokensPerDay };
}

/** An admitted request's hold on its tenant's quota. */
interface QuotaTicket {
  /** The UTC day the request counts for (its D1 usage row). */
  day: string;
  /** Ends the reservation with the tokens used (0: failed); never rejects. */
  settle(tokens: number): Promise<void>;
}

/**
 * Admits one inference request of `tokens` tokens for the caller's tenant: a ticket to settle, or 429 over a
 * limit, 503 when the quota object cannot be reached (nothing runs unaccounted).
 */
export async function admitQuota(c: Context<AppEnv>, tokens: number): Promise<QuotaTicket> {
  const now = Date.now();
  const limits = effectiveLimits(c.var.tenantLimits, c.env);
  const namespace = c.env.TENANT_QUOTA;
  if (!namespace || (limits.requestsPerSecond === null && limits.tokensPerDay === null)) return { day: utcDay(now), settle: async () => {} };
  const tenantId = c.var.tenantId;
  const quota = namespace.get(namespace.idFromName(tenantId));
  let admission;
  try {
    admission = await quota.admit({ tenantId, now, tokens, ...limits });
  } catch (e) {
    console.error(`quota of tenant ${tenantId} unavailable: ${(e as Error).message}`);
    throw new ApiError(503, "this tenant's quota could not be checked; retry in 1 s", "quota_unavailable", null, { "retry-after": "1" });
  }
  if (!admission.ok) {
    c.var.services.metrics.quotaRefusals.inc({ limit: admission.limit });
    throw new ApiError(429, admission.message, `${admission.limit}_exceeded`, null, { "retry-after": String(admission.retryAfterS) });
  }
  const { reservation, day } = admission;
  return {
    day,
    settle: (used) => quota.settle(reservation, day, used).catch((e: Error) => console.error(`settling ${used} tokens of tenant ${tenantId} failed: ${e.message}`)),
  };
}
