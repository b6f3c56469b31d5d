/**
 * Announces this runner to the edge (RUNNER_REGISTER_URL): a signed `ready` heartbeat when it starts listening
 * and every RUNNER_HEARTBEAT_INTERVAL_MS, and a `draining` one when it shuts down, so the edge's pool follows
 * runners that come and go (shared/runner/discovery.ts). A failed heartbeat is logged and retried on the next
 * tick; the edge forgets a runner whose heartbeats stop for its TTL.
 */
import { HEARTBEAT_PATH, importSigningKey, signRequest, type Heartbeat as Beat } from "../shared/runner/index.js";
import type { RunnerConfig } from "./config.js";
import type { Logger } from "./log.js";

/** Longest wait for one heartbeat (the draining one delays shutdown by at most this). */
const HEARTBEAT_TIMEOUT_MS = 2_000;

export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly endpoint: URL;
  private failing = false;
  private readonly key: ReturnType<typeof importSigningKey>;

  constructor(
    private readonly register: NonNullable<RunnerConfig["register"]>,
    private readonly runner: string,
    signingKey: string,
    private readonly log: Logger,
  ) {
    this.endpoint = new URL(HEARTBEAT_PATH, register.edge);
    this.key = importSigningKey(signingKey);
  }

  start(): void {
    void this.send("ready");
    this.timer = setInterval(() => void this.send("ready"), this.register.intervalMs);
    this.timer.unref();
  }

  /** Stops the ticks and tells the edge this runner is leaving. */
  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.send("draining");
  }

  private async send(state: Beat["state"]): Promise<void> {
    const body = JSON.stringify({ url: this.register.url, runner: this.runner, state } satisfies Beat);
    try {
      const headers = await signRequest(await this.key, "POST", this.endpoint.pathname, body);
      const res = await fetch(this.endpoint, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body, signal: AbortSignal.timeout(HEARTBEAT_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
      if (this.failing || state === "draining") this.log.info(`announced to ${this.endpoint.origin} as ${state}`, { url: this.register.url });
      this.failing = false;
    } catch (e) {
      this.failing = true;
      this.log.warn(`heartbeat to ${this.endpoint.href} failed: ${(e as Error).message}`, { state });
    }
  }
}
