/**
 * Installs a local preset directory (saveToPreset's layout: config.json, metadata.json, model.safetensors,
 * tokenizer.hf.json, …) into an Edgebone deployment's R2 bucket through its admin API, local (`wrangler dev`)
 * or remote:
 *
 *   npm run -s preset:install -- --dir ./my-preset --name my_preset --url http://127.0.0.1:8787 [--token $ADMIN_TOKEN]
 *
 * Every file is streamed with its SHA-256 (R2 verifies it), with progress on stderr for large files; then
 * `record.json` ({"files": {file: {size, sha256}}}, shared/runner/layout) goes last, so runners never see a
 * partial preset. The token defaults to $EDGEBONE_ADMIN_TOKEN.
 */
import { createHash } from "node:crypto";
import { createReadStream, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";

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

async function put(options: InstallOptions, file: string, body: Uint8Array | string, size: number, sha256: string): Promise<void> {
  const url = `${options.url.replace(/\/+$/, "")}/admin/presets/${encodeURIComponent(options.name)}/${file.split("/").map(encodeURIComponent).join("/")}`;
  let payload: ReadableStream<Uint8Array> | Uint8Array;
  if (typeof body === "string") {
    let sent = 0;
    const stream = Readable.toWeb(createReadStream(body, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
    payload = stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          sent += chunk.byteLength;
          options.onProgress?.(file, sent, size);
          controller.enqueue(chunk);
        },
      }),
    );
  } else {
    payload = body as Uint8Array<ArrayBuffer>;
  }
  const response = await fetch(url, {
    method: "PUT",
    headers: { authorization: `Bearer ${options.token}`, "content-length": String(size), "x-sha256": sha256, "content-type": "application/octet-stream" },
    body: payload,
    duplex: "half",
  } as RequestInit);
  if (!response.ok) throw new Error(`PUT ${file}: ${response.status} ${await response.text()}`);
  if (typeof body !== "string") options.onProgress?.(file, size, size);
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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: "string" }, name: { type: "string" }, url: { type: "string" }, token: { type: "string" } } });
  const token = values.token ?? process.env.EDGEBONE_ADMIN_TOKEN;
  if (!values.dir || !values.name || !values.url || !token) {
    process.stderr.write("usage: install-preset --dir <preset dir> --name <preset name> --url <edgebone url> [--token <admin token> | $EDGEBONE_ADMIN_TOKEN]\n");
    process.exit(2);
  }
  let last = 0;
  const record = await installPreset({
    dir: values.dir,
    name: values.name,
    url: values.url,
    token,
    onProgress(file, sent, total) {
      const now = Date.now();
      if (total < 8 << 20 || (sent < total && now - last < 500)) return;
      last = now;
      process.stderr.write(`${file}: ${(sent / 2 ** 20).toFixed(1)} / ${(total / 2 ** 20).toFixed(1)} MiB (${Math.floor((100 * sent) / total)}%)\n`);
    },
  });
  const total = Object.values(record.files).reduce((n, f) => n + f.size, 0);
  process.stdout.write(`installed preset ${values.name}: ${Object.keys(record.files).length} files, ${(total / 2 ** 20).toFixed(1)} MiB\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((e) => {
    process.stderr.write(`install-preset: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
