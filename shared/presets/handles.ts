/**
 * Preset identifiers (spec §1.4 `get_file`): a built-in name, `kaggle://org/model/framework/variant[/version]`,
 * `hf://org/model[@revision]`, or a local path. Each maps to the store keys it may be kept under.
 */
import type { PresetInfo } from "./preset-info.js";

export type PresetHandle =
  | { kind: "builtin"; name: string; info: PresetInfo }
  | { kind: "kaggle"; handle: string; path: string }
  /** `revision`: a branch, tag or commit sha (`hf://org/model@v1.0`); absent means the default branch. */
  | { kind: "hf"; handle: string; repo: string; revision?: string }
  | { kind: "path"; path: string };

export function parsePresetHandle(preset: string, builtins: ReadonlyMap<string, PresetInfo>): PresetHandle {
  if (!preset.trim()) throw new Error("preset must not be empty");
  const info = builtins.get(preset);
  if (info) return { kind: "builtin", name: preset, info };
  if (preset.startsWith("kaggle://")) {
    const path = preset.slice("kaggle://".length).replace(/\/+$/, "");
    const segments = path.split("/");
    if (segments.length < 4 || segments.length > 5 || segments.some((s) => !s) || (segments.length === 5 && !/^[1-9]\d*$/.test(segments[4]))) {
      throw new Error(`invalid Kaggle handle "${preset}": expected kaggle://<org>/<model>/<framework>/<variant>[/<version number>]`);
    }
    return { kind: "kaggle", handle: preset, path };
  }
  if (preset.startsWith("hf://")) {
    const match = /^([\w.-]+\/[\w.-]+)\/*(?:@([\w./-]+))?$/.exec(preset.slice("hf://".length));
    if (!match || [match[1], match[2] ?? ""].some((part) => part.split("/").includes(".."))) throw new Error(`invalid Hugging Face handle "${preset}": expected hf://<org>/<model>[@<revision>]`);
    const [, repo, revision] = match;
    return revision ? { kind: "hf", handle: preset, repo, revision } : { kind: "hf", handle: preset, repo };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(preset)) {
    throw new Error(`unsupported preset scheme in "${preset}": use a built-in name, kaggle://, hf:// or a local directory`);
  }
  return { kind: "path", path: preset };
}

/** The keys a handle is looked up under in a preset store, in order. */
export function storeKeys(handle: PresetHandle): string[] {
  switch (handle.kind) {
    case "builtin":
      return [handle.name, `kaggle/${handle.info.kaggleHandle.slice("kaggle://".length)}`];
    case "kaggle":
      return [`kaggle/${handle.path}`];
    case "hf":
      return [`hf/${handle.repo}${handle.revision ? `@${handle.revision}` : ""}`];
    case "path":
      return [handle.path];
  }
}
