/**
 * The runner pool client (edge side): a runner list (from config; discovery replaces it with `setRunners`),
 * periodic health checks (`GET /ready`), rendezvous hashing on (preset, adapters) so the same model and adapters
 * keep landing on the same runner (warm caches), and failover: a runner that refuses, errors, answers 429/503 or is slower than the attempt timeout is
 * skipped and the request retried on the next runner in rendezvous order, until the request's deadline. A circuit
 * breaker per runner opens after consecutive failures and lets one trial through after a cooldown (half-open);
 * the cooldown doubles while trials keep failing. Uses only `fetch`, WebCrypto and timers: it runs unchanged in
 * workerd and Node.
 */
import { FORWARD_PATH, HEADERS, adapterName, retryableStatus, rowAdapters, type ErrorBody, type ForwardRequest } from "./protocol.js";
import { RUNNER_URL } from "./discovery.js";
import { importSigningKey, signRequest, type SigningKey } from "./signing.js";
import { decodeTensor, type WireTensor } from "./tensor-wire.js";

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface PoolOptions {
  /** Runner base URLs (`http://10.0.0.5:8790`). */
  runners: readonly string[];
  /** The shared HMAC secret (or an imported key). */
  signingKey: string | SigningKey;
  fetch?: FetchLike;
  /** Default total budget of a forward call, ms (30 s). */
  deadlineMs?: number;
  /** Longest wait for one runner, ms, before trying the next (15 s). */
  attemptTimeoutMs?: number;
  healthIntervalMs?: number;
  healthTimeoutMs?: number;
  /** Consecutive failures that open a runner's breaker (3). */
  failureThreshold?: number;
  /** First cooldown of an open breaker, ms (1 s); doubles per failed trial up to `maxOpenMs` (30 s). */
  openMs?: number;
  maxOpenMs?: number;
  /** Pause before another round over runners that all failed, ms (25, doubling up to 500). */
  retryBackoffMs?: number;
  now?: () => number;
  /** Called on state changes and failed attempts (logging). */
  onEvent?: (event: PoolEvent) => void;
  /**
   * A response header a gateway uses for stickiness (the endpoint picker's session affinity: `x-session-token`):
   * its last value per routing key is sent with the next request for that key, so a (preset, adapters) pair
   * keeps reaching the pod whose caches hold it when the pool is one gateway URL.
   */
  affinityHeader?: string;
}

export type PoolEvent =
  | { type: "attempt_failed"; runner: string; error: string; retrying: boolean }
  | { type: "breaker"; runner: string; state: BreakerState }
  | { type: "health"; runner: string; ready: boolean; error?: string };

export interface PoolResult extends WireTensor {
  /** Base URL of the runner that answered. */
  runner: string;
  /** Its `x-edgebone-runner` id. */
  runnerId: string | null;
  /** Runners tried, this one included. */
  attempts: number;
  /** Rows of the runner batch this request ran in (diagnostics). */
  batchRows: number | null;
}

/** Routing keys whose gateway affinity token is remembered. */
const MAX_AFFINITY_KEYS = 10_000;

/** The shortest attempt worth starting when a retry would leave less of the deadline than this. */
const MIN_ATTEMPT_MS = 50;

/** A runner answered with an error that retrying elsewhere would not fix (400, 404, 413, 502, 504). */
export class RunnerError extends Error {
  override name = "RunnerError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly runner: string,
  ) {
    super(message);
  }
}

/** No runner could serve the request before its deadline. */
export class PoolError extends Error {
  override name = "PoolError";
  constructor(
    message: string,
    /** 504 when the deadline passed, 503 when every runner failed. */
    readonly status: 503 | 504,
  ) {
    super(message);
  }
}

export type BreakerState = "closed" | "open" | "half_open";

export class CircuitBreaker {
  state: BreakerState = "closed";
  failures = 0;
  openUntil = 0;
  private cooldown: number;
  private trialInFlight = false;

  constructor(
    private readonly threshold: number,
    private readonly baseCooldownMs: number,
    private readonly maxCooldownMs: number,
  ) {
    this.cooldown = baseCooldownMs;
  }

  /** Whether a call may go through now (without claiming the half-open trial). */
  allows(now: number): boolean {
    if (this.state === "closed") return true;
    if (this.state === "open") return now >= this.openUntil;
    return !this.trialInFlight;
  }

  /** Claims the right to call: always when closed; the single trial when the cooldown is over. */
  acquire(now: number): boolean {
    if (!this.allows(now)) return false;
    if (this.state !== "closed") {
      this.state = "half_open";
      this.trialInFlight = true;
    }
    return true;
  }

  success(): void {
    this.state = "closed";
    this.failures = 0;
    this.cooldown = this.baseCooldownMs;
    this.trialInFlight = false;
  }

  failure(now: number): void {
    this.failures++;
    if (this.state === "half_open") {
      this.cooldown = Math.min(this.cooldown * 2, this.maxCooldownMs);
      this.open(now);
    } else if (this.state === "closed" && this.failures >= this.threshold) {
      this.cooldown = this.baseCooldownMs;
      this.open(now);
    }
    this.trialInFlight = false;
  }

  /** The call ended without saying anything about the runner (the caller gave up). */
  release(): void {
    this.trialInFlight = false;
  }

  private open(now: number): void {
    this.state = "open";
    this.openUntil = now + this.cooldown;
  }
}

interface RunnerState {
  url: string;
  /** Last health check (or request) outcome; unknown counts as ready so a new pool works at once. */
  ready: boolean;
  breaker: CircuitBreaker;
  lastError: string | null;
  checking: boolean;
}

export interface RunnerStatus {
  url: string;
  ready: boolean;
  breaker: BreakerState;
  failures: number;
  lastError: string | null;
}

class AttemptTimeout extends Error {}

export class RunnerPool {
  private runners: RunnerState[] = [];
  private readonly options: Required<Omit<PoolOptions, "onEvent" | "signingKey" | "runners" | "affinityHeader">> & Pick<PoolOptions, "onEvent" | "affinityHeader">;
  /** Routing key → the gateway's affinity token (bounded; oldest dropped first). */
  private readonly affinity = new Map<string, string>();
  private key: Promise<SigningKey>;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** When `checkHealthIfDue` last started a round; the first request starts none (runners start as ready). */
  private lastHealthRound: number;

  constructor(options: PoolOptions) {
    const o = {
      fetch: options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init)),
      deadlineMs: options.deadlineMs ?? 30_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 15_000,
      healthIntervalMs: options.healthIntervalMs ?? 5_000,
      healthTimeoutMs: options.healthTimeoutMs ?? 2_000,
      failureThreshold: options.failureThreshold ?? 3,
      openMs: options.openMs ?? 1_000,
      maxOpenMs: options.maxOpenMs ?? 30_000,
      retryBackoffMs: options.retryBackoffMs ?? 25,
      now: options.now ?? (() => Date.now()),
      onEvent: options.onEvent,
      affinityHeader: options.affinityHeader?.toLowerCase(),
    };
    this.options = o;
    this.lastHealthRound = o.now();
    this.setRunners(options.runners);
    const k = options.signingKey;
    this.key = typeof k === "string" ? importSigningKey(k) : Promise.resolve(k);
    this.key.catch(() => {}); // reported by the first call that awaits it
  }

  /**
   * Replaces the membership (discovery): runners already in the pool keep their health and breaker state, new
   * ones start as ready, removed ones get no new attempts (requests already trying them finish normally).
   */
  setRunners(runners: readonly string[]): void {
    if (!runners.length) throw new Error("runner pool needs at least one runner URL");
    const urls = runners.map((u) => u.replace(/\/+$/, ""));
    const duplicate = urls.find((u, i) => urls.indexOf(u) !== i);
    if (duplicate) throw new Error(`runner ${duplicate} is listed twice`);
    for (const u of urls) if (!RUNNER_URL.test(u)) throw new Error(`runner URL "${u}" must be http(s)://host[:port] without a path`);
    const { failureThreshold, openMs, maxOpenMs } = this.options;
    const known = new Map(this.runners.map((r) => [r.url, r]));
    this.runners = urls.map((url) => known.get(url) ?? { url, ready: true, breaker: new CircuitBreaker(failureThreshold, openMs, maxOpenMs), lastError: null, checking: false });
  }

  /** Runner URLs in rendezvous (highest random weight) order for a routing key. */
  order(routingKey: string): string[] {
    return this.ranked(routingKey).map((r) => r.url);
  }

  /** (preset, adapters): one request's routing key. */
  static routingKey(request: ForwardRequest): string {
    const names = [...new Set(rowAdapters(request).flatMap((a) => (a === null ? [] : [adapterName(a)])))].sort();
    return `${request.preset}\u0000${names.length ? `${request.tenant}/${names.join(",")}` : ""}`;
  }

  status(): RunnerStatus[] {
    return this.runners.map((r) => ({ url: r.url, ready: r.ready, breaker: r.breaker.state, failures: r.breaker.failures, lastError: r.lastError }));
  }

  /** Runs a forward request on the pool; retries elsewhere within the deadline. */
  async forward(request: ForwardRequest, options: { deadlineMs?: number; signal?: AbortSignal } = {}): Promise<PoolResult> {
    const { now } = this.options;
    const budget = options.deadlineMs ?? request.timeout_ms ?? this.options.deadlineMs;
    const deadline = now() + budget;
    const routingKey = RunnerPool.routingKey(request);
    const ranked = this.ranked(routingKey);
    let attempts = 0;
    let lastError = "no attempt was made";
    let lastWasTimeout = false;
    let backoff = this.options.retryBackoffMs;
    for (;;) {
      const tried = new Set<RunnerState>();
      for (;;) {
        options.signal?.throwIfAborted();
        const remaining = deadline - now();
        // An attempt squeezed into the last few ms can only time out, which would misreport a pool of refusing
        // runners (503) as a slow one (504); stop instead.
        if (remaining < MIN_ATTEMPT_MS && attempts > 0) break;
        // Healthy runners with a closed (or trial-ready) breaker first, in rendezvous order; the rest only as a
        // last resort, when nothing healthy is left to try.
        const runner =
          ranked.find((r) => !tried.has(r) && r.ready && r.breaker.allows(now())) ??
          ranked.find((r) => !tried.has(r) && !(r.ready && r.breaker.allows(now())));
        if (!runner) break;
        tried.add(runner);
        const claimed = runner.breaker.acquire(now());
        attempts++;
        const timeoutMs = Math.max(1, Math.min(this.options.attemptTimeoutMs, remaining));
        const body = JSON.stringify({ ...request, timeout_ms: timeoutMs });
        try {
          const { status, headers, bytes } = await this.call(runner, "POST", FORWARD_PATH, body, timeoutMs, options.signal, this.affinityHeaders(routingKey));
          if (status === 200) {
            runner.breaker.success();
            runner.ready = true;
            this.rememberAffinity(routingKey, headers);
            const tensor = decodeTensor((name) => headers.get(name), bytes);
            const rows = headers.get(HEADERS.batchRows);
            return { ...tensor, runner: runner.url, runnerId: headers.get(HEADERS.runner), attempts, batchRows: rows ? Number(rows) : null };
          }
          const error = parseError(bytes, status);
          lastError = `${runner.url}: ${status} ${error.error}`;
          lastWasTimeout = false;
          if (!retryableStatus(status)) {
            runner.breaker.success(); // it answered properly; the request is at fault (or its deadline passed)
            throw new RunnerError(error.error, status, error.code, runner.url);
          }
          // 429 means busy, not broken: no breaker penalty, but try someone else. 503 (draining, store down) also
          // takes the runner out of rotation until a health check passes.
          if (status === 429) {
            if (claimed) runner.breaker.release();
          } else this.failed(runner, lastError, status === 503);
          this.emit({ type: "attempt_failed", runner: runner.url, error: lastError, retrying: true });
        } catch (e) {
          if (e instanceof RunnerError) throw e;
          if (options.signal?.aborted) {
            runner.breaker.release();
            throw e;
          }
          const timedOut = e instanceof AttemptTimeout;
          lastWasTimeout = timedOut;
          lastError = `${runner.url}: ${timedOut ? `no answer within ${timeoutMs} ms` : describe(e)}`;
          // Refused or reset connections mean the runner is gone: stop routing to it until a health check passes.
          this.failed(runner, lastError, !timedOut);
          this.emit({ type: "attempt_failed", runner: runner.url, error: lastError, retrying: true });
        }
      }
      const remaining = deadline - now();
      if (remaining < MIN_ATTEMPT_MS) break;
      // Every runner's breaker open (each failed again and again, none busy): they are down; fail fast rather
      // than spin until the deadline. A request after a cooldown gets the half-open trial.
      if (this.runners.every((r) => r.breaker.state === "open" && !r.breaker.allows(now()))) {
        throw new PoolError(`every runner is down (${attempts} attempt(s), their circuit breakers are open); last error: ${lastError}`, 503);
      }
      // Every runner failed this round (down, busy or draining): wait a little and go round again.
      await sleep(Math.min(backoff, remaining));
      backoff = Math.min(backoff * 2, 500);
    }
    throw new PoolError(`no runner could serve the request within its ${budget} ms deadline (${attempts} attempt(s)); last error: ${lastError}`, lastWasTimeout ? 504 : 503);
  }

  /** One round of health checks (`GET /ready`), skipping runners whose breaker is still cooling down. */
  async checkHealth(): Promise<void> {
    const { now } = this.options;
    await Promise.all(
      this.runners.map(async (runner) => {
        if (runner.checking || !runner.breaker.allows(now())) return;
        runner.checking = true;
        runner.breaker.acquire(now());
        try {
          const { status, bytes } = await this.call(runner, "GET", "/ready", "", this.options.healthTimeoutMs);
          if (status !== 200) throw new Error(`${status} ${parseError(bytes, status).error}`);
          const wasReady = runner.ready;
          runner.ready = true;
          runner.lastError = null;
          const wasState = runner.breaker.state;
          runner.breaker.success();
          if (!wasReady) this.emit({ type: "health", runner: runner.url, ready: true });
          if (wasState !== "closed") this.emit({ type: "breaker", runner: runner.url, state: "closed" });
        } catch (e) {
          const error = e instanceof AttemptTimeout ? `no answer within ${this.options.healthTimeoutMs} ms` : describe(e);
          this.failed(runner, `${runner.url}: ${error}`, true);
          this.emit({ type: "health", runner: runner.url, ready: false, error });
        } finally {
          runner.checking = false;
        }
      }),
    );
  }

  /**
   * A health-check round when the last one started more than `healthIntervalMs` ago, else null: for runtimes
   * without background timers (Workers), called on each request and handed to `waitUntil`.
   */
  checkHealthIfDue(): Promise<void> | null {
    const now = this.options.now();
    if (now - this.lastHealthRound < this.options.healthIntervalMs) return null;
    this.lastHealthRound = now;
    return this.checkHealth();
  }

  /** Starts periodic health checks (first one now). */
  start(): void {
    if (this.timer) return;
    void this.checkHealth();
    this.timer = setInterval(() => void this.checkHealth(), this.options.healthIntervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private ranked(routingKey: string): RunnerState[] {
    return this.runners
      .map((r) => ({ r, score: hash53(`${r.url}\u0000${routingKey}`) }))
      .sort((a, b) => b.score - a.score || (a.r.url < b.r.url ? -1 : 1))
      .map(({ r }) => r);
  }

  private failed(runner: RunnerState, error: string, notReady: boolean): void {
    const before = runner.breaker.state;
    runner.breaker.failure(this.options.now());
    runner.lastError = error;
    if (notReady) runner.ready = false;
    if (runner.breaker.state !== before) this.emit({ type: "breaker", runner: runner.url, state: runner.breaker.state });
  }

  private emit(event: PoolEvent): void {
    this.options.onEvent?.(event);
  }

  private affinityHeaders(routingKey: string): Record<string, string> {
    const header = this.options.affinityHeader;
    const token = header && this.affinity.get(routingKey);
    return token ? { [header]: token } : {};
  }

  private rememberAffinity(routingKey: string, headers: Headers): void {
    const token = this.options.affinityHeader && headers.get(this.options.affinityHeader);
    if (!token) return;
    this.affinity.delete(routingKey);
    this.affinity.set(routingKey, token);
    if (this.affinity.size > MAX_AFFINITY_KEYS) this.affinity.delete(this.affinity.keys().next().value!);
  }

  private async call(runner: RunnerState, method: string, path: string, body: string, timeoutMs: number, signal?: AbortSignal, extraHeaders: Record<string, string> = {}) {
    const signed = await signRequest(await this.key, method, path, body);
    const controller = new AbortController();
    const timeout = new AttemptTimeout(`timeout after ${timeoutMs} ms`);
    const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
    const onAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const response = await this.options.fetch(`${runner.url}${path}`, {
        method,
        headers: { ...extraHeaders, ...signed, ...(body ? { "content-type": "application/json" } : {}) },
        ...(body ? { body } : {}),
        signal: controller.signal,
      });
      const bytes = await response.arrayBuffer();
      return { status: response.status, headers: response.headers, bytes };
    } catch (e) {
      if (controller.signal.reason === timeout) throw timeout;
      throw e;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

function parseError(bytes: ArrayBuffer, status: number): ErrorBody {
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ErrorBody>;
    if (typeof body.error === "string") return { error: body.error, code: (body.code ?? "internal") as ErrorBody["code"] };
  } catch {
    // not JSON: fall through
  }
  return { error: `HTTP ${status}`, code: "internal" };
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return `${err.message ?? String(e)}${cause ? ` (${cause})` : ""}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** cyrb53: a fast, well-mixed 53-bit string hash (rendezvous scores need mixing, not secrecy). */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
