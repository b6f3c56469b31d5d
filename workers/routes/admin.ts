/**
 * Admin API (Bearer ADMIN_TOKEN): tenants, their API keys, and preset installs into R2
 * (workers/preset-install.ts; workers/tools/install-preset.ts is the client).
 */
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { newKey, requireAdmin, sha256Hex } from "../auth.js";
import type { AppEnv } from "../context.js";
import * as schema from "../db/schema.js";
import { notFound } from "../errors.js";
import { jsonBody } from "../http.js";
import { putPresetFile } from "../preset-install.js";
import { keyBody, tenantBody } from "../schemas.js";

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
    if (!tenant.length) throw notFound(`tenant "${tenantId}" not found`, "tenant_not_found");
    const { key, prefix } = newKey();
    const row = { id: crypto.randomUUID(), tenantId, name: name ?? null, prefix, hash: await sha256Hex(key), createdAt: Date.now() };
    await c.var.db.insert(schema.apiKeys).values(row);
    // The key itself is returned once and never stored.
    return c.json({ id: row.id, tenant_id: tenantId, name: row.name, prefix, key, created_at: Math.floor(row.createdAt / 1000) }, 201);
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
