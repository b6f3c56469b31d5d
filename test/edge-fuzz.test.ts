/**
 * Property-based fuzzing of every route of the production bundle in workerd (test/helpers/fuzz.ts): 1,000 drawn
 * requests, none answered >= 500 except 503 with a JSON reason (the runner pool is down), every error in its
 * route's JSON shape, every success in its shape with finite numbers, none unanswered; the platform healthy after.
 * Failures shrink to a minimal request and print the seed; `npm run fuzz -- --runs 10000 [--seed N]` runs more.
 */
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FuzzTally, fuzzRequests, send, startFuzzTarget, unhealthy, type FuzzTarget } from "./helpers/fuzz.js";

const RUNS = 1_000;
let target: FuzzTarget | undefined;

beforeAll(async () => {
  target = await startFuzzTarget();
}, 120_000);

afterAll(async () => {
  await target?.dispose();
});

it(`${RUNS} fuzzed requests: no 5xx but 503 with a reason, JSON in each route's shape, healthy after`, async () => {
  const t = target!;
  const tally = new FuzzTally();
  await fc.assert(
    fc.asyncProperty(fuzzRequests(t), async (r) => {
      const found = tally.add(r, await send(t.url, r, 30_000).catch((e: Error) => e));
      expect(found, `${r.method} ${r.path}`).toEqual([]);
    }),
    { numRuns: RUNS },
  );
  console.log(tally.summary());
  expect(tally.byStatus.get("200")).toBeGreaterThan(RUNS / 10); // the draws reach the models, not only the validation
  expect(await unhealthy(t)).toEqual([]);
}, 180_000);
