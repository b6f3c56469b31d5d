/**
 * Setup file of the `workers` project (runs in workerd before each test file; each file has its own D1 and R2
 * storage): applies migrations/ to D1 the pool's way (readD1Migrations in vitest.config.ts, applyD1Migrations
 * here; already-applied migrations are skipped) and writes the presets built by global-setup.ts into R2.
 */
import { Buffer } from "node:buffer";
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import { presetFileKey, presetRecordKey, recordOf, type PresetRecord } from "../../shared/runner/layout.js";

/**
 * workerd's node:buffer `Buffer#utf8Write(string, offset)` takes the whole buffer's length as the default
 * `length` (Node: length − offset) and throws ERR_OUT_OF_RANGE for any offset > 0. Under the pool, npm CJS
 * modules get a real `require`, so protobufjs (onnx-proto, used by the ONNX graph builder) finds node:buffer
 * and takes that path; in the deployed bundle it does not (no `require` in an ES module worker) and writes
 * into plain Uint8Arrays. Give utf8Write Node's default so the test isolate can build ONNX graphs; no-op once
 * workerd behaves like Node.
 */
const probe = Buffer.alloc(4) as Buffer & { utf8Write(s: string, offset?: number, length?: number): number };
const utf8Write = probe.utf8Write;
try {
  utf8Write.call(probe, "a", 1);
} catch {
  Object.defineProperty(Buffer.prototype, "utf8Write", {
    configurable: true,
    writable: true,
    value(this: Buffer, s: string, offset = 0, length = this.length - offset) {
      return utf8Write.call(this as typeof probe, s, offset, length);
    },
  });
}

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

const base64ToBytes = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
// Each preset's files, then its record.json, which makes it exist (workers/preset-install.ts); written as is, so
// the deliberately broken edge artifacts get in too.
for (const [preset, files] of Object.entries(inject("edgePresets"))) {
  if (await env.BUCKET.head(presetRecordKey(preset))) continue;
  const record: PresetRecord = { files: {} };
  for (const [file, data] of Object.entries(files)) {
    const bytes = base64ToBytes(data);
    await env.BUCKET.put(presetFileKey(preset, file), bytes);
    if (!file.includes("/")) record.files[file] = await recordOf(bytes);
  }
  await env.BUCKET.put(presetRecordKey(preset), JSON.stringify(record));
}
