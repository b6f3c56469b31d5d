/** The `edgebone` CLI as a user runs it: a real process, real files, one-line errors and exit codes. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { edgeboneCli } from "./helpers/cli.js";
import { Backbone, nodeRuntime, tokenBatch } from "../shared/node/index.js";
import { GOLDEN_DIR, loadGolden, maxAbsDiff } from "./helpers/golden.js";

const dir = mkdtempSync(join(tmpdir(), "edgebone-cli-"));

const edgebone = edgeboneCli(join(dir, "store"));

function writeInput(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

describe("edgebone forward", () => {
  const golden = loadGolden("gemma2");
  const input = writeInput("in.json", { input_ids: golden.inputIds, attention_mask: golden.attentionMask });

  it("writes nested sequence_output that matches HF, on both runtimes", async () => {
    for (const runtime of ["wasm", "node"]) {
      const out = join(dir, `out-${runtime}.json`);
      const r = await edgebone("forward", "--preset", `${GOLDEN_DIR}gemma2`, "--input", input, "--output", out, "--runtime", runtime);
      expect(r.code, r.stderr).toBe(0);
      const { sequence_output } = JSON.parse(readFileSync(out, "utf8"));
      expect(sequence_output.shape).toEqual([2, 12, 64]);
      const data = Float32Array.from(sequence_output.data.flat(2));
      expect(maxAbsDiff({ dtype: "float32", shape: [2, 12, 64], data }, golden.lastHiddenState, golden.validLengths)).toBeLessThanOrEqual(1e-4);
    }
  });

  it("prints to stdout, accepts token_ids/padding_mask, and runs built-in presets with random weights", async () => {
    const small = writeInput("small.json", { token_ids: [[101, 2023, 102]], padding_mask: [[1, 1, 1]] });
    const r = await edgebone("forward", "--preset", "distil_bert_base_en_uncased", "--random-weights", "--seed", "7", "--input", small);
    expect(r.code, r.stderr).toBe(0);
    const { sequence_output } = JSON.parse(r.stdout);
    expect(sequence_output.shape).toEqual([1, 3, 768]);
    // Same seed, same numbers as the library.
    const backbone = await Backbone.fromPreset("distil_bert_base_en_uncased", { loadWeights: false, seed: 7 });
    const lib = await (await backbone.createSession(nodeRuntime())).forward(tokenBatch([[101, 2023, 102]]));
    expect(sequence_output.data[0][0][0]).toBeCloseTo(lib.sequenceOutput.data[0], 4);
  });

  it.each([
    [["--input", "missing.json"], /cannot read .*missing.json: no such file/],
    [["--input", "BAD_JSON"], /is not valid JSON/],
    [["--input", "OUT_OF_RANGE"], /token_ids\[0\]\[1\] = 1000 is out of range for vocabulary size 1000/],
    [["--input", "RAGGED"], /token_ids is ragged: row 1 has 2 values, row 0 has 3/],
    [["--input", "MISMATCH"], /padding_mask row 0 has 2 values but token_ids rows have 3/],
    [["--input", "TOO_LONG"], /sequence length 65 exceeds the model's max_sequence_length 64/],
    [["--input", "NO_IDS"], /needs "token_ids" \(or "input_ids"\)/],
  ])("fails with one clear line for %j", async (args, message) => {
    const inputs: Record<string, unknown> = {
      BAD_JSON: "{\"token_ids\": [[1,",
      OUT_OF_RANGE: { token_ids: [[1, 1000, 2]] },
      RAGGED: { token_ids: [[1, 2, 3], [1, 2]] },
      MISMATCH: { token_ids: [[1, 2, 3]], padding_mask: [[1, 1]] },
      TOO_LONG: { token_ids: [Array(65).fill(1)] },
      NO_IDS: { ids: [[1]] },
    };
    const path = inputs[args[1]] === undefined ? join(dir, args[1]) : writeInput(`${args[1]}.json`, inputs[args[1]]);
    const r = await edgebone("forward", "--preset", `${GOLDEN_DIR}distilbert`, "--input", path);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });

  it("reports usage errors with exit code 2", async () => {
    expect((await edgebone("forward", "--input", input)).stderr).toMatch(/--preset is required/);
    const r = await edgebone("forward", "--preset", "x", "--input", input, "--runtime", "gpu");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--runtime must be one of wasm, node/);
    expect((await edgebone("nope")).stderr).toMatch(/unknown command "nope"/);
    expect((await edgebone("forward", "--bogus")).stderr).toMatch(/Unknown option '--bogus'/);
    const missing = await edgebone("forward", "--preset", "gemma_2b_en", "--input", input);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/built-in preset "gemma_2b_en" is not installed in local preset directory/);
  });
});

describe("edgebone presets and save-preset", () => {
  it("lists presets as a table and as JSON", async () => {
    const table = await edgebone("presets");
    expect(table.stdout).toMatch(/distil_bert_base_en_uncased\s+DistilBertBackbone\s+66\.36M\s+kaggle:\/\/keras\/distil_bert/);
    const json = JSON.parse((await edgebone("presets", "--json")).stdout);
    expect(json).toHaveLength(27);
    expect(json.find((p: { name: string }) => p.name === "gemma2_27b_en")).toMatchObject({ family: "GemmaBackbone", parameters: "27.23B" });
  });

  it("converts an HF checkpoint into a KerasHub-format preset that a built-in name then resolves to", async () => {
    const out = join(dir, "store", "xlm_roberta_base_multi");
    const r = await edgebone("save-preset", "--preset", `${GOLDEN_DIR}roberta`, "--out", out, "--dtype", "float16");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/writing RobertaBackbone \([\d,]+ parameters, float16\)/);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).registered_name).toBe("keras_hub>RobertaBackbone");
    const loaded = await Backbone.fromPreset(out);
    expect(loaded.dtype).toBe("float16");
  });
});
