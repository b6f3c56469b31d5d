/**
 * Memory of oversized inputs, in Node with the worker's tokenization (Preprocessor.chunk, what /v1/embeddings runs):
 * the largest request the limits let through (workers/limits.ts: 128,000 characters in one input, 256,000 in all)
 * costs a bounded transient, and the heap comes back to its resting size afterwards (issue #10: one 8 MB word took
 * workerd from 125 MB to 1.17 GB and it stayed there; the offset maps cost ~220 bytes per character).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { beforeAll, expect, it } from "vitest";
import { MemoryPresetStore, Preprocessor, Tokenizer } from "../shared/node/index.js";
import { wordPieceFiles } from "./helpers/tiny-tokenizers.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const MB = 1024 * 1024;

let pre: Preprocessor;
beforeAll(async () => {
  const files = new MemoryPresetStore().open("wp");
  for (const [name, bytes] of Object.entries(wordPieceFiles())) await files.write(name, bytes);
  pre = new Preprocessor(await Tokenizer.fromPreset(files), {}, 512);
});

it("the largest allowed request costs a bounded transient and the heap returns to rest", () => {
  const request = ["a".repeat(128_000), "hello world ".repeat(10_666)]; // 255,992 characters
  const cold = heap();
  pre.chunk(request); // the first one compiles code paths and fills inline caches: kept, but once
  const rest = heap();
  // in a function of its own: its frame, which may still hold the last result, is gone before the measurement
  const serve = () => {
    let held = 0;
    for (let i = 0; i < 2; i++) {
      const out = pre.chunk(request);
      expect(out.rows.length).toBeGreaterThan(40);
      held = Math.max(held, process.memoryUsage().heapUsed - rest);
    }
    return held;
  };
  const held = serve();
  const after = heap();
  console.log(
    `largest request: heap ${(cold / MB).toFixed(1)} MB before the first, ${(rest / MB).toFixed(1)} MB after it, up to +${(held / MB).toFixed(1)} MB while tokenizing, ${(after / MB).toFixed(1)} MB after 2 more`,
  );
  expect(rest - cold).toBeLessThan(4 * MB);
  expect(held).toBeLessThan(128 * MB);
  expect(after).toBeLessThanOrEqual(rest * 1.05);
});
