/**
 * Continuous batching, TEI-style: one FIFO queue per loaded preset; whenever an execution slot is free, the next
 * preset in round-robin order gets a batch of its oldest requests, as many as fit the token budget (rows ×
 * longest row, i.e. padded tokens). Requests are taken strictly in order (a large one at the head is never
 * overtaken, so it cannot starve), and presets take turns (a flooded preset cannot starve another). Rows with
 * different adapters share a batch: the LoRA session selects each row's adapter. Shorter requests are right-padded
 * to the batch's longest row with padding_mask 0, which leaves their real positions' hidden states unchanged
 * (causal and key-padding masks; positions count from 0 on the left).
 *
 * Admission (the 429 limit) is the runner's job; the batcher bounds nothing by itself but time: each job has a
 * deadline and is dropped from its queue with a 504 when it passes.
 */
import type { LoraAdapter, TokenBatch } from "../shared/node/index.js";
import { ServeError } from "./errors.js";

export interface BatchJob {
  rows: number;
  length: number;
  /** [rows, length] row-major. */
  tokenIds: Int32Array;
  paddingMask: Int32Array;
  /** Per row: its adapter or null. */
  adapters: readonly (LoraAdapter | null)[];
  /** Epoch ms. */
  deadline: number;
}

export interface JobResult {
  /** [rows, length, hidden] float32. */
  data: Float32Array;
  shape: [number, number, number];
  /** Rows in the batch the job ran in. */
  batchRows: number;
  queueMs: number;
}

export interface BatchInputs {
  batch: TokenBatch;
  adapters: LoraAdapter[];
  /** Per row: index into `adapters`, -1 for none. */
  adapterIds: number[];
}

/** Stable order of adapter objects, so a batch with the same set of adapters feeds them in the same order. */
const adapterSeq = new WeakMap<LoraAdapter, number>();
let nextAdapterSeq = 0;
const seqOf = (a: LoraAdapter) => adapterSeq.get(a) ?? (adapterSeq.set(a, nextAdapterSeq++), nextAdapterSeq - 1);

/**
 * Concatenates jobs into one right-padded batch. Identical adapter objects share one slot, and slots are in a
 * stable order (not order of appearance): the session caches stacked adapter inputs per ordered set, so the same
 * adapters arriving in another row order still hit that cache.
 */
export function mergeJobs(jobs: readonly BatchJob[]): BatchInputs {
  const length = Math.max(...jobs.map((j) => j.length));
  const rows = jobs.reduce((n, j) => n + j.rows, 0);
  const tokenIds = new Int32Array(rows * length); // padding: id 0 (valid in every vocabulary), mask 0
  const paddingMask = new Int32Array(rows * length);
  const rowAdapters: (LoraAdapter | null)[] = [];
  let row = 0;
  for (const job of jobs) {
    for (let r = 0; r < job.rows; r++, row++) {
      tokenIds.set(job.tokenIds.subarray(r * job.length, (r + 1) * job.length), row * length);
      paddingMask.set(job.paddingMask.subarray(r * job.length, (r + 1) * job.length), row * length);
      rowAdapters.push(job.adapters[r] ?? null);
    }
  }
  const unique = [...new Set(rowAdapters.filter((a): a is LoraAdapter => a !== null))];
  unique.forEach(seqOf); // first sight numbers adapters in order of appearance
  const adapters = unique.sort((a, b) => seqOf(a) - seqOf(b));
  const slot = new Map(adapters.map((a, i) => [a, i]));
  const adapterIds = rowAdapters.map((a) => (a ? slot.get(a)! : -1));
  return { batch: { tokenIds, paddingMask, batchSize: rows, sequenceLength: length }, adapters, adapterIds };
}

/** Cuts a batch output [rows, maxLength, hidden] back into each job's [rows, length, hidden]. */
export function splitOutput(output: Float32Array, jobs: readonly BatchJob[], hidden: number): Float32Array[] {
  const length = Math.max(...jobs.map((j) => j.length));
  const out: Float32Array[] = [];
  let row = 0;
  for (const job of jobs) {
    const data = new Float32Array(job.rows * job.length * hidden);
    for (let r = 0; r < job.rows; r++, row++) {
      data.set(output.subarray(row * length * hidden, (row * length + job.length) * hidden), r * job.length * hidden);
    }
    out.push(data);
  }
  return out;
}

export interface BatchRun {
  /** One [rows, length, hidden] result per job, in order. */
  outputs: Float32Array[];
  hidden: number;
}

export interface BatcherOptions {
  maxBatchTokens: number;
  maxConcurrentBatches: number;
  /** Runs one batch of a queue's jobs. */
  execute(queue: string, jobs: BatchJob[]): Promise<BatchRun>;
  onQueueSize?(queue: string, size: number): void;
  onBatch?(queue: string, rows: number, paddedTokens: number, seconds: number): void;
}

interface Pending {
  job: BatchJob;
  enqueuedAt: number;
  timer: ReturnType<typeof setTimeout>;
  settled: boolean;
  resolve(result: JobResult): void;
  reject(error: unknown): void;
}

export class Batcher {
  private readonly queues = new Map<string, Pending[]>();
  /** Round-robin position: the queue served last. */
  private lastServed: string | null = null;
  private running = 0;
  private jobsRunning = 0;

  constructor(private readonly options: BatcherOptions) {}

  /** Total jobs waiting (not running). */
  get queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  queueSize(queue: string): number {
    return this.queues.get(queue)?.length ?? 0;
  }

  queueSizes(): Map<string, number> {
    return new Map([...this.queues].map(([name, q]) => [name, q.length]));
  }

  get runningBatches(): number {
    return this.running;
  }

  /** Jobs in batches that are executing. */
  get runningJobs(): number {
    return this.jobsRunning;
  }

  submit(queue: string, job: BatchJob): Promise<JobResult> {
    if (job.rows * job.length > this.options.maxBatchTokens) {
      return Promise.reject(new ServeError("too_large", `request has ${job.rows} × ${job.length} = ${job.rows * job.length} padded tokens, max batch tokens is ${this.options.maxBatchTokens}`));
    }
    return new Promise<JobResult>((resolve, reject) => {
      const pending: Pending = {
        job,
        enqueuedAt: Date.now(),
        settled: false,
        resolve: (r) => {
          if (pending.settled) return;
          pending.settled = true;
          clearTimeout(pending.timer);
          resolve(r);
        },
        reject: (e) => {
          if (pending.settled) return;
          pending.settled = true;
          clearTimeout(pending.timer);
          reject(e);
        },
        timer: setTimeout(() => {
          const removed = this.remove(queue, pending);
          pending.reject(new ServeError("timeout", `request timed out ${removed ? "waiting in the batch queue" : "while its batch was running"}`));
        }, Math.max(0, job.deadline - Date.now())),
      };
      let q = this.queues.get(queue);
      if (!q) this.queues.set(queue, (q = []));
      q.push(pending);
      this.options.onQueueSize?.(queue, q.length);
      this.pump();
    });
  }

  private remove(queue: string, pending: Pending): boolean {
    const q = this.queues.get(queue);
    const i = q?.indexOf(pending) ?? -1;
    if (i < 0) return false;
    q!.splice(i, 1);
    this.options.onQueueSize?.(queue, q!.length);
    if (!q!.length) this.queues.delete(queue);
    return true;
  }

  /** The queue after `lastServed` in round-robin order that has work. */
  private nextQueue(): string | null {
    const names = [...this.queues.keys()].sort();
    if (!names.length) return null;
    const after = this.lastServed === null ? -1 : names.findIndex((n) => n > this.lastServed!);
    return after < 0 ? names[0] : names[after];
  }

  private pump(): void {
    while (this.running < this.options.maxConcurrentBatches) {
      const queue = this.nextQueue();
      if (queue === null) return;
      this.lastServed = queue;
      const q = this.queues.get(queue)!;
      const taken: Pending[] = [];
      let rows = 0;
      let length = 0;
      while (q.length) {
        const { job } = q[0];
        const l = Math.max(length, job.length);
        if (taken.length && (rows + job.rows) * l > this.options.maxBatchTokens) break;
        taken.push(q.shift()!);
        rows += job.rows;
        length = l;
      }
      this.options.onQueueSize?.(queue, q.length);
      if (!q.length) this.queues.delete(queue);
      this.running++;
      void this.run(queue, taken).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(queue: string, taken: Pending[]): Promise<void> {
    const started = Date.now();
    const live = taken.filter((p) => !p.settled);
    if (!live.length) return;
    const rows = live.reduce((n, p) => n + p.job.rows, 0);
    const length = Math.max(...live.map((p) => p.job.length));
    this.jobsRunning += live.length;
    try {
      const { outputs, hidden } = await this.options.execute(queue, live.map((p) => p.job));
      const seconds = (Date.now() - started) / 1000;
      this.options.onBatch?.(queue, rows, rows * length, seconds);
      live.forEach((p, i) => p.resolve({ data: outputs[i], shape: [p.job.rows, p.job.length, hidden], batchRows: rows, queueMs: started - p.enqueuedAt }));
    } catch (e) {
      for (const p of live) p.reject(e);
    } finally {
      this.jobsRunning -= live.length;
    }
  }
}
