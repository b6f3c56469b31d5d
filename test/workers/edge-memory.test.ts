/**
 * The loader's memory guard: an artifact whose manifest under-reports its peak is placed in the isolate, and the
 * loader refuses to grow onnxruntime's memory past what the budget leaves (here EDGE_MEMORY_BUDGET_MB=20, set by
 * this file's first request: the isolate's state comes from it): a clear 503 instead of an isolate killed over
 * its limit with every request in it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, tenantWithKey } from "./helpers.js";

const small = { ...env, EDGE_MEMORY_BUDGET_MB: "20" };

describe("edge artifact memory guard", () => {
  it("refuses to load past the budget with a 503 that says so", async () => {
    expect((await call("GET", "/info", { env: small })).json.edge_memory_budget_mb).toBe(20);
    const t = await tenantWithKey("edge-memory-tenant");
    const res = await call("POST", "/v1/models/edge-underreported/forward", { key: t.key, body: { token_ids: [[2, 5, 3]] }, env: small });
    expect(res.headers.get("x-edgebone-backend")).toBe("isolate");
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ code: "isolate_load_failed", message: expect.stringMatching(/\([\d.]+ MiB\) would grow onnxruntime's memory \([\d.]+ MiB\) past the limit of [\d.]+ MiB/) });
  });
});
