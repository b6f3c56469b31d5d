/**
 * Worker entry: the Hono app on onnxruntime-web (the .wasm arrives as a CompiledWasm module, see wrangler.toml),
 * the cron sweeper for interrupted adapter uploads, the `EdgeboneRpc` entrypoint and two Durable Objects:
 * `TenantQuota` (per-tenant quotas) and `PipelineStage` (the stages of isolate pipelines).
 */
import * as ort from "onnxruntime-web/wasm";
// A relative path: wrangler resolves module-rule imports against the importing file only, not node_modules.
import ortWasm from "../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import { workerdWasmRuntime } from "../shared/index.js";
import { createApp } from "./app.js";
import { pipelineStageClass } from "./pipeline-stage.js";
import { rpcEntrypoint } from "./rpc.js";
import { scheduledHandler } from "./scheduled.js";

/** One per tenant: its quota (workers/tenant-quota.ts), bound as TENANT_QUOTA in wrangler.toml. */
export { TenantQuota } from "./tenant-quota.js";

const runtime = () => workerdWasmRuntime(ort, ortWasm);
const app = createApp({ runtime });

/** Workers RPC for service bindings (workers/rpc.ts). */
export const EdgeboneRpc = rpcEntrypoint(app);

/** One stage of a preset's isolate pipeline per object (workers/pipeline-stage.ts; wrangler.toml binds PIPELINE_STAGE). */
export const PipelineStage = pipelineStageClass(runtime);

export default {
  fetch: app.fetch,
  scheduled: scheduledHandler,
};
