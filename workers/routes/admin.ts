/**
 * Admin API (Bearer ADMIN_TOKEN): tenants, their quota limits, their API keys, and preset installs into R2
 * (workers/preset-install.ts; workers/tools/install-preset.ts is the client).
 */
import { and, eq } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { sha256Hex } from "../../shared/runner/signing.js";
import { newKey, requireAdmin } from "../auth.js";
import type { AppEnv } from "../context.js";
import * as schema from "../db/schema.js";
import { notFound } from "../errors.js";
import { jsonBody } from "../http.js";
import { defaultLimits, effectiveLimits, utcDay, type TenantLimits } from "../quota.js";
import { putPresetFile } from "../preset-install.js";
import { keyBody, limitsBody, tenantBody } from "../schemas.js";

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

  // Files are streamed into R2 under presets/<name>/<file>; record.json, sent last, is checked and commits the
  // install (workers/preset-install.ts).
  admin.put("/presets/:name/:file{.+}", async (c) => c.json(await putPresetFile(c, c.req.param("name"), c.req.param("file")), 201));

  return admin;
}
