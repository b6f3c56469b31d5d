/**
 * Runner entry point: `npm run runner` (config from RUNNER_* variables, see README). Prints
 * `listening on http://host:port` on stdout once it takes requests. SIGTERM / SIGINT drain: /ready turns 503 and
 * new requests are refused (the pool sends them elsewhere), in-flight ones finish (up to
 * RUNNER_DRAIN_TIMEOUT_MS), then the server closes and the process exits. With RUNNER_REGISTER_URL it announces itself
 * to the edge while it runs and says it is leaving when it drains (heartbeat.ts).
 */
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import { createApp } from "./app.js";
import { loadConfig, type RunnerConfig } from "./config.js";
import { selectExecution } from "./execution.js";
import { Heartbeat } from "./heartbeat.js";
import { jsonLogger } from "./log.js";
import { storeFromConfig } from "./object-store.js";
import { Runner, defaultRunnerId } from "./runner.js";

let config: RunnerConfig;
try {
  config = loadConfig(process.env);
} catch (e) {
  console.error(`runner: ${(e as Error).message}`);
  process.exit(2);
}

const log = jsonLogger({ runner: defaultRunnerId(config) });
let runner: Runner;
let server: Server;
let heartbeat: Heartbeat | null = null;
try {
  const execution = await selectExecution(config, log);
  const store = storeFromConfig(config);
  runner = await Runner.create(config, { store, execution, log });
  const app = await createApp(runner);
  if (config.register) heartbeat = new Heartbeat(config.register, runner.id, config.signingKeys[0], log);
  server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    log.info(`listening on http://${info.address}:${info.port}`, { store: store.description, provider: execution.provider, cache: config.cacheDir });
    process.stdout.write(`listening on http://${info.address}:${info.port}\n`);
    heartbeat?.start();
  }) as Server;
  server.on("error", (e) => {
    log.error(`server error: ${e.message}`);
    process.exit(1);
  });
} catch (e) {
  log.error(`cannot start: ${(e as Error).message.split("\n")[0]}`);
  process.exit(1);
}
// Every stage has a bound: slow clients cannot hold sockets forever.
server.requestTimeout = config.requestTimeoutMs + 10_000;
server.headersTimeout = 30_000;
// Bodies are read before admission can count them: cap connections too (the pool retries refused ones elsewhere).
server.maxConnections = config.maxConcurrentRequests * 2 + 64;

/** Longest wait for the last responses to be written after the drain. */
const SERVER_CLOSE_MS = 5_000;

/**
 * Closes the server once the responses of drained requests are written: a request leaves the runner's count before
 * its body is on the wire, so exiting right after the drain could cut it off. Keep-alive connections become idle
 * after their response and are closed as they do; whatever is left after `ms` is cut.
 */
async function closeServer(server: Server, ms: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweep = setInterval(() => server.closeIdleConnections(), 20);
  server.closeIdleConnections();
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
  clearInterval(sweep);
  server.closeAllConnections();
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info(`${signal}: draining`, { inflight: runner.inflightRequests });
  runner.startDrain();
  await heartbeat?.leave(); // the edge stops routing here now, not after the heartbeat TTL
  const drained = await runner.drain(config.drainTimeoutMs);
  log.info(drained ? "drained" : `drain timed out after ${config.drainTimeoutMs} ms`, { inflight: runner.inflightRequests });
  await closeServer(server, SERVER_CLOSE_MS);
  await runner.close();
  process.exit(drained ? 0 : 1);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
