/**
 * A least-recently-used map with a byte budget, for the worker's and the runner's caches (runtime-agnostic).
 * Entries carry their size; eviction goes oldest use first and skips entries the owner reports `busy` (a model a
 * batch is running on, a file being read). Two ways in:
 *
 * - `set`: a hard budget (the runner's GPU and disk): the entry is stored only if room can be made for it.
 * - `put`: a soft budget (the isolate's caches): the entry is always stored and older idle entries make way, so an
 *   entry larger than the whole budget is still kept until the next insert.
 */
interface ByteLruOptions<V> {
  /** Entries that must not be evicted right now. */
  busy?: (value: V) => boolean;
  /** Called for each entry evicted to make room (not for `delete`). */
  onEvict?: (key: string, value: V, size: number) => void;
}

interface Entry<V> {
  value: V;
  size: number;
}

export class ByteLru<V> {
  private readonly entries = new Map<string, Entry<V>>(); // insertion order = use order, oldest first
  private total = 0;

  constructor(
    readonly budgetBytes: number,
    private readonly options: ByteLruOptions<V> = {},
  ) {}

  /** Bytes held. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The value without touching its place in the use order. */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** The value, now the most recently used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Evicts idle entries until `size` more bytes fit; false if they cannot (too large, or the rest is busy). */
  makeRoom(size: number): boolean {
    return size <= this.budgetBytes && this.evictFor(size);
  }

  /** Stores the value if room can be made for it (hard budget); returns whether it was stored. */
  set(key: string, value: V, size: number): boolean {
    this.delete(key);
    if (!this.makeRoom(size)) return false;
    this.insert(key, value, size);
    return true;
  }

  /** Stores the value, evicting older idle entries as far as needed (soft budget). */
  put(key: string, value: V, size: number): void {
    this.delete(key);
    this.evictFor(size);
    this.insert(key, value, size);
  }

  /** Removes the entry (no `onEvict`); returns its value. */
  delete(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.total -= entry.size;
    return entry.value;
  }

  /** Removes every entry (no `onEvict`). */
  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  private insert(key: string, value: V, size: number): void {
    this.entries.set(key, { value, size });
    this.total += size;
  }

  private evictFor(size: number): boolean {
    for (const [key, entry] of this.entries) {
      if (this.total + size <= this.budgetBytes) break;
      if (this.options.busy?.(entry.value)) continue;
      this.delete(key);
      this.options.onEvict?.(key, entry.value, entry.size);
    }
    return this.total + size <= this.budgetBytes;
  }
}
