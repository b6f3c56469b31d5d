/** Runner configuration from the environment (`RUNNER_*`), validated with zod; every knob has a default. */
import { z } from "zod";
import { RUNNER_URL } from "../shared/runner/discovery.js";
import { MIN_KEY_LENGTH } from "../shared/runner/signing.js";

/** `1048576`, `512MiB`, `20GiB`, `1.5GB` → bytes. */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?\s*$/i.exec(text);
  if (!m) throw new Error(`"${text}" is not a byte size (e.g. 1048576, 512MiB, 20GiB)`);
  const unit = (m[2] ?? "B").toLowerCase();
  const scale: Record<string, number> = { b: 1, kb: 1e3, kib: 2 ** 10, mb: 1e6, mib: 2 ** 20, gb: 1e9, gib: 2 ** 30, tb: 1e12, tib: 2 ** 40 };
  return Math.floor(Number(m[1]) * scale[unit]);
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const bytes = z.string().transform((s, ctx) => {
  try {
    return parseBytes(s);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
    return z.NEVER;
  }
});
const list = z.string().transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean));

export const EXECUTION_PROVIDERS = ["cpu", "auto", "cuda", "webgpu"] as const;

const schema = z.object({
  RUNNER_HOST: z.string().default("127.0.0.1"),
  RUNNER_PORT: int(0, 65535).default(8790),
  /** Reported in `x-edgebone-runner`, /info and logs. Default host:port. */
  RUNNER_ID: z.string().optional(),
  /** Shared HMAC secret(s), comma-separated (all verify; for rotation). */
  RUNNER_SIGNING_KEY: list.refine((keys) => keys.length > 0, "is required (the edge's HMAC secret)").refine((keys) => keys.every((k) => k.length >= MIN_KEY_LENGTH), `every key must be at least ${MIN_KEY_LENGTH} characters`),
  RUNNER_SIGNATURE_WINDOW_MS: int(1000).default(60_000),
  /** Paths served without a signature (e.g. `/health,/metrics` for an orchestrator or Prometheus on a private network). */
  RUNNER_UNSIGNED_PATHS: list.default([]),
  /** A local directory (default), `s3://bucket[/prefix]`, or an edge's `http(s)://…/internal/objects` (e.g. `npm start`). */
  RUNNER_STORE: z.string().default(".edgebone/store"),
  /** S3 API endpoint; R2: `https://<account id>.r2.cloudflarestorage.com`. */
  RUNNER_S3_ENDPOINT: z.string().url().optional(),
  RUNNER_S3_REGION: z.string().default("auto"),
  RUNNER_S3_ACCESS_KEY_ID: z.string().optional(),
  RUNNER_S3_SECRET_ACCESS_KEY: z.string().optional(),
  RUNNER_CACHE_DIR: z.string().default(".edgebone/runner-cache"),
  RUNNER_DISK_CACHE_BYTES: bytes.default(20 * 2 ** 30),
  /** Loaded models (sessions); idle ones are evicted LRU to make room. */
  RUNNER_MODEL_MEMORY_BYTES: bytes.default(16 * 2 ** 30),
  /** Decoded adapters, LRU. */
  RUNNER_ADAPTER_MEMORY_BYTES: bytes.default(2 ** 30),
  /** Padded tokens (rows × longest row) per batch, like TEI's max-batch-tokens. */
  RUNNER_MAX_BATCH_TOKENS: int(1).default(16_384),
  /** Rows per request. */
  RUNNER_MAX_CLIENT_BATCH_SIZE: int(1).default(64),
  /** Requests admitted at once (queued, loading or running); more get 429. */
  RUNNER_MAX_CONCURRENT_REQUESTS: int(1).default(512),
  /** Batches executing at once, over all presets (one keeps a CPU or GPU saturated). */
  RUNNER_MAX_CONCURRENT_BATCHES: int(1, 64).default(1),
  RUNNER_MAX_BODY_BYTES: bytes.default(16 * 2 ** 20),
  /** Whole-request budget (queue, load, run); a request's `timeout_ms` can only shorten it. */
  RUNNER_REQUEST_TIMEOUT_MS: int(1).default(60_000),
  /** One object-store read (record or object download). */
  RUNNER_STORE_TIMEOUT_MS: int(1).default(120_000),
  /** How long records (which version of a preset or adapter is current) are trusted before re-reading. */
  RUNNER_RECORD_TTL_MS: int(0).default(10_000),
  /** On SIGTERM, how long in-flight work may take to finish. */
  RUNNER_DRAIN_TIMEOUT_MS: int(0).default(30_000),
  RUNNER_EXECUTION_PROVIDER: z.enum(EXECUTION_PROVIDERS).default("cpu"),
  /** Intra-op threads; 0 = one per core. */
  RUNNER_THREADS: int(0, 1024).default(0),
  /** Weight storage dtype when a GPU provider runs the model (compute stays float32 in the graph). */
  RUNNER_GPU_DTYPE: z.enum(["float32", "float16", "bfloat16"]).default("float16"),
  /** Presets loaded before the runner reports ready. */
  RUNNER_PRELOAD: list.default([]),
  /** The edge to announce this runner to (signed heartbeats to /internal/runners); unset: no announcements. */
  RUNNER_REGISTER_URL: z.string().url().optional(),
  /** How the edge reaches this runner (http(s)://host:port): required with RUNNER_REGISTER_URL. */
  RUNNER_ADVERTISE_URL: z.string().regex(RUNNER_URL, "must be http(s)://host[:port] without a path").optional(),
  RUNNER_HEARTBEAT_INTERVAL_MS: int(100).default(5_000),
}).refine((env) => !env.RUNNER_REGISTER_URL || env.RUNNER_ADVERTISE_URL, { path: ["RUNNER_ADVERTISE_URL"], message: "is required with RUNNER_REGISTER_URL (the address the edge reaches this runner at)" });

export type RunnerConfig = ReturnType<typeof toConfig>;

function toConfig(env: z.output<typeof schema>) {
  return {
    host: env.RUNNER_HOST,
    port: env.RUNNER_PORT,
    id: env.RUNNER_ID,
    signingKeys: env.RUNNER_SIGNING_KEY,
    signatureWindowMs: env.RUNNER_SIGNATURE_WINDOW_MS,
    unsignedPaths: env.RUNNER_UNSIGNED_PATHS,
    store: env.RUNNER_STORE,
    s3: {
      endpoint: env.RUNNER_S3_ENDPOINT,
      region: env.RUNNER_S3_REGION,
      accessKeyId: env.RUNNER_S3_ACCESS_KEY_ID,
      secretAccessKey: env.RUNNER_S3_SECRET_ACCESS_KEY,
    },
    cacheDir: env.RUNNER_CACHE_DIR,
    diskCacheBytes: env.RUNNER_DISK_CACHE_BYTES,
    modelMemoryBytes: env.RUNNER_MODEL_MEMORY_BYTES,
    adapterMemoryBytes: env.RUNNER_ADAPTER_MEMORY_BYTES,
    maxBatchTokens: env.RUNNER_MAX_BATCH_TOKENS,
    maxClientBatchSize: env.RUNNER_MAX_CLIENT_BATCH_SIZE,
    maxConcurrentRequests: env.RUNNER_MAX_CONCURRENT_REQUESTS,
    maxConcurrentBatches: env.RUNNER_MAX_CONCURRENT_BATCHES,
    maxBodyBytes: env.RUNNER_MAX_BODY_BYTES,
    requestTimeoutMs: env.RUNNER_REQUEST_TIMEOUT_MS,
    storeTimeoutMs: env.RUNNER_STORE_TIMEOUT_MS,
    recordTtlMs: env.RUNNER_RECORD_TTL_MS,
    drainTimeoutMs: env.RUNNER_DRAIN_TIMEOUT_MS,
    executionProvider: env.RUNNER_EXECUTION_PROVIDER,
    threads: env.RUNNER_THREADS,
    gpuDtype: env.RUNNER_GPU_DTYPE,
    preload: env.RUNNER_PRELOAD,
    register: env.RUNNER_REGISTER_URL ? { edge: env.RUNNER_REGISTER_URL, url: env.RUNNER_ADVERTISE_URL!, intervalMs: env.RUNNER_HEARTBEAT_INTERVAL_MS } : null,
  };
}

/** Reads `RUNNER_*` variables (empty ones count as unset); throws one line naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<RunnerConfig> = {}): RunnerConfig {
  const relevant: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith("RUNNER_") && v !== undefined && v !== "") relevant[k] = v;
  // Standard AWS variables work too, as with every S3 client.
  relevant.RUNNER_S3_ACCESS_KEY_ID ??= env.AWS_ACCESS_KEY_ID || undefined!;
  relevant.RUNNER_S3_SECRET_ACCESS_KEY ??= env.AWS_SECRET_ACCESS_KEY || undefined!;
  for (const k of Object.keys(relevant)) if (relevant[k] === undefined) delete relevant[k];
  const parsed = schema.safeParse(relevant);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${String(issue.path[0] ?? "config")} ${issue.message}`);
  }
  return { ...toConfig(parsed.data), ...overrides };
}

/** A complete config for tests and embedding (no environment). */
export function defaultConfig(overrides: Partial<RunnerConfig> & { signingKeys: string[] }): RunnerConfig {
  return loadConfig({ RUNNER_SIGNING_KEY: overrides.signingKeys.join(",") }, overrides);
}
