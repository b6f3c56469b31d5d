/**
 * End to end: the local platform exactly as `npm start` runs it (workers/tools/start.ts: wrangler dev with local
 * D1/R2, a GPU runner on CPU, demo presets, a demo tenant), in a temporary state directory on free loopback
 * ports. The official `openai` client gets the library's own vectors (float and its default base64 transport);
 * a Gemma request goes through the runner, also with a tenant adapter uploaded to the local R2 (the runner reads
 * it through the worker); a second start reuses the state; Ctrl-C (SIGINT to the group) stops
 * everything.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "./helpers/edge-platform.js";
import { Backbone, Preprocessor, directoryFiles, initLora, loraSafetensorsFormat, tokenBatch, wasmRuntime } from "../shared/node/index.js";

const stateDir = mkdtempSync(join(tmpdir(), "edgebone-start-"));
let child: ChildProcess | undefined;

async function startPlatform(env: Record<string, string>): Promise<{ out: string; child: ChildProcess }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "workers/tools/start.ts"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child = proc;
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/^ready$/m.test(out)) {
        clearInterval(timer);
        resolve();
      } else if (proc.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`npm start exited ${proc.exitCode}: ${err.slice(-2000)}`));
      }
    }, 100);
  });
  return { out, child: proc };
}

async function stopPlatform(proc: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  try {
    process.kill(-proc.pid!, "SIGINT"); // what Ctrl-C sends: the whole foreground group
  } catch {
    return proc.exitCode;
  }
  return exited;
}

afterAll(async () => {
  if (child && child.exitCode === null) await stopPlatform(child);
});

describe("npm start (local platform)", () => {
  it("serves the openai client and the runner, reuses its state, and stops cleanly on Ctrl-C", async () => {
    const [port, runnerPort, inspector] = [await freePort(), await freePort(), await freePort()];
    const env = { EDGEBONE_STATE_DIR: stateDir, EDGEBONE_PORT: String(port), EDGEBONE_RUNNER_PORT: String(runnerPort), EDGEBONE_INSPECTOR_PORT: String(inspector) };
    const first = await startPlatform(env);
    expect(first.out).toContain(`http://127.0.0.1:${port}`);
    const local = Object.fromEntries(readFileSync(join(stateDir, "local.env"), "utf8").trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
    expect(Object.keys(local)).toEqual(["EDGEBONE_URL", "EDGEBONE_API_KEY", "EDGEBONE_ADMIN_TOKEN"]);
    expect(first.out).toContain(local.EDGEBONE_API_KEY);

    // the library's own forward + mean pooling + L2 on the same preset files
    const presetDir = join(stateDir, "presets", "demo-encoder");
    const backbone = await Backbone.fromPreset(presetDir);
    const session = await backbone.createSession(wasmRuntime());
    const pre = await Preprocessor.fromPreset(directoryFiles(presetDir));
    const input = ["the quick brown fox", "hello world"];
    const enc = pre.call(input);
    const { sequenceOutput } = await session.forward(Preprocessor.toTokenBatch(enc));
    const [, T, H] = sequenceOutput.shape;
    const expected = enc.paddingMask.map((mask, b) => {
      const v = new Float64Array(H);
      const n = mask.reduce((a, m) => a + m, 0);
      mask.forEach((m, t) => m && v.forEach((_, h) => (v[h] += (sequenceOutput.data as Float32Array)[(b * T + t) * H + h] / n)));
      const norm = Math.hypot(...v);
      return Array.from(v, (x) => x / norm);
    });

    const client = new OpenAI({ baseURL: `${local.EDGEBONE_URL}/v1`, apiKey: local.EDGEBONE_API_KEY, maxRetries: 0 });
    for (const encoding_format of [undefined, "float" as const, "base64" as const]) {
      const res = await client.embeddings.create({ model: "demo-encoder", input, ...(encoding_format ? { encoding_format } : {}) });
      res.data.forEach((d, i) => {
        const vector = typeof d.embedding === "string" ? Array.from(new Float32Array(Uint8Array.from(Buffer.from(d.embedding, "base64")).buffer)) : d.embedding;
        expect(vector).toHaveLength(H);
        vector.forEach((x, h) => expect(Math.abs(x - expected[i][h])).toBeLessThanOrEqual(1e-5));
      });
    }

    const gemma = await fetch(`${local.EDGEBONE_URL}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${local.EDGEBONE_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "demo-gemma", input: [[2, 10, 20, 30]] }),
    });
    expect(gemma.status).toBe(200);
    expect(gemma.headers.get("x-edgebone-backend")).toBe("runner");
    expect(((await gemma.json()) as { data: { embedding: number[] }[] }).data[0].embedding).toHaveLength(64);

    // a tenant adapter for Gemma: uploaded to the local R2, read by the runner through the worker, applied
    const gemmaBackbone = await Backbone.fromPreset(join(stateDir, "presets", "demo-gemma"));
    const adapterBytes = await loraSafetensorsFormat.encode(initLora(gemmaBackbone.loraTargets(), 4, 5, true), gemmaBackbone);
    const auth = { authorization: `Bearer ${local.EDGEBONE_API_KEY}` };
    const put = await fetch(`${local.EDGEBONE_URL}/v1/adapters/style?base=demo-gemma`, { method: "PUT", headers: auth, body: adapterBytes });
    expect(put.status, await put.clone().text()).toBe(201);
    const ids = [[2, 10, 20, 30]];
    const adapted = await fetch(`${local.EDGEBONE_URL}/v1/models/demo-gemma/forward?adapter=style`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ token_ids: ids }) });
    expect(adapted.status, await adapted.clone().text()).toBe(200);
    expect(adapted.headers.get("x-edgebone-backend")).toBe("runner");
    const gemmaSession = await gemmaBackbone.createSession(wasmRuntime(), { lora: true });
    const adapter = await loraSafetensorsFormat.decode(adapterBytes, gemmaBackbone, "style");
    const want = (await gemmaSession.forward(tokenBatch(ids), { adapters: [adapter] })).sequenceOutput.data as Float32Array;
    const got = ((await adapted.json()) as { sequence_output: { data: number[] } }).sequence_output.data;
    expect(got).toHaveLength(want.length);
    got.forEach((x, i) => expect(Math.abs(x - want[i])).toBeLessThanOrEqual(1e-4));
    const base = (await gemmaSession.forward(tokenBatch(ids))).sequenceOutput.data as Float32Array;
    expect(Math.max(...got.map((x, i) => Math.abs(x - base[i])))).toBeGreaterThan(1e-3); // the adapter mattered

    expect(await stopPlatform(first.child)).toBe(0);
    await expect(fetch(`${local.EDGEBONE_URL}/health`)).rejects.toThrow();

    // a second start reuses the presets, tenant and key
    const second = await startPlatform(env);
    expect(second.out).toContain(local.EDGEBONE_API_KEY);
    expect((await client.embeddings.create({ model: "demo-encoder", input: "hello" })).data).toHaveLength(1);
    expect(await stopPlatform(second.child)).toBe(0);
  }, 180_000);
});
