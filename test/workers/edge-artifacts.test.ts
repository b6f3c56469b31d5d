/**
 * Presets with an edge artifact in workerd: loaded by the isolate (no graph built, no float weights read) and
 * answering what the library computes in Node on the same onnxruntime-web build; placed by the artifact's measured
 * footprint; and every way an artifact can be broken answering a 5xx that says why (no runner pool is configured
 * here; with one, the preset goes there: test/edge-runners.test.ts), never hanging, while the isolate keeps serving.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { PRESET, call, tenantWithKey, type Tenant } from "./helpers.js";

let t: Tenant;
beforeAll(async () => {
  t = await tenantWithKey("edge-artifacts-tenant");
});

const forward = (preset: string, body: unknown) => call("POST", `/v1/models/${preset}/forward`, { key: t.key, body });

describe("edge artifacts in the isolate", () => {
  it("an int8 artifact runs in the isolate and equals the library's output in Node (same onnxruntime-web build)", async () => {
    const expected = inject("edgeExpected");
    const res = await forward("edge-distilbert", { token_ids: expected.tokenIds, padding_mask: expected.paddingMask });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.headers.get("x-edgebone-backend")).toBe("isolate");
    expect(res.json.sequence_output.shape).toEqual(expected.shape);
    const got: number[] = res.json.sequence_output.data;
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected.data[i]));
    expect(worst).toBeLessThanOrEqual(1e-6);

    const model = await call("GET", "/v1/models/edge-distilbert", { key: t.key });
    expect(model.json.edgebone).toMatchObject({ backend: "isolate", edge_artifact: { plan: "int8" }, isolate_load_failure: null });
    const embedding = await call("POST", "/v1/embeddings", { key: t.key, body: { model: "edge-distilbert", input: [[2, 17, 99, 3]] } });
    expect(embedding.status).toBe(200);
    expect(embedding.headers.get("x-edgebone-backend")).toBe("isolate");
    // onnxruntime's memory grows to what malloc asks for (shared/runtime/ort-web.ts), not by the Emscripten glue's
    // +20% steps: the hook found the glue's resize import in workerd too.
    expect((await call("GET", "/info")).json.isolate_wasm_growth).toBe("exact");
  });

  it("placement follows the artifact's measured peak: over the budget, the runner pool", async () => {
    const res = await forward("edge-heavy", { token_ids: [[2, 5, 3]] });
    expect(res.headers.get("x-edgebone-backend")).toBe("runner");
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe("no_runner_configured");
    const model = await call("GET", "/v1/models/edge-heavy", { key: t.key });
    expect(model.json.edgebone).toMatchObject({ backend: "runner", footprint_bytes: 900 * 2 ** 20 });
  });

  it.each([
    ["edge-truncated", /stage-1\.bin has 1000 bytes, the manifest says \d+: the artifact is truncated or was replaced: reinstall the preset/],
    ["edge-old-ort", /built for onnxruntime-web 1\.29\.0; this runtime is onnxruntime-web 1\.30\.0: rebuild the edge artifact/],
  ])("%s: 503 isolate_load_failed naming the problem, then the runner pool (503 without one), and the isolate keeps serving", async (preset, reason) => {
    const res = await forward(preset, { token_ids: [[2, 5, 3]] });
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ code: "isolate_load_failed", type: "server_error", message: expect.stringMatching(reason) });
    // Remembered: the next request goes to the runner pool (none here) with the reason in a header.
    const again = await forward(preset, { token_ids: [[2, 5, 3]] });
    expect(again.headers.get("x-edgebone-backend")).toBe("runner");
    expect(again.headers.get("x-edgebone-isolate-failure")).toMatch(reason);
    expect(again.json.error.code).toBe("no_runner_configured");
    expect((await call("GET", `/v1/models/${preset}`, { key: t.key })).json.edgebone.isolate_load_failure).toMatch(reason);
    expect((await forward(PRESET, { token_ids: [[2, 19, 20, 3]] })).status).toBe(200);
  });
});
