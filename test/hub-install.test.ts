/**
 * `npm run preset:install -- hf://org/model` end to end, as a user runs it: a real process downloads from a
 * fake Hub (only HF_ENDPOINT points it there), converts, uploads to the production worker (Miniflare, real R2)
 * and says where the preset runs; the worker then embeds with the repository's sentence-transformers
 * defaults (CLS pooling, normalised, e5's "query: " prompt).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Backbone, EdgeModel, Preprocessor, directoryFiles, tokenBatch, wasmRuntime } from "../shared/node/index.js";
import { startEdge, tenantWithKey, type EdgePlatform } from "./helpers/edge-platform.js";
import { FakeHub } from "./helpers/fake-hub.js";
import { sentenceTransformersRepo, tmp } from "./helpers/hub-repos.js";

const ADMIN = "install-admin-token";
const TOOL = fileURLToPath(new URL("../workers/tools/install-preset.ts", import.meta.url));

let hub: FakeHub;
let edge: EdgePlatform;

beforeAll(async () => {
  hub = await FakeHub.start();
  hub.hf.set("acme/tiny-e5", { commits: [{ sha: "e".repeat(40), files: sentenceTransformersRepo() }] });
  edge = await startEdge({ ADMIN_TOKEN: ADMIN });
});

afterAll(async () => {
  await hub?.close();
  await edge?.dispose();
});

async function install(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; presets: string }> {
  const presets = tmp("edgebone-install-presets-");
  const env = { ...process.env, HF_ENDPOINT: hub.url, HF_HOME: tmp("edgebone-install-hf-"), EDGEBONE_PRESETS: presets, EDGEBONE_URL: edge.url.href, EDGEBONE_ADMIN_TOKEN: ADMIN };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", TOOL, ...args], { env });
    return { code: 0, stdout, stderr, presets };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, presets };
  }
}

describe("preset:install from a hub", () => {
  it("downloads, converts, uploads with progress and prints where the preset runs; /v1/embeddings and /embed use its defaults", async () => {
    const r = await install("hf://acme/tiny-e5");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^installed preset tiny-e5 from hf:\/\/acme\/tiny-e5: 7 files, [\d.]+ KiB\nruns in the edge isolate \(int8 edge artifact, measured peak [\d.]+ MiB, isolate budget 128\.0 MiB\)\n$/);
    expect(r.stderr).toMatch(/int8: [\d.]+ MiB of files, pooled cosine 0\.99\d+/); // the edge artifact, checked against the float model
    expect(r.stderr).toMatch(/hf:\/\/acme\/tiny-e5 model-00002-of-00002\.safetensors: /); // download lines
    expect(r.stderr).toMatch(/upload tiny-e5 model\.safetensors: [\d.]+ KiB in /); // upload lines
    const stored = await edge.bucket.get("presets/tiny-e5/edgebone.json");
    expect(JSON.parse(new TextDecoder().decode(await stored!.arrayBuffer()))).toMatchObject({ pooling: "cls", normalize: true, default_prompt_name: "query" });

    // What the installed edge artifact computes for "query: <text>" (the library's loader): the [CLS] row, L2-normalised.
    const dir = join(r.presets, "tiny-e5");
    const backbone = await Backbone.fromPreset(dir, { loadWeights: false });
    const pre = await Preprocessor.fromPreset(dir);
    const text = "the quick brown fox";
    const batch = pre.call([`query: ${text}`]);
    const model = await EdgeModel.load(directoryFiles(dir), backbone, wasmRuntime());
    const { sequenceOutput } = await model.forward(tokenBatch(batch.tokenIds, batch.paddingMask));
    const cls = Array.from(sequenceOutput.data.subarray(0, 64) as Float32Array);
    const norm = Math.hypot(...cls);
    const expected = cls.map((x) => x / norm);

    const { key } = await tenantWithKey(edge.url, ADMIN, "install-tenant");
    const post = (path: string, body: unknown) => fetch(new URL(path, edge.url), { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const openai = await post("/v1/embeddings", { model: "tiny-e5", input: [text] });
    expect(openai.status).toBe(200);
    const vector = ((await openai.json()) as { data: { embedding: number[] }[] }).data[0].embedding;
    expect(Math.max(...vector.map((v, i) => Math.abs(v - expected[i])))).toBeLessThanOrEqual(1e-5);
    const tei = await post("/embed", { model: "tiny-e5", inputs: text });
    expect(((await tei.json()) as number[][])[0]).toEqual(vector);
    const raw = await post("/embed", { model: "tiny-e5", inputs: text, normalize: false });
    expect(Math.hypot(...((await raw.json()) as number[][])[0])).toBeCloseTo(norm, 4); // the request overrides the preset
  });

  it("fails with one error line naming the repository when the Hub refuses", async () => {
    const r = await install("hf://acme/missing", "--name", "missing");
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual(["loading hf://acme/missing…", expect.stringMatching(/^install-preset: .*hf:\/\/acme\/missing was not found \(401: Repository not found\)/)]);
  });
});
