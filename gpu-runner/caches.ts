/**
 * The runner's two caches, each with its own byte budget and LRU eviction:
 *
 * - `DiskCache`: downloaded objects, content-addressed by sha256 (`<dir>/<sha256>`), so a new version of an
 *   adapter or preset is a new file and a stale one can never be served. A download streams to a temporary file
 *   while hashing; only a download whose size and sha256 match the record is renamed into the cache. Objects in
 *   use (leased) are never deleted, so the budget can be exceeded by at most the objects being read.
 *
 * Decoded things (loaded models, adapters) live in `ByteLru`s (shared/cache/byte-lru.ts, also the worker's).
 *
 * Failures are never cached: a missing or corrupt object is retried from the store on the next request.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { ByteLru } from "../shared/cache/byte-lru.js";
import { SingleFlight } from "../shared/cache/single-flight.js";
import type { ObjectRecord } from "../shared/runner/protocol.js";
import { ServeError } from "./errors.js";
import type { ObjectStream } from "./object-store.js";

export interface CacheEvents {
  hit?(): void;
  miss?(): void;
  evict?(bytes: number): void;
}

export interface Lease {
  path: string;
  release(): void;
}

interface DiskEntry {
  /** Readers holding the file. */
  leases: number;
}

const SHA = /^[0-9a-f]{64}$/;

export class DiskCache {
  /** Cached files by sha256, least recently used first; leased ones are never evicted. */
  private readonly files: ByteLru<DiskEntry>;
  private readonly downloads = new SingleFlight<void>();
  /** Deletions of evicted files not yet awaited. */
  private unlinks: Promise<void>[] = [];
  private readonly tmpDir: string;

  constructor(
    readonly dir: string,
    readonly budgetBytes: number,
    private readonly events: CacheEvents = {},
  ) {
    this.tmpDir = join(dir, "tmp");
    this.files = new ByteLru<DiskEntry>(budgetBytes, {
      busy: (entry) => entry.leases > 0,
      onEvict: (sha, _entry, size) => {
        this.events.evict?.(size);
        this.unlinks.push(unlink(join(this.dir, sha)).catch(() => {}));
      },
    });
  }

  /** Adopts the files a previous run left (oldest use first), drops temporaries, evicts down to the budget. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    const found: { sha: string; size: number; mtime: number }[] = [];
    for (const name of await readdir(this.dir)) {
      if (!SHA.test(name)) continue;
      const info = await stat(join(this.dir, name)).catch(() => null);
      if (info?.isFile()) found.push({ sha: name, size: info.size, mtime: info.mtimeMs });
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) this.files.put(f.sha, { leases: 0 }, f.size);
    await this.evict();
  }

  get bytes(): number {
    return this.files.bytes;
  }

  get count(): number {
    return this.files.size;
  }

  has(sha256: string): boolean {
    return this.files.has(sha256);
  }

  /**
   * The object as a local file, downloaded (and verified against `record`) on a miss. `key` names it in errors;
   * `open` streams it from the store (null: it does not exist). Release the lease when done reading.
   */
  async fetch(key: string, record: ObjectRecord, open: () => Promise<ObjectStream | null>): Promise<Lease> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = this.files.peek(record.sha256);
      if (entry) {
        const path = join(this.dir, record.sha256);
        const info = await stat(path).catch(() => null);
        if (info?.size === record.size && this.files.peek(record.sha256) === entry) {
          this.events.hit?.();
          return this.lease(record.sha256);
        }
        if (this.files.peek(record.sha256) === entry && entry.leases === 0) this.files.delete(record.sha256); // deleted behind our back
      }
      if (record.size > this.budgetBytes) {
        // Larger than the whole cache: download for this caller only, delete after use.
        this.events.miss?.();
        const tmp = await this.download(key, record, open);
        return { path: tmp, release: () => void unlink(tmp).catch(() => {}) };
      }
      if (!this.downloads.has(record.sha256)) this.events.miss?.();
      await this.downloads.run(record.sha256, () => this.downloadIntoCache(key, record, open));
      if (this.files.has(record.sha256)) return this.lease(record.sha256);
      // Evicted between the download and now (only under extreme pressure): go round again.
    }
    throw new ServeError("busy", `disk cache is too busy to keep ${key} (budget ${this.budgetBytes} bytes)`);
  }

  private lease(sha: string): Lease {
    const entry = this.files.get(sha)!; // now the most recently used
    entry.leases++;
    const path = join(this.dir, sha);
    const now = new Date();
    void utimes(path, now, now).catch(() => {}); // keeps LRU order across restarts
    let released = false;
    return {
      path,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        void this.evict();
      },
    };
  }

  private async downloadIntoCache(key: string, record: ObjectRecord, open: () => Promise<ObjectStream | null>): Promise<void> {
    const tmp = await this.download(key, record, open);
    const target = join(this.dir, record.sha256);
    await rename(tmp, target);
    this.files.put(record.sha256, { leases: 0 }, record.size); // older idle files make way, never the newcomer
    await this.unlinked();
  }

  /** Streams the object to a temporary file, hashing as it goes; throws (and deletes it) unless it matches. */
  private async download(key: string, record: ObjectRecord, open: () => Promise<ObjectStream | null>): Promise<string> {
    const stream = await open();
    if (!stream) throw new ServeError("not_found", `${key} is listed in its record but missing from the store`);
    if (stream.size !== null && stream.size !== record.size) {
      await closeQuietly(stream.body);
      throw new ServeError("corrupt_object", `${key} is corrupt: the store has ${stream.size} bytes, its record says ${record.size}`);
    }
    const tmp = join(this.tmpDir, `${record.sha256}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    const hash = createHash("sha256");
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.byteLength;
        // Stop early instead of filling the disk with an object larger than its record.
        if (size > record.size) return done(new ServeError("corrupt_object", `${key} is corrupt: it is larger than the ${record.size} bytes its record says`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(stream.body, meter, createWriteStream(tmp));
      if (size !== record.size) throw new ServeError("corrupt_object", `${key} is corrupt: ${size} bytes, its record says ${record.size}`);
      const sha = hash.digest("hex");
      if (sha !== record.sha256) throw new ServeError("corrupt_object", `${key} is corrupt: sha256 ${sha}, its record says ${record.sha256}`);
      return tmp;
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  /** Deletes least recently used, unleased files until the total fits the budget. */
  private async evict(): Promise<void> {
    this.files.makeRoom(0);
    await this.unlinked();
  }

  /** Waits for the deletion of the files evicted so far. */
  private async unlinked(): Promise<void> {
    const unlinks = this.unlinks;
    this.unlinks = [];
    await Promise.all(unlinks);
  }
}

async function closeQuietly(body: AsyncIterable<Uint8Array>): Promise<void> {
  const destroyable = body as { destroy?: () => void };
  destroyable.destroy?.();
}
