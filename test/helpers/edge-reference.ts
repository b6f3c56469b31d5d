/**
 * Prints an edge artifact's output for a batch, computed by the library (shared/edge) on onnxruntime-web in a fresh
 * Node process: for callers that cannot run onnxruntime-web themselves (vitest's global setup). `adapter` names a
 * LoRA adapter file (safetensors, relative to the preset directory) that every row uses.
 *
 *   node --import tsx test/helpers/edge-reference.ts <preset dir> '<{"token_ids": [[…]], "padding_mask": [[…]], "adapter"?: "a.safetensors"}>'
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export async function edgeReference(dir: string, batch: { token_ids: number[][]; padding_mask: number[][]; adapter?: string }): Promise<{ shape: number[]; data: number[] }> {
  // (vitest's module runner has no import.meta.resolve: tsx is found from the repository root)
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), dir, JSON.stringify(batch)], { maxBuffer: 64 << 20, cwd: root });
  return JSON.parse(stdout);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { Backbone, EdgeModel, FsPresetStore, directoryFiles, loraSafetensorsFormat, toFloat32, tokenBatch, wasmRuntime } = await import("../../shared/node/index.js");
  const [dir, batch] = process.argv.slice(2);
  const { token_ids, padding_mask, adapter } = JSON.parse(batch);
  const backbone = await Backbone.fromPreset(dir, { loadWeights: false, store: new FsPresetStore() });
  const files = directoryFiles(dir);
  const model = await EdgeModel.load(files, backbone, wasmRuntime());
  const adapters = adapter ? [await loraSafetensorsFormat.decode((await files.read(adapter))!, backbone, adapter)] : [];
  const out = (await model.forward(tokenBatch(token_ids, padding_mask), { adapters })).sequenceOutput;
  process.stdout.write(JSON.stringify({ shape: out.shape, data: Array.from(toFloat32(out)) }));
}
