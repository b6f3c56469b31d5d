/**
 * `GET /internal/objects/<key>`: the bucket's presets and adapters for GPU runners that cannot reach R2's S3 API
 * (above all `npm start`, whose R2 is wrangler dev's local simulation; production runners read R2 directly).
 * Requests must carry the runner signing key's HMAC signature (shared/runner/signing: method, path, timestamp,
 * nonce; 60 s window; nonces remembered per isolate), and only keys under `presets/` and `adapters/` are served.
 * The runner's `EdgeStore` (gpu-runner/object-store.ts) is the client; it verifies every object's sha256.
 */
import { Hono } from "hono";
import { ADAPTER_PREFIX, PRESET_PREFIX, isObjectKey } from "../shared/runner/index.js";
import type { AppEnv } from "./context.js";
import { notFound } from "./errors.js";
import { runnerSignatureCheck } from "./runner-signature.js";

const SERVED_PREFIXES = [PRESET_PREFIX, ADAPTER_PREFIX];

export function internalObjects(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const checkSignature = runnerSignatureCheck();

  app.get("/:key{.+}", async (c) => {
    await checkSignature(c, new Uint8Array());
    const objectKey = c.req.param("key");
    if (!SERVED_PREFIXES.some((p) => objectKey.startsWith(p)) || !isObjectKey(objectKey)) {
      throw notFound(`no object ${objectKey} (only keys under ${SERVED_PREFIXES.join(" and ")} are served)`, "object_not_found");
    }
    const object = await c.env.BUCKET.get(objectKey);
    if (!object) throw notFound(`no object ${objectKey}`, "object_not_found");
    return new Response(object.body, { headers: { "content-type": "application/octet-stream", "content-length": String(object.size) } });
  });
  return app;
}
