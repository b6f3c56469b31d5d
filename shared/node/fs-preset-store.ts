/** Node-only: presets as directories on the local filesystem. */
import { mkdir, open, readFile, rename, rm, type FileHandle } from "node:fs/promises";
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

/** The directory behind files made by `directoryFiles` (h5wasm opens files by path, not bytes). */
const directories = new WeakMap<PresetFiles, string>();

export function directoryOf(files: PresetFiles): string | null {
  return directories.get(files) ?? null;
}

export function directoryFiles(dir: string): PresetFiles & Required<Pick<EdgeFiles, "readInto">> {
  const files: PresetFiles & Required<Pick<EdgeFiles, "readInto">> = {
    location: dir,
    read: (file) => orNull(readFile(join(dir, file))),
    readRange: (file, offset, length) => orNull(readRange(join(dir, file), offset, length)),
    readInto: (file, target) => orNull(readInto(join(dir, file), target)),
    write: (file, bytes) => writeAtomically(join(dir, file), (handle) => handle.writeFile(bytes)),
    writeParts: (file, parts) =>
      writeAtomically(join(dir, file), async (handle) => {
        for (const part of parts) await writeAll(handle, part);
      }),
  };
  directories.set(files, dir);
  return files;
}

/** Read-only preset files at given local paths (e.g. a cache's content-addressed files), read by byte range. */
export function pathPresetFiles(location: string, paths: ReadonlyMap<string, string>): PresetFiles {
  const at = <T>(file: string, read: (path: string) => Promise<T>) => {
    const path = paths.get(file);
    return path === undefined ? Promise.resolve(null) : orNull(read(path));
  };
  return {
    location,
    read: (file) => at(file, (path) => readFile(path)),
    readRange: (file, offset, length) => at(file, (path) => readRange(path, offset, length)),
    write: async (file) => {
      throw new Error(`${location} is read-only (cannot write ${file})`);
    },
  };
}

async function orNull<T>(value: Promise<T>): Promise<T | null> {
  try {
    return await value;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** One read() moves at most 2 GiB (libuv), so large ranges are read in pieces into one buffer. */
const MAX_IO = 1 << 30;

async function readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(out, done, Math.min(MAX_IO, length - done), offset + done);
      if (bytesRead === 0) return out.subarray(0, done); // end of file
      done += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** The whole file into `target` when it has exactly target.byteLength bytes (else only its size). */
async function readInto(path: string, target: Uint8Array): Promise<{ size: number; data?: Uint8Array }> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size !== target.byteLength) return { size };
    for (let at = 0; at < size; ) {
      const { bytesRead } = await handle.read(target, at, Math.min(MAX_IO, size - at), at);
      if (bytesRead === 0) return { size: at }; // shrank while being read
      at += bytesRead;
    }
    return { size, data: target };
  } finally {
    await handle.close();
  }
}

/** Writes all of `bytes` at the file position (in pieces: one write() moves at most 2 GiB). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength; at += MAX_IO) await handle.write(bytes.subarray(at, Math.min(bytes.byteLength, at + MAX_IO)));
}

/** Writes a temporary file then renames it, so a crash never leaves a truncated file under the real name. */
async function writeAtomically(target: string, fill: (handle: FileHandle) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true }); // files may live in subfolders (assets/tokenizer/…)
  const tmp = `${target}.tmp-${process.pid}`;
  const handle = await open(tmp, "w");
  try {
    await fill(handle);
  } catch (e) {
    await handle.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  await rename(tmp, target);
}
