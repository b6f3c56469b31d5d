/**
 * `POST /internal/runners`: runners announce themselves (shared/runner/discovery.ts), signed with the runner
 * signing key. A `ready` heartbeat upserts the runner's URL in D1 with an expiry of now + RUNNER_HEARTBEAT_TTL_MS;
 * `draining` deletes it. Expired rows are deleted on the way. Each isolate's pool reads the live rows every
 * RUNNER_DISCOVERY_INTERVAL_MS (runner-backend.ts), so membership changes without redeploying the worker.
 */
import { and, eq, lt } from "drizzle-orm";
import { Hono } from "hono";
import { heartbeatSchema } from "../shared/runner/index.js";
import type { AppEnv } from "./context.js";
import { runners } from "./db/schema.js";
import { numberVar } from "./env.js";
import { parseJson, readBody } from "./http.js";
import { runnerSignatureCheck } from "./runner-signature.js";

/** A heartbeat is a few hundred bytes. */
const MAX_HEARTBEAT_BYTES = 4096;

const heartbeatTtlMs = (env: { RUNNER_HEARTBEAT_TTL_MS?: string }) => numberVar(env.RUNNER_HEARTBEAT_TTL_MS, 15_000);

export function runnerRegistry(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const checkSignature = runnerSignatureCheck();

  app.post("/", async (c) => {
    const bytes = await readBody(c, MAX_HEARTBEAT_BYTES);
    await checkSignature(c, bytes);
    const beat = parseJson(bytes, heartbeatSchema);
    const { db } = c.var;
    const now = Date.now();
    await db.delete(runners).where(lt(runners.expiresAt, now));
    if (beat.state === "draining") {
      await db.delete(runners).where(and(eq(runners.url, beat.url), eq(runners.runnerId, beat.runner)));
      c.var.services.runners.forget(beat.url);
      return c.json({ url: beat.url, state: beat.state, expires_at: null });
    }
    const expiresAt = now + heartbeatTtlMs(c.env);
    const row = { url: beat.url, runnerId: beat.runner, expiresAt, updatedAt: now };
    await db.insert(runners).values(row).onConflictDoUpdate({ target: runners.url, set: { runnerId: row.runnerId, expiresAt, updatedAt: now } });
    return c.json({ url: beat.url, state: beat.state, expires_at: expiresAt });
  });
  return app;
}
