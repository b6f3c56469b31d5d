/**
 * The isolate's caches of loads (configs, models, adapters, tokenizers): concurrent requests for the same key
 * share one load (`SingleFlight`); a failed load is forgotten (the next request retries); least recently used
 * entries are evicted once the total exceeds the budget (`ByteLru` with a soft budget: an entry bigger than the
 * whole budget is still served, then evicted on the next insert).
 */
import { ByteLru } from "../shared/cache/byte-lru.js";
import { SingleFlight } from "../shared/cache/single-flight.js";

export class AsyncLruCache<V> {
  private readonly lru: ByteLru<V>;
  private readonly loads = new SingleFlight<V>();

  constructor(
    maxBytes: number,
    private readonly sizeOf: (value: V) => number,
  ) {
    this.lru = new ByteLru<V>(maxBytes);
  }

  get bytes(): number {
    return this.lru.bytes;
  }

  /** Entries held (loads in flight not counted). */
  get size(): number {
    return this.lru.size;
  }

  /** Whether the key is held or loading. */
  has(key: string): boolean {
    return this.lru.has(key) || this.loads.has(key);
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.lru.has(key)) return Promise.resolve(this.lru.get(key) as V);
    return this.loads.run(key, load, (value) => this.lru.put(key, value, this.sizeOf(value)));
  }

  /** Drops the entry; a load in flight for it is not kept when it completes. */
  delete(key: string): void {
    this.lru.delete(key);
    this.loads.forget(key);
  }
}
