/**
 * `npm run fuzz -- [--runs 10000] [--seed N] [--concurrency 4] [--timeout-ms 30000]`: the fuzz suite of
 * test/helpers/fuzz.ts at scale against the production bundle in workerd (the CI test, test/edge-fuzz.test.ts,
 * runs a bounded number). Prints the answers by status and by route, latency, every failure with its request,
 * and whether the platform is healthy after; exits non-zero on any failure.
 */
import { parseArgs } from "node:util";
import fc from "fast-check";
import { FuzzTally, fuzzRequests, send, startFuzzTarget, unhealthy } from "../helpers/fuzz.js";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "10000" }, seed: { type: "string" }, concurrency: { type: "string", default: "4" }, "timeout-ms": { type: "string", default: "30000" } },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const concurrency = Number(values.concurrency);
const timeoutMs = Number(values["timeout-ms"]);

const t0 = performance.now();
const target = await startFuzzTarget();
console.log(`production bundle on ${target.url.href} (${((performance.now() - t0) / 1000).toFixed(1)} s to start and install); ${runs} requests, seed ${seed}, ${concurrency} at a time`);
const tally = new FuzzTally();
let exitCode = 0;
try {
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
  const sick = await unhealthy(target);
  console.log(sick.length ? `UNHEALTHY after the run: ${sick.join("; ")}` : "healthy after the run: /health 200, embeddings 200");
  if (tally.failures.length || sick.length) exitCode = 1;
} finally {
  await target.dispose();
}
process.exit(exitCode);
