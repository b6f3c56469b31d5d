/** Node-only: LoRA adapters from paths — a `.lora.h5` / `.lora.safetensors` file or a PEFT directory. */
import { readFile, stat, writeFile } from "node:fs/promises";
import type { Backbone } from "../backbone/backbone.js";
import { validateAdapter, type LoraAdapter } from "../lora/adapter.js";
import { loraFileFormat } from "../lora/files.js";
import { readPeftAdapter } from "../lora/peft.js";
import { directoryFiles } from "./fs-preset-store.js";

export async function readAdapter(path: string, backbone: Backbone): Promise<LoraAdapter> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new Error(`adapter ${path} does not exist`);
  if (info.isDirectory()) return readPeftAdapter(directoryFiles(path), backbone.loraTargets());
  const adapter = await loraFileFormat(path).decode(await readFile(path), backbone, path);
  validateAdapter(adapter, backbone.loraTargets(), path);
  return adapter;
}

export async function writeAdapter(path: string, adapter: LoraAdapter, backbone: Backbone): Promise<void> {
  const format = loraFileFormat(path);
  await writeFile(path, await format.encode(adapter, backbone));
}
