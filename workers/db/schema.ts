/**
 * D1 schema (drizzle-orm, SQLite). Migrations are generated from this file by drizzle-kit into `migrations/`
 * (`npm run db:generate`) and applied with `wrangler d1 migrations apply`. Times are Unix milliseconds.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * Tenants, with their own quota limits (workers/quota.ts): null takes the deployment's default
 * (TENANT_REQUESTS_PER_SECOND, TENANT_TOKENS_PER_DAY).
 */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
  requestsPerSecond: integer("requests_per_second"),
  tokensPerDay: integer("tokens_per_day"),
});

/** API keys: only the SHA-256 of the key is stored; `prefix` (the first characters) is for display. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name"),
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash_unique").on(t.hash), index("api_keys_tenant_idx").on(t.tenantId)],
);

export const ADAPTER_STATES = ["pending", "ready", "deleted"] as const;
export type AdapterState = (typeof ADAPTER_STATES)[number];

/**
 * One row per upload. An upload is `pending` until its bytes are in R2 and validated, then becomes `ready` in
 * the same transaction that retires the previous `ready` version of the name; only `ready` rows are visible.
 * At most one `ready` row per (tenant, name) (partial unique index); `pending` and `deleted` rows are
 * swept with their R2 objects.
 */
export const adapters = sqliteTable(
  "adapters",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    basePreset: text("base_preset").notNull(),
    /** Source format as uploaded: "lora.safetensors" or "peft". Stored bytes are always `.lora.safetensors`. */
    format: text("format").notNull(),
    layout: text("layout").notNull(),
    rank: integer("rank").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
    r2Key: text("r2_key").notNull(),
    state: text("state", { enum: ADAPTER_STATES }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("adapters_tenant_name_ready").on(t.tenantId, t.name).where(sql`state = 'ready'`),
    uniqueIndex("adapters_r2_key_unique").on(t.r2Key),
    index("adapters_state_updated_idx").on(t.state, t.updatedAt),
  ],
);

/** Per-tenant usage by UTC day. */
export const usage = sqliteTable(
  "usage",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    day: text("day").notNull(),
    requests: integer("requests").notNull().default(0),
    tokens: integer("tokens").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day] })],
);

/**
 * Runners that announced themselves (signed heartbeats to `POST /internal/runners`, shared/runner/discovery.ts):
 * the edge's pool is these plus RUNNER_URLS. A row counts until `expires_at` (last heartbeat + the edge's TTL);
 * a draining runner deletes its row.
 */
export const runners = sqliteTable(
  "runners",
  {
    url: text("url").primaryKey(),
    runnerId: text("runner_id").notNull(),
    expiresAt: integer("expires_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("runners_expires_at_idx").on(t.expiresAt)],
);
