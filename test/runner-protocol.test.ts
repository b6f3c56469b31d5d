/** shared/runner: signatures, the binary response, the request schema, rendezvous hashing, breaker and pool client. */
import { describe, expect, it, vi } from "vitest";
import {
  CircuitBreaker,
  FORWARD_PATH,
  HEADERS,
  NonceCache,
  PoolError,
  RunnerError,
  RunnerPool,
  decodeTensor,
  encodeTensor,
  importSigningKey,
  parseForwardRequest,
  signRequest,
  verifyRequest,
  type ForwardRequest,
} from "../shared/runner/index.js";

const SECRET = "a-secret-of-at-least-32-characters-0123";
const OTHER = "another-secret-of-32-characters-or-more!";

async function verify(headers: Record<string, string>, overrides: { method?: string; path?: string; body?: string; keys?: string[]; now?: number; nonces?: NonceCache } = {}) {
  const keys = await Promise.all((overrides.keys ?? [SECRET]).map(importSigningKey));
  return verifyRequest(
    keys,
    { method: overrides.method ?? "POST", path: overrides.path ?? "/v1/forward", header: (n) => headers[n] ?? null, body: new TextEncoder().encode(overrides.body ?? '{"a":1}') },
    { windowMs: 60_000, now: overrides.now, nonces: overrides.nonces },
  );
}

describe("request signatures (HMAC-SHA256, WebCrypto)", () => {
  it("verifies a signed request and rejects any change to method, path, body or timestamp", async () => {
    const key = await importSigningKey(SECRET);
    const headers = { ...(await signRequest(key, "POST", "/v1/forward", '{"a":1}')) };
    expect(await verify(headers)).toEqual({ ok: true });
    expect(await verify(headers, { method: "PUT" })).toMatchObject({ ok: false, reason: expect.stringMatching(/signature does not match/) });
    expect(await verify(headers, { path: "/v1/forward?x=1" })).toMatchObject({ ok: false });
    expect(await verify(headers, { body: '{"a":2}' })).toMatchObject({ ok: false });
    const ts = String(Number(headers[HEADERS.timestamp]) - 1);
    expect(await verify({ ...headers, [HEADERS.timestamp]: ts })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    expect(await verify(headers, { keys: [OTHER] })).toMatchObject({ ok: false });
  });

  it("accepts any of several keys (rotation)", async () => {
    const headers = { ...(await signRequest(await importSigningKey(OTHER), "POST", "/v1/forward", '{"a":1}')) };
    expect(await verify(headers, { keys: [SECRET, OTHER] })).toEqual({ ok: true });
  });

  it("rejects unsigned, malformed, stale and future requests with one-line reasons", async () => {
    const key = await importSigningKey(SECRET);
    expect(await verify({})).toMatchObject({ ok: false, reason: expect.stringMatching(/not signed/) });
    const good = { ...(await signRequest(key, "POST", "/v1/forward", '{"a":1}')) };
    expect(await verify({ ...good, [HEADERS.signature]: "zz" })).toMatchObject({ ok: false, reason: expect.stringMatching(/64 hex/) });
    expect(await verify({ ...good, [HEADERS.timestamp]: "yesterday" })).toMatchObject({ ok: false, reason: expect.stringMatching(/milliseconds/) });
    const now = Date.now();
    const stale = { ...(await signRequest(key, "POST", "/v1/forward", '{"a":1}', now - 61_000)) };
    expect(await verify(stale, { now })).toMatchObject({ ok: false, reason: expect.stringMatching(/61 s old, outside the 60 s window/) });
    const future = { ...(await signRequest(key, "POST", "/v1/forward", '{"a":1}', now + 120_000)) };
    expect(await verify(future, { now })).toMatchObject({ ok: false, reason: expect.stringMatching(/in the future/) });
  });

  it("rejects a replayed nonce inside the window", async () => {
    const headers = { ...(await signRequest(await importSigningKey(SECRET), "POST", "/v1/forward", '{"a":1}')) };
    const nonces = new NonceCache();
    expect(await verify(headers, { nonces })).toEqual({ ok: true });
    expect(await verify(headers, { nonces })).toMatchObject({ ok: false, reason: expect.stringMatching(/replayed/) });
  });

  it("keeps the nonce cache bounded", () => {
    const cache = new NonceCache(100);
    for (let i = 0; i < 1000; i++) cache.add(`n${i}`, 10_000, 0);
    expect(cache.size).toBeLessThanOrEqual(100);
    expect(cache.add("n999", 10_000, 0)).toBe(false);
    expect(cache.add("n999", 10_000, 20_000)).toBe(true); // expired entries are forgotten
  });

  it("refuses short secrets", async () => {
    await expect(importSigningKey("short")).rejects.toThrow(/at least 32 characters/);
  });
});

describe("binary tensor response", () => {
  it("round-trips float32 data with the shape in headers", () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i / 7 - 1);
    const { headers, body } = encodeTensor({ shape: [2, 3, 4], data });
    expect(headers[HEADERS.shape]).toBe("2,3,4");
    const back = decodeTensor((n) => headers[n] ?? null, body.slice().buffer);
    expect(back.shape).toEqual([2, 3, 4]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it("rejects a body that does not match its shape", () => {
    const { headers } = encodeTensor({ shape: [2, 2], data: new Float32Array(4) });
    expect(() => decodeTensor((n) => headers[n] ?? null, new ArrayBuffer(12))).toThrow(/12 bytes, shape \[2,2\] needs 16/);
    expect(() => decodeTensor(() => null, new ArrayBuffer(0))).toThrow(/dtype/);
  });
});

describe("forward request schema", () => {
  const base = { preset: "gemma2_tiny", token_ids: [[1, 2, 3]] };

  it("accepts minimal, per-row and inline-record adapter forms", () => {
    expect(parseForwardRequest(base).token_ids).toEqual([[1, 2, 3]]);
    const sha = "a".repeat(64);
    const r = parseForwardRequest({ ...base, token_ids: [[1], [2]], tenant: "acme", adapter: ["x", { name: "y", sha256: sha, size: 10 }] });
    expect(r.adapter).toEqual(["x", { name: "y", sha256: sha, size: 10 }]);
  });

  it.each([
    [{ ...base, token_ids: [[1, 2], [3]] }, /token_ids\[1\] has 1 values, row 0 has 2/],
    [{ ...base, padding_mask: [[1, 1]] }, /padding_mask\[0\] has 2 values/],
    [{ ...base, padding_mask: [[1, 2, 1]] }, /padding_mask\[0\]\[1\]/],
    [{ ...base, adapter: "x" }, /tenant is required/],
    [{ ...base, tenant: "acme", adapter: ["x", null] }, /adapter has 2 entries for 1 rows/],
    [{ ...base, preset: "../etc" }, /preset/],
    [{ ...base, tenant: "a/b", adapter: "x" }, /tenant/],
    [{ ...base, token_ids: [[-1]] }, /token_ids\[0\]\[0\]/],
    [{ ...base, token_ids: [] }, /token_ids/],
    [{ ...base, extra: 1 }, /extra|Unrecognized/i],
  ])("rejects %j", (body, message) => {
    expect(() => parseForwardRequest(body)).toThrow(message);
    try {
      parseForwardRequest(body);
    } catch (e) {
      expect((e as Error).message).not.toContain("\n");
    }
  });
});

describe("rendezvous hashing", () => {
  const urls = ["http://10.0.0.1:8790", "http://10.0.0.2:8790", "http://10.0.0.3:8790"];
  const pool = new RunnerPool({ runners: urls, signingKey: SECRET });
  const keys = Array.from({ length: 600 }, (_, i) => `gemma2_2b\u0000t${i % 50}/adapter${i}`);

  it("is deterministic and spreads keys evenly", () => {
    expect(pool.order(keys[0])).toEqual(pool.order(keys[0]));
    const first = new Map<string, number>();
    for (const k of keys) first.set(pool.order(k)[0], (first.get(pool.order(k)[0]) ?? 0) + 1);
    for (const u of urls) expect(first.get(u)!).toBeGreaterThan(140); // 200 expected each
  });

  it("moves only the removed runner's keys when the list shrinks", () => {
    const smaller = new RunnerPool({ runners: urls.slice(0, 2), signingKey: SECRET });
    for (const k of keys) {
      const before = pool.order(k)[0];
      if (before !== urls[2]) expect(smaller.order(k)[0]).toBe(before);
      else expect(smaller.order(k)[0]).toBe(pool.order(k)[1]); // next in its own order
    }
  });

  it("routes on (preset, adapters): row order and base rows do not matter", () => {
    const a: ForwardRequest = { preset: "p", tenant: "t", adapter: ["x", null, "y"], token_ids: [[1], [1], [1]] };
    const b: ForwardRequest = { preset: "p", tenant: "t", adapter: ["y", "x", "x"], token_ids: [[1], [1], [1]] };
    expect(RunnerPool.routingKey(a)).toBe(RunnerPool.routingKey(b));
    expect(RunnerPool.routingKey({ preset: "p", token_ids: [[1]] })).not.toBe(RunnerPool.routingKey(a));
  });
});

describe("circuit breaker", () => {
  it("opens after consecutive failures, lets one trial through after the cooldown, doubles it on failure", () => {
    const b = new CircuitBreaker(3, 1000, 4000);
    b.failure(0);
    b.failure(0);
    expect(b.state).toBe("closed");
    b.failure(0);
    expect(b.state).toBe("open");
    expect(b.acquire(999)).toBe(false);
    expect(b.acquire(1000)).toBe(true);
    expect(b.state).toBe("half_open");
    expect(b.acquire(1000)).toBe(false); // one trial at a time
    b.failure(1000);
    expect(b.state).toBe("open");
    expect(b.openUntil).toBe(3000); // cooldown doubled
    expect(b.acquire(3000)).toBe(true);
    b.success();
    expect(b.state).toBe("closed");
    expect(b.acquire(3000)).toBe(true);
  });
});

/** A fake runner fleet for the pool: per-URL behaviour. */
function fleet(behaviours: Record<string, (init: RequestInit) => Promise<Response> | Response>) {
  const calls: string[] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const base = new URL(url).origin;
    calls.push(`${init.method} ${base}${new URL(url).pathname}`);
    const b = behaviours[base];
    if (!b) throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
    return b(init);
  });
  return { fetch, calls };
}

const ok = () => {
  const { headers, body } = encodeTensor({ shape: [1, 1, 2], data: Float32Array.from([1, 2]) });
  return new Response(body, { headers: { ...headers, [HEADERS.runner]: "r" } });
};
const err = (status: number, code: string) => new Response(JSON.stringify({ error: `failed ${status}`, code }), { status, headers: { "content-type": "application/json" } });
const request: ForwardRequest = { preset: "p", token_ids: [[1]] };

describe("runner pool client", () => {
  const A = "http://127.0.0.1:1";
  const B = "http://127.0.0.1:2";
  const C = "http://127.0.0.1:3";

  function pool(behaviours: Parameters<typeof fleet>[0], options: Partial<ConstructorParameters<typeof RunnerPool>[0]> = {}) {
    const f = fleet(behaviours);
    const p = new RunnerPool({ runners: [A, B, C], signingKey: SECRET, fetch: f.fetch, retryBackoffMs: 1, ...options });
    const order = p.order(RunnerPool.routingKey(request));
    return { p, order, ...f };
  }

  it("signs requests the runner can verify and passes the remaining budget as timeout_ms", async () => {
    let seen: RequestInit | null = null;
    const { order } = pool({});
    const { p } = pool({ [order[0]]: (init) => ((seen = init), ok()), [order[1]]: ok, [order[2]]: ok });
    const result = await p.forward(request, { deadlineMs: 5000 });
    expect(result).toMatchObject({ shape: [1, 1, 2], runner: order[0], attempts: 1 });
    const headers = seen!.headers as Record<string, string>;
    const body = String(seen!.body);
    expect(JSON.parse(body).timeout_ms).toBeLessThanOrEqual(5000);
    expect(await verify(headers, { body })).toEqual({ ok: true });
  });

  it("fails over to the next runner in rendezvous order when one refuses, errors or is busy", async () => {
    for (const first of [null, () => err(500, "internal"), () => err(429, "overloaded"), () => err(503, "draining")]) {
      const { order } = pool({});
      const behaviours: Parameters<typeof fleet>[0] = { [order[1]]: ok, [order[2]]: ok };
      if (first) behaviours[order[0]] = first;
      const { p, calls } = pool(behaviours);
      const result = await p.forward(request);
      expect(result.runner).toBe(order[1]);
      expect(result.attempts).toBe(2);
      expect(calls).toEqual([`POST ${order[0]}${FORWARD_PATH}`, `POST ${order[1]}${FORWARD_PATH}`]);
    }
  });

  it("skips a slow runner after the attempt timeout", async () => {
    const { order } = pool({});
    const slow = (init: RequestInit) =>
      new Promise<Response>((_, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason)));
    const { p } = pool({ [order[0]]: slow, [order[1]]: ok, [order[2]]: ok }, { attemptTimeoutMs: 50 });
    const started = Date.now();
    const result = await p.forward(request, { deadlineMs: 5000 });
    expect(result.runner).toBe(order[1]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("does not retry what would fail everywhere (400, 404, 413, 502, 504)", async () => {
    for (const [status, code] of [[400, "bad_request"], [404, "not_found"], [413, "too_large"], [502, "corrupt_object"], [504, "timeout"]] as const) {
      const { order } = pool({});
      const { p, calls } = pool({ [order[0]]: () => err(status, code), [order[1]]: ok, [order[2]]: ok });
      const e = await p.forward(request).catch((x) => x);
      expect(e).toBeInstanceOf(RunnerError);
      expect(e).toMatchObject({ status, code, runner: order[0], message: `failed ${status}` });
      expect(calls).toHaveLength(1);
    }
  });

  it("keeps retrying within the deadline, then fails with the last error", async () => {
    const { p, calls } = pool({ [A]: () => err(503, "draining"), [B]: () => err(503, "draining"), [C]: () => err(503, "draining") }, { failureThreshold: 100 });
    const e = await p.forward(request, { deadlineMs: 200 }).catch((x) => x);
    expect(e).toBeInstanceOf(PoolError);
    expect(e.status).toBe(503);
    expect(e.message).toMatch(/within its 200 ms deadline .* last error: http:\/\/127\.0\.0\.1:\d: 503 failed 503/);
    expect(calls.length).toBeGreaterThan(3); // went round more than once
  });

  it("opens a failing runner's breaker, stops sending to it, and closes it again after a good health check", async () => {
    const { order } = pool({});
    let down = true;
    const flaky = (init: RequestInit) => {
      if (down) return err(500, "internal");
      return init.method === "GET" ? new Response('{"ready":true}') : ok();
    };
    let t = 0;
    const { p, calls } = pool({ [order[0]]: flaky, [order[1]]: ok, [order[2]]: ok }, { failureThreshold: 2, openMs: 1000, now: () => t });
    await p.forward(request);
    await p.forward(request);
    expect(p.status().find((s) => s.url === order[0])).toMatchObject({ breaker: "open", failures: 2 });
    calls.length = 0;
    await p.forward(request);
    expect(calls).toEqual([`POST ${order[1]}${FORWARD_PATH}`]); // skipped while open
    await p.checkHealth(); // still cooling down: the open runner is not even probed
    expect(calls.filter((c) => c.startsWith(`GET ${order[0]}`))).toEqual([]);
    down = false;
    t = 1000;
    await p.checkHealth(); // half-open trial: succeeds
    expect(p.status().find((s) => s.url === order[0])).toMatchObject({ breaker: "closed", ready: true });
    calls.length = 0;
    expect((await p.forward(request)).runner).toBe(order[0]);
  });

  it("marks a refusing runner not ready at once and routes around it until a health check passes", async () => {
    const { order } = pool({});
    const { p, calls } = pool({ [order[1]]: ok, [order[2]]: ok });
    await p.forward(request);
    expect(p.status().find((s) => s.url === order[0])).toMatchObject({ ready: false, breaker: "closed" });
    calls.length = 0;
    await p.forward(request);
    expect(calls).toEqual([`POST ${order[1]}${FORWARD_PATH}`]);
  });

  it("checkHealthIfDue (Workers: no timers) starts at most one round per interval", async () => {
    let t = 0;
    const ready = () => new Response('{"ready":true}');
    const { p, calls } = pool({ [A]: ready, [B]: ready, [C]: ready }, { healthIntervalMs: 1000, now: () => t });
    expect(p.checkHealthIfDue()).toBeNull(); // a new pool trusts its runners until the first interval passes
    t = 1000;
    await p.checkHealthIfDue();
    expect(calls.sort()).toEqual([A, B, C].map((u) => `GET ${u}/ready`));
    t = 1999;
    expect(p.checkHealthIfDue()).toBeNull();
    t = 2000;
    expect(p.checkHealthIfDue()).not.toBeNull();
  });

  it("reports refusing runners as 503 even when the deadline runs out between retries", async () => {
    const { p } = pool({}, { retryBackoffMs: 30 });
    const e = await p.forward(request, { deadlineMs: 120 }).catch((x) => x);
    expect(e).toBeInstanceOf(PoolError);
    expect(e.status).toBe(503);
  });

  it("fails fast once every runner's breaker is open instead of spinning until the deadline", async () => {
    const { p, calls } = pool({}, { failureThreshold: 2, openMs: 60_000 });
    const started = Date.now();
    const e = await p.forward(request, { deadlineMs: 30_000 }).catch((x) => x);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(e).toBeInstanceOf(PoolError);
    expect(e).toMatchObject({ status: 503, message: expect.stringMatching(/^every runner is down \(6 attempt\(s\), their circuit breakers are open\); last error: http:/) });
    expect(calls).toHaveLength(6);
    calls.length = 0;
    expect(await p.forward(request).catch((x) => x)).toBeInstanceOf(PoolError); // still open: tried once each, as a last resort
    expect(calls).toHaveLength(3);
  });

  it("rejects bad configuration", () => {
    expect(() => new RunnerPool({ runners: [], signingKey: SECRET })).toThrow(/at least one runner/);
    expect(() => new RunnerPool({ runners: [A, `${A}/`], signingKey: SECRET })).toThrow(/listed twice/);
    expect(() => new RunnerPool({ runners: ["http://x/path"], signingKey: SECRET })).toThrow(/without a path/);
  });
});

describe("runner pool membership and gateway affinity", () => {
  const [A, B, C] = ["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"];

  it("setRunners keeps known runners' breaker state, adds new ones ready, and stops routing to removed ones", async () => {
    const f = fleet({ [B]: ok, [C]: ok });
    const p = new RunnerPool({ runners: [A, B], signingKey: SECRET, fetch: f.fetch, retryBackoffMs: 1, failureThreshold: 1 });
    await p.checkHealth(); // A refuses: out of rotation, breaker open
    expect(p.status().find((r) => r.url === A)).toMatchObject({ ready: false, breaker: "open" });
    p.setRunners([C, A]);
    expect(p.status()).toEqual([expect.objectContaining({ url: C, ready: true, breaker: "closed" }), expect.objectContaining({ url: A, ready: false, breaker: "open" })]);
    f.calls.length = 0;
    for (let i = 0; i < 8; i++) expect((await p.forward({ ...request, preset: `p${i}` })).runner).toBe(C);
    expect(f.calls.some((c) => c.includes(B))).toBe(false);
    expect(() => p.setRunners([])).toThrow(/at least one/);
    expect(() => p.setRunners([A, `${A}/`])).toThrow(/listed twice/);
    expect(() => p.setRunners(["http://x:1/path"])).toThrow(/without a path/);
  });

  it("echoes the gateway's affinity header per routing key, and sends none before the gateway set one", async () => {
    const seen: (string | undefined)[] = [];
    const gateway = "http://gateway:8080";
    const f = fleet({
      [gateway]: (init) => {
        const sent = (init.headers as Record<string, string>)["x-session-token"];
        seen.push(sent);
        const response = ok();
        response.headers.set("x-session-token", sent ?? `pod-for-${JSON.parse(String(init.body)).preset}`);
        return response;
      },
    });
    const p = new RunnerPool({ runners: [gateway], signingKey: SECRET, fetch: f.fetch, affinityHeader: "X-Session-Token" });
    await p.forward({ ...request, preset: "p1" });
    await p.forward({ ...request, preset: "p1" });
    await p.forward({ ...request, preset: "p2" });
    await p.forward({ ...request, preset: "p1" });
    expect(seen).toEqual([undefined, "pod-for-p1", undefined, "pod-for-p1"]);
    // without the option nothing is remembered or sent
    seen.length = 0;
    const plain = new RunnerPool({ runners: [gateway], signingKey: SECRET, fetch: f.fetch });
    await plain.forward(request);
    await plain.forward(request);
    expect(seen).toEqual([undefined, undefined]);
  });
});
