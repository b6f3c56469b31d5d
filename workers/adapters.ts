/**
 * Tenant adapters: bytes in R2, record in D1, never half-visible.
 *
 * Upload: validate in memory against the base preset → insert a `pending` row (its R2 key is unique to the
 * upload) → put the bytes → one D1 batch (a transaction) that retires the name's current `ready` row and
 * promotes this one, both conditional on this row still being `pending` → remove the retired version's object
 * and row. Readers see only `ready` rows, so a crash anywhere leaves either the old version or the new one.
 * Delete: mark `deleted` → remove the object → remove the row. The sweeper (cron) claims `pending` rows older
 * than the TTL (→ `deleted`), removes every `deleted` row's object and then the row, and removes objects under
 * `adapters/` older than the TTL that no row references (only keys of the upload form, `uploadedAdapterKey` in
 * shared/runner/layout.ts; anything else under the prefix is left alone).
 */
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { importPeftAdapter, loraSafetensorsFormat, readSafetensors, validateAdapter, type Backbone, type LoraAdapter, type PeftConfig } from "../shared/index.js";
import { ADAPTER_PREFIX, isUploadedAdapterKey, uploadedAdapterKey } from "../shared/runner/layout.js";
import { sha256Hex } from "../shared/runner/signing.js";
import type { Db } from "./context.js";
import { adapters } from "./db/schema.js";
import type { R2BucketLike } from "./env.js";
import { ApiError, unprocessable } from "./errors.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export type AdapterRow = typeof adapters.$inferSelect;

export function isAdapterName(name: string): boolean {
  return NAME.test(name) && !name.includes("..");
}

export function publicAdapter(row: AdapterRow): Record<string, unknown> {
  return {
    object: "adapter",
    id: row.name,
    name: row.name,
    base_preset: row.basePreset,
    format: row.format,
    layout: row.layout,
    rank: row.rank,
    size: row.size,
    sha256: row.sha256,
    created_at: Math.floor(row.createdAt / 1000),
  };
}

/** What an upload parses to: the adapter, the bytes to store (always `.lora.safetensors`), its source format. */
export interface ParsedAdapter {
  adapter: LoraAdapter;
  bytes: Uint8Array;
  format: "lora.safetensors" | "peft";
}

/** A `.lora.safetensors` body, or PEFT files (`adapter_config.json` + `adapter_model.safetensors`). 422 if invalid. */
export async function parseAdapter(
  input: { kind: "bytes"; bytes: Uint8Array } | { kind: "peft"; config: Uint8Array; weights: Uint8Array },
  backbone: Backbone,
  source: string,
): Promise<ParsedAdapter> {
  const targets = backbone.loraTargets();
  try {
    if (input.kind === "peft") {
      let config: unknown;
      try {
        config = JSON.parse(new TextDecoder().decode(input.config));
      } catch (e) {
        throw new Error(`adapter_config.json is not valid JSON (${(e as Error).message})`);
      }
      if (typeof config !== "object" || config === null || Array.isArray(config)) throw new Error("adapter_config.json must be a JSON object");
      const { tensors } = readSafetensors(input.weights, "adapter_model.safetensors");
      const adapter = importPeftAdapter(config as PeftConfig, tensors, targets, source);
      validateAdapter(adapter, targets, source);
      return { adapter, bytes: await loraSafetensorsFormat.encode(adapter, backbone), format: "peft" };
    }
    const { bytes } = input;
    if (bytes.length >= 8 && HDF5_MAGIC.every((b, i) => bytes[i] === b)) {
      throw new ApiError(
        415,
        "KerasHub .lora.h5 files cannot be read in the edge worker: convert it to .lora.safetensors with the CLI (`edgebone lora-convert`) and upload that",
        "unsupported_adapter_format",
      );
    }
    const adapter = await loraSafetensorsFormat.decode(bytes, backbone, source);
    validateAdapter(adapter, targets, source);
    return { adapter, bytes, format: "lora.safetensors" };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw unprocessable(e instanceof Error ? e.message : String(e), "invalid_adapter");
  }
}

export async function findReadyAdapter(db: Db, tenantId: string, name: string): Promise<AdapterRow | undefined> {
  const rows = await db
    .select()
    .from(adapters)
    .where(and(eq(adapters.tenantId, tenantId), eq(adapters.name, name), eq(adapters.state, "ready")))
    .limit(1);
  return rows[0];
}

export async function listReadyAdapters(db: Db, tenantId: string): Promise<AdapterRow[]> {
  return db
    .select()
    .from(adapters)
    .where(and(eq(adapters.tenantId, tenantId), eq(adapters.state, "ready")))
    .orderBy(adapters.name);
}

function changes(result: unknown): number {
  return Number((result as { meta?: { changes?: number } }).meta?.changes ?? 0);
}

/** Removes `deleted` rows' objects, then the rows. */
async function purge(db: Db, bucket: R2BucketLike, rows: Pick<AdapterRow, "id" | "r2Key">[]): Promise<void> {
  if (!rows.length) return;
  await bucket.delete(rows.map((r) => r.r2Key));
  for (let i = 0; i < rows.length; i += 50) {
    const ids = rows.slice(i, i + 50).map((r) => r.id);
    await db.delete(adapters).where(and(inArray(adapters.id, ids), eq(adapters.state, "deleted")));
  }
}

export interface StoreAdapterArgs {
  db: Db;
  bucket: R2BucketLike;
  tenantId: string;
  name: string;
  basePreset: string;
  parsed: ParsedAdapter;
  now?: () => number;
  afterPut?: (info: { id: string; tenantId: string; name: string; r2Key: string }) => Promise<void> | void;
}

export async function storeAdapter(args: StoreAdapterArgs): Promise<{ row: AdapterRow; replaced: boolean }> {
  const { db, bucket, tenantId, name, basePreset, parsed } = args;
  const now = args.now ?? Date.now;
  const id = crypto.randomUUID();
  const r2Key = uploadedAdapterKey(tenantId, name, id);
  const sha256 = await sha256Hex(parsed.bytes);
  const t0 = now();
  const row: AdapterRow = {
    id,
    tenantId,
    name,
    basePreset,
    format: parsed.format,
    layout: parsed.adapter.layout,
    rank: parsed.adapter.rank,
    size: parsed.bytes.byteLength,
    sha256,
    r2Key,
    state: "pending",
    createdAt: t0,
    updatedAt: t0,
  };
  await db.insert(adapters).values(row);
  await bucket.put(r2Key, parsed.bytes, { customMetadata: { adapter_id: id, tenant_id: tenantId, name, sha256 } });
  await args.afterPut?.({ id, tenantId, name, r2Key });

  const t1 = now();
  const stillPending = sql`exists (select 1 from ${adapters} where ${adapters.id} = ${id} and ${adapters.state} = 'pending')`;
  const [retired, promoted] = await db.batch([
    db
      .update(adapters)
      .set({ state: "deleted", updatedAt: t1 })
      .where(and(eq(adapters.tenantId, tenantId), eq(adapters.name, name), eq(adapters.state, "ready"), stillPending)),
    db
      .update(adapters)
      .set({ state: "ready", updatedAt: t1 })
      .where(and(eq(adapters.id, id), eq(adapters.state, "pending"))),
  ]);
  if (changes(promoted) !== 1) {
    throw new ApiError(500, "the upload expired before it could be committed (the sweeper claimed it); upload again", "upload_expired");
  }
  if (changes(retired) > 0) {
    const old = await db
      .select({ id: adapters.id, r2Key: adapters.r2Key })
      .from(adapters)
      .where(and(eq(adapters.tenantId, tenantId), eq(adapters.name, name), eq(adapters.state, "deleted")));
    await purge(db, bucket, old);
  }
  return { row: { ...row, state: "ready", updatedAt: t1 }, replaced: changes(retired) > 0 };
}

/** Deletes the tenant's ready adapter; false when there is none. */
export async function deleteAdapter(db: Db, bucket: R2BucketLike, tenantId: string, name: string, now = Date.now()): Promise<boolean> {
  const rows = await db
    .update(adapters)
    .set({ state: "deleted", updatedAt: now })
    .where(and(eq(adapters.tenantId, tenantId), eq(adapters.name, name), eq(adapters.state, "ready")))
    .returning({ id: adapters.id, r2Key: adapters.r2Key });
  await purge(db, bucket, rows);
  return rows.length > 0;
}

export interface SweepResult {
  expired: number;
  purged: number;
  orphans: number;
}

/** Cleans what interrupted uploads and deletes left behind (see the module comment). */
export async function sweepAdapters(db: Db, bucket: R2BucketLike, { now = Date.now(), ttlMs }: { now?: number; ttlMs: number }): Promise<SweepResult> {
  const cutoff = now - ttlMs;
  const expired = await db
    .update(adapters)
    .set({ state: "deleted", updatedAt: now })
    .where(and(eq(adapters.state, "pending"), lt(adapters.updatedAt, cutoff)))
    .returning({ id: adapters.id });
  const dead = await db
    .select({ id: adapters.id, r2Key: adapters.r2Key })
    .from(adapters)
    .where(eq(adapters.state, "deleted"));
  await purge(db, bucket, dead);

  let orphans = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: ADAPTER_PREFIX, cursor, limit: 500 });
    const old = page.objects.filter((o) => isUploadedAdapterKey(o.key) && o.uploaded.getTime() < cutoff);
    for (let i = 0; i < old.length; i += 50) {
      const keys = old.slice(i, i + 50).map((o) => o.key);
      const known = new Set((await db.select({ k: adapters.r2Key }).from(adapters).where(inArray(adapters.r2Key, keys))).map((r) => r.k));
      const unknown = keys.filter((k) => !known.has(k));
      if (unknown.length) await bucket.delete(unknown);
      orphans += unknown.length;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return { expired: expired.length, purged: dead.length, orphans };
}
