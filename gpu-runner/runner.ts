/**
 * The runner core, independent of HTTP: admission (bounded, 429 beyond it), deadlines on every stage, model and
 * adapter loading, batching, and draining on shutdown.
 */
import { hostname } from "node:os";
import { checkBatch, tokenBatch, type LoraAdapter } from "../shared/node/index.js";
import { adapterName, rowAdapters, type ForwardRequest } from "../shared/runner/protocol.js";
import { Batcher, mergeJobs, splitOutput, type BatchJob, type JobResult } from "./batcher.js";
import { DiskCache } from "./caches.js";
import type { RunnerConfig } from "./config.js";
import { ServeError, beforeDeadline } from "./errors.js";
import type { Execution } from "./execution.js";
import type { Logger } from "./log.js";
import { RunnerMetrics, type EngineState } from "./metrics.js";
import { Models, type LoadedModel } from "./models.js";
import type { RunnerStore } from "./object-store.js";

/** RUNNER_ID, else host name and port (or pid when the port is picked by the OS). */
export const defaultRunnerId = (config: Pick<RunnerConfig, "id" | "port">) => config.id ?? `${hostname()}:${config.port || `pid${process.pid}`}`;

const presetOf = (modelKey: string) => modelKey.slice(0, modelKey.lastIndexOf("@"));

export interface RunnerDeps {
  store: RunnerStore;
  execution: Execution;
  log: Logger;
  metrics?: RunnerMetrics;
}

export type RunnerState = "starting" | "ready" | "draining";

export interface ForwardOutput extends JobResult {
  runner: string;
}

export class Runner {
  readonly metrics: RunnerMetrics;
  readonly models: Models;
  readonly batcher: Batcher;
  readonly disk: DiskCache;
  readonly id: string;
  state: RunnerState = "starting";
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly startedAt = Date.now();

  private constructor(
    readonly config: RunnerConfig,
    readonly deps: RunnerDeps,
  ) {
    this.metrics = deps.metrics ?? new RunnerMetrics();
    this.id = defaultRunnerId(config);
    const m = this.metrics;
    this.disk = new DiskCache(config.cacheDir, config.diskCacheBytes, {
      hit: () => m.cacheHits.inc({ cache: "disk" }),
      miss: () => m.cacheMisses.inc({ cache: "disk" }),
      evict: () => m.cacheEvictions.inc({ cache: "disk" }),
    });
    this.models = new Models({
      store: deps.store,
      disk: this.disk,
      runtime: deps.execution.runtime,
      weightDtype: deps.execution.weightDtype,
      modelMemoryBytes: config.modelMemoryBytes,
      adapterMemoryBytes: config.adapterMemoryBytes,
      recordTtlMs: config.recordTtlMs,
      storeTimeoutMs: config.storeTimeoutMs,
      metrics: m,
      log: deps.log,
    });
    this.batcher = new Batcher({
      maxBatchTokens: config.maxBatchTokens,
      maxConcurrentBatches: config.maxConcurrentBatches,
      execute: (key, jobs) => this.execute(key, jobs),
      // Queues are per model version; metrics are per preset name (bounded labels).
      onQueueSize: (key) => {
        const preset = presetOf(key);
        let size = 0;
        for (const [k, n] of this.batcher.queueSizes()) if (presetOf(k) === preset) size += n;
        m.queueSize.set({ preset }, size);
      },
      onBatch: (key, rows, tokens, seconds) => {
        m.batchRows.observe({ preset: presetOf(key) }, rows);
        m.batchTokens.observe({ preset: presetOf(key) }, tokens);
        m.batchSeconds.observe({ preset: presetOf(key) }, seconds);
      },
    });
    m.observeEngine(() => this.engineState());
  }

  /** What an endpoint picker schedules on (RunnerMetrics.observeEngine). */
  engineState(): EngineState {
    const running = this.batcher.runningJobs;
    return {
      waiting: Math.max(0, this.inflight - running),
      running,
      memoryUsage: this.models.modelBytes / this.config.modelMemoryBytes,
      adapters: this.models.adapterCache(),
    };
  }

  /** Prepares the disk cache and preloads `config.preload`; the runner is then ready. */
  static async create(config: RunnerConfig, deps: RunnerDeps): Promise<Runner> {
    const runner = new Runner(config, deps);
    await runner.disk.init();
    for (const preset of config.preload) {
      const model = await runner.models.acquire(preset);
      runner.models.release(model);
    }
    runner.state = "ready";
    return runner;
  }

  get inflightRequests(): number {
    return this.inflight;
  }

  /** Why a new forward request would be refused right now (checked again on admission), or null. */
  refusal(): ServeError | null {
    if (this.state === "draining") return new ServeError("draining", `runner ${this.id} is shutting down`);
    if (this.inflight >= this.config.maxConcurrentRequests) {
      return new ServeError("overloaded", `runner ${this.id} is at its limit of ${this.config.maxConcurrentRequests} concurrent requests`);
    }
    return null;
  }

  async forward(request: ForwardRequest): Promise<ForwardOutput> {
    const refused = this.refusal();
    if (refused) throw refused;
    const rows = request.token_ids.length;
    const length = request.token_ids[0].length;
    if (rows > this.config.maxClientBatchSize) throw new ServeError("too_large", `request has ${rows} rows, this runner accepts at most ${this.config.maxClientBatchSize}`);
    if (rows * length > this.config.maxBatchTokens) throw new ServeError("too_large", `request has ${rows} × ${length} = ${rows * length} tokens, max batch tokens is ${this.config.maxBatchTokens}`);
    this.inflight++;
    this.metrics.inflight.set(this.inflight);
    try {
      const deadline = Date.now() + Math.min(this.config.requestTimeoutMs, request.timeout_ms ?? Infinity);
      const batch = tokenBatch(request.token_ids, request.padding_mask);
      const model = await beforeDeadline(this.models.acquire(request.preset), deadline, `loading preset ${request.preset}`, (late) => this.models.release(late));
      try {
        checkBatch(batch, { vocabularySize: model.shape.vocabularySize, maxSequenceLength: model.shape.maxSequenceLength });
        const adapters = await beforeDeadline(this.resolveAdapters(model, request), deadline, "loading adapters");
        const job: BatchJob = { rows, length, tokenIds: batch.tokenIds, paddingMask: batch.paddingMask, adapters, deadline };
        const result = await this.batcher.submit(model.key, job);
        let real = 0;
        for (const m of batch.paddingMask) real += m;
        this.metrics.tokens.inc({ preset: model.preset }, real);
        return { ...result, runner: this.id };
      } finally {
        this.models.release(model);
      }
    } finally {
      this.inflight--;
      this.metrics.inflight.set(this.inflight);
      if (this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Each row's adapter; rows naming the same adapter share one object (and one batch slot). */
  private async resolveAdapters(model: LoadedModel, request: ForwardRequest): Promise<(LoraAdapter | null)[]> {
    const refs = rowAdapters(request);
    const unique = new Map<string, Promise<LoraAdapter>>();
    const perRow = refs.map((ref) => {
      if (ref === null) return null;
      const id = typeof ref === "string" ? ref : `${ref.name}@${ref.sha256}`;
      if (!unique.has(id)) unique.set(id, this.models.adapter(model, request.tenant!, adapterName(ref), typeof ref === "string" ? undefined : ref));
      return unique.get(id)!;
    });
    return Promise.all(perRow);
  }

  private async execute(key: string, jobs: BatchJob[]) {
    const model = this.models.pin(key); // not evicted while the batch runs, even if its requests time out
    try {
      const { batch, adapters, adapterIds } = mergeJobs(jobs);
      const { sequenceOutput } = await model.session.forward(batch, { adapters, adapterIds });
      return { outputs: splitOutput(sequenceOutput.data as Float32Array, jobs, model.hidden), hidden: model.hidden };
    } finally {
      this.models.release(model);
    }
  }

  /** Stops admitting work (new requests get 503, /ready reports not ready). */
  startDrain(): void {
    this.state = "draining";
  }

  /** Waits until in-flight requests finish or the timeout passes; true if everything finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.startDrain();
    if (this.inflight === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return done;
  }

  async close(): Promise<void> {
    await this.models.close();
  }

  info() {
    const c = this.config;
    const { execution } = this.deps;
    return {
      runner: this.id,
      state: this.state,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      execution: { provider: execution.provider, requested: execution.requested, unavailable: execution.unavailable, weight_dtype: execution.weightDtype, runtime: execution.runtime.name },
      store: this.deps.store.description,
      models: this.models.loaded(),
      memory: { models_bytes: this.models.modelBytes, models_budget: c.modelMemoryBytes, adapters_bytes: this.models.adapterBytes, adapters_budget: c.adapterMemoryBytes },
      disk_cache: { dir: this.disk.dir, bytes: this.disk.bytes, objects: this.disk.count, budget: c.diskCacheBytes },
      load: { inflight: this.inflight, queued: this.batcher.queued, running_batches: this.batcher.runningBatches },
      limits: {
        max_batch_tokens: c.maxBatchTokens,
        max_client_batch_size: c.maxClientBatchSize,
        max_concurrent_requests: c.maxConcurrentRequests,
        max_concurrent_batches: c.maxConcurrentBatches,
        max_body_bytes: c.maxBodyBytes,
        request_timeout_ms: c.requestTimeoutMs,
      },
    };
  }
}
