/** LoRA through the CLI: lora-init, forward --adapter, merge-lora, lora-convert (real processes and files). */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { edgeboneCli } from "./helpers/cli.js";
import { Backbone, nodeRuntime, tokenBatch, writeSafetensors, type Tensor } from "../shared/node/index.js";
import { GOLDEN_DIR, loadGolden, maxAbsDiff } from "./helpers/golden.js";

const dir = mkdtempSync(join(tmpdir(), "edgebone-lora-cli-"));
const preset = `${GOLDEN_DIR}gemma2`;
const golden = loadGolden("gemma2");
const input = join(dir, "in.json");
writeFileSync(input, JSON.stringify({ token_ids: golden.inputIds, padding_mask: golden.attentionMask }));

const edgebone = edgeboneCli(join(dir, "store"));

async function cliForward(...extra: string[]): Promise<Tensor> {
  const r = await edgebone("forward", "--input", input, "--runtime", "node", ...extra);
  expect(r.code, r.stderr).toBe(0);
  const { sequence_output } = JSON.parse(r.stdout);
  return { dtype: "float32", shape: sequence_output.shape, data: Float32Array.from(sequence_output.data.flat(2)) };
}

describe("LoRA CLI", () => {
  const adapter = join(dir, "tenant.lora.h5");

  it("lora-init writes a KerasHub adapter that forward --adapter applies like the library", async () => {
    const init = await edgebone("lora-init", "--preset", preset, "--rank", "4", "--seed", "3", "--random-b", "--out", adapter);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toMatch(/wrote rank-4 adapter for GemmaBackbone .*: [\d,]+ trainable, [\d,]+ frozen parameters/);

    const backbone = await Backbone.fromPreset(preset);
    await backbone.loadLoraWeights(adapter);
    const session = await backbone.createSession(nodeRuntime({ threads: 1 }));
    const library = (await session.forward(tokenBatch(golden.inputIds, golden.attentionMask))).sequenceOutput;
    const cli = await cliForward("--preset", preset, "--adapter", adapter);
    expect(maxAbsDiff(cli, library, golden.validLengths)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(cli, golden.lastHiddenState, golden.validLengths)).toBeGreaterThan(1e-3);
  });

  it("merge-lora folds the adapter into a preset with the same outputs", async () => {
    const merged = join(dir, "merged");
    const r = await edgebone("merge-lora", "--preset", preset, "--adapter", adapter, "--out", merged);
    expect(r.code, r.stderr).toBe(0);
    const viaAdapter = await cliForward("--preset", preset, "--adapter", adapter);
    const scale = Math.max(1, ...viaAdapter.data.map(Math.abs)); // 1e-5 relative: the random B makes Δ large
    expect(maxAbsDiff(await cliForward("--preset", merged), viaAdapter, golden.validLengths)).toBeLessThanOrEqual(1e-5 * scale);
  });

  it("lora-convert moves adapters between .lora.h5, .lora.safetensors and PEFT", async () => {
    const st = join(dir, "tenant.lora.safetensors");
    expect((await edgebone("lora-convert", "--from", adapter, "--preset", preset, "--out", st)).code).toBe(0);
    expect(maxAbsDiff(await cliForward("--preset", preset, "--adapter", st), await cliForward("--preset", preset, "--adapter", adapter))).toBe(0);

    // A PEFT adapter directory → .lora.h5 (per-head at rank heads·r).
    const peft = join(dir, "peft");
    const backbone = await Backbone.fromPreset(preset);
    const tensors: [string, Tensor][] = [];
    for (const t of backbone.loraTargets()) {
      const a = Float32Array.from({ length: 2 * t.inputDim }, (_, i) => Math.sin(i) * 0.1);
      const b = Float32Array.from({ length: t.heads * t.headDim * 2 }, (_, i) => Math.cos(i) * 0.1);
      tensors.push([`base_model.model.model.${t.hfModule}.lora_A.weight`, { dtype: "float32", shape: [2, t.inputDim], data: a }]);
      tensors.push([`base_model.model.model.${t.hfModule}.lora_B.weight`, { dtype: "float32", shape: [t.heads * t.headDim, 2], data: b }]);
    }
    const { mkdirSync } = await import("node:fs");
    mkdirSync(peft);
    writeFileSync(join(peft, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: 2, lora_alpha: 4, target_modules: ["q_proj", "v_proj"] }));
    writeFileSync(join(peft, "adapter_model.safetensors"), writeSafetensors(tensors));
    const h5 = join(dir, "from-peft.lora.h5");
    const converted = await edgebone("lora-convert", "--from", peft, "--preset", preset, "--out", h5);
    expect(converted.code, converted.stderr).toBe(0);
    expect(converted.stderr).toMatch(/per-head, rank heads·r, scale folded into B/);
    expect(maxAbsDiff(await cliForward("--preset", preset, "--adapter", h5), await cliForward("--preset", preset, "--adapter", peft), golden.validLengths)).toBeLessThanOrEqual(1e-5);
  });

  it("fails with one clear line on bad adapters", async () => {
    const wrongSuffix = join(dir, "adapter.h5");
    writeFileSync(wrongSuffix, readFileSync(adapter));
    for (const [args, message] of [
      [["forward", "--preset", preset, "--input", input, "--adapter", wrongSuffix], /filename must end in .lora.h5 or .lora.safetensors/],
      [["forward", "--preset", preset, "--input", input, "--adapter", join(dir, "missing.lora.h5")], /adapter .*missing.lora.h5 does not exist/],
      [["forward", "--preset", `${GOLDEN_DIR}distilbert`, "--input", input, "--adapter", adapter], /holds 8 LoRA layers, DistilBertBackbone has 4/],
      [["lora-init", "--preset", preset, "--out", join(dir, "x.lora.h5")], /--rank is required/],
    ] as const) {
      const r = await edgebone(...args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
