/**
 * What users look for first, in workerd: GET /v1/models (OpenAI's list: every installed preset, and only the
 * caller's adapters, as preset:adapter; the bucket listing paginated), GET /v1/models/:id, the TEI routes' default
 * model (the one installed preset when TEI_DEFAULT_PRESET is empty, else a 422 naming the choices), and the
 * Prometheus /metrics text with its per-isolate counters.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { R2BucketLike } from "../../workers/env.js";
import { GEMMA, PRESET, adapterBytes, call, putAdapter, tenantWithKey, wrap, type Json, type Tenant } from "./helpers.js";

const PRESETS = Object.keys(inject("edgePresets")).sort(); // every preset global-setup.ts installs
let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  a = await tenantWithKey("discovery-a");
  b = await tenantWithKey("discovery-b");
  expect((await putAdapter(a.key, "style", await adapterBytes(1))).status).toBe(201);
  expect((await putAdapter(b.key, "tone", await adapterBytes(2), `${PRESET}-copy`)).status).toBe(201);
});

/** The test env with R2 listings filtered by `keep` and cut into pages of `limit` keys. */
function bucketView(keep: (key: string) => boolean, limit = 1000) {
  const bucket = env.BUCKET as unknown as R2BucketLike;
  const list = async (options: { prefix?: string; cursor?: string } = {}) => {
    const page = await bucket.list({ ...options, limit });
    return { ...page, objects: page.objects.filter((o) => keep(o.key)) };
  };
  return { ...env, TEI_DEFAULT_PRESET: "", BUCKET: wrap(env.BUCKET, { list }) };
}

describe("GET /v1/models", () => {
  it("lists every installed preset and the caller's own adapters as preset:adapter (OpenAI list shape)", async () => {
    for (const [t, own] of [[a, `${PRESET}:style`], [b, `${PRESET}-copy:tone`]] as const) {
      const res = await call("GET", "/v1/models", { key: t.key });
      expect(res.status).toBe(200);
      expect(res.json.object).toBe("list");
      expect(res.json.data.map((m: Json) => m.id)).toEqual([...PRESETS, own]);
      for (const m of res.json.data) {
        expect(Object.keys(m).sort()).toEqual(["created", "id", "object", "owned_by"]);
        expect(m.object).toBe("model");
        expect(Number.isInteger(m.created) && m.created > 1_600_000_000).toBe(true);
      }
      expect(res.json.data.at(-1).owned_by).toBe(t.tenantId);
      expect(res.json.data[0].owned_by).toBe("edgebone");
    }
    expect((await call("GET", "/v1/models")).status).toBe(401);
  });

  it("pages through the bucket listing", async () => {
    const paged = await call("GET", "/v1/models", { key: a.key, env: bucketView(() => true, 2) });
    expect(paged.status).toBe(200);
    expect(paged.json.data.map((m: Json) => m.id)).toEqual([...PRESETS, `${PRESET}:style`]);
  });

  it("GET /v1/models/:id: a preset or the caller's preset:adapter; 404 model_not_found otherwise", async () => {
    const preset = await call("GET", `/v1/models/${GEMMA}`, { key: a.key });
    expect(preset.status).toBe(200);
    expect(preset.json).toMatchObject({ id: GEMMA, object: "model", owned_by: "edgebone" });
    const own = await call("GET", `/v1/models/${PRESET}:style`, { key: a.key });
    expect(own.json).toMatchObject({ id: `${PRESET}:style`, object: "model", owned_by: a.tenantId });
    for (const [key, id] of [[b.key, `${PRESET}:style`], [a.key, `${PRESET}-copy:tone`], [a.key, `${PRESET}-copy:style`], [a.key, "nope"], [a.key, "..%2Fx"]]) {
      const res = await call("GET", `/v1/models/${id}`, { key });
      expect(res.status, id).toBe(404);
      expect(res.json.error).toEqual({ message: expect.stringContaining("not found"), type: "invalid_request_error", param: "id", code: "model_not_found" });
    }
    const malformed = await call("GET", `/v1/models/${PRESET}:`, { key: a.key });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatchObject({ code: "invalid_model", param: "id" });
  });
});

describe("TEI default model", () => {
  it("with several presets installed and no TEI_DEFAULT_PRESET: 422 naming the choices", async () => {
    const res = await call("POST", "/tokenize", { key: a.key, body: { inputs: "hello" }, env: { ...env, TEI_DEFAULT_PRESET: "" } });
    expect(res.status).toBe(422);
    expect(res.json.error_type).toBe("Validation");
    expect(res.json.error).toBe(`no model: send "model" (one of the ${PRESETS.length} installed presets (${PRESETS.join(", ")}), or preset:adapter), or configure TEI_DEFAULT_PRESET`);
    const none = await call("POST", "/embed", { key: a.key, body: { inputs: "hello" }, env: bucketView(() => false) });
    expect(none.status).toBe(422);
    expect(none.json.error).toContain("none is installed");
  });

  it("with exactly one preset installed: that preset serves /embed, /embed_all, /tokenize and /decode", async () => {
    const one = bucketView((key) => key.startsWith(`presets/${PRESET}/`));
    const tok = await call("POST", "/tokenize", { key: a.key, body: { inputs: "hello" }, env: one });
    expect(tok.status).toBe(200);
    expect(tok.json[0].map((x: Json) => x.id)).toEqual([2, 19, 3]);
    const embedded = await call("POST", "/embed", { key: a.key, body: { inputs: ["hello world"] }, env: one });
    expect(embedded.status).toBe(200);
    expect(embedded.json).toEqual((await call("POST", "/embed", { key: a.key, body: { inputs: ["hello world"], model: PRESET } })).json);
    expect((await call("POST", "/embed_all", { key: a.key, body: { inputs: "hello" }, env: one })).json[0]).toHaveLength(3);
    expect((await call("POST", "/decode", { key: a.key, body: { ids: [2, 19, 3] }, env: one })).json).toBe("hello");
    // a named model and TEI_DEFAULT_PRESET still come first
    expect((await call("POST", "/tokenize", { key: a.key, body: { inputs: "hello", model: GEMMA }, env: one })).json[0][0].text).not.toBe("[CLS]");
  });
});

describe("GET /metrics", () => {
  const scrape = async () => {
    const res = await call("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    return res.json.raw as string;
  };
  const value = (text: string, series: string) => Number(text.split("\n").find((l) => l.startsWith(`${series} `))?.slice(series.length + 1) ?? 0);

  it("is Prometheus text: HELP and TYPE for each family, one sample per line, cumulative histogram buckets", async () => {
    await call("GET", "/health");
    const text = await scrape();
    expect(text.endsWith("\n")).toBe(true);
    for (const family of ["edgebone_http_requests_total", "edgebone_http_overloaded_total", "edgebone_inferences_total"]) expect(text).toContain(`# TYPE ${family} counter`);
    expect(text).toContain("# TYPE edgebone_http_request_duration_seconds histogram");
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [0-9.e+-]+$/);
    }
    const buckets = text.split("\n").filter((l) => l.startsWith('edgebone_http_request_duration_seconds_bucket{route="/health",'));
    const counts = buckets.map((l) => Number(l.split(" ")[1]));
    expect(counts).toEqual([...counts].sort((x, y) => x - y));
    expect(buckets.at(-1)).toMatch(/le="\+Inf"/);
    expect(counts.at(-1)).toBe(value(text, 'edgebone_http_request_duration_seconds_count{route="/health"}'));
  });

  it("counts requests by route pattern, method and status, and inferences by backend and outcome", async () => {
    const before = await scrape();
    const health = 'edgebone_http_requests_total{route="/health",method="GET",status="200"}';
    const forward = `edgebone_http_requests_total{route="/v1/models/:preset/forward",method="POST",status="200"}`;
    const unmatched = 'edgebone_http_requests_total{route="unmatched",method="GET",status="404"}';
    const isolate = 'edgebone_inferences_total{backend="isolate",outcome="ok"}';
    const runner = 'edgebone_inferences_total{backend="runner",outcome="error"}';
    await call("GET", "/health");
    await call("GET", "/health");
    await call("GET", "/no-such-route");
    expect((await call("POST", `/v1/models/${PRESET}/forward`, { key: a.key, body: { token_ids: [[2, 19, 3]] } })).status).toBe(200);
    expect((await call("POST", `/v1/models/${GEMMA}/forward`, { key: a.key, body: { token_ids: [[2, 19, 3]] } })).status).toBe(503); // no runner configured
    const after = await scrape();
    expect(value(after, health) - value(before, health)).toBe(2);
    expect(value(after, unmatched) - value(before, unmatched)).toBe(1);
    expect(value(after, forward) - value(before, forward)).toBe(1);
    expect(value(after, isolate) - value(before, isolate)).toBe(1);
    expect(value(after, runner) - value(before, runner)).toBe(1);
    expect(value(after, 'edgebone_http_requests_total{route="/v1/models/:preset/forward",method="POST",status="503"}')).toBeGreaterThanOrEqual(1);
  });
});
