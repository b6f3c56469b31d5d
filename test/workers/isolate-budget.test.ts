/**
 * The routing decision is the memory budget's: the worker's per-isolate state (budget, limiter) is built from
 * the env of the isolate's first request, and each test file gets a fresh module graph, so this file's first
 * request sets EDGE_MEMORY_BUDGET_MB=25, just under the tiny DistilBERT's estimated footprint (its float32
 * weights ×3 + 24 MiB of runtime ≈ 25.6 MiB). The same preset that runs in the isolate under the default 128 MB
 * budget (inference.test.ts) now goes to the runner pool.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PRESET, call, tenantWithKey } from "./helpers.js";

const small = { ...env, EDGE_MEMORY_BUDGET_MB: "25" };

describe("EDGE_MEMORY_BUDGET_MB", () => {
  it("a preset over the budget goes to the runner pool", async () => {
    const info = await call("GET", "/info", { env: small });
    expect(info.json).toMatchObject({ edge_memory_budget_mb: 25, loaded_presets: 0 });
    const t = await tenantWithKey("budget-tenant");
    const res = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { token_ids: [[2, 19, 20, 3]] }, env: small });
    expect(res.headers.get("x-edgebone-backend")).toBe("runner");
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe("no_runner_configured");
    const tei = await call("POST", "/embed", { key: t.key, body: { model: PRESET, inputs: "hello world" }, env: small });
    expect(tei.headers.get("x-edgebone-backend")).toBe("runner");
    expect(tei.status).toBe(503);
    expect(tei.json).toMatchObject({ error_type: "Unhealthy" });
    // nothing was loaded into the isolate
    expect((await call("GET", "/info", { env: small })).json.loaded_presets).toBe(0);
  });
});
