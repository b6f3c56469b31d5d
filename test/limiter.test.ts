/**
 * workers/limiter.ts in Node: slots, the bounded queue and its order, 429 and 503 with Retry-After, waiters that
 * vanish (as workerd cancels a request whose client went away) and waiters held up by a long synchronous
 * inference, and the wedge report of /health. The same limiter under `wrangler dev`: test/edge-admission.test.ts.
 */
import { describe, expect, it } from "vitest";
import { Limiter, type LimiterOptions } from "../workers/limiter.js";

const limiter = (options: Partial<LimiterOptions> = {}) => new Limiter({ concurrency: 2, queue: 2, maxWaitMs: 5000, wedgedAfterMs: 60_000, pollMs: 5, ...options });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A task that runs until its gate opens, recording when it started. */
function gated(started: string[], name: string) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return {
    open: () => open(),
    task: async () => {
      started.push(name);
      await gate;
      return name;
    },
  };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(5)) {
    if (Date.now() > deadline) throw new Error("condition not reached");
  }
}

describe("Limiter", () => {
  it("runs `concurrency` tasks at once, queues `queue` more in arrival order, refuses the rest with 429 and Retry-After", async () => {
    const l = limiter();
    const started: string[] = [];
    const tasks = ["a", "b", "c", "d"].map((n) => gated(started, n));
    const runs = tasks.map((t) => l.run(t.task));
    const refused = await l.run(async () => "e").catch((e) => e);
    expect(refused).toMatchObject({ status: 429, code: "over_capacity", headers: { "retry-after": "1" } });
    expect(refused.message).toMatch(/over capacity: 2 inferences running and 2 queued/);
    await until(() => started.length === 2);
    await sleep(30);
    expect([started, l.inFlight, l.queued]).toEqual([["a", "b"], 2, 2]); // c and d wait
    tasks[1].open();
    await until(() => started.length === 3);
    expect(started[2]).toBe("c"); // the oldest waiter first
    tasks[0].open();
    tasks[2].open();
    tasks[3].open();
    expect(await Promise.all(runs)).toEqual(["a", "b", "c", "d"]);
    expect(started).toEqual(["a", "b", "c", "d"]);
    expect([l.inFlight, l.queued]).toEqual([0, 0]);
  });

  it("a request that waits longer than maxWaitMs gets 503 queue_timeout and leaves the queue", async () => {
    const l = limiter({ concurrency: 1, maxWaitMs: 100 });
    const holder = gated([], "holder");
    const running = l.run(holder.task);
    const t0 = Date.now();
    const waited = await l.run(async () => "never").catch((e) => e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(waited).toMatchObject({ status: 503, code: "queue_timeout", headers: { "retry-after": "1" } });
    expect(l.queued).toBe(0);
    holder.open();
    await running;
    expect(await l.run(async () => "after")).toBe("after");
  });

  it("a waiter that vanished (its timers never fire again) is dropped, and the next waiter gets the slot", async () => {
    const l = limiter({ concurrency: 1 });
    const holder = gated([], "holder");
    const running = l.run(holder.task);
    await until(() => l.inFlight === 1);
    // workerd cancels a request whose client went away: its code never runs again and no `finally` runs
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = (() => 0) as unknown as typeof setTimeout;
    void l.run(async () => "vanished");
    globalThis.setTimeout = realSetTimeout;
    const next = l.run(async () => "next");
    expect(l.queued).toBe(2);
    holder.open();
    await running;
    const t0 = Date.now();
    expect(await next).toBe("next"); // not 503 after maxWaitMs behind the vanished ticket
    expect(Date.now() - t0).toBeLessThan(2500);
    expect([l.inFlight, l.queued]).toEqual([0, 0]);
  });

  it("a queue full of vanished waiters does not refuse the next request for good", async () => {
    const l = limiter({ concurrency: 1, queue: 2 });
    const holder = gated([], "holder");
    const running = l.run(holder.task);
    await until(() => l.inFlight === 1);
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = (() => 0) as unknown as typeof setTimeout; // both waiters vanish at once
    void l.run(async () => "vanished");
    void l.run(async () => "vanished");
    globalThis.setTimeout = realSetTimeout;
    await expect(l.run(async () => "refused")).rejects.toMatchObject({ status: 429 }); // they may still be alive
    await sleep(1100);
    const next = l.run(async () => "admitted"); // they are gone now: no one polled for a second
    holder.open();
    await running;
    expect(await next).toBe("admitted");
    expect([l.inFlight, l.queued]).toEqual([0, 0]);
  });

  it("waiters held up by a long synchronous task keep their places", async () => {
    const l = limiter({ concurrency: 1, queue: 8 });
    const order: number[] = [];
    const busy = (ms: number) => {
      for (const end = Date.now() + ms; Date.now() < end; ); // a forward pass: never yields
    };
    const runs = [0, 1, 2, 3, 4].map((i) =>
      l.run(async () => {
        order.push(i);
        busy(i === 0 ? 1500 : 10); // the first holds the event loop longer than a ticket may go unpolled
      }),
    );
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it("a waiter dropped as stale while its timer was late takes its place back", async () => {
    const l = limiter({ concurrency: 1 });
    const started: string[] = [];
    const holder = gated(started, "holder");
    const running = l.run(holder.task);
    await until(() => l.inFlight === 1);
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void) => realSetTimeout(fn, 1300)) as typeof setTimeout; // its first turn comes late
    const late = l.run(async () => void started.push("late"));
    globalThis.setTimeout = realSetTimeout;
    const younger = l.run(async () => void started.push("younger"));
    await sleep(1100);
    expect(l.queued).toBe(1); // the younger waiter took the late one for gone
    await sleep(400);
    expect(l.queued).toBe(2); // back, in front
    holder.open();
    await Promise.all([running, late, younger]);
    expect(started).toEqual(["holder", "late", "younger"]);
  });

  it("reports a slot held longer than wedgedAfterMs", async () => {
    const l = limiter({ wedgedAfterMs: 50 });
    const holder = gated([], "holder");
    const running = l.run(holder.task);
    await sleep(10);
    expect(l.wedged()).toBeNull();
    await sleep(80);
    expect(l.wedged()).toMatch(/^1 of 2 inference slots held longer than 0.05 s \(the longest 0\.\d s\)/);
    holder.open();
    await running;
    expect(l.wedged()).toBeNull();
  });
});
