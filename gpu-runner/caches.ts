/**
 * The runner's two caches, each with its own byte budget and LRU eviction:
 *
 * - `DiskCache`: downloaded objects, content-addressed by sha256 (`<dir>/<sha256>`), so a new version of an
 *   adapter or preset is a new file and a stale one can never be served. A download streams to a temporary file
 *   while hashing; only a download whose size and sha256 match the record is renamed into the cache. Objects in
 *   use (leased) are never deleted, so the budget can be exceeded by at most the objects being read.
 * - `MemoryLru`: decoded things (loaded models, adapters) by key and size; an entry the owner reports busy is
 *   skipped by eviction.
 *
 * Failures are never cached: a missing or corrupt object is retried from the store on the next request.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
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
  size: number;
  leases: number;
}

const SHA = /^[0-9a-f]{64}$/;

export class DiskCache {
  private readonly entries = new Map<string, DiskEntry>(); // LRU order: oldest first
  private readonly downloads = new Map<string, Promise<void>>();
  private total = 0;
  private readonly tmpDir: string;

  constructor(
    readonly dir: string,
    readonly budgetBytes: number,
    private readonly events: CacheEvents = {},
  ) {
    this.tmpDir = join(dir, "tmp");
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
    for (const f of found) this.insert(f.sha, f.size);
    await this.evict();
  }

  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.entries.size;
  }

  has(sha256: string): boolean {
    return this.entries.has(sha256);
  }

  /**
   * The object as a local file, downloaded (and verified against `record`) on a miss. `key` names it in errors;
   * `open` streams it from the store (null: it does not exist). Release the lease when done reading.
   */
  async fetch(key: string, record: ObjectRecord, open: () => Promise<ObjectStream | null>): Promise<Lease> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = this.entries.get(record.sha256);
      if (entry) {
        const path = join(this.dir, record.sha256);
        const info = await stat(path).catch(() => null);
        if (info?.size === entry.size && this.entries.get(record.sha256) === entry) {
          this.events.hit?.();
          return this.lease(record.sha256, entry);
        }
        if (this.entries.get(record.sha256) === entry && entry.leases === 0) this.remove(record.sha256, entry); // deleted behind our back
      }
      if (record.size > this.budgetBytes) {
        // Larger than the whole cache: download for this caller only, delete after use.
        this.events.miss?.();
        const tmp = await this.download(key, record, open);
        return { path: tmp, release: () => void unlink(tmp).catch(() => {}) };
      }
      let pending = this.downloads.get(record.sha256);
      if (!pending) {
        this.events.miss?.();
        pending = this.downloadIntoCache(key, record, open).finally(() => this.downloads.delete(record.sha256));
        this.downloads.set(record.sha256, pending);
      }
      await pending;
      const fresh = this.entries.get(record.sha256);
      if (fresh) return this.lease(record.sha256, fresh);
      // Evicted between the download and now (only under extreme pressure): go round again.
    }
    throw new ServeError("busy", `disk cache is too busy to keep ${key} (budget ${this.budgetBytes} bytes)`);
  }

  private lease(sha: string, entry: DiskEntry): Lease {
    entry.leases++;
    this.entries.delete(sha); // most recently used last
    this.entries.set(sha, entry);
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
    this.insert(record.sha256, record.size);
    await this.evict(record.sha256);
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

  private insert(sha: string, size: number): void {
    const prior = this.entries.get(sha);
    if (prior) this.total -= prior.size;
    this.entries.set(sha, { size, leases: prior?.leases ?? 0 });
    this.total += size;
  }

  private remove(sha: string, entry: DiskEntry): void {
    this.entries.delete(sha);
    this.total -= entry.size;
  }

  /** Deletes least recently used, unleased files until the total fits the budget (`keep` is spared). */
  private async evict(keep?: string): Promise<void> {
    const victims: string[] = [];
    for (const [sha, entry] of this.entries) {
      if (this.total <= this.budgetBytes) break;
      if (entry.leases > 0 || sha === keep) continue;
      this.remove(sha, entry);
      this.events.evict?.(entry.size);
      victims.push(sha);
    }
    await Promise.all(victims.map((sha) => unlink(join(this.dir, sha)).catch(() => {})));
  }
}

async function closeQuietly(body: AsyncIterable<Uint8Array>): Promise<void> {
  const destroyable = body as { destroy?: () => void };
  destroyable.destroy?.();
}

export interface MemoryEntry<V> {
  value: V;
  size: number;
}

/** An LRU of decoded values with a byte budget; `busy(value)` entries are never evicted. */
export class MemoryLru<V> {
  private readonly entries = new Map<string, MemoryEntry<V>>();
  private total = 0;

  constructor(
    readonly budgetBytes: number,
    private readonly options: { busy?: (value: V) => boolean; onEvict?: (key: string, value: V) => void } = {},
  ) {}

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Evicts idle entries until `size` more bytes fit; false if they cannot (everything left is busy). */
  makeRoom(size: number): boolean {
    if (size > this.budgetBytes) return false;
    for (const [key, entry] of this.entries) {
      if (this.total + size <= this.budgetBytes) break;
      if (this.options.busy?.(entry.value)) continue;
      this.delete(key);
    }
    return this.total + size <= this.budgetBytes;
  }

  /** Stores the value if it fits (evicting idle entries); returns whether it was stored. */
  set(key: string, value: V, size: number): boolean {
    this.delete(key);
    if (!this.makeRoom(size)) return false;
    this.entries.set(key, { value, size });
    this.total += size;
    return true;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.size;
    this.options.onEvict?.(key, entry.value);
  }

  clear(): void {
    for (const key of [...this.entries.keys()]) this.delete(key);
  }
}
