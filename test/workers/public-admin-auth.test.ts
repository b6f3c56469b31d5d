/** Public routes, the admin API and API-key auth, on the real worker in workerd with its D1 and R2. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, PRESET, call, d1Rows, r2Keys, tenantWithKey } from "./helpers.js";

describe("public routes", () => {
  it("GET /health and /info", async () => {
    const health = await call("GET", "/health");
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: "ok" });
    const info = await call("GET", "/info");
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({ model_id: "edgebone", edge_memory_budget_mb: 128, max_client_batch_size: 32, max_batch_tokens: 16384 });
    expect(info.json.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("GET /openapi.json is public and documents every route", async () => {
    const doc = await call("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe("3.1.0");
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(["/v1/embeddings", "/v1/models/{preset}/forward", "/v1/adapters", "/v1/adapters/{name}", "/embed", "/embed_all", "/tokenize", "/decode", "/admin/tenants"]),
    );
  });

  it("unknown routes: 401 under /v1 (a key comes first, OpenAI shape), 404 in TEI shape elsewhere", async () => {
    const v1 = await call("GET", "/v1/nope");
    expect(v1.status).toBe(401);
    expect(v1.json.error).toMatchObject({ type: "authentication_error", code: "missing_api_key" });
    const tei = await call("GET", "/nope");
    expect(tei.status).toBe(404);
    expect(tei.json).toEqual({ error: "no route for GET /nope", error_type: "NotFound" });
  });
});

describe("admin API", () => {
  it("needs ADMIN_TOKEN: 401 without, 403 wrong or a tenant key, TEI error shape", async () => {
    const none = await call("POST", "/admin/tenants", { body: { name: "x" } });
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ error_type: "Unauthorized" });
    const wrong = await call("POST", "/admin/tenants", { key: "wrong", body: { name: "x" } });
    expect(wrong.status).toBe(403);
    expect(wrong.json).toMatchObject({ error_type: "Unauthorized" });
    const { key } = await tenantWithKey("auth-tenant");
    expect((await call("POST", "/admin/tenants", { key, body: { name: "x" } })).status).toBe(403);
    expect(await d1Rows("select name from tenants")).toEqual([{ name: "auth-tenant" }]);
  });

  it("answers 503 while ADMIN_TOKEN is unset", async () => {
    const res = await call("POST", "/admin/tenants", { key: ADMIN, body: { name: "x" }, env: { ...env, ADMIN_TOKEN: undefined } });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ error_type: "Unhealthy" });
  });

  it("validates bodies (400 malformed JSON, 422 schema) and 404s unknown tenants and keys", async () => {
    const bad = await call("POST", "/admin/tenants", { key: ADMIN, body: "{not json", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error_type).toBe("Validation");
    const invalid = await call("POST", "/admin/tenants", { key: ADMIN, body: { name: "" } });
    expect(invalid.status).toBe(422);
    expect(invalid.json.error_type).toBe("Validation");
    const tenant = await call("POST", "/admin/tenants/nope/keys", { key: ADMIN, body: {} });
    expect(tenant.status).toBe(404);
    expect(tenant.json).toMatchObject({ error_type: "NotFound" });
    expect((await call("DELETE", "/admin/keys/nope", { key: ADMIN })).status).toBe(404);
  });

  it("keys are shown once, stored hashed, and revocable (401 unknown, 403 revoked)", async () => {
    const { key, keyId, tenantId } = await tenantWithKey("key-tenant");
    expect(key).toMatch(/^eb_[A-Za-z0-9_-]{43}$/);
    const rows = await d1Rows("select * from api_keys where id = ?", keyId);
    expect(rows).toHaveLength(1);
    expect(rows[0].tenant_id).toBe(tenantId);
    expect(JSON.stringify(rows[0])).not.toContain(key);
    expect(rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.startsWith(rows[0].prefix)).toBe(true);

    expect((await call("GET", "/v1/adapters", { key })).status).toBe(200);
    const unknown = await call("GET", "/v1/adapters", { key: key.slice(0, -2) + "xx" });
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    const teiUnknown = await call("POST", "/embed", { key: key.slice(0, -2) + "xx", body: { inputs: "x", model: PRESET } });
    expect(teiUnknown.status).toBe(401);
    expect(teiUnknown.json).toMatchObject({ error_type: "Unauthorized" });
    expect((await call("DELETE", `/admin/keys/${keyId}`, { key: ADMIN })).json).toEqual({ id: keyId, revoked: true });
    expect((await d1Rows("select revoked_at from api_keys where id = ?", keyId))[0].revoked_at).toBeGreaterThan(0);
    const revoked = await call("GET", "/v1/adapters", { key });
    expect(revoked.status).toBe(403);
    expect(revoked.json.error).toMatchObject({ type: "permission_error", code: "revoked_api_key" });
    const teiRevoked = await call("POST", "/tokenize", { key, body: { inputs: "x", model: PRESET } });
    expect(teiRevoked.status).toBe(403);
    expect(teiRevoked.json).toMatchObject({ error_type: "Unauthorized" });
  });

  it("PUT /admin/presets/:name/:file stores into R2; the preset serves once record.json commits; checks names and x-sha256", async () => {
    const files = await r2Keys(`presets/${PRESET}/`);
    expect(files.length).toBeGreaterThan(2);
    // record.json last, as the protocol says (workers/preset-install.ts)
    files.push(...files.splice(files.indexOf(`presets/${PRESET}/record.json`), 1));
    const t = await tenantWithKey("preset-tenant");
    const body = { token_ids: [[2, 19, 20, 3]] };
    for (const key of files) {
      if (key.endsWith("/record.json")) expect((await call("POST", "/v1/models/uploaded/forward", { key: t.key, body })).status).toBe(404);
      const bytes = new Uint8Array(await (await env.BUCKET.get(key))!.arrayBuffer());
      const sha256 = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
      const file = key.slice(`presets/${PRESET}/`.length);
      const put = await call("PUT", `/admin/presets/uploaded/${file}`, { key: ADMIN, body: bytes, headers: { "x-sha256": sha256 } });
      expect(put.status, JSON.stringify(put.json)).toBe(201);
      expect(put.json).toEqual({ preset: "uploaded", file, size: bytes.byteLength });
    }
    expect(await r2Keys("presets/uploaded/")).toEqual(files.map((k) => k.replace(`/${PRESET}/`, "/uploaded/")).sort());
    const served = await call("POST", "/v1/models/uploaded/forward", { key: t.key, body });
    expect(served.status).toBe(200);
    expect(served.json.sequence_output).toEqual((await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body })).json.sequence_output);

    const bytes = new TextEncoder().encode("{}");
    expect((await call("PUT", "/admin/presets/uploaded/config.json", { body: bytes })).status).toBe(401);
    expect((await call("PUT", "/admin/presets/..%2Fx/config.json", { key: ADMIN, body: "{}" })).status).toBe(422);
    expect((await call("PUT", "/admin/presets/x/..%2Fconfig.json", { key: ADMIN, body: "{}" })).status).toBe(422);
    const mismatch = await call("PUT", "/admin/presets/x/config.json", { key: ADMIN, body: "{}", headers: { "x-sha256": "0".repeat(64) } });
    expect(mismatch.status, JSON.stringify(mismatch.json)).toBe(422);
    expect(mismatch.json.error_type).toBe("Validation");
    const badDigest = await call("PUT", "/admin/presets/x/config.json", { key: ADMIN, body: "{}", headers: { "x-sha256": "nope" } });
    expect(badDigest.status).toBe(400);
    expect(await r2Keys("presets/x/")).toEqual([]);
  });
});
