/** The cron handler: sweeps interrupted adapter uploads and deletes (workers/adapters.ts). */
import { drizzle } from "drizzle-orm/d1";
import { sweepAdapters, type SweepResult } from "./adapters.js";
import type { Db } from "./context.js";
import * as schema from "./db/schema.js";
import { numberVar, type Env } from "./env.js";

export async function runSweep(env: Env, options: { now?: number; ttlMs?: number } = {}): Promise<SweepResult> {
  const db = drizzle(env.DB as never, { schema }) as unknown as Db;
  const ttlMs = options.ttlMs ?? numberVar(env.ADAPTER_PENDING_TTL_S, 900) * 1000;
  const result = await sweepAdapters(db, env.BUCKET, { now: options.now, ttlMs });
  console.log(`adapter sweep: ${JSON.stringify(result)}`);
  return result;
}

export function scheduledHandler(_controller: unknown, env: Env, ctx: { waitUntil(p: Promise<unknown>): void }): void {
  ctx.waitUntil(runSweep(env));
}
