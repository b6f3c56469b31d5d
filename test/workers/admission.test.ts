/**
 * Isolate admission control over HTTP: this file's first request builds the isolate's limiter from
 * EDGE_MAX_CONCURRENCY=1, EDGE_MAX_QUEUE=1, EDGE_QUEUE_TIMEOUT_MS=400 and EDGE_WEDGED_AFTER_MS=300 (per-isolate state comes from the first
 * request's env, and each test file gets a fresh module graph). A burst of concurrent requests then gets some
 * answers and, for the rest, 429 over_capacity with Retry-After in OpenAI's shape at once, instead of waiting
 * without bound; a request queued too long gets 503 queue_timeout; /health answers 503 with the reason while a
 * slot is held far longer than any inference.
 * The same under `wrangler dev`, with the production bundle: test/edge-admission.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { limiterFor } from "../../workers/limiter.js";
import { PRESET, call, tenantWithKey } from "./helpers.js";

const tight = { ...env, EDGE_MAX_CONCURRENCY: "1", EDGE_MAX_QUEUE: "1", EDGE_QUEUE_TIMEOUT_MS: "400", EDGE_WEDGED_AFTER_MS: "300" };

describe("EDGE_MAX_CONCURRENCY / EDGE_MAX_QUEUE / EDGE_QUEUE_TIMEOUT_MS / EDGE_WEDGED_AFTER_MS", () => {
  it("a burst beyond one running and one queued inference gets 429 over_capacity with Retry-After", async () => {
    expect((await call("GET", "/health", { env: tight })).status).toBe(200); // builds the isolate's limiter
    const t = await tenantWithKey("admission-tenant");
    const forward = () => call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { token_ids: [[2, 19, 20, 3]] }, env: tight });
    expect((await forward()).status).toBe(200); // the model is loaded; the burst measures admission only
    const replies = await Promise.all(Array.from({ length: 8 }, forward));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length, String(statuses)).toBeGreaterThanOrEqual(2);
    const refused = replies.filter((r) => r.status === 429);
    expect(refused.length, String(statuses)).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    for (const r of refused) {
      expect(r.json.error).toMatchObject({ type: "rate_limit_error", code: "over_capacity", message: expect.stringMatching(/over capacity: 1 inferences running and 1 queued/) });
      expect(r.headers.get("retry-after")).toBe("1");
    }
    // /metrics counts them (this file's isolate has seen no other 429)
    const metrics = (await call("GET", "/metrics", { env: tight })).json.raw as string;
    const route = `route="/v1/models/:preset/forward"`;
    expect(metrics).toContain(`edgebone_http_overloaded_total{${route}} ${refused.length}\n`);
    expect(metrics).toContain(`edgebone_http_requests_total{${route},method="POST",status="429"} ${refused.length}\n`);
  });

  it("a slot held past the limits: queued requests get 503 queue_timeout, /health 503 with the reason, then 200", async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const held = limiterFor(tight).run(() => sleep(900)); // the worker's own limiter: one per isolate
    const t = await tenantWithKey("timeout-tenant");
    const queued = call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { token_ids: [[2, 19, 20, 3]] }, env: tight });
    await sleep(450);
    const wedged = await call("GET", "/health", { env: tight });
    expect(wedged.status).toBe(503);
    expect(wedged.json).toEqual({ error: expect.stringMatching(/^1 of 1 inference slots held longer than 0.3 s \(the longest 0\.\d s\)/), error_type: "Unhealthy" });
    const timedOut = await queued;
    expect(timedOut.status).toBe(503);
    expect(timedOut.json.error).toMatchObject({ type: "server_error", code: "queue_timeout", message: expect.stringMatching(/no inference slot came free within 0.4 s/) });
    expect(timedOut.headers.get("retry-after")).toBe("1");
    await held;
    expect((await call("GET", "/health", { env: tight })).status).toBe(200);
  });
});
