/**
 * Byte-bounded LRU of promises: concurrent requests for the same key share one load; a failed load is
 * forgotten (the next request retries); least recently used entries are evicted once the total exceeds the
 * budget (an entry bigger than the whole budget is still served, then evicted on the next insert).
 */
export class AsyncLruCache<V> {
  private readonly entries = new Map<string, { promise: Promise<V>; bytes: number }>();
  private total = 0;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit); // most recently used last
      return hit.promise;
    }
    const entry = { promise: load(), bytes: 0 };
    this.entries.set(key, entry);
    entry.promise.then(
      (value) => {
        if (this.entries.get(key) !== entry) return;
        entry.bytes = this.sizeOf(value);
        this.total += entry.bytes;
        this.evict(key);
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.promise;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
  }

  private evict(keep: string): void {
    for (const [key, entry] of this.entries) {
      if (this.total <= this.maxBytes) return;
      if (key === keep || entry.bytes === 0) continue; // never the newcomer, never a load in flight
      this.delete(key);
    }
  }
}
