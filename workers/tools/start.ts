/**
 * `npm start`: the whole platform locally, from a fresh clone (after `npm install`), nothing downloaded.
 *
 *  1. state in .edgebone/ (git-ignored): admin token and runner signing key (generated once), D1/R2 of wrangler
 *     dev (.edgebone/wrangler), the demo tenant's key, demo presets (.edgebone/presets), the runner's disk cache;
 *  2. demo presets with random weights, made here if absent: `demo-encoder` (DistilBERT architecture, small, with
 *     a WordPiece tokenizer generated here; runs in the isolate) and `demo-gemma` (tiny Gemma; runs on the runner);
 *  3. `wrangler d1 migrations apply --local`, then a GPU runner on CPU and `wrangler dev` with the runner pool
 *     configured; the runner reads presets and adapters from the local R2 through the worker's signed
 *     `/internal/objects` route (production runners read R2 over its S3 API);
 *  4. the presets installed into the local R2 through the admin API when absent or changed, a demo tenant and key
 *     (reused while valid), `.edgebone/local.env` (EDGEBONE_URL, EDGEBONE_API_KEY, EDGEBONE_ADMIN_TOKEN), and a
 *     ready banner. Ctrl-C stops both children; a second `npm start` reuses the state.
 *
 * Ports: EDGEBONE_PORT (8787), EDGEBONE_RUNNER_PORT (8790); state directory: EDGEBONE_STATE_DIR (.edgebone).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DistilBertBackbone, GemmaBackbone, directoryFiles, loadTokenizer, saveTokenizer } from "../../shared/node/index.js";
import { installPreset } from "./install-preset.js";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const STATE = resolve(process.env.EDGEBONE_STATE_DIR ?? join(ROOT, ".edgebone"));
const PORT = Number(process.env.EDGEBONE_PORT ?? 8787);
const RUNNER_PORT = Number(process.env.EDGEBONE_RUNNER_PORT ?? 8790);
const URL_BASE = `http://127.0.0.1:${PORT}`;
const ENCODER = "demo-encoder";
const GEMMA = "demo-gemma";

interface State {
  adminToken: string;
  signingKey: string;
  tenantId?: string;
  apiKey?: string;
  installed?: Record<string, string>;
}

const log = (line: string) => process.stderr.write(`[edgebone] ${line}\n`);

function loadState(): State {
  const file = join(STATE, "state.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as State;
  return { adminToken: `adm_${randomBytes(24).toString("base64url")}`, signingKey: randomBytes(32).toString("base64url") };
}

function saveState(state: State): void {
  writeFileSync(join(STATE, "state.json"), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
}

/** A small English WordPiece vocabulary: specials, punctuation, digits, letters and their ## forms, common words. */
function demoVocabulary(): string[] {
  const words =
    "the of and to a in is it you that he was for on are with as i his they be at one have this from or had by hot word but what some we can out other were all there when up use your how said an each she which do their time if will way about many then them write would like so these her long make thing see him two has look more day could go come did number sound no most people my over know water than call first who may down side been now find any new work part take get place made live where after back little only round man year came show every good me give our under name very through just form sentence great think say help low line differ turn cause much mean before move right boy old too same tell does set three want air well also play small end put home read hand port large spell add even land here must big high such follow act why ask men change went light kind off need house picture try us again animal point mother world near build self earth father head stand own page should country found answer school grow study still learn plant cover food sun four between state keep eye never last let thought city tree cross farm hard start might story saw far sea draw left late run while press close night real life few north open seem together next white children begin got walk example ease paper group always music those both mark often letter until mile river car feet care second book carry took science eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young ready above ever red list though feel talk bird soon body dog family direct pose leave song measure door product black short numeral class wind question happen complete ship area half rock order fire south problem piece told knew pass since top whole king space heard best hour better true during hundred five remember step early hold west ground interest reach fast verb sing listen six table travel less morning ten simple several vowel toward war lay against pattern slow center love person money serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct able pound done beauty drive stood contain front teach week final gave green oh quick develop ocean warm free minute strong special mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object decide surface deep moon island foot system busy test record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape equate miss brought heat snow tire bring yes distant fill east paint language among brown fox jumps lazy hello edge model embedding vector token".split(
      " ",
    );
  const letters = "abcdefghijklmnopqrstuvwxyz0123456789".split("");
  const punctuation = ".,!?;:'\"()-[]{}/&%$#@*+=<>".split("");
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...punctuation, ...letters, ...letters.map((l) => `##${l}`)];
  for (const w of words) if (!vocab.includes(w)) vocab.push(w);
  for (const suffix of ["s", "ed", "ing", "er", "ly", "est", "ion", "es"]) vocab.push(`##${suffix}`);
  return vocab;
}

async function ensurePresets(): Promise<void> {
  const encoderDir = join(STATE, "presets", ENCODER);
  if (!existsSync(join(encoderDir, "config.json"))) {
    log(`creating demo preset ${ENCODER} (DistilBERT architecture, random weights, generated WordPiece tokenizer)`);
    const vocab = demoVocabulary();
    const backbone = new DistilBertBackbone({ vocabularySize: vocab.length, numLayers: 2, numHeads: 4, hiddenDim: 128, intermediateDim: 512, maxSequenceLength: 256, seed: 1 });
    mkdirSync(encoderDir, { recursive: true });
    writeFileSync(join(encoderDir, "vocab.txt"), vocab.join("\n") + "\n");
    await backbone.saveToPreset(encoderDir);
    const files = directoryFiles(encoderDir);
    await saveTokenizer(await loadTokenizer(files), files);
    spawnSync("rm", ["-f", join(encoderDir, "vocab.txt")]);
  }
  const gemmaDir = join(STATE, "presets", GEMMA);
  if (!existsSync(join(gemmaDir, "config.json"))) {
    log(`creating demo preset ${GEMMA} (tiny Gemma, random weights; served by the runner)`);
    const backbone = new GemmaBackbone({ vocabularySize: 256, numLayers: 2, numQueryHeads: 4, numKeyValueHeads: 1, hiddenDim: 64, intermediateDim: 128, headDim: 16, seed: 2 });
    mkdirSync(gemmaDir, { recursive: true });
    await backbone.saveToPreset(gemmaDir);
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status})`);
}

const children: ChildProcess[] = [];

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter((l) => l.trim())
      .forEach((l) => process.stderr.write(`[${name}] ${l}\n`));
  child.stdout!.on("data", prefix);
  child.stderr!.on("data", prefix);
  child.on("exit", (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM"); // its process group: npx/tsx and what they started
      } catch {
        // already gone
      }
    }
  }
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once("exit", r)))));
  process.exit(code);
}

async function waitFor(url: string, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (stopping) throw new Error("stopped");
    if (Date.now() > deadline) throw new Error(`${what} did not come up at ${url} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function api(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${URL_BASE}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function main(): Promise<void> {
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  mkdirSync(STATE, { recursive: true });
  const state = loadState();
  saveState(state);
  await ensurePresets();

  const quiet = { WRANGLER_SEND_METRICS: "false", CI: "1" };
  log("applying D1 migrations (local)");
  run("npx", ["wrangler", "d1", "migrations", "apply", "edgebone", "--local", "--persist-to", join(STATE, "wrangler")], quiet);

  log(`starting the GPU runner (CPU) on 127.0.0.1:${RUNNER_PORT}`);
  start("runner", "npx", ["tsx", "gpu-runner/main.ts"], {
    RUNNER_HOST: "127.0.0.1",
    RUNNER_PORT: String(RUNNER_PORT),
    RUNNER_SIGNING_KEY: state.signingKey,
    RUNNER_STORE: `${URL_BASE}/internal/objects`, // the local R2, read through the worker (signed)
    RUNNER_CACHE_DIR: join(STATE, "runner-cache"),
    RUNNER_EXECUTION_PROVIDER: "cpu",
    RUNNER_UNSIGNED_PATHS: "/health", // local readiness probe of this script
  });
  log(`starting wrangler dev on ${URL_BASE}`);
  start("worker", "npx", [
    "wrangler", "dev", "--ip", "127.0.0.1", "--port", String(PORT), "--persist-to", join(STATE, "wrangler"), "--show-interactive-dev-session=false",
    "--var", `ADMIN_TOKEN:${state.adminToken}`,
    "--var", `RUNNER_URLS:http://127.0.0.1:${RUNNER_PORT}`,
    "--var", `RUNNER_SIGNING_KEY:${state.signingKey}`,
    // wrangler dev's inspector port (9229) would collide between two local platforms
    "--inspector-port", String(Number(process.env.EDGEBONE_INSPECTOR_PORT ?? 9229)),
  ], quiet);
  await waitFor(`http://127.0.0.1:${RUNNER_PORT}/health`, "the runner");
  await waitFor(`${URL_BASE}/health`, "wrangler dev");

  state.installed ??= {};
  for (const name of [ENCODER, GEMMA]) {
    const dir = join(STATE, "presets", name);
    const config = readFileSync(join(dir, "config.json"), "utf8");
    if (state.installed[name] === config) continue;
    log(`installing preset ${name} into the local R2`);
    await installPreset({ dir, name, url: URL_BASE, token: state.adminToken });
    state.installed[name] = config;
    saveState(state);
  }

  if (!state.apiKey || (await api("GET", "/v1/adapters", state.apiKey)).status !== 200) {
    const tenant = (await (await api("POST", "/admin/tenants", state.adminToken, { name: "demo" })).json()) as { id: string };
    const key = (await (await api("POST", `/admin/tenants/${tenant.id}/keys`, state.adminToken, { name: "demo" })).json()) as { key: string };
    state.tenantId = tenant.id;
    state.apiKey = key.key;
    saveState(state);
  }

  writeFileSync(join(STATE, "local.env"), `EDGEBONE_URL=${URL_BASE}\nEDGEBONE_API_KEY=${state.apiKey}\nEDGEBONE_ADMIN_TOKEN=${state.adminToken}\n`, { mode: 0o600 });
  process.stdout.write(`
Edgebone is running at ${URL_BASE}  (runner: http://127.0.0.1:${RUNNER_PORT}; Ctrl-C stops both)
Presets: ${ENCODER} (in the isolate), ${GEMMA} (on the runner).  Credentials: .edgebone/local.env

  curl -s ${URL_BASE}/v1/embeddings \\
    -H "Authorization: Bearer ${state.apiKey}" -H "Content-Type: application/json" \\
    -d '{"model": "${ENCODER}", "input": ["the quick brown fox", "hello world"]}'

  import OpenAI from "openai";
  const client = new OpenAI({ baseURL: "${URL_BASE}/v1", apiKey: "${state.apiKey}" });
  const { data } = await client.embeddings.create({ model: "${ENCODER}", input: "hello world" });

ready
`);
}

main().catch((e) => {
  log(`cannot start: ${(e as Error).message}`);
  void stop(1);
});
