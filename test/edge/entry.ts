/**
 * Test entry for test/edge.test.ts: the real app (workers/app.ts), its RPC entrypoint and the cron sweeper on
 * onnxruntime-web, bundled by esbuild with the `.wasm` as a sibling CompiledWasm module (Miniflare, not wrangler,
 * loads it, so the import is relative to the bundle). Fault injection and the sweeper at a chosen time are
 * tested in workerd by the pool (test/workers/atomicity.test.ts), by wrapping the bindings.
 */
import * as ort from "onnxruntime-web/wasm";
import ortWasm from "./ort-wasm-simd-threaded.wasm";
import { workerdWasmRuntime } from "../../shared/index.js";
import { createApp } from "../../workers/app.js";
import { rpcEntrypoint } from "../../workers/rpc.js";
import { scheduledHandler } from "../../workers/scheduled.js";

const app = createApp({ runtime: () => workerdWasmRuntime(ort, ortWasm) });

export const EdgeboneRpc = rpcEntrypoint(app);

export default {
  fetch: app.fetch,
  scheduled: scheduledHandler,
};
