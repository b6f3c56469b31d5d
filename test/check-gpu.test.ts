/**
 * `npm run check:gpu` on this GPU-less machine: its CPU path (a clear "no GPU found", the golden Gemma / Gemma 2
 * checks on CPU, GPU steps skipped with their reason, exit 0) and, with a stand-in nvidia-smi that reports a GPU
 * onnxruntime cannot use, its failure path (CUDA and WebGPU probed and reported unavailable, exit 1). The GPU
 * path itself runs where a GPU is.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tmp } from "./helpers/runner-fixtures.js";
import { ROOT } from "./helpers/runner-process.js";

function checkGpu(path = process.env.PATH ?? "") {
  const run = spawnSync(process.execPath, ["--import", "tsx", "test/bench/check-gpu.ts"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: path }, timeout: 120_000 });
  return { status: run.status, stderr: run.stderr, summary: JSON.parse(run.stdout) };
}

describe("check:gpu", () => {
  it("without a GPU: says so, runs the golden checks on CPU, skips the GPU steps, exits 0", () => {
    const { status, stderr, summary } = checkGpu();
    expect(stderr).toContain("no GPU found");
    expect(status).toBe(0);
    expect(summary).toMatchObject({ check: "gpu", gpu: null, provider: "cpu", ok: true, message: expect.stringContaining("no GPU found") });
    expect(summary.providers).toMatchObject({ cuda: { status: "skipped", reason: "no GPU found" }, webgpu: { status: "skipped", reason: "no GPU found" }, cpu: { status: "passed" } });
    expect(summary.golden).toMatchObject({ status: "passed", provider: "cpu", tolerance: 1e-3 });
    expect(Object.keys(summary.golden.max_abs_diff)).toEqual(["gemma", "gemma2"]);
    for (const diff of Object.values(summary.golden.max_abs_diff) as number[]) expect(diff).toBeLessThan(1e-4); // fp32 CPU lands near 1e-5
    expect(summary.bench_runner).toMatchObject({ status: "skipped", reason: expect.stringContaining("no GPU found") });
    expect(summary.bench_large).toMatchObject({ status: "skipped", reason: expect.stringContaining("no GPU found") });
    expect(summary.seconds).toBeLessThan(8 * 60);
  });

  it("with a GPU that onnxruntime cannot use: probes CUDA and WebGPU, reports why each failed, exits 1", () => {
    const bin = tmp("edgebone-fake-smi-");
    writeFileSync(join(bin, "nvidia-smi"), "#!/bin/sh\necho 'NVIDIA H200, 143771 MiB, 570.124.06'\n");
    chmodSync(join(bin, "nvidia-smi"), 0o755);
    const { status, summary } = checkGpu(`${bin}:${process.env.PATH}`);
    expect(status).toBe(1);
    expect(summary.gpu).toEqual([{ name: "NVIDIA H200", memory: "143771 MiB", driver: "570.124.06" }]);
    expect(summary).toMatchObject({ ok: false, provider: null, message: "a GPU is present but neither CUDA nor WebGPU works" });
    expect(summary.providers.cuda).toMatchObject({ status: "failed", reason: expect.stringMatching(/^cuda is unavailable: /) });
    expect(summary.providers.webgpu).toMatchObject({ status: "failed", reason: expect.stringMatching(/^webgpu is unavailable: /) });
    expect(summary.providers.cpu.status).toBe("passed");
    expect(summary.golden.status).toBe("failed");
    expect(summary.bench_runner).toMatchObject({ status: "skipped", reason: "no GPU provider works" });
  });
});
