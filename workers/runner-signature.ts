/**
 * Requests from runners to the edge (object reads, heartbeats) carry the runner signing key's HMAC signature
 * (shared/runner/signing.ts: method, path, timestamp, nonce, body hash; 60 s window; nonces remembered per
 * isolate). One checker per route group; the key is re-imported when the secret changes.
 */
import type { Context } from "hono";
import { importSigningKey, NonceCache, verifyRequest, type SigningKey } from "../shared/runner/index.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

const SIGNATURE_WINDOW_MS = 60_000;

export function runnerSignatureCheck(): (c: Context<AppEnv>, body: Uint8Array) => Promise<void> {
  const nonces = new NonceCache(100_000);
  let key: { secret: string; key: Promise<SigningKey> } | null = null;
  return async (c, body) => {
    const secret = c.env.RUNNER_SIGNING_KEY;
    if (!secret) throw new ApiError(503, `${c.req.path} is for runners and needs RUNNER_SIGNING_KEY`, "no_runner_configured");
    if (key?.secret !== secret) key = { secret, key: importSigningKey(secret) };
    const url = new URL(c.req.url);
    const verdict = await verifyRequest([await key.key], { method: c.req.method, path: url.pathname + url.search, header: (name) => c.req.header(name), body }, { windowMs: SIGNATURE_WINDOW_MS, nonces });
    if (!verdict.ok) throw new ApiError(401, verdict.reason, "bad_signature");
  };
}
