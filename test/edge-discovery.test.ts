/**
 * Pool discovery end to end: the production worker in workerd (Miniflare, real D1/R2) with no RUNNER_URLS, and
 * real runner processes that announce themselves with signed heartbeats (RUNNER_REGISTER_URL). Under a steady
 * stream of public forward requests, runners join (one at start, one mid-load), one leaves by draining (SIGTERM:
 * it says so, the edge drops it at once), one dies without a word (SIGKILL: the edge retries elsewhere and its
 * row expires) and another joins: no request fails and every answer equals the library's.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./helpers/edge-platform.js";
import { seededEdge, type SeededEdge, type StreamResult } from "./helpers/edge-stream.js";
import { PRESET, SIGNING_KEY } from "./helpers/runner-fixtures.js";
import { startRunnerProcess, type RunnerProcess } from "./helpers/runner-process.js";

const ADMIN = "edge-discovery-admin-token";
const TTL_MS = 3_000;
let seeded: SeededEdge;
const runners = new Map<string, RunnerProcess>();

async function startRunner(id: string): Promise<RunnerProcess> {
  const port = await freePort();
  const proc = await startRunnerProcess({
    RUNNER_HOST: "127.0.0.1",
    RUNNER_PORT: String(port),
    RUNNER_ID: id,
    RUNNER_SIGNING_KEY: SIGNING_KEY,
    RUNNER_STORE: new URL("/internal/objects", seeded.edge.url).href,
    RUNNER_CACHE_DIR: join(seeded.fx.dir, `cache-${id}`),
    RUNNER_THREADS: "1",
    RUNNER_PRELOAD: PRESET,
    RUNNER_DRAIN_TIMEOUT_MS: "10000",
    RUNNER_REGISTER_URL: seeded.edge.url.href,
    RUNNER_ADVERTISE_URL: `http://127.0.0.1:${port}`,
    RUNNER_HEARTBEAT_INTERVAL_MS: "500",
  });
  runners.set(id, proc);
  return proc;
}

/** The runners the edge's D1 lists as live. */
async function announced(): Promise<string[]> {
  const db = await seeded.edge.mf.getD1Database("DB");
  const { results } = await db.prepare("SELECT runner_id FROM runners WHERE expires_at > ? ORDER BY runner_id").bind(Date.now()).all<{ runner_id: string }>();
  return results.map((r: { runner_id: string }) => r.runner_id);
}

beforeAll(async () => {
  seeded = await seededEdge(
    { RUNNER_URLS: "", RUNNER_SIGNING_KEY: SIGNING_KEY, RUNNER_TIMEOUT_MS: "20000", RUNNER_HEALTH_INTERVAL_MS: "200", RUNNER_DISCOVERY_INTERVAL_MS: "200", RUNNER_HEARTBEAT_TTL_MS: String(TTL_MS) },
    ADMIN,
  );
}, 120_000);

afterAll(async () => {
  for (const p of runners.values()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await Promise.all([...runners.values()].map((p) => p.exited));
  await seeded?.edge.dispose();
});

describe("runners joining and leaving through heartbeats", () => {
  it("before any runner announces itself, the edge says none is configured", async () => {
    await expect(seeded.forward(0)).rejects.toThrow(/^503 .*no_runner_configured/);
  });

  it("serves a steady stream while runners join, drain, die and join: 0 failed requests", async () => {
    await startRunner("runner-a");
    await expect.poll(() => seeded.forward(0).then((r) => r.runner, () => null), { timeout: 10_000, interval: 100 }).toBe("runner-a");

    // Load in rounds of 20 requests from 4 clients until stopped; runners change underneath it.
    const rounds: StreamResult[] = [];
    let loading = true;
    const load = (async () => {
      for (let i = 0; loading; i += 20) rounds.push(await seeded.stream(i, 20, 4));
    })();
    const served = (id: string) => rounds.some((r) => r.byRunner.has(id));

    await startRunner("runner-b"); // joins mid-load
    await expect.poll(() => served("runner-b"), { timeout: 30_000, interval: 100 }).toBe(true);

    const a = runners.get("runner-a")!;
    a.child.kill("SIGTERM"); // leaves: drains and tells the edge
    expect(await a.exited).toBe(0);
    expect(await announced()).toEqual(["runner-b"]);

    await startRunner("runner-c");
    await expect.poll(() => served("runner-c"), { timeout: 30_000, interval: 100 }).toBe(true);
    runners.get("runner-b")!.child.kill("SIGKILL"); // dies without a word: retried elsewhere, then expires
    await expect.poll(announced, { timeout: TTL_MS + 5_000, interval: 200 }).toEqual(["runner-c"]);
    const after = rounds.length;
    await expect.poll(() => rounds.length, { timeout: 30_000, interval: 100 }).toBeGreaterThan(after + 1);
    loading = false;
    await load;

    const failures = rounds.flatMap((r) => r.failures);
    expect(failures).toEqual([]);
    const total = rounds.reduce((n, r) => n + r.ok, 0);
    expect(total).toBeGreaterThan(100);
    expect(Math.max(...rounds.map((r) => r.worst))).toBeLessThan(1e-5);
    for (const id of ["runner-a", "runner-b", "runner-c"]) expect(served(id), id).toBe(true);
    expect(rounds.slice(-1)[0].byRunner).toEqual(new Map([["runner-c", 20]])); // only the live runner at the end
  }, 240_000);
});
