/**
 * The production worker entry (workers/index.ts) in workerd via Miniflare, listening on a loopback port so other
 * processes (GPU runners) can reach it: bundled as wrangler would (esbuild; the .wasm left to the runtime as a
 * CompiledWasm module), real D1 with migrations/ applied, real R2.
 */
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { Miniflare } from "miniflare";
import { bundleForWorkerd } from "./workerd-bundle.js";
import type { R2BucketLike } from "../../workers/env.js";
import { presetFileKey, presetRecordKey, recordOf, type PresetRecord } from "../../shared/runner/layout.js";

const WASM_IMPORT = "../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm"; // as wrangler resolves it
const wasmPath = createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm");

export interface EdgePlatform {
  mf: Miniflare;
  /** `http://127.0.0.1:<port>/` */
  url: URL;
  bucket: R2BucketLike;
  dispose(): Promise<void>;
}

/** The production entry's source as wrangler would bundle it, with its one .wasm import made local. */
export async function productionBundle(): Promise<string> {
  const bundled = await bundleForWorkerd(new URL("../../workers/index.ts", import.meta.url), ["*.wasm", "cloudflare:workers"]);
  const imports = [...bundled.matchAll(/from ["']([^"']*\.wasm)["']/g)].map((m) => m[1]);
  if (imports.length !== 1 || imports[0] !== WASM_IMPORT) throw new Error(`unexpected .wasm imports in the bundle: ${imports.join(", ")}`);
  return bundled.replace(WASM_IMPORT, "./ort-wasm-simd-threaded.wasm");
}

export async function applyMigrations(mf: Miniflare, worker?: string): Promise<void> {
  const db = await mf.getD1Database("DB", worker);
  const dir = fileURLToPath(new URL("../../migrations/", import.meta.url));
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    for (const statement of readFileSync(dir + file, "utf8").split("--> statement-breakpoint")) {
      if (statement.trim()) await db.prepare(statement).run();
    }
  }
}

/** Miniflare options of the production worker (one worker; spread into `workers: [...]` with a `name`). */
export async function edgeWorker(bindings: Record<string, string> = {}) {
  return {
    modules: [
      { type: "ESModule" as const, path: "worker.mjs", contents: await productionBundle() },
      { type: "CompiledWasm" as const, path: "ort-wasm-simd-threaded.wasm", contents: readFileSync(wasmPath) },
    ],
    compatibilityDate: "2026-04-01",
    compatibilityFlags: ["nodejs_compat"],
    d1Databases: ["DB"],
    r2Buckets: ["BUCKET"],
    // wrangler.toml's quota object; limits apply only where TENANT_* vars or a tenant's own limits set them
    durableObjects: { TENANT_QUOTA: { className: "TenantQuota", useSQLite: true } },
    bindings,
  };
}

/** The production worker on a loopback port, migrations applied; `inspectorPort`: workerd's inspector there. */
export async function startEdge(bindings: Record<string, string>, inspectorPort?: number): Promise<EdgePlatform> {
  const mf = new Miniflare({ ...(await edgeWorker(bindings)), host: "127.0.0.1", port: 0, ...(inspectorPort ? { inspectorPort } : {}) });
  const url = await mf.ready;
  await applyMigrations(mf);
  const bucket = (await mf.getR2Bucket("BUCKET")) as unknown as R2BucketLike;
  return { mf, url, bucket, dispose: () => mf.dispose() };
}

/**
 * Writes a preset's files straight into R2, then its record.json (which makes it exist): no install checks, for
 * fixtures (the admin API checks what it commits).
 */
export async function putPreset(bucket: { put(key: string, value: Uint8Array | string): Promise<unknown> }, name: string, files: Iterable<[string, Uint8Array | string]>): Promise<void> {
  const record: PresetRecord = { files: {} };
  for (const [file, data] of files) {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    await bucket.put(presetFileKey(name, file), bytes);
    if (!file.includes("/")) record.files[file] = await recordOf(bytes);
  }
  await bucket.put(presetRecordKey(name), JSON.stringify(record));
}

/** Creates a tenant and an API key through the admin API. */
export async function tenantWithKey(base: URL, adminToken: string, name: string): Promise<{ tenantId: string; key: string }> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(new URL(path, base), { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; key: string };
  };
  const tenant = await post("/admin/tenants", { name });
  const key = await post(`/admin/tenants/${tenant.id}/keys`, { name: "default" });
  return { tenantId: tenant.id, key: key.key };
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
