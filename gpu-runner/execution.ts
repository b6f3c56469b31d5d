/**
 * Picks the onnxruntime-node execution provider at start. CPU unless configured otherwise; `cuda` / `webgpu`
 * ask for that provider, `auto` tries CUDA then WebGPU. A provider is used only if a small Gemma graph (the
 * same ops the real ones use) creates and runs on it; otherwise the runner falls back to CPU. The choice and
 * every fallback reason are logged. The Linux x64 package bundles WebGPU (Dawn); CUDA needs its provider
 * libraries installed next to onnxruntime (`npm install onnxruntime-node --onnxruntime-node-install-cuda`).
 */
import { listSupportedBackends } from "onnxruntime-node";
import { GemmaBackbone, nodeRuntime, tokenBatch, type FloatDType, type OnnxRuntime } from "../shared/node/index.js";
import { EXECUTION_PROVIDERS, type RunnerConfig } from "./config.js";
import { silentLogger, type Logger } from "./log.js";

export interface Execution {
  runtime: OnnxRuntime;
  /** The provider sessions run on: cpu, cuda or webgpu. */
  provider: string;
  requested: RunnerConfig["executionProvider"];
  /** Why a requested GPU provider was not used, by provider. */
  unavailable: Record<string, string>;
  /** Weight storage dtype for loaded presets (16-bit on GPU when configured; compute is float32). */
  weightDtype: FloatDType;
}

const PROBE_TIMEOUT_MS = 60_000;

export async function selectExecution(config: Pick<RunnerConfig, "executionProvider" | "threads" | "gpuDtype">, log: Logger): Promise<Execution> {
  const requested = config.executionProvider;
  const candidates = requested === "auto" ? ["cuda", "webgpu"] : requested === "cpu" ? [] : [requested];
  const unavailable: Record<string, string> = {};
  const listed = new Map(listSupportedBackends().map((b) => [b.name, b.bundled]));
  for (const provider of candidates) {
    if (!listed.has(provider)) {
      unavailable[provider] = "not built into this onnxruntime-node package";
      continue;
    }
    const runtime = nodeRuntime({ threads: config.threads, executionProviders: [provider, "cpu"] });
    try {
      await withTimeout(probe(runtime), PROBE_TIMEOUT_MS, `${provider} probe`);
      const choice: Execution = { runtime: { ...runtime, name: `node-${provider}` }, provider, requested, unavailable, weightDtype: config.gpuDtype };
      log.info(`execution provider: ${provider} (requested ${requested}${describeUnavailable(unavailable)}); weights held as ${config.gpuDtype}`);
      return choice;
    } catch (e) {
      unavailable[provider] = shortReason((e as Error).message);
    }
  }
  const runtime = nodeRuntime({ threads: config.threads });
  const message = `execution provider: cpu (requested ${requested}${describeUnavailable(unavailable)})`;
  if (candidates.length) log.warn(`${message}: falling back to CPU`);
  else log.info(message);
  return { runtime, provider: "cpu", requested, unavailable, weightDtype: "float32" };
}

/** One provider or an error saying why it is unavailable (no CPU fallback): for benchmarks and `check:gpu`. */
export async function requireProvider(provider: string, threads: number, gpuDtype: RunnerConfig["gpuDtype"] = "float32"): Promise<Execution> {
  const requested = EXECUTION_PROVIDERS.find((p) => p === provider);
  if (!requested || requested === "auto") throw new Error(`provider must be one of cpu, cuda, webgpu, got "${provider}"`);
  const execution = await selectExecution({ executionProvider: requested, threads, gpuDtype }, silentLogger);
  if (execution.provider !== requested) throw new Error(`${requested} is unavailable: ${execution.unavailable[requested]}`);
  return execution;
}

const describeUnavailable = (u: Record<string, string>) =>
  Object.entries(u)
    .map(([p, why]) => `; ${p} unavailable: ${why}`)
    .join("");

/** Creates and runs a two-block Gemma 2 graph; throws if the provider cannot. */
async function probe(runtime: OnnxRuntime): Promise<void> {
  const gemma = new GemmaBackbone({ vocabularySize: 32, numLayers: 2, numQueryHeads: 2, numKeyValueHeads: 1, hiddenDim: 16, intermediateDim: 32, headDim: 8, useSlidingWindowAttention: true, slidingWindowSize: 2, attentionLogitSoftCap: 50 });
  const session = await gemma.createSession(runtime, { lora: true });
  try {
    const { sequenceOutput } = await session.forward(tokenBatch([[1, 2, 3, 4]]), { adapters: [] });
    if (!(sequenceOutput.data as Float32Array).every(Number.isFinite)) throw new Error("probe graph gave non-finite outputs");
  } finally {
    await session.release();
  }
}

/** onnxruntime's messages start with a source path; keep the readable tail. */
function shortReason(message: string): string {
  let line = message.split("\n")[0].replace(/^\S*onnxruntime_src\S*\s+/, "");
  const stated = / was false\. (.*)$/.exec(line); // ORT_ENFORCE(cond, "message"): the message is what matters
  if (stated) line = stated[1];
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
