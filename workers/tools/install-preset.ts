/**
 * Installs a preset into an Edgebone deployment's R2 bucket through its admin API, local (`wrangler dev`) or
 * remote. From a hub or any preset Edgebone reads, converted first (shared/node/convert.ts), or from a
 * preset directory as it is (saveToPreset's layout: config.json, metadata.json, model.safetensors,
 * tokenizer.hf.json, edgebone.json, …):
 *
 *   npm run -s preset:install -- hf://intfloat/multilingual-e5-small --url http://127.0.0.1:8787 [--token $ADMIN_TOKEN]
 *   npm run -s preset:install -- --dir ./my-preset --name my_preset --url http://127.0.0.1:8787
 *
 * Every file is streamed with its SHA-256 (R2 verifies it), with progress on stderr for large files; then
 * `record.json` ({"files": {file: {size, sha256}}}, shared/runner/layout) goes last, so runners never see a
 * partial preset. The token defaults to $EDGEBONE_ADMIN_TOKEN.
 */
import { createHash } from "node:crypto";
import { createReadStream, readdirSync, statSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Backbone, defaultPresetRoot, directoryFiles, familyTraits, parsePlan, parsePresetHandle, readEdgeManifest, supportsEdgeArtifact, type EdgeManifest, type FloatDType } from "../../shared/node/index.js";
import { writeEdgeArtifact } from "../../shared/node/edge-build.js";
import { convertPreset } from "../../shared/node/convert.js";
import { formatBytes, Progress, type FileProgress } from "../../shared/node/hub/progress.js";
import { isPresetName } from "../r2-preset-store.js";
import { MiB, placementFor } from "../services.js";

export interface InstallOptions {
  dir: string;
  name: string;
  url: string;
  token: string;
  /** Called as bytes go out (file, sent, total). */
  onProgress?: (file: string, sent: number, total: number) => void;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(relative(dir, path).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.filter((f) => f !== "record.json").sort((a, b) => (a === "config.json" ? 1 : b === "config.json" ? -1 : a.localeCompare(b)));
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** PUTs are idempotent (same bytes, same sha256): a dropped connection or a 503 is retried a few times. */
const ATTEMPTS = 3;

async function put(options: InstallOptions, file: string, body: Uint8Array | string, size: number, sha256: string): Promise<void> {
  const url = `${options.url.replace(/\/+$/, "")}/admin/presets/${encodeURIComponent(options.name)}/${file.split("/").map(encodeURIComponent).join("/")}`;
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "PUT",
        headers: { authorization: `Bearer ${options.token}`, "content-length": String(size), "x-sha256": sha256, "content-type": "application/octet-stream" },
        body: typeof body === "string" ? fileStream(options, file, body, size) : (body as Uint8Array<ArrayBuffer>),
        duplex: "half",
      } as RequestInit);
    } catch (e) {
      if (attempt < ATTEMPTS) continue;
      throw new Error(`PUT ${file}: ${(e as Error).message}`);
    }
    if (response.ok) break;
    const text = await response.text();
    // 503: a restarting `wrangler dev` (it asks for exactly this retry) or a busy edge
    if (response.status === 503 && attempt < ATTEMPTS) {
      await new Promise((r) => setTimeout(r, 500 * attempt));
      continue;
    }
    throw new Error(`PUT ${file}: ${response.status} ${text}`);
  }
  if (typeof body !== "string") options.onProgress?.(file, size, size);
}

/** A file's bytes as a stream, reporting progress. */
function fileStream(options: InstallOptions, file: string, path: string, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return (Readable.toWeb(createReadStream(path, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        options.onProgress?.(file, sent, size);
        controller.enqueue(chunk);
      },
    }),
  );
}

/** Uploads every file, then record.json; returns the record. */
export async function installPreset(options: InstallOptions): Promise<{ files: Record<string, { size: number; sha256: string }> }> {
  const files = listFiles(options.dir);
  if (!files.includes("config.json")) throw new Error(`${options.dir} has no config.json: not a preset directory`);
  const record: { files: Record<string, { size: number; sha256: string }> } = { files: {} };
  for (const file of files) {
    const path = join(options.dir, ...file.split("/"));
    const size = statSync(path).size;
    const sha256 = await sha256File(path);
    await put(options, file, path, size, sha256);
    if (!file.includes("/")) record.files[file] = { size, sha256 }; // the runner layout's record lists flat files
  }
  const bytes = new TextEncoder().encode(JSON.stringify(record, null, 2) + "\n");
  await put(options, "record.json", bytes, bytes.byteLength, createHash("sha256").update(bytes).digest("hex"));
  return record;
}

const USAGE = `usage: npm run -s preset:install -- <source> [--name <preset name>] [--out <dir>] [--dtype float32|float16|bfloat16]
                                   [--quantize auto|none|int8|int4|mixed|<plan>]
                                   [--url <edgebone url> | $EDGEBONE_URL] [--token <admin token> | $EDGEBONE_ADMIN_TOKEN]
       npm run -s preset:install -- --dir <Edgebone preset dir> --name <preset name> [--quantize …] [--url …] [--token …]
<source>: hf://org/model[@revision], kaggle://owner/model/framework/variation[/version], a built-in preset name,
or a local KerasHub / Hugging Face directory; it is downloaded (into the hubs' caches), converted into <dir>
(default $EDGEBONE_PRESETS/<name>) and uploaded.
--quantize: the edge artifact of an encoder (what the isolate runs), built into <dir>/edge/ unless it is there;
auto (default) keeps the first of int8, mixed, int4 that meets the fidelity bars within the edge's isolate budget,
else the first that meets the bars cut into a pipeline of isolates (else the preset runs on the runner pool); a named
plan rebuilds with that plan (a pipeline when it does not fit one isolate); none skips it.`;

/** The preset name a source installs as by default: the model's own name. */
function defaultPresetName(source: string): string {
  const handle = parsePresetHandle(source, new Map(Object.values(Backbone.presets).map((p) => [p.name, p])));
  switch (handle.kind) {
    case "builtin":
      return handle.name;
    case "hf":
      return handle.repo.split("/")[1];
    case "kaggle":
      return handle.path.split("/")[3];
    case "path":
      return basename(resolve(handle.path));
  }
}

/** The worker's code, imported by the edge artifact's measurement so that its heap counts. */
const WORKER_CODE = fileURLToPath(new URL("../app.ts", import.meta.url));

/**
 * The edge artifact (shared/edge: the quantized form an isolate loads without building anything) of an encoder:
 * built into `<dir>/edge/` unless it is there already (or `plan` asks for another), measured against the target
 * edge's isolate budget. `auto` keeps the first plan that meets the fidelity bars within the budget, else a pipeline
 * of isolates, or none.
 */
async function ensureEdgeArtifact(dir: string, plan: string, budgetBytes: number, rebuild: boolean): Promise<EdgeManifest | null> {
  const existing = await readEdgeManifest(directoryFiles(dir));
  if (existing && !rebuild) {
    process.stderr.write(`edge artifact: ${existing.plan} (already in ${dir}/edge/)\n`);
    return existing;
  }
  const shape = await Backbone.fromPreset(resolve(dir), { loadWeights: false });
  if (!supportsEdgeArtifact(shape) || familyTraits(shape.className).decoder) return null;
  const backbone = await Backbone.fromPreset(resolve(dir));
  process.stderr.write(`building the edge artifact of ${dir} (${plan}, isolate budget ${formatBytes(budgetBytes)})…\n`);
  const { manifest } = await writeEdgeArtifact(backbone, dir, { plan, budgetBytes, preload: [WORKER_CODE], log: (line) => process.stderr.write(`  ${line}\n`) });
  return manifest;
}

/** The target edge's isolate memory budget (its /info). */
async function isolateBudget(url: string): Promise<number> {
  const info = (await (await fetch(new URL("/info", url))).json()) as { edge_memory_budget_mb?: number };
  return (info.edge_memory_budget_mb ?? 128) * MiB;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dir: { type: "string" }, name: { type: "string" }, url: { type: "string" }, token: { type: "string" }, out: { type: "string" }, dtype: { type: "string" }, quantize: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const url = values.url ?? process.env.EDGEBONE_URL;
  const token = values.token ?? process.env.EDGEBONE_ADMIN_TOKEN;
  const source = positionals[0];
  if (values.help || positionals.length > 1 || !source === !values.dir || (values.dir && !values.name) || !url || !token) {
    process.stderr.write(USAGE + "\n");
    process.exit(2);
  }
  if (values.dtype !== undefined && !["float32", "float16", "bfloat16"].includes(values.dtype)) throw new Error(`--dtype must be float32, float16 or bfloat16, got "${values.dtype}"`);
  const name = values.name ?? defaultPresetName(source!);
  if (!isPresetName(name)) throw new Error(`"${name}" is not a valid preset name (letters, digits, . _ -): pass --name`);

  const quantize = values.quantize ?? "auto";
  if (quantize !== "auto" && quantize !== "none") parsePlan(quantize); // a bad plan fails before any work

  let dir = values.dir;
  if (source) {
    dir = values.out ?? join(defaultPresetRoot(), name);
    await convertPreset(source, dir, { dtype: values.dtype as FloatDType | undefined });
  }
  const budget = await isolateBudget(url);
  const edge = quantize === "none" ? null : await ensureEdgeArtifact(dir!, quantize, budget, values.quantize !== undefined);
  const backbone = await Backbone.fromPreset(resolve(dir!), { loadWeights: false });

  const progress = new Progress(`upload ${name}`);
  const files = new Map<string, { bar: FileProgress; sent: number }>();
  const record = await installPreset({
    dir: dir!,
    name,
    url,
    token,
    onProgress(file, sent, total) {
      let entry = files.get(file);
      if (!entry) files.set(file, (entry = { bar: progress.file(file, total), sent: 0 }));
      entry.bar.advance(sent - entry.sent);
      entry.sent = sent;
      if (sent === total) entry.bar.done();
    },
  });
  progress.close();
  const total = Object.values(record.files).reduce((n, f) => n + f.size, 0);
  process.stdout.write(`installed preset ${name} from ${source ?? dir}: ${Object.keys(record.files).length} files, ${formatBytes(total)}\n`);
  process.stdout.write(`${whereItRuns(backbone, edge, budget)}\n`);
}

/** Where the platform will run the preset, by the same rule the worker applies to its isolate budget. */
function whereItRuns(backbone: Backbone, edge: EdgeManifest | null, budget: number): string {
  const { where, footprint } = placementFor(backbone, edge, budget);
  const sizes = `${edge?.measured ? "measured peak" : "estimated footprint"} ${formatBytes(footprint)}, isolate budget ${formatBytes(budget)}`;
  if (familyTraits(backbone.className).decoder) return "runs on the GPU runner pool (decoders always do)";
  if (where === "pipeline") {
    const plan = edge!.pipeline!;
    return `runs on a pipeline of ${plan.stages.length} edge isolates (${edge!.plan} edge artifact; largest stage ${plan.basis === "measured" ? "measured" : "predicted"} at ${formatBytes(footprint)}, isolate budget ${formatBytes(budget)})`;
  }
  return where === "isolate"
    ? `runs in the edge isolate${edge ? ` (${edge.plan} edge artifact, ${sizes})` : ` (float weights, ${sizes})`}`
    : `runs on the GPU runner pool (${sizes})`;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((e) => {
    process.stderr.write(`install-preset: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
