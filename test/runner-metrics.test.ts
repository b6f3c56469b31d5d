/**
 * The runner's /metrics as an endpoint picker reads it: the model server protocol's gauges under vLLM's names
 * (queue depth, running requests, memory use, LoRA adapters with their labels), in valid Prometheus text
 * exposition (parsed with parse-prometheus-text-format), following the runner's real state: idle, a model and an
 * adapter loaded, requests queued behind a running batch, and idle again.
 */
import { createHash } from "node:crypto";
import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../gpu-runner/app.js";
import type { Runner } from "../gpu-runner/runner.js";
import { FORWARD_PATH } from "../shared/runner/index.js";
import { PRESET, TENANT, makeFixture, makeRunner, signed, tokens, type Fixture } from "./helpers/runner-fixtures.js";

const ENGINE = ["vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "vllm:lora_requests_info"];

let fx: Fixture;
let runner: Runner;
let app: Awaited<ReturnType<typeof createApp>>;

beforeAll(async () => {
  fx = await makeFixture(2);
  // One request per batch (4 tokens each), one batch at a time: a held batch leaves the rest queued.
  runner = await makeRunner(fx, { maxBatchTokens: 4, maxConcurrentBatches: 1, unsignedPaths: ["/metrics"] });
  app = await createApp(runner);
});
afterAll(() => runner?.close());

async function scrape(): Promise<Map<string, MetricFamily>> {
  const res = await app.request("http://runner/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await res.text());
  expect(new Set(families.map((f) => f.name)).size).toBe(families.length); // one HELP/TYPE block per name
  return new Map(families.map((f) => [f.name, f]));
}

const value = (m: Map<string, MetricFamily>, name: string) => Number(m.get(name)!.metrics[0].value);
const lora = (m: Map<string, MetricFamily>) => m.get("vllm:lora_requests_info")!.metrics;
const forward = async (adapter: string | null, seed: number) =>
  app.request(await signed("POST", FORWARD_PATH, { preset: PRESET, ...(adapter ? { tenant: TENANT, adapter } : {}), token_ids: tokens(1, 4, seed) }));
const sha12 = (name: string) => createHash("sha256").update(fx.adapterBytes.get(name)!).digest("hex").slice(0, 12);

describe("engine metrics (model server protocol, vLLM names)", () => {
  it("are gauges with help text, alongside the runner's own metrics; idle values when nothing is loaded", async () => {
    const m = await scrape();
    for (const name of ENGINE) {
      expect(m.get(name), name).toBeDefined();
      expect(m.get(name)!.type).toBe("GAUGE");
      expect(m.get(name)!.help.length).toBeGreaterThan(10);
    }
    expect(m.has("edgebone_runner_inflight_requests")).toBe(true);
    expect(value(m, "vllm:num_requests_waiting")).toBe(0);
    expect(value(m, "vllm:num_requests_running")).toBe(0);
    expect(value(m, "vllm:kv_cache_usage_perc")).toBe(0);
    // exactly one series, labelled as the picker parses it, valued with the scrape time (the picker takes the newest)
    expect(lora(m)).toHaveLength(1);
    expect(lora(m)[0].labels).toEqual({ running_lora_adapters: "", waiting_lora_adapters: "", max_lora: "64" });
    expect(Math.abs(Number(lora(m)[0].value) - Date.now() / 1000)).toBeLessThan(60);
  });

  it("report the loaded model's share of the memory budget and the decoded adapters (by content id, not name)", async () => {
    expect((await forward("a0", 1)).status).toBe(200);
    expect((await forward("a1", 2)).status).toBe(200);
    const m = await scrape();
    const usage = value(m, "vllm:kv_cache_usage_perc");
    expect(usage).toBeCloseTo(runner.models.modelBytes / runner.config.modelMemoryBytes, 12);
    expect(usage).toBeGreaterThan(0);
    expect(value(m, "vllm:gpu_cache_usage_perc")).toBe(usage);
    expect(lora(m)).toHaveLength(1);
    const labels = lora(m)[0].labels!;
    expect(labels.running_lora_adapters.split(",").sort()).toEqual([sha12("a0"), sha12("a1")].sort());
    expect(labels.waiting_lora_adapters).toBe("");
    const size = runner.models.adapterBytes / 2;
    expect(Number(labels.max_lora)).toBe(Math.floor(runner.config.adapterMemoryBytes / size));
    expect(m.get("vllm:lora_requests_info")!.metrics.some((s) => JSON.stringify(s.labels).includes(TENANT))).toBe(false);
  });

  it("count requests behind a running batch as waiting and the batch's as running", async () => {
    const [{ key }] = runner.models.loaded();
    const model = runner.models.pin(key);
    const run = model.session.forward.bind(model.session);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    model.session.forward = async (...args) => {
      await gate;
      return run(...args);
    };
    runner.models.release(model);
    try {
      const answers = [forward(null, 3), forward("a0", 4), forward("a1", 5)];
      await expect
        .poll(async () => {
          const m = await scrape();
          return [value(m, "vllm:num_requests_running"), value(m, "vllm:num_requests_waiting")];
        })
        .toEqual([1, 2]);
      release();
      expect((await Promise.all(answers)).map((r) => r.status)).toEqual([200, 200, 200]);
    } finally {
      release();
      model.session.forward = run;
    }
    const m = await scrape();
    expect([value(m, "vllm:num_requests_running"), value(m, "vllm:num_requests_waiting")]).toEqual([0, 0]);
  });
});
