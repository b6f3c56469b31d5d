/**
 * Prometheus metrics (prom-client), in a registry per runner instance rather than the global one, so several
 * runners (tests) in one process never collide. Labels are bounded: route, status, preset (name, not version,
 * except on the memory gauge), cache name; never a tenant or adapter name. The engine gauges (`vllm:*`, below)
 * are what the Inference Extension's endpoint picker schedules on.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

const POW2 = (max: number) => Array.from({ length: Math.log2(max) + 1 }, (_, i) => 2 ** i);

export interface EngineState {
  waiting: number;
  running: number;
  /** 0..1 */
  memoryUsage: number;
  /** Adapter ids: the first 12 hex digits of their sha256 (content, not tenant or name). */
  adapters: { running: string[]; waiting: string[]; max: number };
}

export class RunnerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"route" | "status">;
  readonly duration: Histogram<"route">;
  readonly inflight: Gauge;
  readonly queueSize: Gauge<"preset">;
  readonly batchRows: Histogram<"preset">;
  readonly batchTokens: Histogram<"preset">;
  readonly batchSeconds: Histogram<"preset">;
  readonly tokens: Counter<"preset">;
  readonly cacheHits: Counter<"cache">;
  readonly cacheMisses: Counter<"cache">;
  readonly cacheEvictions: Counter<"cache">;
  readonly cacheBytes: Gauge<"cache">;
  readonly presetMemory: Gauge<"preset" | "version">;

  constructor(defaultMetrics = true) {
    const registers = [this.registry];
    this.requests = new Counter({ name: "edgebone_runner_requests_total", help: "HTTP requests by route and status", labelNames: ["route", "status"], registers });
    this.duration = new Histogram({ name: "edgebone_runner_request_duration_seconds", help: "HTTP request duration", labelNames: ["route"], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers });
    this.inflight = new Gauge({ name: "edgebone_runner_inflight_requests", help: "Forward requests admitted and not finished (queued, loading or running)", registers });
    this.queueSize = new Gauge({ name: "edgebone_runner_queue_size", help: "Forward requests waiting in a preset's batch queue", labelNames: ["preset"], registers });
    this.batchRows = new Histogram({ name: "edgebone_runner_batch_size", help: "Rows per executed batch", labelNames: ["preset"], buckets: POW2(256), registers });
    this.batchTokens = new Histogram({ name: "edgebone_runner_batch_tokens", help: "Padded tokens (rows × longest row) per executed batch", labelNames: ["preset"], buckets: POW2(65536), registers });
    this.batchSeconds = new Histogram({ name: "edgebone_runner_batch_duration_seconds", help: "Execution time per batch", labelNames: ["preset"], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.tokens = new Counter({ name: "edgebone_runner_tokens_total", help: "Real (unpadded) tokens processed", labelNames: ["preset"], registers });
    this.cacheHits = new Counter({ name: "edgebone_runner_cache_hits_total", help: "Cache hits (disk: downloaded objects; model, adapter: memory)", labelNames: ["cache"], registers });
    this.cacheMisses = new Counter({ name: "edgebone_runner_cache_misses_total", help: "Cache misses", labelNames: ["cache"], registers });
    this.cacheEvictions = new Counter({ name: "edgebone_runner_cache_evictions_total", help: "Cache evictions", labelNames: ["cache"], registers });
    this.cacheBytes = new Gauge({ name: "edgebone_runner_cache_bytes", help: "Bytes held per cache", labelNames: ["cache"], registers });
    this.presetMemory = new Gauge({ name: "edgebone_runner_preset_memory_bytes", help: "Model bytes held per loaded preset (serialized graph with weights)", labelNames: ["preset", "version"], registers });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "edgebone_runner_" });
  }

  /**
   * The model server protocol's metrics, under vLLM's names so an endpoint picker's default engine mapping reads
   * them without configuration. Protocol: https://github.com/kubernetes-sigs/gateway-api-inference-extension/blob/main/docs/proposals/003-model-server-protocol/README.md
   * (TotalQueuedRequests, TotalRunningRequests, KVCacheUtilization, LoRA adapter serving); names as llm-d-router's
   * core-metrics-extractor maps the "vllm" engine (pkg/epp/framework/plugins/datalayer/extractor/metrics/factories.go).
   * Read from the runner at scrape time.
   */
  observeEngine(state: () => EngineState): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, value: (s: EngineState) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value(state()));
        },
      });
    gauge("vllm:num_requests_waiting", "Forward requests admitted and not yet in a running batch (queued, or loading their model or adapters)", (s) => s.waiting);
    gauge("vllm:num_requests_running", "Forward requests in a batch that is executing", (s) => s.running);
    // The runner has no KV cache (one forward pass per request); its scarce memory is the loaded models' budget,
    // which fills up and then refuses new presets (503 busy), the same role the KV cache plays for an LLM server.
    gauge("vllm:kv_cache_usage_perc", "Fraction (0-1) of the model memory budget held by loaded presets", (s) => s.memoryUsage);
    // vLLM's name before v0.10, which older endpoint pickers and dashboards read.
    gauge("vllm:gpu_cache_usage_perc", "Same as vllm:kv_cache_usage_perc", (s) => s.memoryUsage);
    new Gauge({
      name: "vllm:lora_requests_info",
      help: "Adapters decoded in memory (running) and being loaded (waiting), and how many the adapter budget holds (max_lora); value: scrape time in seconds",
      labelNames: ["running_lora_adapters", "waiting_lora_adapters", "max_lora"],
      registers,
      collect() {
        const { adapters } = state();
        // One series per scrape; the picker reads the newest (highest value).
        this.reset();
        this.set({ running_lora_adapters: adapters.running.join(","), waiting_lora_adapters: adapters.waiting.join(","), max_lora: String(adapters.max) }, Date.now() / 1000);
      },
    });
  }

  /** Prometheus text exposition. */
  async text(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
