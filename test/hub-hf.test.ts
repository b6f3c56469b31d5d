/**
 * hf:// downloads against a fake Hugging Face Hub on loopback (test/helpers/fake-hub.ts): huggingface_hub's
 * cache layout, revision pinning, only the files a preset needs, resume after a cut connection, sha256 / git
 * sha1 verification, gated and missing repositories, offline mode, and the CLI with nothing but HF_ENDPOINT.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Backbone, MemoryPresetStore, Tokenizer, nodeRuntime, tokenBatch } from "../shared/node/index.js";
import { Progress } from "../shared/node/hub/progress.js";
import { edgeboneCli } from "./helpers/cli.js";
import { FakeHub, gitBlobSha1 } from "./helpers/fake-hub.js";
import { loadGolden, maxAbsDiff } from "./helpers/golden.js";
import { goldenRepoFiles, listTree, sentenceTransformersRepo, tmp } from "./helpers/hub-repos.js";

const SHA_A = "a".repeat(40);
const SHA_B = "b0".repeat(20);
const REPO = "acme/tiny-e5";
const SHARD = "model-00001-of-00002.safetensors";

let hub: FakeHub;
let hfHome: string;
const cache = () => join(hfHome, "hub", "models--acme--tiny-e5");
const load = (preset: string, options: { loadWeights?: boolean } = {}) => Backbone.fromPreset(preset, { store: new MemoryPresetStore(), download: true, ...options });
const resolvePaths = () => hub.requests.filter((r) => r.path.includes("/resolve/")).map((r) => `${r.method} ${r.path}`);

beforeAll(async () => {
  hub = await FakeHub.start();
  hub.hf.set(REPO, {
    commits: [
      { sha: SHA_A, files: goldenRepoFiles("distilbert") },
      { sha: SHA_B, files: sentenceTransformersRepo() },
    ],
    refs: { v1: SHA_A },
  });
  hub.hf.set("acme/gated-gemma", { commits: [{ sha: "c".repeat(40), files: goldenRepoFiles("gemma") }], gated: true, access: ["hf_gemma"] });
  hub.hf.set("acme/torch-only", { commits: [{ sha: "d".repeat(40), files: { "config.json": goldenRepoFiles("gemma")["config.json"], "pytorch_model.bin": new Uint8Array(8) } }] });
  hub.hfTokens.add("hf_good").add("hf_gemma");
  process.env.HF_ENDPOINT = hub.url;
  process.env.HF_HUB_DISABLE_PROGRESS_BARS = "1";
});

afterAll(() => hub.close());

beforeEach(() => {
  hfHome = tmp("edgebone-hf-home-");
  process.env.HF_HOME = hfHome;
  delete process.env.HF_TOKEN;
  delete process.env.HF_HUB_OFFLINE;
  hub.requests.length = 0;
  hub.clearFaults();
});

async function expectGolden(backbone: Backbone): Promise<void> {
  const golden = loadGolden("distilbert");
  const session = await backbone.createSession(nodeRuntime({ threads: 1 }));
  const { sequenceOutput } = await session.forward(tokenBatch(golden.inputIds, golden.attentionMask));
  expect(maxAbsDiff(sequenceOutput, golden.lastHiddenState, golden.validLengths)).toBeLessThanOrEqual(1e-4);
}

describe("hf:// downloads", () => {
  it("fetch a sharded sentence-transformers repo into huggingface_hub's cache layout, pinned to the commit, and load it", async () => {
    process.env.HF_TOKEN = "hf_good";
    await expectGolden(await load(`hf://${REPO}`));

    expect(readFileSync(join(cache(), "refs", "main"), "utf8")).toBe(SHA_B);
    const snapshot = join(cache(), "snapshots", SHA_B);
    expect(listTree(snapshot)).toEqual(
      ["1_Pooling/config.json", "config.json", "config_sentence_transformers.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "modules.json", "sentence_bert_config.json", "tokenizer_config.json", "vocab.txt"],
    );
    // Snapshot entries are relative links to blobs named by etag: git blob sha1 for git files, sha256 for LFS.
    const files = sentenceTransformersRepo();
    expect(readlinkSync(join(snapshot, "config.json"))).toBe(`../../blobs/${gitBlobSha1(files["config.json"])}`);
    expect(readlinkSync(join(snapshot, "1_Pooling", "config.json"))).toBe(`../../../blobs/${gitBlobSha1(files["1_Pooling/config.json"])}`);
    expect(readlinkSync(join(snapshot, SHARD))).toBe(`../../blobs/${createHash("sha256").update(files[SHARD]).digest("hex")}`);
    expect(lstatSync(join(snapshot, SHARD)).isSymbolicLink()).toBe(true);

    const resolves = resolvePaths();
    expect(resolves.every((r) => r.includes(`/resolve/${SHA_B}/`))).toBe(true); // never the branch name
    expect(resolves.some((r) => /pytorch_model|README|onnx/.test(r))).toBe(false);
    const fileHost = hub.requests.filter((r) => r.server === "files");
    expect(fileHost.map((r) => r.path.slice(0, 5))).toEqual(["/lfs/", "/lfs/"]); // the two shards, from the file host
    expect(fileHost.every((r) => r.authorization === undefined)).toBe(true); // the token stays with the Hub
    expect(hub.requests.filter((r) => r.server === "hub").every((r) => r.authorization === "Bearer hf_good")).toBe(true);
  });

  it("a second load of the same revision downloads nothing: one metadata call", async () => {
    await load(`hf://${REPO}`);
    hub.requests.length = 0;
    await expectGolden(await load(`hf://${REPO}`));
    expect(hub.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/models/${REPO}/revision/main`]);
  });

  it("pins a tag or a commit: @v1 loads the older commit and records refs/v1", async () => {
    await expectGolden(await load(`hf://${REPO}@v1`));
    expect(readFileSync(join(cache(), "refs", "v1"), "utf8")).toBe(SHA_A);
    expect(resolvePaths().every((r) => r.includes(`/resolve/${SHA_A}/`))).toBe(true);
    expect(listTree(join(cache(), "snapshots", SHA_A))).toEqual(["config.json", "model.safetensors"]);
    hub.requests.length = 0;
    await load(`hf://${REPO}@${SHA_A}`);
    expect(hub.downloads()).toEqual([]);
    expect(existsSync(join(cache(), "refs", SHA_A))).toBe(false); // a commit needs no ref
  });

  it("loadWeights: false fetches config.json alone; Tokenizer.fromPreset fetches the tokenizer files", async () => {
    const backbone = await load(`hf://${REPO}`, { loadWeights: false });
    expect(backbone.className).toBe("DistilBertBackbone");
    expect(resolvePaths()).toEqual([`HEAD /${REPO}/resolve/${SHA_B}/config.json`, `GET /${REPO}/resolve/${SHA_B}/config.json`]);
    hub.requests.length = 0;
    const tokenizer = await Tokenizer.fromPreset(`hf://${REPO}`, { store: new MemoryPresetStore(), download: true });
    expect(tokenizer.encode("the quick brown fox").ids).toEqual([2, 5, 6, 7, 8, 3]);
    expect(resolvePaths().filter((r) => r.startsWith("GET")).map((r) => r.split("/").pop()).sort()).toEqual(["tokenizer_config.json", "vocab.txt"]);
  });

  it("resumes a file after a cut connection and from a partial file left by an earlier run", async () => {
    hub.fault(SHARD, "cut", 1000);
    await expectGolden(await load(`hf://${REPO}`));
    const shardGets = hub.requests.filter((r) => r.server === "files" && r.path.includes(createHash("sha256").update(sentenceTransformersRepo()[SHARD]).digest("hex")));
    expect(shardGets.map((r) => r.range)).toEqual([undefined, "bytes=1000-"]);

    // A partial blob (`<etag>.incomplete`, as huggingface_hub leaves it) is continued, not restarted.
    hfHome = tmp("edgebone-hf-home-");
    process.env.HF_HOME = hfHome;
    hub.requests.length = 0;
    const oid = createHash("sha256").update(sentenceTransformersRepo()[SHARD]).digest("hex");
    mkdirSync(join(cache(), "blobs"), { recursive: true });
    writeFileSync(join(cache(), "blobs", `${oid}.incomplete`), sentenceTransformersRepo()[SHARD].subarray(0, 4096));
    await expectGolden(await load(`hf://${REPO}`));
    expect(hub.requests.filter((r) => r.path === `/lfs/${oid}`).map((r) => r.range)).toEqual(["bytes=4096-"]);
    expect(existsSync(join(cache(), "blobs", `${oid}.incomplete`))).toBe(false);
  });

  it("rejects a corrupted byte (sha256 of LFS files, git sha1 of the others) and downloads afresh next time", async () => {
    hub.fault(SHARD, "corrupt", 777);
    await expect(load(`hf://${REPO}`)).rejects.toThrow(/model-00001-of-00002\.safetensors: the downloaded file's sha256 is [0-9a-f]{64}, expected [0-9a-f]{64} \(the partial download is deleted/);
    expect(listTree(join(cache(), "blobs")).some((f) => f.endsWith(".incomplete"))).toBe(false);
    await expectGolden(await load(`hf://${REPO}`)); // the fault was one-off

    // Git files come from the Hub itself and are checked against their git blob sha1.
    process.env.HF_HOME = hfHome = tmp("edgebone-hf-home-");
    hub.fault("vocab.txt", "corrupt", 3);
    await expect(Tokenizer.fromPreset(`hf://${REPO}`, { store: new MemoryPresetStore(), download: true })).rejects.toThrow(
      /vocab\.txt: the downloaded file's git-sha1 is [0-9a-f]{40}, expected [0-9a-f]{40}/,
    );
  });

  it("gated repositories: 401 without a token and 403 without access name the repo and the fix; the token file works", async () => {
    const gated = "hf://acme/gated-gemma";
    await expect(load(gated)).rejects.toThrow(
      new RegExp(`"${gated}" is not installed .*downloading ${gated} failed: ${gated} is a gated model \\(401: Access to model acme/gated-gemma is restricted.*\\): accept its licence on ${hub.url}/acme/gated-gemma while logged in, then set HF_TOKEN to a read token of that account \\(${hub.url}/settings/tokens\\)`),
    );
    process.env.HF_TOKEN = "hf_good";
    await expect(load(gated)).rejects.toThrow(/is a gated model and the token from HF_TOKEN has no access to it \(403: .*\): accept the licence on .*acme\/gated-gemma while logged in as the token's account/);
    process.env.HF_TOKEN = "hf_typo";
    await expect(load(gated)).rejects.toThrow(/the Hub rejected the token from HF_TOKEN \(401\): create a new read token/);
    delete process.env.HF_TOKEN;
    writeFileSync(join(hfHome, "token"), "hf_gemma\n"); // what `hf auth login` writes
    expect((await load(gated)).className).toBe("GemmaBackbone");
  });

  it("missing repositories, revisions and weights fail with what to do", async () => {
    await expect(load("hf://acme/nope")).rejects.toThrow(/hf:\/\/acme\/nope was not found \(401: Repository not found\): it does not exist, or it is private or gated and no token was sent\. Check the name; for a private or gated repository set HF_TOKEN/);
    await expect(load(`hf://${REPO}@v9`)).rejects.toThrow(/the repository has no revision "v9" \(404/);
    await expect(load("hf://acme/torch-only")).rejects.toThrow(/hf:\/\/acme\/torch-only has no safetensors weights \(it has pytorch_model\.bin, which Edgebone does not read\)/);
    expect(existsSync(join(hfHome, "hub", "models--acme--nope"))).toBe(false);
  });

  it("HF_HUB_OFFLINE=1 uses the cache alone, and says so when the cache lacks the model", async () => {
    await load(`hf://${REPO}`);
    process.env.HF_HUB_OFFLINE = "1";
    hub.requests.length = 0;
    await expectGolden(await load(`hf://${REPO}`));
    expect(hub.requests).toEqual([]);
    await expect(load(`hf://${REPO}@v1`)).rejects.toThrow(/HF_HUB_OFFLINE is set and hf:\/\/acme\/tiny-e5@v1 is not in the Hugging Face cache .*: unset HF_HUB_OFFLINE to download it/);
    expect(hub.requests).toEqual([]);
  });

  it("reuses a cache written by huggingface_hub (blobs by etag, snapshot links, refs) without downloading", async () => {
    // Laid out by hand the way Python's hf_hub_download leaves it.
    const files = goldenRepoFiles("distilbert");
    const blobs = join(cache(), "blobs");
    mkdirSync(blobs, { recursive: true });
    mkdirSync(join(cache(), "snapshots", SHA_A), { recursive: true });
    mkdirSync(join(cache(), "refs"), { recursive: true });
    writeFileSync(join(cache(), "refs", "v1"), SHA_A);
    const etags = { "config.json": gitBlobSha1(files["config.json"]), "model.safetensors": createHash("sha256").update(files["model.safetensors"]).digest("hex") };
    for (const [name, etag] of Object.entries(etags)) {
      writeFileSync(join(blobs, etag), files[name]);
      symlinkSync(`../../blobs/${etag}`, join(cache(), "snapshots", SHA_A, name));
    }
    await expectGolden(await load(`hf://${REPO}@v1`));
    expect(hub.downloads()).toEqual([]);
  });

  it("the CLI needs nothing but HF_ENDPOINT: save-preset writes weights, tokenizer and edgebone.json, progress on stderr", async () => {
    const out = join(tmp(), "tiny-e5");
    const edgebone = edgeboneCli(tmp());
    const env = { ...process.env };
    delete process.env.HF_HUB_DISABLE_PROGRESS_BARS;
    try {
      const r = await edgebone("save-preset", "--preset", `hf://${REPO}`, "--out", out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/hf:\/\/acme\/tiny-e5 model-00001-of-00002\.safetensors: \d+(\.\d+)? KiB in \d+\.\d s \([\d.]+ (B|KiB|MiB)\/s\)/); // not a TTY: one line per file
      expect(r.stderr).toMatch(/saved edgebone\.json/);
    } finally {
      process.env = env;
    }
    expect(JSON.parse(readFileSync(join(out, "edgebone.json"), "utf8"))).toEqual({ normalize: true, pooling: "cls", prompts: { query: "query: ", passage: "passage: " }, default_prompt_name: "query" });
    expect(listTree(out)).toEqual(["assets/tokenizer/vocabulary.txt", "config.json", "edgebone.json", "metadata.json", "model.safetensors", "tokenizer.bin", "tokenizer.hf.json", "tokenizer.json"]);
    await expectGolden(await Backbone.fromPreset(out));
  });

  it("progress on a terminal is one line redrawn in place with files, bytes and rate", () => {
    const out: string[] = [];
    const progress = new Progress("hf://acme/x", { isTTY: true, write: (t: string) => out.push(t) });
    const a = progress.file("a.safetensors", 3 * 2 ** 20);
    const b = progress.file("b.json", 2048, 1024); // resumed: 1 KiB was already on disk
    a.advance(2 ** 20);
    a.done();
    b.advance(1024);
    b.done();
    progress.close();
    expect(out[0]).toMatch(/^\rhf:\/\/acme\/x: 0\/2 files, 1\.0 MiB \/ 3\.0 MiB, [\d.]+ (B|KiB|MiB|GiB)\/s\u001b\[K$/);
    expect(out.at(-2)).toMatch(/^\rhf:\/\/acme\/x: 2\/2 files, 1\.0 MiB \/ 3\.0 MiB, /);
    expect(out.at(-1)).toBe("\n");
  });
});
