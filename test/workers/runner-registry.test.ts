/**
 * POST /internal/runners in workerd: signed heartbeats keep a runner in D1 until its TTL runs out, `draining`
 * removes it, bad ones are refused with the reason; the pool behind the forward route follows the table.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HEARTBEAT_PATH, importSigningKey, signRequest } from "../../shared/runner/index.js";
import { GEMMA, call, d1Rows, tenantWithKey } from "./helpers.js";

const SECRET = "test-signing-key-0123456789abcdef-0123456789";
const TTL_MS = 60_000;
const signed = { ...env, RUNNER_SIGNING_KEY: SECRET, RUNNER_HEARTBEAT_TTL_MS: String(TTL_MS), RUNNER_DISCOVERY_INTERVAL_MS: "1" };
const key = importSigningKey(SECRET);

async function beat(body: unknown, secret = key) {
  const text = JSON.stringify(body);
  const headers = { ...(await signRequest(await secret, "POST", HEARTBEAT_PATH, text)), "content-type": "application/json" };
  return call("POST", HEARTBEAT_PATH, { body: text, headers, env: signed });
}
const rows = () => d1Rows("SELECT url, runner_id, expires_at FROM runners ORDER BY url");

describe("POST /internal/runners", () => {
  it("a ready heartbeat registers the runner until now + TTL; another one extends it; draining removes it", async () => {
    const before = Date.now();
    const first = await beat({ url: "http://10.0.0.5:8790", runner: "pod-a", state: "ready" });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json).toMatchObject({ url: "http://10.0.0.5:8790", state: "ready" });
    const [row] = await rows();
    expect(row).toMatchObject({ url: "http://10.0.0.5:8790", runner_id: "pod-a" });
    expect(row.expires_at as number).toBeGreaterThanOrEqual(before + TTL_MS);
    await new Promise((r) => setTimeout(r, 5));
    await beat({ url: "http://10.0.0.5:8790", runner: "pod-a", state: "ready" });
    expect(((await rows())[0].expires_at as number)).toBeGreaterThan(row.expires_at as number);
    expect((await beat({ url: "http://10.0.0.5:8790", runner: "pod-a", state: "draining" })).json).toMatchObject({ state: "draining", expires_at: null });
    expect(await rows()).toEqual([]);
  });

  it("refuses unsigned, wrongly signed and replayed heartbeats (401) and bad bodies (422 naming the field)", async () => {
    const body = JSON.stringify({ url: "http://10.0.0.6:8790", runner: "pod-b", state: "ready" });
    const unsigned = await call("POST", HEARTBEAT_PATH, { body, headers: { "content-type": "application/json" }, env: signed });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json).toMatchObject({ error_type: "Unauthorized" });
    expect((await beat(JSON.parse(body), importSigningKey("another-signing-key-0123456789abcdef-012345"))).status).toBe(401);
    const headers = { ...(await signRequest(await key, "POST", HEARTBEAT_PATH, body)), "content-type": "application/json" };
    expect((await call("POST", HEARTBEAT_PATH, { body, headers, env: signed })).status).toBe(200);
    expect((await call("POST", HEARTBEAT_PATH, { body, headers, env: signed })).status).toBe(401); // replay
    for (const [bad, field] of [
      [{ url: "http://10.0.0.7:8790/v1", runner: "x", state: "ready" }, "url"],
      [{ url: "ftp://10.0.0.7", runner: "x", state: "ready" }, "url"],
      [{ url: "http://10.0.0.7:8790", runner: "x", state: "gone" }, "state"],
      [{ url: "http://10.0.0.7:8790", state: "ready" }, "runner"],
    ] as const) {
      const res = await beat(bad);
      expect(res.status, JSON.stringify(bad)).toBe(422);
      expect(JSON.stringify(res.json)).toContain(field);
    }
    // without a signing key the route is off
    expect((await call("POST", HEARTBEAT_PATH, { body, headers, env: { ...env, RUNNER_SIGNING_KEY: "" } })).status).toBe(503);
  });

  it("the forward route's pool is the announced runners: an unreachable one yields 503 after retries, none yields no_runner_configured", async () => {
    const { key: apiKey } = await tenantWithKey("discovery");
    const forward = () => call("POST", `/v1/models/${GEMMA}/forward`, { key: apiKey, body: { token_ids: [[2, 5, 7]] }, env: { ...signed, RUNNER_TIMEOUT_MS: "300" } });
    await beat({ url: "http://10.0.0.6:8790", runner: "pod-b", state: "draining" }); // left over from the test above
    expect((await forward()).json).toMatchObject({ error: { code: "no_runner_configured" } });
    await beat({ url: "http://127.0.0.1:1", runner: "pod-dead", state: "ready" });
    const res = await forward();
    expect(res.status).toBe(503);
    expect(JSON.stringify(res.json)).toContain("http://127.0.0.1:1");
  });
});
