import type { DrizzleD1Database } from "drizzle-orm/d1";
import type * as schema from "./db/schema.js";
import type { Env } from "./env.js";

export type Db = DrizzleD1Database<typeof schema>;

export interface AppEnv {
  Bindings: Env;
  Variables: { db: Db; tenantId: string; keyId: string; tenantLimits: import("./quota.js").TenantLimits; services: import("./services.js").Services };
}
