/**
 * `POST /models/:preset/forward` (mounted under /v1; the API key is checked by the app): a preset's
 * `sequence_output` for token ids or texts, as JSON or as float32 bytes (`Accept: application/octet-stream`, with
 * `x-shape` and `x-dtype`). An adapter is named by `?adapter=` or the body's `adapter`.
 */
import { Hono } from "hono";
import { batchRows, tokenBatch } from "../../shared/index.js";
import type { AppEnv } from "../context.js";
import { jsonBody } from "../http.js";
import { Inference } from "../inference.js";
import { checkIdRows } from "../limits.js";
import { forwardBody } from "../schemas.js";

export function modelRoutes(): Hono<AppEnv> {
  const models = new Hono<AppEnv>();

  models.post("/models/:preset/forward", async (c) => {
    const body = await jsonBody(c, forwardBody);
    const inference = new Inference(c, { preset: c.req.param("preset"), adapter: c.req.query("adapter") ?? body.adapter, presetParam: null, adapterParam: "adapter" });
    const texts = body.inputs === undefined ? undefined : typeof body.inputs === "string" ? [body.inputs] : body.inputs;
    if (body.token_ids) checkIdRows(body.token_ids, "token_ids", inference.limits);
    const batch = texts ? (await inference.encode(texts, body.truncate ? "truncate" : "reject", "inputs")).batch : tokenBatch(body.token_ids, body.padding_mask);
    const { shape, data } = await inference.run(batch, texts ? "inputs" : "token_ids");
    if ((c.req.header("accept") ?? "").includes("application/octet-stream")) {
      c.header("x-shape", shape.join(","));
      c.header("x-dtype", "float32");
      return c.body(new Uint8Array(Float32Array.from(data).buffer), 200, { "content-type": "application/octet-stream" });
    }
    const tokens = texts ? batchRows(batch) : undefined;
    return c.json({ sequence_output: { shape, data: Array.from(data) }, ...(tokens ? { token_ids: tokens.tokenIds, padding_mask: tokens.paddingMask } : {}) });
  });

  return models;
}
