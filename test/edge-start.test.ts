/**
 * End to end: the local platform exactly as users run it, `npm start` (workers/tools/start.ts: wrangler dev with
 * local D1/R2, a GPU runner on CPU, demo presets, a demo tenant), in a temporary state directory on free loopback
 * ports. The official `openai` client gets the library's own vectors (float and its default base64 transport), and
 * the banner's own snippet prints its result; a Gemma request goes through the runner, also with a tenant adapter
 * uploaded to the local R2 (the runner reads it through the worker); a second start reuses the state. Stopping:
 * SIGTERM or SIGINT to the npm process, or npm dying, ends every process of the start (runner, wrangler, workerd)
 * within 5 s. A port in use stops the start before anything is created or started, naming the port.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "./helpers/edge-platform.js";
import { Backbone, EdgeModel, Preprocessor, directoryFiles, initLora, loraSafetensorsFormat, tokenBatch, wasmRuntime } from "../shared/node/index.js";
import { ROOT } from "../workers/tools/local-platform.js";

const stateDir = mkdtempSync(join(tmpdir(), "edgebone-start-"));
const started: ChildProcess[] = [];

/** `npm start` with `env`, resolved once it printed "ready" (its stdout so far) or rejected when it exited. */
function npmStart(env: Record<string, string>): { proc: ChildProcess; ready: Promise<string>; stderr: () => string } {
  const proc = spawn("npm", ["start"], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  started.push(proc);
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (err += d));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/^ready$/m.test(out)) {
        clearInterval(timer);
        resolve(out);
      } else if (proc.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`npm start exited ${proc.exitCode}: ${err.slice(-2000)}`));
      }
    }, 100);
  });
  return { proc, ready, stderr: () => err };
}

/** The process and all its descendants (pid and command line), from `ps`. */
function processTree(root: number): { pid: number; args: string }[] {
  const rows = execFileSync("ps", ["-e", "-o", "pid=,ppid=,args="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/)!)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }));
  const tree = rows.filter((r) => r.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...rows.filter((r) => r.ppid === tree[i].pid));
  return tree;
}

/** Which of `pids` still run (zombies waiting for init to reap them do not). */
function running(pids: number[]): number[] {
  try {
    const rows = execFileSync("ps", ["-o", "pid=,stat=", "-p", pids.join(",")], { encoding: "utf8" }).trim().split("\n");
    return rows.map((r) => r.trim().split(/\s+/)).filter(([, stat]) => !stat.startsWith("Z")).map(([pid]) => Number(pid));
  } catch {
    return []; // ps exits 1 when none of them exists
  }
}

/** Stops a running start with `stop` and returns how long until every process of its tree was gone (ms). */
async function timeToStop(proc: ChildProcess, stop: (tree: { pid: number; args: string }[]) => void): Promise<number> {
  const tree = processTree(proc.pid!);
  for (const part of [/gpu-runner\/main\.ts/, /wrangler\.js dev/, /workerd serve/]) expect(tree.map((p) => p.args).join("\n")).toMatch(part);
  const pids = tree.map((p) => p.pid);
  const t0 = Date.now();
  stop(tree);
  while (running(pids).length && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 50));
  const elapsed = Date.now() - t0;
  expect(tree.filter((p) => running(pids).includes(p.pid)).map((p) => p.args)).toEqual([]);
  return elapsed;
}

afterAll(() => {
  for (const proc of started) if (proc.exitCode === null) running(processTree(proc.pid!).map((p) => p.pid)).forEach((pid) => process.kill(pid, "SIGKILL"));
});

describe("npm start (local platform)", () => {
  it("serves the openai client and the runner, reuses its state, and stops everything within 5 s", async () => {
    const [port, runnerPort, inspector] = [await freePort(), await freePort(), await freePort()];
    const env = { EDGEBONE_STATE_DIR: stateDir, EDGEBONE_PORT: String(port), EDGEBONE_RUNNER_PORT: String(runnerPort), EDGEBONE_INSPECTOR_PORT: String(inspector) };
    const first = npmStart(env);
    const banner = await first.ready;
    expect(banner).toContain(`http://127.0.0.1:${port}`);
    const local = Object.fromEntries(readFileSync(join(stateDir, "local.env"), "utf8").trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
    expect(Object.keys(local)).toEqual(["EDGEBONE_URL", "EDGEBONE_API_KEY", "EDGEBONE_ADMIN_TOKEN"]);
    expect(banner).toContain(local.EDGEBONE_API_KEY);
    // the banner's openai snippet, run as printed, prints the embedding's size and first values
    const snippet = banner.slice(banner.indexOf("node --input-type=module"), banner.indexOf("\nready"));
    expect(execFileSync("sh", ["-c", snippet], { cwd: ROOT, encoding: "utf8" })).toMatch(/^128 dimensions: \[\s*-?\d/);

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

    // DistilBERT-base, quantized: its int8 edge artifact in the isolate, equal to the library's loader in Node
    const distilbertDir = join(stateDir, "presets", "demo-distilbert");
    const quantized = await fetch(`${local.EDGEBONE_URL}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${local.EDGEBONE_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "demo-distilbert", input: input[0] }),
    });
    expect(quantized.status, await quantized.clone().text()).toBe(200);
    expect(quantized.headers.get("x-edgebone-backend")).toBe("isolate");
    const edgeModel = await EdgeModel.load(directoryFiles(distilbertDir), await Backbone.fromPreset(distilbertDir, { loadWeights: false }), wasmRuntime());
    const baseEnc = (await Preprocessor.fromPreset(directoryFiles(distilbertDir))).call([input[0]]);
    const rows = (await edgeModel.forward(Preprocessor.toTokenBatch(baseEnc))).sequenceOutput.data as Float32Array;
    const mean = new Float64Array(768);
    const n = baseEnc.paddingMask[0].length;
    for (let t = 0; t < n; t++) for (let h = 0; h < 768; h++) mean[h] += rows[t * 768 + h] / n;
    const norm = Math.hypot(...mean);
    const got768 = ((await quantized.json()) as { data: { embedding: number[] }[] }).data[0].embedding;
    expect(got768).toHaveLength(768);
    got768.forEach((x, h) => expect(Math.abs(x - mean[h] / norm)).toBeLessThanOrEqual(1e-5));

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

    // `kill -TERM <npm pid>`: npm forwards it (the script execs node), and the start ends its process groups
    const stops = { sigterm: await timeToStop(first.proc, () => first.proc.kill("SIGTERM")) };
    await expect(fetch(`${local.EDGEBONE_URL}/health`)).rejects.toThrow();

    // a second start reuses the presets, tenant and key; `kill -INT <npm pid>` stops it
    const second = npmStart(env);
    expect(await second.ready).toContain(local.EDGEBONE_API_KEY);
    expect((await client.embeddings.create({ model: "demo-encoder", input: "hello" })).data).toHaveLength(1);
    const sigint = await timeToStop(second.proc, () => second.proc.kill("SIGINT"));

    // the start process killed outright (no handler runs): its watchdog ends the children
    const third = npmStart(env);
    await third.ready;
    const sigkill = await timeToStop(third.proc, (tree) => process.kill(tree.find((p) => /workers\/tools\/start\.ts/.test(p.args))!.pid, "SIGKILL"));
    console.log(`npm start stopped everything in: SIGTERM ${stops.sigterm} ms, SIGINT ${sigint} ms, start process SIGKILLed ${sigkill} ms`);
    for (const ms of [stops.sigterm, sigint, sigkill]) expect(ms).toBeLessThan(5000);
  }, 600_000);

  it("a port in use stops the start at once, naming the port, before anything is created or started", async () => {
    const busy = createServer();
    const busyPort = await new Promise<number>((resolve) => busy.listen(0, "127.0.0.1", () => resolve((busy.address() as { port: number }).port)));
    const dir = join(stateDir, "busy");
    const run = npmStart({ EDGEBONE_STATE_DIR: dir, EDGEBONE_PORT: String(await freePort()), EDGEBONE_RUNNER_PORT: String(busyPort), EDGEBONE_INSPECTOR_PORT: String(await freePort()) });
    await expect(run.ready).rejects.toThrow(/exited 1/);
    busy.close();
    expect(run.stderr()).toContain(`cannot start: port ${busyPort} (EDGEBONE_RUNNER_PORT) is already in use on 127.0.0.1`);
    expect(existsSync(dir)).toBe(false);
  });
});
