/** workers/cache.ts: the isolate's byte-bounded LRU of loads (models, adapters). */
import { describe, expect, it } from "vitest";
import { AsyncLruCache } from "../workers/cache.js";
import { tokenBatch } from "../shared/index.js";

describe("AsyncLruCache", () => {
  it("shares one in-flight load between concurrent callers", async () => {
    const cache = new AsyncLruCache<number>(100, () => 10);
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async () => {
      loads++;
      await gate;
      return 42;
    };
    const all = Promise.all(Array.from({ length: 16 }, () => cache.get("m", load)));
    release();
    expect(await all).toEqual(new Array(16).fill(42));
    expect(loads).toBe(1);
    expect(cache.bytes).toBe(10);
  });

  it("evicts least recently used entries by bytes, never the newcomer", async () => {
    const cache = new AsyncLruCache<number>(25, (v) => v);
    await cache.get("a", async () => 10);
    await cache.get("b", async () => 10);
    await cache.get("a", async () => -1); // touch a: b is now the oldest
    await cache.get("c", async () => 10);
    expect([cache.has("a"), cache.has("b"), cache.has("c")]).toEqual([true, false, true]);
    expect(cache.bytes).toBe(20);
    await cache.get("huge", async () => 100); // bigger than the budget: served, everything else evicted
    expect([cache.has("a"), cache.has("c"), cache.has("huge")]).toEqual([false, false, true]);
    await cache.get("d", async () => 5);
    expect(cache.has("huge")).toBe(false);
    expect(cache.bytes).toBe(5);
  });

  it("forgets failed loads so the next caller retries", async () => {
    const cache = new AsyncLruCache<number>(100, () => 1);
    await expect(cache.get("x", async () => Promise.reject(new Error("R2 down")))).rejects.toThrow("R2 down");
    await Promise.resolve();
    expect(cache.has("x")).toBe(false);
    expect(await cache.get("x", async () => 7)).toBe(7);
  });
});

describe("RunnerBackend", () => {
  it("answers 503 when no runner pool is configured, and reuses one pool per configuration", async () => {
    const { RunnerBackend } = await import("../workers/runner-backend.js");
    const { ApiError } = await import("../workers/errors.js");
    const backend = new RunnerBackend();
    const env = { DB: null, BUCKET: null as never, RUNNER_DISCOVERY_INTERVAL_MS: "3600000" };
    await expect(backend.poolFor(env)).rejects.toThrow(ApiError);
    await expect(backend.poolFor({ ...env, RUNNER_URLS: "http://127.0.0.1:1" })).rejects.toMatchObject({ status: 503, code: "no_runner_configured" });
    const configured = { ...env, RUNNER_URLS: "http://127.0.0.1:1, http://127.0.0.1:2", RUNNER_SIGNING_KEY: "k".repeat(32) };
    const pool = await backend.poolFor(configured);
    expect(await backend.poolFor(configured)).toBe(pool);
    expect(pool.status().map((r) => r.url)).toEqual(["http://127.0.0.1:1", "http://127.0.0.1:2"]);
  });
});

describe("OpenAPI document", () => {
  it("documents every public route of the app, with request bodies from the validation schemas", async () => {
    const { createApp } = await import("../workers/app.js");
    const { openApiDocument } = await import("../workers/openapi.js");
    const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: object } }> } }>> };
    expect(doc.openapi).toBe("3.1.0");
    const app = createApp({ runtime: () => { throw new Error("unused"); } });
    const routes = app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
    expect(routes.length).toBeGreaterThan(15);
    for (const route of new Set(routes)) {
      const [method, path] = route.split(" ");
      // the runners' signed object route is not part of the public API
      if (path.startsWith("/internal/")) expect(doc.paths[path], route).toBeUndefined();
      else expect(doc.paths[path]?.[method], route).toBeDefined();
    }
    expect(routes).toContain("get /internal/objects/{key}");
    expect(Object.keys(doc.paths["/v1/embeddings"].post.requestBody!.content["application/json"].schema.properties!)).toEqual(
      expect.arrayContaining(["model", "input", "encoding_format", "dimensions"]),
    );
  });
});

describe("RunnerBackend failures", () => {
  it("503 no_healthy_runner when no runner answers before the deadline", async () => {
    const { RunnerBackend } = await import("../workers/runner-backend.js");
    const { createServer } = await import("node:net");
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const p = (server.address() as { port: number }).port;
        server.close(() => resolve(p)); // closed: connections are refused
      });
    });
    const env = { DB: null, BUCKET: null as never, RUNNER_URLS: `http://127.0.0.1:${port}`, RUNNER_SIGNING_KEY: "k".repeat(32), RUNNER_TIMEOUT_MS: "1000" };
    await expect(new RunnerBackend().forward(env, { preset: "p", tenantId: "t", adapter: null, batch: tokenBatch([[1]]) })).rejects.toMatchObject({
      status: 503,
      code: "no_healthy_runner",
    });
  });
});
