/**
 * One load per key at a time: callers that ask for a key while its load is running share that load's promise,
 * and the load is forgotten once it settles, so a failure is never cached (the next caller starts over).
 * Runtime-agnostic: the worker's and the runner's caches put their loads through it.
 */
export class SingleFlight<V> {
  private readonly running = new Map<string, Promise<V>>();

  /** Whether a load of `key` is running. */
  has(key: string): boolean {
    return this.running.has(key);
  }

  /** Keys whose load is running. */
  keys(): string[] {
    return [...this.running.keys()];
  }

  /**
   * The running load of `key`, or a new one from `load`. `commit` runs with the value of a load that is still
   * the key's current one when it succeeds (not `forget`-ten meanwhile), before any caller sees the value.
   */
  run(key: string, load: () => Promise<V>, commit?: (value: V) => void): Promise<V> {
    const running = this.running.get(key);
    if (running) return running;
    const flight: Promise<V> = (async () => load())().then(
      (value) => {
        if (this.running.get(key) === flight) {
          this.running.delete(key);
          commit?.(value);
        }
        return value;
      },
      (error: unknown) => {
        if (this.running.get(key) === flight) this.running.delete(key);
        throw error;
      },
    );
    this.running.set(key, flight);
    return flight;
  }

  /** The next caller starts a new load; callers of the running one still get its result, which is not committed. */
  forget(key: string): void {
    this.running.delete(key);
  }
}
