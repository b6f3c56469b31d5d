/**
 * Prometheus metrics of the edge, served at GET /metrics (text format 0.0.4; public, like TEI's). The counters
 * are per isolate (held by Services): each isolate counts what it served, a new isolate starts from zero (a counter
 * reset to Prometheus' rate()), and nothing is shared across isolates or locations. prom-client is not used
 * here: its module graph needs Node's cluster, v8, perf_hooks, http and zlib, which workerd lacks; the edge needs
 * only labelled counters and one histogram.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "./context.js";

const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labelText = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`).join(",");

class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Record<string, string>, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  text(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [labels, value] of this.values) lines.push(`${this.name}{${labels}} ${value}`);
    return lines.join("\n");
  }
}

class Histogram {
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(labels: Record<string, string>, value: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 }));
    this.bounds.forEach((bound, i) => value <= bound && s.buckets[i]++);
    s.sum += value;
    s.count++;
  }

  text(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [labels, s] of this.series) {
      const sep = labels ? "," : "";
      this.bounds.forEach((bound, i) => lines.push(`${this.name}_bucket{${labels}${sep}le="${bound}"} ${s.buckets[i]}`));
      lines.push(`${this.name}_bucket{${labels}${sep}le="+Inf"} ${s.count}`, `${this.name}_sum{${labels}} ${s.sum}`, `${this.name}_count{${labels}} ${s.count}`);
    }
    return lines.join("\n");
  }
}

/** The route pattern that answered (`/v1/models/:preset/forward`), or "unmatched" for 404/405: bounded labels. */
function routeOf(c: Context<AppEnv>): string {
  return matchedRoutes(c).findLast((r) => r.method !== "ALL")?.path ?? "unmatched";
}

export class EdgeMetrics {
  readonly requests = new Counter("edgebone_http_requests_total", "HTTP requests served by this isolate, by route pattern, method and status");
  readonly overloaded = new Counter("edgebone_http_overloaded_total", "Requests this isolate refused with 429 (admission control, or a tenant's quota: edgebone_quota_refusals_total), by route pattern");
  readonly quotaRefusals = new Counter("edgebone_quota_refusals_total", "Inference requests this isolate refused with 429 for their tenant's quota, by limit");
  readonly duration = new Histogram("edgebone_http_request_duration_seconds", "HTTP request latency in this isolate, by route pattern", LATENCY_BUCKETS_S);
  readonly inferences = new Counter("edgebone_inferences_total", "Forward passes by backend (isolate: this isolate's onnxruntime-web; runner: the GPU runner pool) and outcome");

  /** Counts every response and its latency (errors included: they are responses by the time this sees them). */
  readonly middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const start = performance.now();
    await next();
    const route = routeOf(c);
    this.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    if (c.res.status === 429) this.overloaded.inc({ route });
    this.duration.observe({ route }, (performance.now() - start) / 1000);
  };

  text(): string {
    return [this.requests, this.overloaded, this.quotaRefusals, this.duration, this.inferences].map((m) => m.text()).join("\n\n") + "\n";
  }
}
