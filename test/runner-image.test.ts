/**
 * The runner image without a Docker engine (none runs here): gpu-runner/Dockerfile linted for the rules that
 * matter (hadolint is neither in Debian bookworm nor on npm), the image's dependencies checked to be production
 * ones only, and the image's command run as a process with the image's environment and cache volume path: it
 * starts, answers its probes, and on SIGTERM drains and exits 0 within the grace period.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FORWARD_PATH, HEADERS, importSigningKey, signRequest } from "../shared/runner/index.js";
import { freePort } from "./helpers/edge-platform.js";
import { execForm, lastInstruction, readDockerfile, stageEnv, stageInstructions, type ParsedDockerfile } from "./helpers/dockerfile.js";
import { PRESET, SIGNING_KEY, makeFixture, tmp, type Fixture } from "./helpers/runner-fixtures.js";
import { ROOT, startRunnerProcess, type RunnerProcess } from "./helpers/runner-process.js";

const DOCKERFILE = join(ROOT, "gpu-runner/Dockerfile");
const cpu = readDockerfile(DOCKERFILE);
const gpu = readDockerfile(DOCKERFILE, { VARIANT: "gpu" });
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };

const runs = (df: ParsedDockerfile, stage?: string) => stageInstructions(df, stage).filter((i) => i.keyword === "RUN").map((i) => i.args);
const healthcheckArgv = (df: ParsedDockerfile) => execForm(/\bCMD\s+(\[.*\])\s*$/s.exec(lastInstruction(df, "HEALTHCHECK")!.args)![1]);

describe("gpu-runner/Dockerfile", () => {
  it("is multi-stage, every base image pinned to a version (never latest), no ADD", () => {
    for (const df of [cpu, gpu]) {
      expect(df.stages.length).toBeGreaterThanOrEqual(3);
      const names = new Set(df.stages.map((s) => s.name));
      for (const stage of df.stages) {
        if (names.has(stage.from)) continue; // built on an earlier stage
        expect(stage.from, `FROM ${stage.from}`).toMatch(/^[\w./-]+(:\d[\w.-]*|@sha256:[0-9a-f]{64})$/);
      }
      expect(df.stages.flatMap((s) => s.instructions).filter((i) => i.keyword === "ADD")).toEqual([]);
    }
    expect(cpu.stages.at(-1)!.from).toBe("base-cpu");
    expect(gpu.stages.at(-1)!.from).toBe("base-gpu");
  });

  it("installs production dependencies from the lockfile only (npm ci --omit=dev, never npm install)", () => {
    const all = cpu.stages.flatMap((s) => s.instructions);
    const npm = all.filter((i) => i.keyword === "RUN" && /\bnpm\b/.test(i.args));
    expect(npm.length).toBeGreaterThan(0);
    for (const i of npm) {
      expect(i.args).not.toMatch(/\bnpm\s+(install|i|add)\b/);
      expect(i.args).toMatch(/\bnpm ci\b.*--omit=dev/);
    }
    const lockCopied = all.findIndex((i) => i.keyword === "COPY" && i.args.includes("package-lock.json"));
    expect(lockCopied).toBeGreaterThanOrEqual(0);
    expect(lockCopied).toBeLessThan(all.indexOf(npm[0]));
  });

  it("the final image runs as a non-root user, exec-form CMD, cache on a volume, HEALTHCHECK on /ready", () => {
    for (const df of [cpu, gpu]) {
      const user = lastInstruction(df, "USER")!.args.split(":")[0];
      expect(user).not.toMatch(/^(root|0)$/);
      const env = stageEnv(df);
      expect(lastInstruction(df, "VOLUME")!.args).toContain(env.RUNNER_CACHE_DIR);
      expect(lastInstruction(df, "EXPOSE")!.args).toBe(env.RUNNER_PORT);
      expect(env.RUNNER_HOST).toBe("0.0.0.0");
      expect(env.RUNNER_UNSIGNED_PATHS.split(",")).toEqual(expect.arrayContaining(["/health", "/ready", "/metrics"]));
      expect(env.RUNNER_UNSIGNED_PATHS).not.toContain(FORWARD_PATH);
      expect(execForm(lastInstruction(df, "CMD")!.args)).toEqual(["node", "--import", "tsx", "gpu-runner/main.ts"]);
      expect(healthcheckArgv(df).join(" ")).toContain("/ready");
      expect(lastInstruction(df, "STOPSIGNAL")!.args).toBe("SIGTERM");
    }
    // The cache directory is the only thing the user owns.
    expect(runs(cpu).join("\n")).toMatch(/chown edgebone:edgebone \/var\/cache\/edgebone\s*$/m);
  });

  it("the GPU variant fetches onnxruntime's CUDA provider at build time, the way onnxruntime-node's script does", () => {
    expect(stageEnv(gpu).RUNNER_EXECUTION_PROVIDER).toBe("cuda");
    expect(stageEnv(cpu).RUNNER_EXECUTION_PROVIDER).toBeUndefined();
    const install = runs(gpu, "deps-gpu").find((r) => r.includes("script/install.js"))!;
    expect(install).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js/);
    // The pinned onnxruntime-node reads ONNXRUNTIME_NODE_INSTALL before the npm config (.npmrc's skip) ...
    const utils = readFileSync(join(ROOT, "node_modules/onnxruntime-node/script/install-utils.js"), "utf8");
    expect(utils).toMatch(/process\.env\.ONNXRUNTIME_NODE_INSTALL \|\| process\.env\.npm_config_onnxruntime_node_install/);
    expect(readFileSync(join(ROOT, ".npmrc"), "utf8")).toMatch(/^onnxruntime-node-install=skip$/m);
    // ... and "cuda12" on linux/x64 installs the provider library the Dockerfile checks for.
    const metadata = createRequire(import.meta.url)("onnxruntime-node/script/install-metadata.js") as { requirements: Record<string, string[]>; manifests: Record<string, Record<string, unknown>> };
    expect(metadata.requirements["linux/x64"]).toContain("cuda12");
    expect(Object.keys(metadata.manifests["linux/x64:cuda12"])).toContain("./libonnxruntime_providers_cuda.so");
    expect(install).toContain("bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so");
  });

  it("the runner's import graph reaches production dependencies only", async () => {
    const result = await esbuild.build({ entryPoints: [join(ROOT, "gpu-runner/main.ts")], bundle: true, platform: "node", format: "esm", packages: "external", write: false, metafile: true, logLevel: "silent" });
    const imported = new Set<string>();
    for (const input of Object.values(result.metafile.inputs)) {
      for (const i of input.imports) {
        if (!i.external || i.path.startsWith("node:")) continue;
        imported.add(i.path.startsWith("@") ? i.path.split("/").slice(0, 2).join("/") : i.path.split("/")[0]);
      }
    }
    expect(imported.size).toBeGreaterThan(3);
    for (const name of imported) expect(Object.keys(pkg.dependencies), `${name} is imported by the runner`).toContain(name);
  });

  it(".dockerignore lets through exactly what the image copies", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8");
    const allowed = ignore.split("\n").filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""));
    // Sources from the build context (absolute ones come from other stages, with --from).
    const copied = cpu.stages.flatMap((s) => s.instructions).filter((i) => i.keyword === "COPY").flatMap((i) => i.args.split(/\s+/).slice(0, -1)).filter((p) => !p.startsWith("/"));
    expect(new Set(copied)).toEqual(new Set(allowed));
    for (const path of allowed) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });
});

/**
 * An object store standing in for the bucket that holds the preset's files back until `release()`, so a request
 * is provably in flight when the runner gets SIGTERM. Speaks the edge's `/internal/objects/<key>` route (one of
 * the runner's store kinds), serving the fixture's local store.
 */
function gatedStore(root: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  const server: Server = createServer(async (req, res) => {
    const key = decodeURIComponent(new URL(req.url!, "http://store").pathname.replace(/^\/internal\/objects\//, ""));
    if (!key.endsWith("record.json")) {
      reached();
      await gate;
    }
    const path = join(root, key);
    if (!existsSync(path)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(path));
  });
  return { server, release, held };
}

describe("the image's command as a process", () => {
  const df = cpu;
  let fx: Fixture;
  let store: ReturnType<typeof gatedStore>;
  let proc: RunnerProcess;
  let base: string;
  let env: Record<string, string>;
  const volume = tmp("edgebone-image-");

  beforeAll(async () => {
    fx = await makeFixture(0);
    store = gatedStore(join(fx.dir, "store"));
    await new Promise<void>((resolve) => store.server.listen(0, "127.0.0.1", resolve));
    const port = await freePort();
    const image = stageEnv(df);
    env = {
      ...image,
      RUNNER_PORT: String(port),
      // The image's volume path, rooted in a temporary directory.
      RUNNER_CACHE_DIR: join(volume, image.RUNNER_CACHE_DIR),
      RUNNER_STORE: `http://127.0.0.1:${(store.server.address() as { port: number }).port}/internal/objects`,
      // What a deployment adds (Secret and settings).
      RUNNER_SIGNING_KEY: SIGNING_KEY,
      RUNNER_THREADS: "1",
      RUNNER_DRAIN_TIMEOUT_MS: "15000",
    };
    proc = await startRunnerProcess(env, execForm(lastInstruction(df, "CMD")!.args));
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    store?.release();
    proc?.child.kill("SIGKILL");
    await new Promise((resolve) => store?.server.close(resolve));
  });

  const healthcheck = () => {
    const [command, ...args] = healthcheckArgv(df);
    return spawnSync(command === "node" ? process.execPath : command, args, { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 10_000 }).status;
  };

  it("listens on every interface at the image's port", () => {
    expect(proc.url).toBe(`http://0.0.0.0:${env.RUNNER_PORT}`);
  });

  it("answers /health, /ready and /metrics unsigned and refuses unsigned forwards", async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(await (await fetch(`${base}/ready`)).json()).toMatchObject({ ready: true });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^vllm:num_requests_waiting 0$/m); // what the endpoint picker scrapes
    const unsigned = await fetch(`${base}${FORWARD_PATH}`, { method: "POST", body: "{}" });
    expect(unsigned.status).toBe(401);
    expect(healthcheck()).toBe(0);
  });

  it("on SIGTERM stops taking work, finishes the request in flight, and exits 0 within the drain time", async () => {
    const key = await importSigningKey(SIGNING_KEY);
    const forward = async (tokens: number[]) => {
      const body = JSON.stringify({ preset: PRESET, token_ids: [tokens] });
      return fetch(`${base}${FORWARD_PATH}`, { method: "POST", headers: { ...(await signRequest(key, "POST", FORWARD_PATH, body)), "content-type": "application/json" }, body });
    };
    const inFlight = forward([1, 2, 3, 4]);
    await store.held; // the runner is downloading the preset for it
    const stoppedAt = Date.now();
    proc.child.kill("SIGTERM");
    await expect.poll(async () => (await fetch(`${base}/ready`)).status, { timeout: 5_000, interval: 50 }).toBe(503);
    expect(healthcheck()).toBe(1);
    const refused = await forward([5, 6]);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: "draining" });

    store.release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.headers.get(HEADERS.shape)).toBe(`1,4,${fx.backbone.hiddenDim}`);
    expect(await proc.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(Number(env.RUNNER_DRAIN_TIMEOUT_MS));
    expect(proc.log.join("")).toMatch(/"msg":"drained"/);
    // Downloads landed in the cache volume (content-addressed by sha256).
    expect(readdirSync(env.RUNNER_CACHE_DIR).filter((f) => /^[0-9a-f]{64}$/.test(f)).length).toBeGreaterThan(0);
  });
});
