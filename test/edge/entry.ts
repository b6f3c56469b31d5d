/**
 * Test entry for test/edge.test.ts: the real app (workers/app.ts) and sweeper, plus two test-only routes
 * that exist only in this bundle: POST /__test/fault (the next adapter upload fails after its R2 put, as if
 * the isolate died there) and POST /__test/sweep?now=&ttl_ms= (runs the sweeper at a chosen time).
 */
import * as ort from "onnxruntime-web/wasm";
import ortWasm from "./ort-wasm-simd-threaded.wasm";
import { workerdWasmRuntime } from "../../shared/index.js";
import { createApp } from "../../workers/app.js";
import type { Env } from "../../workers/env.js";
import { rpcEntrypoint } from "../../workers/rpc.js";
import { runSweep, scheduledHandler } from "../../workers/scheduled.js";

let failNextAfterPut = false;

const app = createApp({
  runtime: () => workerdWasmRuntime(ort, ortWasm),
  hooks: {
    afterAdapterPut() {
      if (failNextAfterPut) {
        failNextAfterPut = false;
        throw new Error("injected fault between the R2 put and the D1 commit");
      }
    },
  },
});

export const EdgeboneRpc = rpcEntrypoint(app);

export default {
  async fetch(request: Request, env: Env, ctx: unknown): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__test/fault") {
      failNextAfterPut = true;
      return Response.json({ armed: true });
    }
    if (url.pathname === "/__test/sweep") {
      const now = url.searchParams.get("now");
      const ttl = url.searchParams.get("ttl_ms");
      return Response.json(await runSweep(env, { now: now ? Number(now) : undefined, ttlMs: ttl ? Number(ttl) : undefined }));
    }
    return app.fetch(request, env, ctx as never);
  },
  scheduled: scheduledHandler,
};
