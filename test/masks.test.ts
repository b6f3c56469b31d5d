/**
 * Attention visibility, checked by behaviour: perturb one input token and see which outputs move.
 * Row r of the sliding-window mask (W=5, T=10) must see exactly the keys the KerasHub test pins.
 */
import { describe, expect, it } from "vitest";
import { DistilBertBackbone, GemmaBackbone, nodeRuntime, tokenBatch, type Backbone } from "../shared/node/index.js";

const runtime = nodeRuntime({ threads: 1 });

/** For each output position: did it change when token `at` changed? */
async function influence(backbone: Backbone, ids: number[], at: number, mask?: number[]): Promise<boolean[]> {
  const session = await backbone.createSession(runtime);
  const changed = [...ids];
  changed[at] = (ids[at] + 7) % backbone.vocabularySize;
  const m = mask ? [mask, mask] : undefined;
  const { sequenceOutput: out } = await session.forward(tokenBatch([ids, changed], m));
  const [, T, H] = out.shape;
  return Array.from({ length: T }, (_, t) => {
    for (let h = 0; h < H; h++) if (Math.abs(out.data[t * H + h] - out.data[(T + t) * H + h]) > 1e-6) return true;
    return false;
  });
}

const tinyGemma = (extra: object = {}) =>
  new GemmaBackbone({ vocabularySize: 50, numLayers: 1, numQueryHeads: 4, numKeyValueHeads: 2, hiddenDim: 16, intermediateDim: 32, headDim: 8, seed: 3, ...extra });
const ids = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];

describe("Gemma masks", () => {
  it("is causal: a token influences itself and later positions only", async () => {
    expect(await influence(tinyGemma(), ids, 4)).toEqual([false, false, false, false, true, true, true, true, true, true]);
  });

  it("sliding window W=5 on block 0: query i sees keys i-4..i (KerasHub test_sliding_window rows)", async () => {
    const local = tinyGemma({ useSlidingWindowAttention: true, slidingWindowSize: 5 });
    for (let j = 0; j < 10; j++) {
      const seen = await influence(local, ids, j);
      // Column j of the pinned matrix, restricted to causal rows: visible from rows j..j+4.
      expect(seen, `key ${j}`).toEqual(ids.map((_, r) => r >= j && r - j <= 4));
    }
  });

  it("odd blocks are global: a 2-block model's block 1 sees the whole prefix", async () => {
    const twoBlocks = tinyGemma({ numLayers: 2, useSlidingWindowAttention: true, slidingWindowSize: 2 });
    // Through block 0 (window 2) then block 1 (global), token 0 reaches every later position.
    expect(await influence(twoBlocks, ids, 0)).toEqual(ids.map(() => true));
  });

  it("ignores padded keys", async () => {
    const mask = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
    expect((await influence(tinyGemma(), ids, 7, mask)).slice(0, 6)).toEqual([false, false, false, false, false, false]);
  });
});

describe("encoder masks", () => {
  const bert = new DistilBertBackbone({ vocabularySize: 50, numLayers: 1, numHeads: 2, hiddenDim: 8, intermediateDim: 16, seed: 5 });
  it("is bidirectional over real tokens", async () => {
    expect(await influence(bert, ids, 9)).toEqual(ids.map(() => true));
  });
  it("ignores padded keys", async () => {
    const mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
    expect((await influence(bert, ids, 9, mask)).slice(0, 8)).toEqual(Array(8).fill(false));
  });
});
