/**
 * LoRA weight files. Formats are chosen by suffix: `.lora.safetensors` (ours, any runtime) is built in;
 * `.lora.h5` (KerasHub's HDF5 layout) is registered by the Node entry point, which also supplies file access.
 * Bytes-level encode/decode work everywhere (the platform stores adapters in R2, not on a filesystem).
 */
import type { Backbone } from "../backbone/backbone.js";
import { readSafetensors, writeSafetensors } from "../weights/safetensors.js";
import { loraVariablePath, type LoraAdapter, type LoraFactors, type LoraLayout } from "./adapter.js";

export interface LoraFileFormat {
  suffix: string;
  encode(adapter: LoraAdapter, backbone: Backbone): Promise<Uint8Array>;
  decode(bytes: Uint8Array, backbone: Backbone, source: string): Promise<LoraAdapter>;
}

export interface LoraFileAccess {
  read(path: string): Promise<Uint8Array>;
  write(path: string, bytes: Uint8Array): Promise<void>;
}

/** Our platform form: safetensors keyed by KerasHub variable path (`…/query/lora_kernel_a`). */
export const loraSafetensorsFormat: LoraFileFormat = {
  suffix: ".lora.safetensors",
  async encode(adapter, backbone) {
    const entries: [string, LoraFactors["a"]][] = [];
    for (const t of backbone.loraTargets()) {
      const f = adapter.factors.get(t.kernelPath);
      if (!f) continue;
      entries.push([loraVariablePath(t.kernelPath, "a"), f.a], [loraVariablePath(t.kernelPath, "b"), f.b]);
    }
    return writeSafetensors(entries, {
      format: "edgebone-lora",
      layout: adapter.layout,
      rank: String(adapter.rank),
      scale: String(adapter.scale),
      backbone: backbone.className,
    });
  },
  async decode(bytes, backbone, source) {
    const { tensors, metadata } = readSafetensors(bytes, source);
    if (metadata.format !== "edgebone-lora") throw new Error(`${source} is not an Edgebone LoRA file (metadata format "${metadata.format ?? ""}")`);
    const layout = metadata.layout as LoraLayout;
    if (layout !== "per_head" && layout !== "flat") throw new Error(`${source}: unknown LoRA layout "${metadata.layout}"`);
    if (metadata.backbone !== undefined && metadata.backbone !== backbone.className) {
      throw new Error(`${source} was made for a ${metadata.backbone}, not for this preset's ${backbone.className}`);
    }
    const factors = new Map<string, LoraFactors>();
    for (const t of backbone.loraTargets()) {
      const names = { a: loraVariablePath(t.kernelPath, "a"), b: loraVariablePath(t.kernelPath, "b") };
      const a = tensors.get(names.a);
      const b = tensors.get(names.b);
      if (a && b) factors.set(t.kernelPath, { a, b });
      else if (a || b) throw new Error(`${source} has ${a ? names.a : names.b} but not ${a ? names.b : names.a}`);
      tensors.delete(names.a);
      tensors.delete(names.b);
    }
    if (tensors.size) throw new Error(`${source} has tensors that match no LoRA target of ${backbone.className}: ${[...tensors.keys()].slice(0, 3).join(", ")}`);
    // The rank is the factors' own (checked by validateAdapter), never trusted to size anything by itself.
    const rank = Number(metadata.rank);
    if (!Number.isSafeInteger(rank) || rank < 1) throw new Error(`${source}: metadata rank "${metadata.rank}" is not a positive integer`);
    const scale = Number(metadata.scale ?? 1);
    return { rank, scale, layout, factors };
  },
};

const formats: LoraFileFormat[] = [loraSafetensorsFormat];
let access: LoraFileAccess | null = null;

export function registerLoraFormat(format: LoraFileFormat): void {
  if (!formats.some((f) => f.suffix === format.suffix)) formats.push(format);
}

export function setLoraFileAccess(fileAccess: LoraFileAccess): void {
  access = fileAccess;
}

/** The format for a file name; KerasHub's error when the suffix is wrong. */
export function loraFileFormat(path: string): LoraFileFormat {
  const format = formats.find((f) => path.endsWith(f.suffix));
  if (!format) {
    const known = [".lora.h5", ...formats.map((f) => f.suffix)].filter((s, i, all) => all.indexOf(s) === i);
    const h5 = path.endsWith(".lora.h5") ? " (.lora.h5 needs the Node entry point, shared/node)" : "";
    throw new Error(`LoRA weights filename must end in ${known.join(" or ")}, got "${path}"${h5}`);
  }
  return format;
}

export function loraFileAccess(): LoraFileAccess {
  if (!access) throw new Error("no file access in this runtime: use a LoraFileFormat's encode/decode with bytes");
  return access;
}
