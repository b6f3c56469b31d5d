/**
 * API keys and admin auth. Keys are `eb_` + 32 random bytes (base64url), shown once; D1 keeps their SHA-256
 * (hex) and a display prefix. Tenant routes take `Authorization: Bearer <key>`; admin routes take
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 */
import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { sha256Hex } from "../shared/runner/signing.js";
import { apiKeys, tenants } from "./db/schema.js";
import { ApiError } from "./errors.js";
import type { AppEnv } from "./context.js";

const KEY_PREFIX = "eb_";
const DISPLAY_PREFIX_LENGTH = 10;

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function newKey(): { key: string; prefix: string } {
  const key = KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { key, prefix: key.slice(0, DISPLAY_PREFIX_LENGTH) };
}

/** Constant-time string equality (over the SHA-256 digests, so lengths leak nothing either). */
async function timingSafeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([sha256Hex(a), sha256Hex(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x.charCodeAt(i) ^ y.charCodeAt(i);
  return diff === 0;
}

function bearer(header: string | undefined): string | null {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1] : null;
}

/** Tenant routes: 401 without a key or with an unknown one, 403 for a revoked key. Sets `tenantId`, `keyId`, `tenantLimits`. */
export const requireTenant: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw new ApiError(401, "missing API key: send Authorization: Bearer <key>", "missing_api_key");
  const hash = await sha256Hex(token);
  const rows = await c.var.db
    .select({ keyId: apiKeys.id, tenantId: apiKeys.tenantId, revokedAt: apiKeys.revokedAt, requestsPerSecond: tenants.requestsPerSecond, tokensPerDay: tenants.tokensPerDay })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(eq(apiKeys.hash, hash))
    .limit(1);
  const row = rows[0];
  if (!row) throw new ApiError(401, "invalid API key", "invalid_api_key");
  if (row.revokedAt !== null) throw new ApiError(403, "this API key has been revoked", "revoked_api_key");
  c.set("tenantId", row.tenantId);
  c.set("keyId", row.keyId);
  c.set("tenantLimits", { requestsPerSecond: row.requestsPerSecond, tokensPerDay: row.tokensPerDay }); // the tenant's own quota (workers/quota.ts)
  await next();
};

/** Admin routes: 503 when ADMIN_TOKEN is unset, 401 without a token, 403 with a wrong one. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw new ApiError(503, "admin API disabled: ADMIN_TOKEN is not configured", "admin_disabled");
  const token = bearer(c.req.header("authorization"));
  if (!token) throw new ApiError(401, "missing admin token: send Authorization: Bearer <ADMIN_TOKEN>", "missing_admin_token");
  if (!(await timingSafeEqual(token, expected))) throw new ApiError(403, "invalid admin token", "invalid_admin_token");
  await next();
};

