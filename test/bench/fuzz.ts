/**
 * `npm run fuzz -- [--runs 10000] [--seed N] [--concurrency 4] [--timeout-ms 30000]`: the fuzz suite of
 * test/helpers/fuzz.ts at scale against the production bundle in workerd (the CI test, test/edge-fuzz.test.ts,
 * runs a bounded number). Prints the answers by status and by route, latency, every failure with its request,
 * and whether the platform is healthy after; exits non-zero on any failure. Also reads the isolate's JS heap (after
 * a full GC, through workerd's inspector) before the run, after it, and after five of the largest inputs the
 * limits allow: an isolate that served oversized inputs must come back to its resting size (issue #10: within 10%
 * of the heap after the run, whose requests fill the isolate's bounded caches).
 */
import { parseArgs } from "node:util";
import fc from "fast-check";
import { freePort } from "../helpers/edge-platform.js";
import { ENCODER, FuzzTally, fuzzRequests, send, startFuzzTarget, unhealthy } from "../helpers/fuzz.js";
import { isolateHeap } from "../helpers/isolate-heap.js";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "10000" }, seed: { type: "string" }, concurrency: { type: "string", default: "4" }, "timeout-ms": { type: "string", default: "30000" } },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const concurrency = Number(values.concurrency);
const timeoutMs = Number(values["timeout-ms"]);

const t0 = performance.now();
const target = await startFuzzTarget(await freePort());
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
/** The largest request the limits let through (255,992 characters, one word of 128,000), five times: 422 after tokenizing. */
async function oversized(): Promise<number[]> {
  const body = JSON.stringify({ model: ENCODER, input: ["a".repeat(128_000), "hello world ".repeat(10_666)] });
  const statuses = [];
  for (let i = 0; i < 5; i++) {
    const res = await fetch(new URL("/v1/embeddings", target.url), { method: "POST", headers: { authorization: `Bearer ${target.key}`, "content-type": "application/json" }, body });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}
console.log(`production bundle on ${target.url.href} (${((performance.now() - t0) / 1000).toFixed(1)} s to start and install); ${runs} requests, seed ${seed}, ${concurrency} at a time`);
const tally = new FuzzTally();
let exitCode = 0;
try {
  await oversized(); // code paths compiled and caches filled once, as in test/input-memory.test.ts
  const heapStart = await isolateHeap(target.inspectorPort!);
  const requests = fc.sample(fuzzRequests(target), { numRuns: runs, seed });
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const r = requests[next++];
        tally.add(r, await send(target.url, r, timeoutMs).catch((e: Error) => e));
        if (tally.count % 1000 === 0) console.log(`  ${tally.count} requests, ${tally.failures.length} failures, ${((performance.now() - start) / 1000).toFixed(0)} s`);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(tally.summary());
  console.log(`${runs} requests in ${seconds.toFixed(1)} s (${(runs / seconds).toFixed(0)}/s); answers >= 500 other than 503: ${tally.serverErrors()}`);
  for (const f of tally.failures.slice(0, 20)) {
    const body = f.request.body ? new TextDecoder().decode(f.request.body).slice(0, 200) : "";
    console.log(`FAIL ${f.request.method} ${f.request.path} ${JSON.stringify(f.request.headers)} ${body}\n     ${f.problems.join("\n     ")}`);
  }
  const heapAfter = await isolateHeap(target.inspectorPort!);
  const statuses = await oversized();
  const heapOversized = await isolateHeap(target.inspectorPort!);
  // the run itself fills bounded caches (presets, sessions, adapters): the oversized inputs are judged against it
  const change = (100 * (heapOversized.used - heapAfter.used)) / heapAfter.used;
  console.log(
    `the isolate's JS heap after a full GC: ${mib(heapStart.used)} MiB before the run, ${mib(heapAfter.used)} MiB after it, ` +
      `${mib(heapOversized.used)} MiB after 5 of the largest allowed inputs (${[...new Set(statuses)].join(", ")}): ${change >= 0 ? "+" : ""}${change.toFixed(1)}%`,
  );
  if (change > 10) {
    console.log("VIOLATION: the heap did not come back within 10% of its resting size");
    exitCode = 1;
  }
  const sick = await unhealthy(target);
  console.log(sick.length ? `UNHEALTHY after the run: ${sick.join("; ")}` : "healthy after the run: /health 200, embeddings 200");
  if (tally.failures.length || sick.length) exitCode = 1;
} finally {
  await target.dispose();
}
process.exit(exitCode);
