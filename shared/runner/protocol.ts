/**
 * The runner's wire protocol, shared by the edge (caller) and the GPU runner (server): the forward request
 * (JSON, validated with zod on both sides), error bodies and the header names. Runtime-agnostic: workerd and Node.
 */
import { z } from "zod";

/** Preset store keys: `gemma2_2b_en`, `hf/org/model`, … (no `..`, no empty segment). */
const PRESET_KEY = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
/** Tenant and adapter names: one path segment each. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

const noDotDot = (s: string) => !s.split("/").some((part) => part === "." || part === "..");

export const presetKeySchema = z.string().regex(PRESET_KEY, "must be a preset store key (letters, digits, _ . - and /)").refine(noDotDot, "must not contain . or .. segments");
export const nameSchema = z.string().regex(NAME, "must be 1-128 of letters, digits, _ . - (starting with a letter or digit)").refine((s) => s !== "." && s !== "..");

/** An object's record: what the edge stores next to every object it writes (and D1 keeps for adapters). */
export const objectRecordSchema = z.object({
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(SHA256_HEX, "must be 64 lowercase hex digits"),
});
export type ObjectRecord = z.infer<typeof objectRecordSchema>;

/** An object key under `adapters/` (the edge's per-upload keys); the runner also checks it is the row tenant's. */
const adapterObjectKeySchema = z
  .string()
  .max(512)
  .regex(/^adapters\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/, "must be an object key under adapters/")
  .refine(noDotDot, "must not contain . or .. segments");

/**
 * A row's adapter: its name within the tenant (the runner reads `adapters/<tenant>/<name>.lora.safetensors` and
 * its record), or the name with the record the edge holds (then the runner skips reading the record and is
 * pinned to exactly that version), optionally with the object `key` to read (the edge sends its immutable
 * per-upload key, so nothing is copied and two versions of one name can never be confused).
 */
const adapterRefSchema = z.union([nameSchema, z.object({ name: nameSchema, ...objectRecordSchema.shape, key: adapterObjectKeySchema.optional() }).strict()]);
export type AdapterRef = z.infer<typeof adapterRefSchema>;

const tokenRow = z.array(z.number().int().nonnegative().max(0x7fffffff)).min(1);
const maskRow = z.array(z.union([z.literal(0), z.literal(1)])).min(1);

const forwardRequestSchema = z
  .object({
    preset: presetKeySchema,
    /** Owner of the adapters; required when any row has one. */
    tenant: nameSchema.optional(),
    /** One adapter for every row, or one entry per row (null: the base model). */
    adapter: z.union([adapterRefSchema, z.array(adapterRefSchema.nullable())]).nullable().optional(),
    token_ids: z.array(tokenRow).min(1),
    /** Defaults to all ones. Right padding is what the runner adds when it batches requests together. */
    padding_mask: z.array(maskRow).optional(),
    /** The caller's remaining budget: the runner gives up (504) when it passes. */
    timeout_ms: z.number().int().positive().max(3_600_000).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    // zod runs refinements even after a non-fatal issue (e.g. an empty token_ids): check shapes defensively.
    if (!Array.isArray(r.token_ids) || !r.token_ids.length) return;
    const width = r.token_ids[0].length;
    const ragged = r.token_ids.findIndex((row) => row.length !== width);
    if (ragged >= 0) ctx.addIssue({ code: "custom", path: ["token_ids", ragged], message: `has ${r.token_ids[ragged].length} values, row 0 has ${width} (pad rows and mark padding in padding_mask)` });
    if (r.padding_mask) {
      if (r.padding_mask.length !== r.token_ids.length) ctx.addIssue({ code: "custom", path: ["padding_mask"], message: `has ${r.padding_mask.length} rows, token_ids has ${r.token_ids.length}` });
      const bad = r.padding_mask.findIndex((row) => row.length !== width);
      if (bad >= 0) ctx.addIssue({ code: "custom", path: ["padding_mask", bad], message: `has ${r.padding_mask[bad].length} values, token_ids rows have ${width}` });
    }
    if (Array.isArray(r.adapter) && r.adapter.length !== r.token_ids.length) {
      ctx.addIssue({ code: "custom", path: ["adapter"], message: `has ${r.adapter.length} entries for ${r.token_ids.length} rows` });
    }
    const anyAdapter = Array.isArray(r.adapter) ? r.adapter.some((a) => a !== null) : r.adapter != null;
    if (anyAdapter && !r.tenant) ctx.addIssue({ code: "custom", path: ["tenant"], message: "is required when a row has an adapter" });
  });
export type ForwardRequest = z.infer<typeof forwardRequestSchema>;

/** Validates a parsed body; the error is one line naming the first problem. */
export function parseForwardRequest(value: unknown): ForwardRequest {
  const result = forwardRequestSchema.safeParse(value);
  if (!result.success) throw new ProtocolError(formatIssue(result.error.issues[0]));
  return result.data;
}

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") : "request";
  return `${path} ${issue.message}`;
}

/** The adapter name of each row (null: base model). */
export function rowAdapters(request: ForwardRequest): (AdapterRef | null)[] {
  const rows = request.token_ids.length;
  const adapter = request.adapter ?? null;
  if (Array.isArray(adapter)) return adapter;
  return Array.from({ length: rows }, () => adapter);
}

export const adapterName = (ref: AdapterRef): string => (typeof ref === "string" ? ref : ref.name);

/** Error codes in runner error bodies, with the HTTP status each is sent with. */
export const ERROR_STATUS = {
  bad_request: 400,
  bad_adapter: 400,
  unauthorized: 401,
  not_found: 404,
  too_large: 413,
  overloaded: 429,
  internal: 500,
  corrupt_object: 502,
  store_unavailable: 503,
  draining: 503,
  busy: 503,
  timeout: 504,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Body of every runner error response: one line, plus a machine-readable code. */
export interface ErrorBody {
  error: string;
  code: ErrorCode;
}

/**
 * Whether the pool should try another runner after this status: the runner is down, overloaded, draining,
 * misconfigured (401: its key differs) or broke. Input errors, missing or corrupt objects and an expired
 * deadline would fail the same way everywhere.
 */
export function retryableStatus(status: number): boolean {
  return status === 401 || status === 429 || status === 500 || status === 503;
}

export const HEADERS = {
  timestamp: "x-edgebone-timestamp",
  nonce: "x-edgebone-nonce",
  signature: "x-edgebone-signature",
  shape: "x-edgebone-shape",
  dtype: "x-edgebone-dtype",
  runner: "x-edgebone-runner",
  batchRows: "x-edgebone-batch-rows",
  queueMs: "x-edgebone-queue-ms",
} as const;

export const FORWARD_PATH = "/v1/forward";
