/**
 * Worker entry: the Hono app on onnxruntime-web (the .wasm arrives as a CompiledWasm module, see wrangler.toml),
 * the cron sweeper for interrupted adapter uploads, and the `EdgeboneRpc` entrypoint. `/health` turns 503 here
 * when the isolate's admission control is wedged.
 */
import * as ort from "onnxruntime-web/wasm";
// A relative path: wrangler resolves module-rule imports against the importing file only, not node_modules.
import ortWasm from "../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import { workerdWasmRuntime } from "../shared/index.js";
import { createApp } from "./app.js";
import { errorBody } from "./errors.js";
import { isolateWedged } from "./limiter.js";
import { rpcEntrypoint } from "./rpc.js";
import { scheduledHandler } from "./scheduled.js";

const app = createApp({ runtime: () => workerdWasmRuntime(ort, ortWasm) });

/** Workers RPC for service bindings (workers/rpc.ts). */
export const EdgeboneRpc = rpcEntrypoint(app);

/** `/health` while the isolate is wedged (workers/limiter.ts): 503 with the reason. Otherwise the app answers. */
function wedgedHealth(request: Request): Response | null {
  const reason = isolateWedged();
  if (reason === null || new URL(request.url).pathname !== "/health") return null;
  return Response.json(errorBody("/health", 503, reason, "isolate_wedged"), { status: 503 });
}

export default {
  fetch: (...args: Parameters<typeof app.fetch>) => wedgedHealth(args[0]) ?? app.fetch(...args),
  scheduled: scheduledHandler,
};
