/**
 * The production entry (workers/index.ts) bundles as wrangler would (esbuild, .wasm and cloudflare:workers left
 * to the runtime) and starts in workerd with its CompiledWasm module: /health answers, the cron handler runs,
 * and EdgeboneRpc is a usable entrypoint. Routes themselves are covered by test/edge.test.ts.
 */
import { Miniflare } from "miniflare";
import { afterAll, expect, it } from "vitest";
import { applyMigrations, edgeWorker } from "./helpers/edge-platform.js";

let mf: Miniflare | undefined;

afterAll(async () => {
  await mf?.dispose();
});

it("workers/index.ts bundles and starts in workerd (fetch, scheduled, EdgeboneRpc)", async () => {
  // edgeWorker() bundles the entry as wrangler would and checks its only .wasm import is onnxruntime's
  mf = new Miniflare({
    workers: [
      { name: "edgebone", ...(await edgeWorker()) },
      {
        name: "client",
        modules: true,
        script: `export default { async fetch(_r, env) { try { await env.EDGEBONE.tokenize("eb_x", "p", "x"); return new Response("resolved"); } catch (e) { return new Response(e.message); } } };`,
        compatibilityDate: "2026-04-01",
        serviceBindings: { EDGEBONE: { name: "edgebone", entrypoint: "EdgeboneRpc" } },
      },
    ],
  });
  const health = await mf.dispatchFetch("http://edge/health");
  expect(await health.json()).toEqual({ status: "ok" });
  const admin = await mf.dispatchFetch("http://edge/admin/tenants", { method: "POST", body: "{}" });
  expect(admin.status).toBe(503); // no ADMIN_TOKEN configured
  const client = (await mf.getWorker("client")) as unknown as { fetch(url: string): Promise<Response> };
  await applyMigrations(mf, "edgebone");
  // the RPC call reaches the app, whose auth looks the key up in D1 and refuses it
  expect(await (await client.fetch("http://client/")).text()).toMatch(/^401 Unauthorized: /);
  const worker = (await mf.getWorker("edgebone")) as unknown as { scheduled(o: { cron: string }): Promise<{ outcome: string }> };
  expect((await worker.scheduled({ cron: "*/15 * * * *" })).outcome).toBe("ok"); // the sweeper ran on the real tables
});
