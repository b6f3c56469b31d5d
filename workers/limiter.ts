/**
 * Isolate admission control: at most `concurrency` inferences run at once (onnxruntime-web is single-threaded in
 * workerd: more would only interleave), at most `queue` more wait, in arrival order; beyond that a request is
 * refused at once with 429 and `Retry-After` rather than queued without bound, and a request that waits longer than
 * `maxWaitMs` gives up with 503.
 *
 * Why polling: workerd cancels a request that waits on nothing of its own ("code had hung") and does not run the
 * continuations of a promise settled from another request's context, so a slot cannot be handed to a waiter by
 * resolving its promise (that jammed the isolate for good under `wrangler dev`). Here a waiter holds a ticket and
 * wakes on its own timer until it is the oldest live ticket and a slot is free; no request ever wakes another.
 *
 * A request can also vanish without running its `finally` (its client went away and workerd cancelled it). A
 * ticket whose owner stopped polling is dropped by the next waiter, or by the next arrival when the queue is full
 * (else a queue full of vanished waiters would refuse everyone for good). A running inference is synchronous WASM and
 * cannot be interrupted, and a slot whose request vanished mid-task is never returned: `wedged()` reports a slot
 * held for longer than `wedgedAfterMs` (far beyond any real inference), so /health can say so.
 */
import { numberVar, type Env } from "./env.js";
import { ApiError } from "./errors.js";

export interface LimiterOptions {
  /** Inferences running at once (EDGE_MAX_CONCURRENCY). */
  concurrency: number;
  /** Requests waiting for a slot before 429 (EDGE_MAX_QUEUE). */
  queue: number;
  /** Longest wait for a slot before 503 (EDGE_QUEUE_TIMEOUT_MS). */
  maxWaitMs: number;
  /** A slot held longer than this makes the isolate wedged (EDGE_WEDGED_AFTER_MS). */
  wedgedAfterMs: number;
  /** How often a waiting request looks for a free slot. */
  pollMs?: number;
}

/** Seconds a refused client is told to wait (`Retry-After`). */
const RETRY_AFTER_S = 1;
const RETRY = { "retry-after": String(RETRY_AFTER_S) };
/**
 * A ticket not polled for this long while other waiters were polling belongs to a request that is gone. If its
 * owner was only delayed (a long synchronous inference held the event loop), it puts its ticket back in place.
 */
const STALE_MS = 1000;

interface Ticket {
  /** Arrival order. */
  number: number;
  /** When the request asked. */
  since: number;
  /** Its owner's last poll. */
  seen: number;
}

interface Slot {
  since: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Limiter {
  readonly concurrency: number;
  readonly queue: number;
  private readonly maxWaitMs: number;
  private readonly wedgedAfterMs: number;
  private readonly pollMs: number;
  private readonly slots = new Set<Slot>();
  private tickets: Ticket[] = [];
  private issued = 0;

  constructor(options: LimiterOptions) {
    ({ concurrency: this.concurrency, queue: this.queue, maxWaitMs: this.maxWaitMs, wedgedAfterMs: this.wedgedAfterMs, pollMs: this.pollMs = 10 } = options);
  }

  get inFlight(): number {
    return this.slots.size;
  }

  get queued(): number {
    return this.tickets.length;
  }

  /** Runs `task` once it holds a slot; 429 when the queue is full, 503 when no slot came within `maxWaitMs`. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const slot = await this.acquire();
    try {
      return await task();
    } finally {
      this.slots.delete(slot);
    }
  }

  /** Why the isolate is wedged (slots held for longer than `wedgedAfterMs`), or null when it is not. */
  wedged(now = Date.now()): string | null {
    const held = [...this.slots].map((s) => now - s.since).filter((ms) => ms > this.wedgedAfterMs);
    if (!held.length) return null;
    return `${held.length} of ${this.concurrency} inference slots held longer than ${this.wedgedAfterMs / 1000} s (the longest ${(Math.max(...held) / 1000).toFixed(1)} s): their requests never finished, and this isolate runs on the other slots until it is restarted`;
  }

  private async acquire(): Promise<Slot> {
    if (this.full()) this.tickets = this.tickets.filter((t) => t.seen >= Date.now() - STALE_MS); // waiters that are gone
    if (this.full()) {
      throw new ApiError(429, `over capacity: ${this.concurrency} inferences running and ${this.queue} queued in this isolate; retry in ${RETRY_AFTER_S} s`, "over_capacity", null, RETRY);
    }
    const ticket: Ticket = { number: this.issued++, since: Date.now(), seen: Date.now() };
    this.tickets.push(ticket);
    // The first turn is immediate: a synchronous forward pass never yields, so without it the requests of a burst
    // would reach admission one by one, after it, waiting unseen instead of being queued or refused.
    await sleep(0);
    for (let polled = false; ; polled = true) {
      const previous = ticket.seen;
      const now = (ticket.seen = Date.now());
      if (!this.tickets.includes(ticket)) this.reinsert(ticket); // dropped as stale while we were held up
      if (now - ticket.since > this.maxWaitMs) {
        this.tickets.splice(this.tickets.indexOf(ticket), 1);
        throw new ApiError(503, `no inference slot came free within ${this.maxWaitMs / 1000} s in this isolate; retry in ${RETRY_AFTER_S} s`, "queue_timeout", null, RETRY);
      }
      // Tickets not polled since well before our own last poll belong to requests that are gone.
      if (polled) this.tickets = this.tickets.filter((t) => t.seen >= previous - STALE_MS);
      if (this.tickets[0] === ticket && this.slots.size < this.concurrency) {
        this.tickets.shift();
        const slot = { since: now };
        this.slots.add(slot);
        return slot;
      }
      await sleep(this.pollMs); // this request's own timer: it always waits on something of its own
    }
  }

  private full(): boolean {
    return this.slots.size + this.tickets.length >= this.concurrency + this.queue;
  }

  private reinsert(ticket: Ticket): void {
    const at = this.tickets.findIndex((t) => t.number > ticket.number);
    this.tickets.splice(at === -1 ? this.tickets.length : at, 0, ticket);
  }
}

let isolateLimiter: Limiter | undefined;

/**
 * The isolate's limiter (per-isolate state, like the caches), configured by the first request's env:
 * EDGE_MAX_CONCURRENCY (2), EDGE_MAX_QUEUE (64), EDGE_QUEUE_TIMEOUT_MS (30 s), EDGE_WEDGED_AFTER_MS (60 s).
 */
export function limiterFor(env: Env): Limiter {
  return (isolateLimiter ??= new Limiter({
    concurrency: numberVar(env.EDGE_MAX_CONCURRENCY, 2),
    queue: numberVar(env.EDGE_MAX_QUEUE, 64),
    maxWaitMs: numberVar(env.EDGE_QUEUE_TIMEOUT_MS, 30_000),
    wedgedAfterMs: numberVar(env.EDGE_WEDGED_AFTER_MS, 60_000),
  }));
}

/** Why this isolate is wedged, or null (also when no request has built its limiter yet). */
export function isolateWedged(): string | null {
  return isolateLimiter?.wedged() ?? null;
}
