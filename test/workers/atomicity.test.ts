/**
 * The atomic adapter upload protocol with faults injected between R2 and D1, and the sweeper (runSweep and the
 * cron handler). Faults are injected by wrapping the real bindings: the worker's fetch handler is called with
 * an env whose DB fails the commit batch (after the R2 put succeeded) or whose BUCKET fails the put.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, type TestEnv } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../../workers/index.js";
import { runSweep } from "../../workers/scheduled.js";
import { adapterBytes, call, d1Rows, names, putAdapter, r2Get, r2Keys, tenantWithKey, wrap, type Tenant } from "./helpers.js";

/** D1 fails the commit: the batch that makes the pending row ready (runs after the R2 put). */
const commitFails = (): TestEnv => ({
  ...env,
  DB: wrap(env.DB, {
    batch: async () => {
      throw new Error("injected fault: D1 unreachable after the R2 put");
    },
  }),
});
/** R2 fails the put of an adapter object (the pending row is already in D1). */
const putFails = (): TestEnv => ({
  ...env,
  BUCKET: wrap(env.BUCKET, {
    put: async (key: string, ...rest: unknown[]) => {
      if (key.startsWith("adapters/")) throw new Error("injected fault: R2 put failed");
      return (env.BUCKET.put as (...a: unknown[]) => Promise<unknown>)(key, ...rest);
    },
  }),
});

let a: Tenant;
// the worker logs unexpected errors (the client gets a bare 500); keep them to assert on
const logged = vi.spyOn(console, "error").mockImplementation(() => {});
beforeAll(async () => {
  a = await tenantWithKey("atomic-tenant");
});
afterAll(() => logged.mockRestore());

describe("adapter upload atomicity", () => {
  it("a failure between the R2 put and the D1 commit leaves no visible adapter (new or replacement); the sweeper cleans up", async () => {
    const v1 = await putAdapter(a.key, "atomic", await adapterBytes(20));
    expect(v1.status).toBe(201);

    // replacement: the bytes reach R2, the commit fails
    const failed = await call("PUT", "/v1/adapters/atomic?base=tiny-distilbert", { key: a.key, body: await adapterBytes(21), env: commitFails() });
    expect(failed.status).toBe(500);
    expect(failed.json.error).toEqual({ message: "internal server error", type: "server_error", param: null, code: "internal_error" });
    expect(String(logged.mock.calls.at(-1)?.[0])).toContain("injected fault: D1 unreachable after the R2 put");
    expect((await call("GET", "/v1/adapters/atomic", { key: a.key })).json.sha256).toBe(v1.json.sha256);
    // a first upload: same
    expect((await call("PUT", "/v1/adapters/atomic-new?base=tiny-distilbert", { key: a.key, body: await adapterBytes(22), env: commitFails() })).status).toBe(500);
    // R2 itself fails: a pending row without an object
    expect((await call("PUT", "/v1/adapters/never?base=tiny-distilbert", { key: a.key, body: await adapterBytes(23), env: putFails() })).status).toBe(500);

    expect((await call("GET", "/v1/adapters/atomic-new", { key: a.key })).status).toBe(404);
    expect((await call("GET", "/v1/adapters/never", { key: a.key })).status).toBe(404);
    expect(names(await call("GET", "/v1/adapters", { key: a.key }))).toEqual(["atomic"]);
    const use = await call("POST", "/v1/models/tiny-distilbert/forward?adapter=atomic-new", { key: a.key, body: { token_ids: [[2, 3]] } });
    expect(use.status).toBe(404);
    const pending = await d1Rows("select name, r2_key from adapters where tenant_id = ? and state = 'pending' order by name", a.tenantId);
    expect(pending.map((r) => r.name)).toEqual(["atomic", "atomic-new", "never"]);
    // the committed-to-R2 bytes are there, unreferenced by any ready row; the failed put left nothing
    expect(await r2Get(pending[0].r2_key)).not.toBeNull();
    expect(await r2Get(pending[1].r2_key)).not.toBeNull();
    expect(await r2Get(pending[2].r2_key)).toBeNull();

    // an object no row references (e.g. left by a crash before D1 existed for it)
    await env.BUCKET.put(`adapters/${a.tenantId}/ghost/${crypto.randomUUID()}.lora.safetensors`, new Uint8Array(8));
    // a key of another form (the runner layout's adapters/<tenant>/<name>.lora.safetensors) is not the sweeper's
    await env.BUCKET.put(`adapters/${a.tenantId}/other.lora.safetensors`, new Uint8Array(8));

    // young pending rows and objects are left alone
    expect(await runSweep(env, { ttlMs: 600_000 })).toMatchObject({ expired: 0, orphans: 0 });
    expect(await d1Rows("select * from adapters where tenant_id = ? and state = 'pending'", a.tenantId)).toHaveLength(3);
    const late = await runSweep(env, { ttlMs: 60_000, now: Date.now() + 3_600_000 });
    expect(late).toMatchObject({ expired: 3, orphans: 1 });
    expect(await d1Rows("select * from adapters where tenant_id = ? and state != 'ready'", a.tenantId)).toEqual([]);
    const left = await r2Keys(`adapters/${a.tenantId}/`);
    for (const r of pending) expect(left).not.toContain(r.r2_key);
    expect(left.some((k) => k.includes("/ghost/"))).toBe(false);
    expect(left).toContain(`adapters/${a.tenantId}/other.lora.safetensors`);
    expect(left.filter((k) => k.includes("/atomic/"))).toHaveLength(1);
    expect((await call("GET", "/v1/adapters/atomic", { key: a.key })).json.sha256).toBe(v1.json.sha256);
    // and the name can be uploaded again
    expect((await putAdapter(a.key, "atomic-new", await adapterBytes(24))).status).toBe(201);
  });

  it("the cron handler runs the sweeper with ADAPTER_PENDING_TTL_S", async () => {
    expect((await call("PUT", "/v1/adapters/cron?base=tiny-distilbert", { key: a.key, body: await adapterBytes(30), env: commitFails() })).status).toBe(500);
    const [row] = await d1Rows("select r2_key from adapters where tenant_id = ? and name = 'cron' and state = 'pending'", a.tenantId);
    expect(row).toBeDefined();

    const cron = async (altered: TestEnv) => {
      const ctx = createExecutionContext();
      worker.scheduled(createScheduledController({ cron: "*/15 * * * *" }) as never, altered, ctx as never);
      await waitOnExecutionContext(ctx);
    };
    // wrangler.toml's TTL (900 s): the young upload stays
    await cron(env);
    expect(await d1Rows("select * from adapters where tenant_id = ? and name = 'cron'", a.tenantId)).toHaveLength(1);
    expect(await r2Get(row.r2_key)).not.toBeNull();
    // a 1 ms TTL: swept, row and object
    await new Promise((r) => setTimeout(r, 5));
    await cron({ ...env, ADAPTER_PENDING_TTL_S: "0.001" });
    expect(await d1Rows("select * from adapters where tenant_id = ? and name = 'cron'", a.tenantId)).toEqual([]);
    expect(await r2Get(row.r2_key)).toBeNull();
  });
});
