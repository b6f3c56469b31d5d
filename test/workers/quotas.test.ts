/**
 * Per-tenant quotas in workerd: the TenantQuota Durable Object of wrangler.toml (one per tenant, SQLite storage),
 * limits per tenant through the admin API over the wrangler.toml defaults, 429 with Retry-After naming the limit in
 * OpenAI's shape (/v1) and TEI's, reservations under concurrency, failed requests releasing their tokens, the UTC
 * day rollover, and D1's usage table as the record the quota starts each day from. The worker's clock is set with
 * vi.setSystemTime (the worker runs in this isolate), so refills and rollovers are exact.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RESERVATION_TTL_MS } from "../../workers/tenant-quota.js";
import { ADMIN, PRESET, call, d1Rows, tenantWithKey, type Reply, type Tenant } from "./helpers.js";

const IDS = [[2, 19, 20, 3]]; // 4 tokens
const TOKENS = 4;

/**
 * Inference calls go to the worker's fetch handler with the real bindings and wait for its waitUntil work, where
 * a request settles its tokens after the response: each call's usage is settled before the next one.
 */
const settled = { env };
const forward = (t: Tenant, path = `/v1/models/${PRESET}/forward`) => call("POST", path, { key: t.key, body: { token_ids: IDS }, ...settled });
const embed = (t: Tenant) => call("POST", "/embed", { key: t.key, body: { model: PRESET, inputs: "the quick brown fox" }, ...settled });
const limits = (tenantId: string) => call("GET", `/admin/tenants/${tenantId}/limits`, { key: ADMIN });
const setLimits = (tenantId: string, body: unknown) => call("PUT", `/admin/tenants/${tenantId}/limits`, { key: ADMIN, body });

async function tenantWithLimits(name: string, body: { requests_per_second?: number | null; tokens_per_day?: number | null }): Promise<Tenant> {
  const t = await tenantWithKey(name);
  const put = await setLimits(t.tenantId, body);
  expect(put.status, JSON.stringify(put.json)).toBe(200);
  return t;
}

async function usage(tenantId: string): Promise<{ day: string; requests: number; tokens: number }[]> {
  return (await d1Rows("SELECT day, requests, tokens FROM usage WHERE tenant_id = ? ORDER BY day", tenantId)) as never;
}

function expectOpenAi429(r: Reply, code: string, message: RegExp): void {
  expect(r.status, JSON.stringify(r.json)).toBe(429);
  expect(r.json.error).toEqual({ type: "rate_limit_error", code, param: null, message: expect.stringMatching(message) });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("admin API: PUT/GET /admin/tenants/:id/limits", () => {
  it("shows the wrangler.toml defaults until the tenant has its own; PUT replaces both; null goes back to the default", async () => {
    const t = await tenantWithKey("limits-admin");
    const defaults = { requests_per_second: 50, tokens_per_day: 10_000_000 };
    const first = await limits(t.tenantId);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ tenant_id: t.tenantId, limits: { requests_per_second: null, tokens_per_day: null }, defaults, effective: defaults, enforced: true });
    expect(first.json.usage_today).toEqual({ day: new Date().toISOString().slice(0, 10), requests: 0, tokens: 0 });

    const put = await setLimits(t.tenantId, { requests_per_second: 5, tokens_per_day: 1000 });
    expect(put.json).toMatchObject({ limits: { requests_per_second: 5, tokens_per_day: 1000 }, effective: { requests_per_second: 5, tokens_per_day: 1000 } });
    expect((await forward(t)).status).toBe(200);
    expect((await limits(t.tenantId)).json.usage_today).toMatchObject({ requests: 1, tokens: TOKENS });

    const back = await setLimits(t.tenantId, { tokens_per_day: null });
    expect(back.json).toMatchObject({ limits: { requests_per_second: null, tokens_per_day: null }, effective: defaults });
  });

  it("refuses bad limits with 422 naming the field, unknown tenants with 404, and callers without the admin token", async () => {
    const t = await tenantWithKey("limits-bad");
    for (const [body, param] of [
      [{ requests_per_second: 0 }, "requests_per_second"],
      [{ tokens_per_day: -5 }, "tokens_per_day"],
      [{ tokens_per_day: 1.5 }, "tokens_per_day"],
      [{ requests_per_second: "10" }, "requests_per_second"],
    ] as const) {
      const r = await setLimits(t.tenantId, body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.json).toEqual({ error: expect.stringContaining(param), error_type: "Validation" });
    }
    expect((await setLimits(t.tenantId, { requests_per_second: 1, burst: 3 })).status).toBe(422);
    expect((await setLimits("no-such-tenant", { requests_per_second: 1 })).json).toEqual({ error: 'tenant "no-such-tenant" not found', error_type: "NotFound" });
    expect((await limits("no-such-tenant")).status).toBe(404);
    expect((await call("GET", `/admin/tenants/${t.tenantId}/limits`, { key: t.key })).status).toBe(403);
    expect((await call("PUT", `/admin/tenants/${t.tenantId}/limits`, { body: { requests_per_second: 1 } })).status).toBe(401);
    expect((await limits(t.tenantId)).json.limits).toEqual({ requests_per_second: null, tokens_per_day: null });
  });
});

describe("enforcement", () => {
  it("tokens per day: each tenant its own budget; over it 429 tokens_per_day_exceeded until midnight UTC, in both error shapes", async () => {
    vi.setSystemTime(new Date("2026-03-10T18:00:00Z"));
    const a = await tenantWithLimits("tokens-a", { tokens_per_day: 2 * TOKENS });
    const b = await tenantWithLimits("tokens-b", { tokens_per_day: 100 * TOKENS });
    expect((await forward(a)).status).toBe(200);
    expect((await forward(a)).status).toBe(200);
    const over = await forward(a);
    expectOpenAi429(over, "tokens_per_day_exceeded", /^this request's 4 tokens exceed what is left of this tenant's daily budget \(0 of 8 tokens\); the budget renews at 00:00 UTC \(in 21600 s\)$/);
    expect(over.headers.get("retry-after")).toBe(String(6 * 3600));
    const tei = await embed(a);
    expect(tei.status).toBe(429);
    expect(tei.json).toEqual({ error: expect.stringMatching(/exceed what is left of this tenant's daily budget/), error_type: "Overloaded" });
    // the other tenant is untouched, and the key does not matter: a second key of A draws on the same budget
    for (let i = 0; i < 3; i++) expect((await forward(b)).status).toBe(200);
    const key2 = await call("POST", `/admin/tenants/${a.tenantId}/keys`, { key: ADMIN, body: { name: "second" } });
    expect((await forward({ ...a, key: key2.json.key })).status).toBe(429);
    // D1 records what ran, and only that
    expect(await usage(a.tenantId)).toEqual([{ day: "2026-03-10", requests: 2, tokens: 2 * TOKENS }]);
    expect(await usage(b.tenantId)).toEqual([{ day: "2026-03-10", requests: 3, tokens: 3 * TOKENS }]);
    // a request larger than the whole budget says so
    const big = await call("POST", `/v1/models/${PRESET}/forward`, { key: b.key, body: { token_ids: [Array(401).fill(5)] }, ...settled });
    expectOpenAi429(big, "tokens_per_day_exceeded", /^this request's 401 tokens exceed this tenant's whole daily budget of 400 tokens/);
  });

  it("requests per second: a bucket of one second's requests, refilled with the clock; 429 requests_per_second_exceeded with Retry-After 1", async () => {
    vi.setSystemTime(new Date("2026-03-10T12:00:00Z"));
    const t = await tenantWithLimits("rps", { requests_per_second: 3 });
    const other = await tenantWithLimits("rps-other", { requests_per_second: 3 });
    for (let i = 0; i < 3; i++) expect((await forward(t)).status).toBe(200);
    const over = await forward(t);
    expectOpenAi429(over, "requests_per_second_exceeded", /^this tenant's limit of 3 requests per second is reached; retry in 1 s$/);
    expect(over.headers.get("retry-after")).toBe("1");
    expect((await embed(t)).json).toEqual({ error: expect.stringMatching(/limit of 3 requests per second/), error_type: "Overloaded" });
    expect((await forward(other)).status).toBe(200); // its own bucket
    vi.setSystemTime(new Date("2026-03-10T12:00:00.400Z")); // 0.4 s: one more request
    expect((await forward(t)).status).toBe(200);
    expect((await forward(t)).status).toBe(429);
    vi.setSystemTime(new Date("2026-03-10T12:00:05Z")); // the bucket holds one second's worth, not five
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await forward(t)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    // refused requests ran nothing and were not recorded
    expect(await usage(t.tenantId)).toEqual([{ day: "2026-03-10", requests: 7, tokens: 7 * TOKENS }]);
    // /metrics counts the refusals by limit (only this test refuses for the rate in this file's isolate)
    expect((await call("GET", "/metrics")).json.raw).toContain('edgebone_quota_refusals_total{limit="requests_per_second"} 4\n');
  });

  it("day rollover: the budget renews at 00:00 UTC and each request counts on the day it was admitted", async () => {
    vi.setSystemTime(new Date("2026-03-10T23:59:50Z"));
    const t = await tenantWithLimits("rollover", { tokens_per_day: TOKENS });
    expect((await forward(t)).status).toBe(200);
    const over = await forward(t);
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toBe("10");
    vi.setSystemTime(new Date("2026-03-11T00:00:00Z"));
    expect((await forward(t)).status).toBe(200);
    expect((await forward(t)).status).toBe(429);
    expect(await usage(t.tenantId)).toEqual([
      { day: "2026-03-10", requests: 1, tokens: TOKENS },
      { day: "2026-03-11", requests: 1, tokens: TOKENS },
    ]);
  });

  it("concurrent requests never exceed the budget: tokens are reserved before inference", async () => {
    const t = await tenantWithLimits("concurrent", { tokens_per_day: 3 * TOKENS, requests_per_second: 1000 });
    const replies = await Promise.all(Array.from({ length: 10 }, () => forward(t)));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, ...Array(7).fill(429)]);
    for (const r of replies.filter((r) => r.status === 429)) {
      expect(r.json.error.code).toBe("tokens_per_day_exceeded");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    const [row] = await usage(t.tenantId);
    expect(row).toMatchObject({ requests: 3, tokens: 3 * TOKENS });
  });

  it("a request that fails after admission releases its tokens", async () => {
    const t = await tenantWithLimits("release", { tokens_per_day: TOKENS });
    const failed = await forward(t, `/v1/models/${PRESET}/forward?adapter=missing`);
    expect(failed.status).toBe(404); // admitted, then the adapter lookup failed
    expect((await forward(t)).status).toBe(200);
    expect((await forward(t)).status).toBe(429);
  });

  it("the day starts from D1's record: usage already recorded counts against a limit set mid-day", async () => {
    vi.setSystemTime(new Date("2026-03-12T09:00:00Z"));
    const t = await tenantWithKey("seeded");
    await env.DB.prepare("INSERT INTO usage (tenant_id, day, requests, tokens) VALUES (?, ?, ?, ?)").bind(t.tenantId, "2026-03-12", 10, 100).run();
    await setLimits(t.tenantId, { tokens_per_day: 100 + TOKENS });
    expect((await forward(t)).status).toBe(200);
    const over = await forward(t);
    expectOpenAi429(over, "tokens_per_day_exceeded", /\(0 of 104 tokens\)/);
    expect((await limits(t.tenantId)).json.usage_today).toEqual({ day: "2026-03-12", requests: 11, tokens: 104 });
  });
});

describe("TenantQuota (the object itself, over RPC)", () => {
  const quota = (name: string) => env.TENANT_QUOTA!.get(env.TENANT_QUOTA!.idFromName(name));
  const request = { tokens: 10, requestsPerSecond: null, tokensPerDay: 25 };

  it("releases a reservation whose request never settled once it expires, and counts settled tokens", async () => {
    const q = quota("unsettled");
    const now = Date.parse("2026-03-10T10:00:00Z");
    const first = await q.admit({ ...request, tenantId: "unsettled", now });
    const second = await q.admit({ ...request, tenantId: "unsettled", now });
    expect([first.ok, second.ok]).toEqual([true, true]);
    const third = await q.admit({ ...request, tenantId: "unsettled", now });
    expect(third).toMatchObject({ ok: false, limit: "tokens_per_day", retryAfterS: 1 }); // only reservations in the way
    if (first.ok) await q.settle(first.reservation, first.day, 10);
    // the second request died: its reservation goes after the TTL, the settled tokens stay
    expect(await q.admit({ ...request, tenantId: "unsettled", now: now + RESERVATION_TTL_MS - 1 })).toMatchObject({ ok: false });
    expect(await q.admit({ ...request, tenantId: "unsettled", now: now + RESERVATION_TTL_MS })).toMatchObject({ ok: true });
    expect(await q.admit({ ...request, tenantId: "unsettled", now: now + RESERVATION_TTL_MS })).toMatchObject({ ok: false, retryAfterS: 1 });
  });
});
