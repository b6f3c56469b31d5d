/**
 * `npm start`: the whole platform locally, from a fresh clone (after `npm install`), nothing downloaded.
 *
 *  0. the ports (EDGEBONE_PORT 8787, EDGEBONE_RUNNER_PORT 8790, EDGEBONE_INSPECTOR_PORT 9229) are checked first:
 *     one in use stops the start with its name before anything is created or started;
 *  1. state in .edgebone/ (git-ignored): admin token (generated once), D1/R2 of wrangler dev (.edgebone/wrangler),
 *     the demo tenant's key, demo presets (.edgebone/presets), the runner's disk cache;
 *  2. demo presets with random weights, made here if absent (workers/tools/demo-presets.ts): `demo-encoder` (small,
 *     runs in the isolate), `demo-distilbert` (the DistilBERT-base architecture with its int8 edge artifact: runs
 *     in the isolate, quantized) and `demo-gemma` (runs on the runner);
 *  3. `wrangler d1 migrations apply --local`, then a GPU runner on CPU and `wrangler dev` with the runner pool
 *     configured; the runner reads presets and adapters from the local R2 through the worker's signed
 *     `/internal/objects` route (production runners read R2 over its S3 API);
 *  4. the presets installed into the local R2 through the admin API when absent or changed, a demo tenant and key
 *     (reused while valid), `.edgebone/local.env` (EDGEBONE_URL, EDGEBONE_API_KEY, EDGEBONE_ADMIN_TOKEN), and a
 *     ready banner.
 *
 * Children: each runs in its own process group (workers/tools/process-groups.ts), so SIGINT or SIGTERM here (npm
 * forwards both: the script `exec`s node), our parent's death, or our own death end all of them, wrangler's workerd
 * included, within seconds. The runner and the worker share a signing key made for this start only; the banner
 * waits for signed probes to pass, so it never reports processes left over from another start.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { importSigningKey, signRequest, type SigningKey } from "../../shared/runner/index.js";
import { writeDemoDistilBertBase, writeDemoEncoder, writeDemoGemma } from "./demo-presets.js";
import { installPreset } from "./install-preset.js";
import { ROOT, applyLocalMigrations, portInUse, startWranglerDev } from "./local-platform.js";
import { ProcessGroups } from "./process-groups.js";

const STATE = resolve(process.env.EDGEBONE_STATE_DIR ?? join(ROOT, ".edgebone"));
const PORT = Number(process.env.EDGEBONE_PORT ?? 8787);
const RUNNER_PORT = Number(process.env.EDGEBONE_RUNNER_PORT ?? 8790);
const INSPECTOR_PORT = Number(process.env.EDGEBONE_INSPECTOR_PORT ?? 9229);
const URL_BASE = `http://127.0.0.1:${PORT}`;
const ENCODER = "demo-encoder";
const DISTILBERT = "demo-distilbert";
const GEMMA = "demo-gemma";

interface State {
  adminToken: string;
  tenantId?: string;
  apiKey?: string;
  installed?: Record<string, string>;
}

const log = (line: string) => process.stderr.write(`[edgebone] ${line}\n`);

function loadState(): State {
  const file = join(STATE, "state.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as State;
  return { adminToken: `adm_${randomBytes(24).toString("base64url")}` };
}

function saveState(state: State): void {
  writeFileSync(join(STATE, "state.json"), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
}

async function ensurePresets(): Promise<void> {
  const encoderDir = join(STATE, "presets", ENCODER);
  if (!existsSync(join(encoderDir, "config.json"))) {
    log(`creating demo preset ${ENCODER} (DistilBERT architecture, random weights, generated WordPiece tokenizer)`);
    await writeDemoEncoder(encoderDir);
  }
  const distilbertDir = join(STATE, "presets", DISTILBERT);
  if (!existsSync(join(distilbertDir, "edge", "manifest.json"))) {
    log(`creating demo preset ${DISTILBERT} (DistilBERT-base architecture, 66M random weights, and its int8 edge artifact: about a minute, once)`);
    await writeDemoDistilBertBase(distilbertDir, (line) => log(`  ${line}`));
  }
  const gemmaDir = join(STATE, "presets", GEMMA);
  if (!existsSync(join(gemmaDir, "config.json"))) {
    log(`creating demo preset ${GEMMA} (tiny Gemma, random weights; served by the runner)`);
    await writeDemoGemma(gemmaDir);
  }
}

const groups = new ProcessGroups(2000);

/** Relays a child's output prefixed with `[name]`; its death stops the platform. */
function supervise(name: string, child: ChildProcess): void {
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
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await groups.stop(); // SIGTERM to every group, SIGKILL to what is left after 2 s
  process.exit(code);
}

/**
 * Waits until `url` answers a request signed with this start's key with an `accepted` status. A 401 means another
 * process (from another start) answers on that port.
 */
async function waitForOwn(key: SigningKey, url: string, what: string, accepted: number[], timeoutMs = 60_000): Promise<void> {
  const { pathname } = new URL(url);
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 250))) {
    if (stopping) throw new Error("stopped");
    const status = await fetch(url, { headers: { ...(await signRequest(key, "GET", pathname)) } }).then((r) => r.status, () => 0);
    if (accepted.includes(status)) return;
    if (status === 401) throw new Error(`${what} at ${url} is not the one this start launched (it rejects this start's signing key)`);
    if (Date.now() > deadline) throw new Error(`${what} did not come up at ${url} within ${timeoutMs / 1000} s`);
  }
}

async function api(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${URL_BASE}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function main(): Promise<void> {
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop(1); // our parent (npm) died and we were reparented
  }, 500).unref();

  for (const [port, variable] of [[PORT, "EDGEBONE_PORT"], [RUNNER_PORT, "EDGEBONE_RUNNER_PORT"], [INSPECTOR_PORT, "EDGEBONE_INSPECTOR_PORT"]] as const) {
    if (await portInUse(port)) throw new Error(`port ${port} (${variable}) is already in use on 127.0.0.1 (another Edgebone, or another program); stop it or choose another port with ${variable}=<port>. Nothing was started.`);
  }

  mkdirSync(STATE, { recursive: true });
  const state = loadState();
  saveState(state);
  await ensurePresets();
  const signingKey = randomBytes(32).toString("base64url"); // this start's only: the probes below prove ownership
  const probeKey = await importSigningKey(signingKey);

  log("applying D1 migrations (local)");
  await applyLocalMigrations(groups, join(STATE, "wrangler"));

  log(`starting the GPU runner (CPU) on 127.0.0.1:${RUNNER_PORT}`);
  const runnerEnv = {
    RUNNER_HOST: "127.0.0.1",
    RUNNER_PORT: String(RUNNER_PORT),
    RUNNER_SIGNING_KEY: signingKey,
    RUNNER_STORE: `${URL_BASE}/internal/objects`, // the local R2, read through the worker (signed)
    RUNNER_CACHE_DIR: join(STATE, "runner-cache"),
    RUNNER_EXECUTION_PROVIDER: "cpu",
  };
  supervise("runner", groups.spawn(process.execPath, ["--import", "tsx", "gpu-runner/main.ts"], { cwd: ROOT, env: { ...process.env, ...runnerEnv }, stdio: ["ignore", "pipe", "pipe"] }));
  log(`starting wrangler dev on ${URL_BASE}`);
  const vars = { ADMIN_TOKEN: state.adminToken, RUNNER_URLS: `http://127.0.0.1:${RUNNER_PORT}`, RUNNER_SIGNING_KEY: signingKey };
  supervise("worker", startWranglerDev(groups, { port: PORT, inspectorPort: INSPECTOR_PORT, persistTo: join(STATE, "wrangler"), vars }));
  await waitForOwn(probeKey, `http://127.0.0.1:${RUNNER_PORT}/ready`, "the runner", [200]);
  // any object key will do: 200 or 404 once the signature passed
  await waitForOwn(probeKey, `${URL_BASE}/internal/objects/presets/${ENCODER}/config.json`, "wrangler dev", [200, 404]);

  state.installed ??= {};
  for (const name of [ENCODER, DISTILBERT, GEMMA]) {
    const dir = join(STATE, "presets", name);
    const manifest = join(dir, "edge", "manifest.json");
    const config = readFileSync(join(dir, "config.json"), "utf8") + (existsSync(manifest) ? readFileSync(manifest, "utf8") : "");
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
Edgebone is running at ${URL_BASE}  (runner: http://127.0.0.1:${RUNNER_PORT}; Ctrl-C stops everything)
Presets: ${ENCODER} (in the isolate), ${DISTILBERT} (DistilBERT-base, int8, in the isolate), ${GEMMA} (on the runner).
Credentials: .edgebone/local.env

  curl -s ${URL_BASE}/v1/embeddings \\
    -H "Authorization: Bearer ${state.apiKey}" -H "Content-Type: application/json" \\
    -d '{"model": "${ENCODER}", "input": ["the quick brown fox", "hello world"]}'

  # the openai client (a dev dependency: run it in this directory)
  node --input-type=module -e '
    import OpenAI from "openai";
    const client = new OpenAI({ baseURL: "${URL_BASE}/v1", apiKey: "${state.apiKey}" });
    const { data } = await client.embeddings.create({ model: "${ENCODER}", input: "hello world" });
    console.log(data[0].embedding.length, "dimensions:", data[0].embedding.slice(0, 4));'

ready
`);
}

main().catch((e) => {
  log(`cannot start: ${(e as Error).message}`);
  void stop(1);
});
