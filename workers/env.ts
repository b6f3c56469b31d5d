/**
 * Worker bindings and vars (wrangler.toml). The binding types are the small structural subset of
 * Cloudflare's D1 and R2 APIs the worker uses, so the project needs no global workers-types.
 */
import type { Admission, AdmitRequest } from "./tenant-quota.js";

export interface R2ObjectLike {
  key: string;
  size: number;
  uploaded: Date;
  customMetadata?: Record<string, string>;
  /** Checksums R2 keeps for the object (sha256: when one was given at upload). */
  checksums?: { sha256?: ArrayBuffer };
}
export interface R2ObjectBodyLike extends R2ObjectLike {
  body: ReadableStream<Uint8Array>;
  arrayBuffer(): Promise<ArrayBuffer>;
}
export interface R2BucketLike {
  /** With `range`: the body holds those bytes only (`size` stays the object's). */
  get(key: string, options?: { range?: { offset: number; length: number } }): Promise<R2ObjectBodyLike | null>;
  head(key: string): Promise<R2ObjectLike | null>;
  put(
    key: string,
    value: ArrayBuffer | ArrayBufferView | string | ReadableStream,
    options?: { customMetadata?: Record<string, string>; sha256?: string },
  ): Promise<R2ObjectLike | null>;
  delete(keys: string | string[]): Promise<void>;
  list(options?: { prefix?: string; cursor?: string; limit?: number }): Promise<{ objects: R2ObjectLike[]; truncated: boolean; cursor?: string }>;
}

/** A Durable Object namespace binding: a stub (whose methods are the object's RPC methods) per name. */
export interface DurableObjectNamespaceLike<Stub> {
  idFromName(name: string): unknown;
  get(id: unknown): Stub;
}

export interface Env {
  /** D1: tenants, api_keys, adapters, usage (workers/db/schema.ts). */
  DB: unknown;
  /** R2: presets/<preset>/… and adapters/<tenant>/<name>/<upload id>.lora.safetensors. */
  BUCKET: R2BucketLike;
  /** Secret: bearer token of the /admin routes. Admin routes answer 503 while it is unset. */
  ADMIN_TOKEN?: string;
  /** Isolate memory budget in MB (default 128): presets whose estimated footprint exceeds it are not run here. */
  EDGE_MEMORY_BUDGET_MB?: string;
  /** The stages of isolate pipelines (workers/pipeline-stage.ts), one object per preset, stage and replica. */
  PIPELINE_STAGE?: DurableObjectNamespaceLike<import("./pipeline-stage.js").PipelineStageRpc>;
  /** Replicas of each pipeline stage (default 1); a request picks one per stage, round-robin. */
  EDGE_PIPELINE_REPLICAS?: string;
  /** Longest a request may spend in a pipeline, retries included, before the runner pool or a 503 (ms, default 30000). */
  EDGE_PIPELINE_TIMEOUT_MS?: string;
  /** Inferences run at once in the isolate (default 2) and how many may wait (default 64) before 429. */
  EDGE_MAX_CONCURRENCY?: string;
  EDGE_MAX_QUEUE?: string;
  /** Longest wait for an inference slot before 503 queue_timeout, ms (default 30000). */
  EDGE_QUEUE_TIMEOUT_MS?: string;
  /** A slot held longer than this (ms, default 60000) means its request died mid-inference: /health answers 503. */
  EDGE_WEDGED_AFTER_MS?: string;
  /**
   * Request limits (workers/limits.ts, reported by /info): JSON body bytes (default 2000000), inputs per request
   * (32), characters per input (128000) and per request (256000), tokens per request (16384).
   */
  PAYLOAD_LIMIT?: string;
  MAX_CLIENT_BATCH_SIZE?: string;
  MAX_INPUT_CHARS?: string;
  MAX_REQUEST_CHARS?: string;
  MAX_BATCH_TOKENS?: string;
  /** Largest file of a preset install in bytes (default 5 GiB, R2's single upload); JSON files: 64 MiB. */
  PRESET_FILE_MAX_BYTES?: string;
  /** Largest accepted adapter upload in bytes (default 64 MiB). */
  ADAPTER_MAX_BYTES?: string;
  /** Age in seconds after which the sweeper removes pending uploads and unreferenced objects (default 900). */
  ADAPTER_PENDING_TTL_S?: string;
  /** Preset the TEI-shaped routes (/embed, /embed_all, /tokenize, /decode) use when the body names none; unset or empty: the one installed preset, if there is exactly one. */
  TEI_DEFAULT_PRESET?: string;
  /** Per-tenant quotas (workers/quota.ts): one TenantQuota object per tenant. Without the binding nothing is enforced. */
  TENANT_QUOTA?: DurableObjectNamespaceLike<{
    admit(request: AdmitRequest): Promise<Admission>;
    settle(reservation: string, day: string, tokens: number): Promise<void>;
  }>;
  /** Defaults of the per-tenant limits (a tenant's own, set through the admin API, win); unset or 0: no limit. */
  TENANT_REQUESTS_PER_SECOND?: string;
  TENANT_TOKENS_PER_DAY?: string;
  /** Runner pool: comma-separated base URLs, and the HMAC signing secret the runners share. */
  RUNNER_URLS?: string;
  RUNNER_SIGNING_KEY?: string;
  /** Total budget of one runner-pool call, retries included, in ms (default 30000). */
  RUNNER_TIMEOUT_MS?: string;
  /** Minimum ms between health-check rounds of the runners (default 5000; run in `waitUntil` of a request). */
  RUNNER_HEALTH_INTERVAL_MS?: string;
  /** Runners announced by heartbeat (D1 `runners`) count for this long after their last one, ms (default 15000). */
  RUNNER_HEARTBEAT_TTL_MS?: string;
  /** Minimum ms between reads of the announced runners per isolate (default 5000). */
  RUNNER_DISCOVERY_INTERVAL_MS?: string;
  /** Gateway stickiness header echoed per routing key (default x-session-token, the endpoint picker's; empty: off). */
  RUNNER_AFFINITY_HEADER?: string;
}

export function numberVar(value: string | undefined, fallback: number): number {
  const n = value === undefined || value === "" ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
