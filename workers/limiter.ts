/**
 * Isolate admission control: at most `concurrency` inferences run at once (onnxruntime-web is single-threaded
 * in workerd: more only interleave), at most `queue` wait; beyond that the request is refused at once with 429
 * (over capacity) rather than queued without bound.
 */
import { ApiError } from "./errors.js";

export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly queue: number,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` when a slot is free; 429 when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        throw new ApiError(429, `over capacity: ${this.running} inferences running and ${this.waiting.length} queued in this isolate; retry shortly`, "over_capacity");
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      // A forward pass in onnxruntime-web never yields to the event loop: without this turn, requests that
      // arrived meanwhile would reach admission only one by one, after it, and a burst would wait unseen instead
      // of being queued or refused.
      await new Promise((resolve) => setTimeout(resolve, 0));
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes to the next waiter
      else this.running--;
    }
  }
}
