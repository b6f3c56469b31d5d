/** GET /internal/objects/<key>: R2 objects for runners, behind the runner signing key's HMAC signature. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { importSigningKey, signRequest } from "../../shared/runner/index.js";
import { PRESET, call, r2Get } from "./helpers.js";

const SECRET = "test-signing-key-0123456789abcdef-0123456789";
const signed = { ...env, RUNNER_SIGNING_KEY: SECRET };
const key = importSigningKey(SECRET);
const headersFor = async (path: string, secret = key) => ({ ...(await signRequest(await secret, "GET", path)) }) as Record<string, string>;

describe("GET /internal/objects/<key>", () => {
  it("serves presets/ and adapters/ objects to signed requests", async () => {
    const path = `/internal/objects/presets/${PRESET}/config.json`;
    const res = await call("GET", path, { headers: await headersFor(path), env: signed });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(new Uint8Array(res.bytes!)).toEqual(await r2Get(`presets/${PRESET}/config.json`));
  });

  it("401 unsigned, wrongly signed, signed for another path or replayed; 404 outside presets/ and adapters/ or missing", async () => {
    const path = `/internal/objects/presets/${PRESET}/config.json`;
    const unsigned = await call("GET", path, { env: signed });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json).toMatchObject({ error_type: "Unauthorized" });
    expect((await call("GET", path, { headers: await headersFor(path, importSigningKey("another-signing-key-0123456789abcdef-012345")), env: signed })).status).toBe(401);
    expect((await call("GET", path, { headers: await headersFor(`/internal/objects/presets/${PRESET}/model.safetensors`), env: signed })).status).toBe(401);
    const once = await headersFor(path);
    expect((await call("GET", path, { headers: once, env: signed })).status).toBe(200);
    expect((await call("GET", path, { headers: once, env: signed })).status).toBe(401);

    await env.BUCKET.put("secrets/x", "no");
    for (const p of ["/internal/objects/secrets/x", `/internal/objects/presets/${PRESET}/nope.json`]) {
      const res = await call("GET", p, { headers: await headersFor(p), env: signed });
      expect(res.status, p).toBe(404);
      expect(res.json).toMatchObject({ error_type: "NotFound" });
    }
  });

  it("503 while RUNNER_SIGNING_KEY is unset (wrangler.toml sets none)", async () => {
    const path = `/internal/objects/presets/${PRESET}/config.json`;
    const res = await call("GET", path, { headers: await headersFor(path) });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ error_type: "Unhealthy" });
  });
});
