/** shared/cache: the byte-bounded LRU and the single-flight loads the worker's and the runner's caches are made of. */
import { describe, expect, it } from "vitest";
import { ByteLru } from "../shared/cache/byte-lru.js";
import { SingleFlight } from "../shared/cache/single-flight.js";

describe("ByteLru", () => {
  it("set (hard budget): evicts idle entries least recently used first, skips busy ones, refuses what cannot fit", () => {
    const evicted: string[] = [];
    const busy = new Set<string>();
    const lru = new ByteLru<string>(100, { busy: (v) => busy.has(v), onEvict: (k) => evicted.push(k) });
    lru.set("a", "a", 40);
    lru.set("b", "b", 40);
    lru.get("a");
    busy.add("a");
    expect(lru.set("c", "c", 40)).toBe(true); // a is busy, so b goes
    expect(evicted).toEqual(["b"]);
    expect(lru.makeRoom(90)).toBe(false); // a busy: 40 + 90 > 100 even after evicting c
    expect(evicted).toEqual(["b", "c"]);
    expect(lru.set("huge", "huge", 101)).toBe(false);
    expect([lru.keys(), lru.bytes]).toEqual([["a"], 40]);
  });

  it("put (soft budget): keeps the newcomer even beyond the budget until the next insert", () => {
    const lru = new ByteLru<number>(25);
    lru.put("a", 1, 10);
    lru.put("b", 2, 10);
    lru.get("a"); // b is now the oldest
    lru.put("c", 3, 10);
    expect(lru.keys()).toEqual(["a", "c"]);
    lru.put("huge", 4, 100);
    expect([lru.keys(), lru.bytes]).toEqual([["huge"], 100]);
    lru.put("d", 5, 5);
    expect([lru.keys(), lru.bytes]).toEqual([["d"], 5]);
  });

  it("peek does not touch the use order; delete and clear do not count as evictions", () => {
    const evicted: string[] = [];
    const lru = new ByteLru<string>(20, { onEvict: (k) => evicted.push(k) });
    lru.set("a", "A", 10);
    lru.set("b", "B", 10);
    expect(lru.peek("a")).toBe("A");
    lru.set("c", "C", 10); // a is still the oldest
    expect(evicted).toEqual(["a"]);
    expect(lru.delete("b")).toBe("B");
    lru.clear();
    expect([evicted, lru.size, lru.bytes]).toEqual([["a"], 0, 0]);
  });
});

describe("SingleFlight", () => {
  it("shares one running load per key and forgets it once settled, failures included", async () => {
    const flights = new SingleFlight<number>();
    const started: ((value: number) => void)[] = [];
    const load = () => new Promise<number>((resolve) => started.push(resolve));
    const callers = Promise.all(Array.from({ length: 8 }, () => flights.run("k", load)));
    expect([flights.has("k"), flights.keys(), started.length]).toEqual([true, ["k"], 1]);
    started[0](1);
    expect(await callers).toEqual(Array(8).fill(1));
    expect(flights.has("k")).toBe(false);
    await expect(flights.run("k", async () => Promise.reject(new Error("store down")))).rejects.toThrow("store down");
    expect(flights.has("k")).toBe(false);
    await expect(flights.run("k", () => { throw new Error("sync throw"); })).rejects.toThrow("sync throw");
    expect(await flights.run("k", async () => 7)).toBe(7);
  });

  it("commits a result only while the load is still the key's current one", async () => {
    const flights = new SingleFlight<string>();
    const committed: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stale = flights.run("k", async () => (await gate, "old"), (v) => committed.push(v));
    flights.forget("k"); // e.g. the preset was re-installed while it loaded
    const fresh = flights.run("k", async () => "new", (v) => committed.push(v));
    release();
    expect([await stale, await fresh]).toEqual(["old", "new"]);
    expect(committed).toEqual(["new"]);
  });
});
