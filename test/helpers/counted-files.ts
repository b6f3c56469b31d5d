/** A directory's preset files that record every read (byte ranges per file, whole-file reads), and a store over them. */
import { directoryFiles, type PresetFiles, type PresetStore } from "../../shared/node/index.js";

export interface CountedFiles {
  files: PresetFiles;
  /** A store whose every key and path opens these files. */
  store: PresetStore;
  /** [offset, length] of every ranged read, by file. */
  ranges: Map<string, [number, number][]>;
  wholeReads: string[];
  /** Bytes read through ranges (of one file, or all). */
  rangeBytes(file?: string): number;
}

export function countedFiles(dir: string): CountedFiles {
  const inner = directoryFiles(dir);
  const ranges = new Map<string, [number, number][]>();
  const wholeReads: string[] = [];
  const files: PresetFiles = {
    ...inner,
    read: (file) => (wholeReads.push(file), inner.read(file)),
    readRange: async (file, offset, length) => {
      const bytes = await inner.readRange!(file, offset, length);
      if (bytes) ranges.set(file, [...(ranges.get(file) ?? []), [offset, bytes.byteLength]]);
      return bytes;
    },
  };
  const sum = (list: [number, number][]) => list.reduce((n, [, length]) => n + length, 0);
  return {
    files,
    store: { description: `counted ${dir}`, open: () => files, openPath: () => files },
    ranges,
    wholeReads,
    rangeBytes: (file) => (file === undefined ? [...ranges.values()].reduce((n, list) => n + sum(list), 0) : sum(ranges.get(file) ?? [])),
  };
}
