/**
 * Admin API (Bearer ADMIN_TOKEN): tenants, their quota limits, their API keys, and preset installs into R2
 * (workers/tools/install-preset.ts is the client).
 */
import { and, eq } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { presetFileKey } from "../../shared/runner/layout.js";
import { sha256Hex } from "../../shared/runner/signing.js";
import { newKey, requireAdmin } from "../auth.js";
import type { AppEnv } from "../context.js";
import * as schema from "../db/schema.js";
import { ApiError, badRequest, notFound, unprocessable } from "../errors.js";
import { jsonBody } from "../http.js";
import { defaultLimits, effectiveLimits, utcDay, type TenantLimits } from "../quota.js";
import { isPresetName } from "../r2-preset-store.js";
import { keyBody, limitsBody, tenantBody } from "../schemas.js";

const FILE_PART = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

const tenantNotFound = (id: string) => notFound(`tenant "${id}" not found`, "tenant_not_found");

/** The admin view of a tenant's quota: its own limits, the defaults, those in force, today's usage (D1). */
async function limitsView(c: Context<AppEnv>, tenantId: string) {
  const [tenant] = await c.var.db
    .select({ requestsPerSecond: schema.tenants.requestsPerSecond, tokensPerDay: schema.tenants.tokensPerDay })
    .from(schema.tenants)
    .where(eq(schema.tenants.id, tenantId));
  if (!tenant) throw tenantNotFound(tenantId);
  const day = utcDay(Date.now());
  const [usage] = await c.var.db
    .select({ requests: schema.usage.requests, tokens: schema.usage.tokens })
    .from(schema.usage)
    .where(and(eq(schema.usage.tenantId, tenantId), eq(schema.usage.day, day)));
  const wire = (l: TenantLimits) => ({ requests_per_second: l.requestsPerSecond, tokens_per_day: l.tokensPerDay });
  return {
    tenant_id: tenantId,
    limits: wire(tenant),
    defaults: wire(defaultLimits(c.env)),
    effective: wire(effectiveLimits(tenant, c.env)),
    // false without the TENANT_QUOTA binding: usage is recorded, nothing is refused
    enforced: c.env.TENANT_QUOTA !== undefined,
    usage_today: { day, requests: usage?.requests ?? 0, tokens: usage?.tokens ?? 0 },
  };
}

export function adminRoutes(): Hono<AppEnv> {
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
    const { name } = await jsonBody(c, keyBody, {});
    const tenant = await c.var.db.select({ id: schema.tenants.id }).from(schema.tenants).where(eq(schema.tenants.id, tenantId)).limit(1);
    if (!tenant.length) throw tenantNotFound(tenantId);
    const { key, prefix } = newKey();
    const row = { id: crypto.randomUUID(), tenantId, name: name ?? null, prefix, hash: await sha256Hex(key), createdAt: Date.now() };
    await c.var.db.insert(schema.apiKeys).values(row);
    // The key itself is returned once and never stored.
    return c.json({ id: row.id, tenant_id: tenantId, name: row.name, prefix, key, created_at: Math.floor(row.createdAt / 1000) }, 201);
  });

  // A tenant's quota limits (workers/quota.ts): its own (null: the default), the defaults, what is in force, and
  // today's usage from D1. Enforced from the tenant's next request on, in every isolate.
  admin.get("/tenants/:id/limits", async (c) => c.json(await limitsView(c, c.req.param("id"))));

  admin.put("/tenants/:id/limits", async (c) => {
    const tenantId = c.req.param("id");
    const body = await jsonBody(c, limitsBody);
    const own = { requestsPerSecond: body.requests_per_second ?? null, tokensPerDay: body.tokens_per_day ?? null };
    const rows = await c.var.db.update(schema.tenants).set(own).where(eq(schema.tenants.id, tenantId)).returning({ id: schema.tenants.id });
    if (!rows.length) throw tenantNotFound(tenantId);
    return c.json(await limitsView(c, tenantId));
  });

  admin.delete("/keys/:id", async (c) => {
    const id = c.req.param("id");
    const rows = await c.var.db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, id)).returning({ id: schema.apiKeys.id });
    if (!rows.length) throw notFound(`API key "${id}" not found`, "key_not_found");
    return c.json({ id, revoked: true });
  });

  // Files are streamed into R2 under presets/<name>/<file>; the client sends record.json last, so a runner never
  // sees a preset without all its files.
  admin.put("/presets/:name/:file{.+}", async (c) => {
    const name = c.req.param("name");
    const file = c.req.param("file");
    if (!isPresetName(name)) throw unprocessable(`invalid preset name "${name}"`, "invalid_preset_name", "name");
    if (!file.split("/").every((part) => FILE_PART.test(part))) throw unprocessable(`invalid preset file name "${file}"`, "invalid_file_name", "file");
    const length = Number(c.req.header("content-length") ?? NaN);
    const body = c.req.raw.body;
    if (!Number.isInteger(length) || length < 0 || !body) throw new ApiError(411, "send the file with a Content-Length", "length_required");
    const sha256 = c.req.header("x-sha256");
    if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw badRequest("x-sha256 must be 64 lowercase hex digits", "invalid_sha256", "x-sha256");
    let object;
    try {
      object = await c.env.BUCKET.put(presetFileKey(name, file), body, sha256 ? { sha256 } : undefined);
    } catch (e) {
      if (sha256 && /sha-?256|checksum|digest/i.test(String((e as Error).message))) throw unprocessable(`${file}: the body does not match x-sha256 ${sha256}`, "checksum_mismatch", "x-sha256");
      throw e;
    }
    c.var.services.forgetPreset(name);
    return c.json({ preset: name, file, size: object?.size ?? length }, 201);
  });

  return admin;
}
