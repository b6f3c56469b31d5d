/**
 * `npm run bench:load -- [--duration-s 300] [--burst 64] [--invalid 16] [--timeout-ms 60000] [--idle-s 10]`: a bounded loopback
 * load test of the production worker under `wrangler dev --local` (test/helpers/wrangler-dev.ts: the demo encoder
 * installed through the admin API, a tenant's key, wrangler.toml's admission limits). Bursts of `--burst`
 * concurrent requests, `--invalid` of them invalid (malformed JSON, too many inputs, an input over the character
 * limit, an unknown model, no key, a wrong content type), the rest valid (/v1/embeddings, /embed, /tokenize), one
 * burst after another for the duration. Valid requests may only get 200 or 429, invalid ones only a 4xx, and every
 * request must be answered within the per-request timeout (no hang); wrangler dev's own proxy 503s are counted apart.
 * Prints the per-status counts, p50/p99 latency,
 * and the isolate's health at the end (/health, /info, a last embedding, workerd's resident memory); exits non-zero
 * on any violation. A benchmark, not a CI test.
 */
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEMO_ENCODER, startWranglerPlatform, type WranglerPlatform } from "../helpers/wrangler-dev.js";

const { values } = parseArgs({
  options: { "duration-s": { type: "string", default: "300" }, burst: { type: "string", default: "64" }, invalid: { type: "string", default: "16" }, "timeout-ms": { type: "string", default: "60000" }, "idle-s": { type: "string", default: "10" } },
});
const durationMs = Number(values["duration-s"]) * 1000;
const burst = Number(values.burst);
const invalidPerBurst = Math.min(burst, Number(values.invalid));
const timeoutMs = Number(values["timeout-ms"]);
const idleMs = Number(values["idle-s"]) * 1000;

const SENTENCE = "the quick brown fox jumps over the lazy dog while the hot sun shines on the river";

interface Probe {
  kind: "valid" | "invalid";
  name: string;
  path: string;
  init: (key: string) => RequestInit;
}

const json = (key: string | null, body: unknown, type = "application/json"): RequestInit => ({
  method: "POST",
  headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), "content-type": type },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

const VALID: Probe[] = [
  { kind: "valid", name: "embeddings", path: "/v1/embeddings", init: (k) => json(k, { model: DEMO_ENCODER, input: [SENTENCE, "hello world"] }) },
  { kind: "valid", name: "embed", path: "/embed", init: (k) => json(k, { model: DEMO_ENCODER, inputs: SENTENCE }) },
  { kind: "valid", name: "tokenize", path: "/tokenize", init: (k) => json(k, { model: DEMO_ENCODER, inputs: [SENTENCE] }) },
];
const INVALID: Probe[] = [
  { kind: "invalid", name: "malformed JSON", path: "/v1/embeddings", init: (k) => json(k, '{"model": ') },
  { kind: "invalid", name: "33 inputs", path: "/embed", init: (k) => json(k, { model: DEMO_ENCODER, inputs: Array(33).fill("x") }) },
  { kind: "invalid", name: "input over 128,000 characters", path: "/v1/embeddings", init: (k) => json(k, { model: DEMO_ENCODER, input: "a".repeat(130_000) }) },
  { kind: "invalid", name: "unknown model", path: "/v1/embeddings", init: (k) => json(k, { model: "nope", input: "x" }) },
  { kind: "invalid", name: "no key", path: "/v1/embeddings", init: () => json(null, { model: DEMO_ENCODER, input: "x" }) },
  { kind: "invalid", name: "text/plain", path: "/tokenize", init: (k) => json(k, "hello", "text/plain") },
];

/**
 * wrangler dev's own proxy answers this plain-text 503 when its connection to the worker drops under load (seen
 * with 64-way bursts; the isolate keeps running: its /metrics count does not restart). Not the worker's answer:
 * counted apart (test/edge-admission.test.ts retries it).
 */
const WRANGLER_PROXY_503 = /^Your worker restarted mid-request/;

interface Result {
  probe: Probe;
  status: number | "timeout" | "error" | "wrangler proxy 503";
  ms: number;
  detail?: string;
}

async function once(p: WranglerPlatform, probe: Probe): Promise<Result> {
  const t0 = performance.now();
  try {
    const res = await fetch(new URL(probe.path, p.url), { ...probe.init(p.key), signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    const proxied = res.status === 503 && WRANGLER_PROXY_503.test(text);
    return { probe, status: proxied ? "wrangler proxy 503" : res.status, ms: performance.now() - t0, detail: res.status >= 500 ? text.slice(0, 200) : undefined };
  } catch (e) {
    const timeout = (e as Error).name === "TimeoutError";
    return { probe, status: timeout ? "timeout" : "error", ms: performance.now() - t0, detail: (e as Error).message };
  }
}

/** Resident memory (MiB) of the workerd processes this run started (descendants of this process). */
function workerdRssMiB(): number {
  const rows = execSync("ps -eo pid=,ppid=,args=").toString().trim().split("\n").map((l) => l.trim().split(/\s+/));
  const parent = new Map(rows.map(([pid, ppid]) => [Number(pid), Number(ppid)]));
  const ours = (pid: number) => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const [pid, , ...args] of rows) {
    if (!args.join(" ").includes("workerd") || !ours(Number(pid))) continue;
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (m) total += Number(m[1]) / 1024;
  }
  return total;
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

const platform = await startWranglerPlatform();
let violations = 0;
try {
  // warm: the model is loaded before the clock starts
  const warm = await once(platform, VALID[0]);
  if (warm.status !== 200) throw new Error(`warm-up request: ${warm.status} ${warm.detail ?? ""}`);
  const rssStart = workerdRssMiB();
  console.log(`wrangler dev on ${platform.url.href}; bursts of ${burst} (${invalidPerBurst} invalid) for ${durationMs / 1000} s, ${timeoutMs / 1000} s per-request timeout; workerd RSS ${rssStart.toFixed(0)} MiB`);
  const results: Result[] = [];
  const start = performance.now();
  let bursts = 0;
  while (performance.now() - start < durationMs) {
    const probes = Array.from({ length: burst }, (_, i) => (i < invalidPerBurst ? INVALID[(bursts + i) % INVALID.length] : VALID[(bursts + i) % VALID.length]));
    results.push(...(await Promise.all(probes.map((probe) => once(platform, probe)))));
    bursts++;
    if (bursts % 20 === 0) console.log(`  ${bursts} bursts, ${results.length} requests, ${((performance.now() - start) / 1000).toFixed(0)} s, workerd RSS ${workerdRssMiB().toFixed(0)} MiB`);
  }
  const seconds = (performance.now() - start) / 1000;

  for (const kind of ["valid", "invalid"] as const) {
    const mine = results.filter((r) => r.probe.kind === kind);
    const counts = new Map<string, number>();
    for (const r of mine) counts.set(String(r.status), (counts.get(String(r.status)) ?? 0) + 1);
    const ms = mine.filter((r) => typeof r.status === "number").map((r) => r.ms).sort((a, b) => a - b); // answers of the worker
    const served = mine.filter((r) => r.status === 200).map((r) => r.ms).sort((a, b) => a - b);
    console.log(
      `${kind}: ${mine.length} requests; ${[...counts].sort().map(([s, n]) => `${s}: ${n}`).join(", ")}; latency p50 ${quantile(ms, 0.5).toFixed(0)} ms, p99 ${quantile(ms, 0.99).toFixed(0)} ms` +
        (kind === "valid" ? `; 200s p50 ${quantile(served, 0.5).toFixed(0)} ms, p99 ${quantile(served, 0.99).toFixed(0)} ms` : ""),
    );
    const bad = mine.filter((r) => r.status !== "wrangler proxy 503" && (kind === "valid" ? r.status !== 200 && r.status !== 429 : typeof r.status !== "number" || r.status < 400 || r.status >= 500));
    for (const r of bad.slice(0, 10)) console.log(`  VIOLATION ${r.probe.name}: ${r.status} after ${r.ms.toFixed(0)} ms ${r.detail ?? ""}`);
    violations += bad.length;
  }
  console.log(`${results.length} requests in ${bursts} bursts over ${seconds.toFixed(0)} s (${(results.length / seconds).toFixed(1)}/s)`);

  const health = await fetch(new URL("/health", platform.url));
  const info = (await (await fetch(new URL("/info", platform.url))).json()) as Record<string, unknown>;
  const last = await once(platform, VALID[0]);
  // the isolate's own count of what it answered: a restarted isolate would have started again from 0
  const metrics = await (await fetch(new URL("/metrics", platform.url))).text();
  const counted = metrics.split("\n").filter((l) => l.startsWith("edgebone_http_requests_total{")).reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
  const rssEnd = workerdRssMiB();
  await new Promise((r) => setTimeout(r, idleMs));
  const rssIdle = workerdRssMiB();
  console.log(
    `at the end: /health ${health.status} ${await health.text()}; a last embedding ${last.status}; the isolate's /metrics counts ${counted} requests (${results.length + 3} sent); /info isolate_wasm_memory_mb ${info.isolate_wasm_memory_mb}; ` +
      `workerd RSS ${rssStart.toFixed(0)} MiB before, ${rssEnd.toFixed(0)} MiB after the load, ${rssIdle.toFixed(0)} MiB after ${idleMs / 1000} s idle`,
  );
  if (health.status !== 200 || last.status !== 200) violations++;
  if (violations) console.log(`wrangler's output (tail):\n${platform.logs().slice(-1500)}`);
  if (/hung|different request context/.test(platform.logs())) {
    console.log("VIOLATION: workerd reported a hung request or a cross-request promise");
    violations++;
  }
  console.log(violations ? `${violations} violations` : "no violations: valid requests got 200 or 429, invalid ones 4xx, none hung");
} finally {
  await platform.stop();
}
process.exit(violations ? 1 : 0);
