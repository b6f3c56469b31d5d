/**
 * GPU readiness in one command (issue #13): `npm run check:gpu`. On a machine with an NVIDIA GPU it
 *
 *  1. probes the runner's execution providers in order — CUDA, WebGPU, CPU — as the runner does at start
 *     (gpu-runner/execution.ts: a two-block Gemma 2 graph must create and run);
 *  2. runs the golden Gemma and Gemma 2 checks (test/fixtures/golden: Hugging Face transformers' hidden states)
 *     on the first GPU provider that works, weights in float32, every hidden state within 1e-3;
 *  3. runs a short `bench:runner` on that provider (runner, batcher, LoRA session, signed HTTP in process);
 *  4. runs the real-size gemma2_2b_en bench (`bench:large-forward --layers 26`, seeded random weights in float16, the
 *     runner's GPU default) on that provider;
 *
 * and prints one JSON summary on stdout (progress on stderr). Each step has a time cap and the whole run stays
 * under 8 minutes; nothing is fetched from the network. Without an NVIDIA GPU it says "no GPU found", skips the
 * GPU steps and runs the golden checks on CPU, so the script itself stays tested (test/check-gpu.test.ts).
 *
 * Exit code: 0 when every step that ran passed (also on the CPU path), 1 when a GPU is present but no GPU
 * provider works or a check fails.
 *
 *   npm run check:gpu
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Backbone, tokenBatch } from "../../shared/node/index.js";
import { requireProvider, type Execution } from "../../gpu-runner/execution.js";
import { loadGolden, maxAbsDiff } from "../helpers/golden.js";

const TOTAL_MS = 7.5 * 60_000;
const TOLERANCE = 1e-3;
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const started = Date.now();
const left = () => TOTAL_MS - (Date.now() - started);
const log = (msg: string) => console.error(`[check:gpu] ${msg}`);

interface Step {
  status: "passed" | "failed" | "skipped";
  reason?: string;
  seconds?: number;
  [detail: string]: unknown;
}

/** The NVIDIA GPUs nvidia-smi reports (name, memory, driver), or null when there is none. */
function detectGpus(): { name: string; memory: string; driver: string }[] | null {
  const smi = spawnSync("nvidia-smi", ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], { encoding: "utf8", timeout: 15_000 });
  if (smi.status !== 0 || !smi.stdout.trim()) return null;
  return smi.stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [name, memory, driver] = line.split(",").map((s) => s.trim());
      return { name, memory, driver };
    });
}

async function timed(step: () => Promise<Step>): Promise<Step> {
  const t = Date.now();
  try {
    return { ...(await step()), seconds: Math.round((Date.now() - t) / 100) / 10 };
  } catch (e) {
    return { status: "failed", reason: (e as Error).message.split("\n")[0], seconds: Math.round((Date.now() - t) / 100) / 10 };
  }
}

/** Golden Gemma / Gemma 2: last hidden state and every layer's, over real positions. */
async function golden(execution: Execution): Promise<Step> {
  const models: Record<string, number> = {};
  for (const model of ["gemma", "gemma2"] as const) {
    const g = loadGolden(model);
    const backbone = await Backbone.fromPreset(g.dir);
    const session = await backbone.createSession(execution.runtime, { hiddenStates: true });
    try {
      const { sequenceOutput, hiddenStates } = await session.forward(tokenBatch(g.inputIds, g.attentionMask));
      models[model] = Math.max(maxAbsDiff(sequenceOutput, g.lastHiddenState, g.validLengths), ...hiddenStates!.map((h, i) => maxAbsDiff(h, g.hiddenStates[i], g.validLengths)));
    } finally {
      await session.release();
    }
  }
  const worst = Math.max(...Object.values(models));
  return { status: worst <= TOLERANCE ? "passed" : "failed", provider: execution.provider, tolerance: TOLERANCE, max_abs_diff: models };
}

/** Runs a bench script with tsx and returns the JSON object it prints last on stdout. */
function bench(script: string, args: string[], capMs: number): Promise<Step> {
  if (!existsSync(`${ROOT}/${script}`)) return Promise.resolve({ status: "skipped", reason: `${script} is not in this checkout` });
  const timeoutMs = Math.min(capMs, left() - 10_000);
  if (timeoutMs < 30_000) return Promise.resolve({ status: "skipped", reason: "not enough of the 8-minute budget left" });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += String(d)));
    child.stderr.on("data", (d) => {
      err += String(d);
      process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal) return resolve({ status: "failed", reason: `${script} took over ${Math.round(timeoutMs / 1000)} s (killed)` });
      if (code !== 0) return resolve({ status: "failed", reason: `${script} exited with ${code}: ${err.trim().split("\n").at(-1)}` });
      try {
        resolve({ status: "passed", result: JSON.parse(out.trim().split("\n").at(-1)!) });
      } catch {
        resolve({ status: "failed", reason: `${script} printed no JSON result` });
      }
    });
  });
}

const gpus = detectGpus();
const providers: Record<string, Step> = {};
/** Providers whose probe passed. */
const working = new Map<string, Execution>();
if (!gpus) log("no GPU found (nvidia-smi reports no NVIDIA GPU): skipping the CUDA and WebGPU providers and the GPU benchmarks; golden checks on CPU");
else log(`GPU: ${gpus.map((g) => `${g.name} (${g.memory}, driver ${g.driver})`).join("; ")}`);

for (const provider of ["cuda", "webgpu", "cpu"] as const) {
  if (provider !== "cpu" && !gpus) {
    providers[provider] = { status: "skipped", reason: "no GPU found" };
    continue;
  }
  log(`probing ${provider}`);
  providers[provider] = await timed(async () => {
    working.set(provider, await requireProvider(provider, 0));
    return { status: "passed" };
  });
}
const gpu = working.get("cuda") ?? working.get("webgpu") ?? null;

// The golden checks on the GPU provider, or on CPU when there is no GPU (a GPU without a working provider fails).
const goldenOn = gpu ?? (gpus ? null : (working.get("cpu") ?? null));
log(goldenOn ? `golden Gemma / Gemma 2 on ${goldenOn.provider}` : "golden checks: no GPU provider works");
const goldenStep: Step = goldenOn ? await timed(() => golden(goldenOn)) : { status: "failed", reason: "no GPU provider works (see providers)" };

const noGpu = (what: string): Step => ({ status: "skipped", reason: gpus ? "no GPU provider works" : `no GPU found (${what} on CPU: see BENCHMARKS.md)` });
const runnerBench = gpu ? await timed(() => bench("test/bench/runner-bench.ts", ["--provider", gpu.provider, "--iterations", "2", "--seq", "128", "--json"], 150_000)) : noGpu("npm run bench:runner");
const largeBench = gpu ? await timed(() => bench("test/bench/large-forward-bench.ts", ["--provider", gpu.provider, "--layers", "26", "--dtype", "float16", "--iterations", "2", "--seq", "128"], 240_000)) : noGpu("npm run bench:large-forward");

const steps = { providers, golden: goldenStep, bench_runner: runnerBench, bench_large: largeBench };
const failed = (gpus !== null && gpu === null) || [goldenStep, runnerBench, largeBench].some((s) => s.status === "failed");
const summary = {
  check: "gpu",
  gpu: gpus,
  message: gpus ? (gpu ? `GPU provider ${gpu.provider} works` : "a GPU is present but neither CUDA nor WebGPU works") : "no GPU found: CPU path only",
  provider: gpu?.provider ?? (gpus ? null : "cpu"),
  ...steps,
  seconds: Math.round((Date.now() - started) / 1000),
  ok: !failed,
};
console.log(JSON.stringify(summary, null, 2));
process.exit(failed ? 1 : 0);
