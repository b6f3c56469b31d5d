/** Node-only: presets as directories on the local filesystem. */
import { mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { PresetFiles, PresetStore } from "../presets/store.js";
import type { EdgeFiles } from "../edge/edge-model.js";

/** `$EDGEBONE_PRESETS`, else `~/.cache/edgebone/presets`. */
export function defaultPresetRoot(): string {
  return process.env.EDGEBONE_PRESETS || join(homedir(), ".cache", "edgebone", "presets");
}

export class FsPresetStore implements PresetStore {
  readonly root: string;
  readonly description: string;

  constructor(root: string = defaultPresetRoot()) {
    this.root = resolve(root);
    this.description = `local preset directory ${this.root}`;
  }

  open(key: string): PresetFiles {
    if (key.split("/").some((part) => part === ".." || part === "")) throw new Error(`invalid preset key "${key}"`);
    return directoryFiles(join(this.root, key));
  }

  /** An existing directory, or a path that looks like one (./x, /x, ../x) so that saving can create it. */
  openPath(path: string): PresetFiles | null {
    const looksLikePath = /^(\.{0,2}\/|~)/.test(path) || path.includes("/") || existsSync(path);
    if (!looksLikePath) return null;
    const dir = resolve(path.startsWith("~") ? join(homedir(), path.slice(1)) : path);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not a preset directory`);
    return directoryFiles(dir);
  }
}

export function directoryFiles(dir: string): PresetFiles & Required<Pick<EdgeFiles, "readInto">> {
  return {
    location: dir,
    async read(file) {
      try {
        return await readFile(join(dir, file));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
    },
    async readInto(file, target) {
      let handle;
      try {
        handle = await open(join(dir, file));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
      try {
        const { size } = await handle.stat();
        if (size !== target.byteLength) return { size };
        for (let at = 0; at < size; ) {
          const { bytesRead } = await handle.read(target, at, size - at, at);
          if (bytesRead === 0) return { size: at }; // shrank while being read
          at += bytesRead;
        }
        return { size, data: target };
      } finally {
        await handle.close();
      }
    },
    async write(file, bytes) {
      const target = join(dir, file);
      await mkdir(dirname(target), { recursive: true }); // files may live in subfolders (assets/tokenizer/…)
      // Write then rename, so a crash never leaves a truncated file under the real name.
      const tmp = `${target}.tmp-${process.pid}`;
      await writeFile(tmp, bytes);
      await rename(tmp, target);
    },
  };
}
