/**
 * Admission control in the runtime users run: the production worker under `wrangler dev --local` (local D1/R2,
 * the demo encoder of `npm start` installed through the admin API, EDGE_MAX_CONCURRENCY=2, EDGE_MAX_QUEUE=8).
 * Bursts of 24 concurrent /v1/embeddings get only 200 or 429 with Retry-After, and the isolate serves on after.
 * The limiter this replaced handed slots over by resolving promises across requests, which workerd refuses: there
 * the first burst got 500 "code had hung" and every later request 500 or 429 (Miniflare in vitest did not show it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readReply, type Reply } from "./helpers/reply.js";
import { DEMO_ENCODER, startWranglerPlatform, type WranglerPlatform } from "./helpers/wrangler-dev.js";

let platform: WranglerPlatform | undefined;

beforeAll(async () => {
  platform = await startWranglerPlatform({ EDGE_MAX_CONCURRENCY: "2", EDGE_MAX_QUEUE: "8" });
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const INPUTS = 8;
// ~120 tokens each: an inference takes long enough for a burst to queue up behind it
const TEXT = Array.from({ length: 120 }, (_, i) => ["the", "quick", "brown", "fox", "jumps"][i % 5]).join(" ");

/**
 * wrangler dev's own proxy answers a plain-text 503 "Your worker restarted mid-request" when its connection to the
 * worker drops (seen only on a heavily overloaded machine, during the worker's D1 write; never the worker's answer):
 * such a request is sent again, as that message asks, and counted.
 */
let proxyRetries = 0;

async function embeddings(p: WranglerPlatform): Promise<Reply> {
  for (let attempt = 1; ; attempt++) {
    const reply = await fetch(new URL("/v1/embeddings", p.url), {
      method: "POST",
      headers: { authorization: `Bearer ${p.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: DEMO_ENCODER, input: Array(INPUTS).fill(TEXT) }),
    }).then(readReply);
    if (reply.status !== 503 || !/^Your worker restarted mid-request/.test(reply.json.raw ?? "") || attempt === 3) return reply;
    proxyRetries++;
  }
}

function expectServedOrRefused(r: Reply): void {
  if (r.status === 200) {
    expect(r.json.data).toHaveLength(INPUTS);
    for (const d of r.json.data) expect(d.embedding.every(Number.isFinite) && d.embedding.length).toBe(128);
  } else {
    expect(r.status, JSON.stringify(r.json)).toBe(429);
    expect(r.json.error).toMatchObject({ type: "rate_limit_error", code: "over_capacity" });
    expect(r.headers.get("retry-after")).toBe("1");
  }
}

describe("admission under wrangler dev", () => {
  it("bursts of 24 concurrent requests get 200 or 429 + Retry-After, never a hang, and the isolate serves on", async () => {
    const p = platform!;
    expect((await embeddings(p)).status).toBe(200); // the model is loaded: the bursts measure admission only
    const served: number[] = [];
    const refused: number[] = [];
    for (let round = 0; round < 3; round++) {
      const replies = await Promise.all(Array.from({ length: 24 }, () => embeddings(p)));
      replies.forEach(expectServedOrRefused);
      served.push(replies.filter((r) => r.status === 200).length);
      refused.push(replies.filter((r) => r.status === 429).length);
    }
    console.log(`admission under wrangler dev: 200 per burst of 24: ${served.join(", ")}; 429: ${refused.join(", ")}; wrangler proxy retries: ${proxyRetries}`);
    expect(Math.min(...served)).toBeGreaterThanOrEqual(2);
    expect(refused.reduce((a, b) => a + b)).toBeGreaterThan(0); // the queue bound was reached
    // no slot or ticket was lost: a burst within capacity (2 running + 8 queued) is served in full
    const within = await Promise.all(Array.from({ length: 8 }, () => embeddings(p)));
    expect(within.map((r) => r.status)).toEqual(Array(8).fill(200));
    const health = await fetch(new URL("/health", p.url)).then(readReply);
    expect([health.status, health.json]).toEqual([200, { status: "ok" }]);
    expect(p.logs()).not.toMatch(/hung|different request context/);
  }, 120_000);
});
