/**
 * The runner's HTTP API (Hono; testable with `app.request()`, served by @hono/node-server in main.ts):
 *
 *   POST /v1/forward   JSON request (shared/runner/protocol.ts) → float32 body, shape in x-edgebone-shape
 *   GET  /health       liveness: 200 while the process answers
 *   GET  /ready        200 when taking work, 503 while starting or draining (what the pool checks)
 *   GET  /info         runner id, execution provider, loaded models, caches, limits
 *   GET  /metrics      Prometheus text
 *
 * Every request must carry the edge's HMAC signature (shared/runner/signing.ts) unless its path is listed in
 * RUNNER_UNSIGNED_PATHS. Errors are JSON `{error, code}` with one line.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { FORWARD_PATH, HEADERS, parseForwardRequest, ProtocolError, type ErrorBody } from "../shared/runner/protocol.js";
import { NonceCache, importSigningKey, verifyRequest, type SigningKey } from "../shared/runner/signing.js";
import { encodeTensor } from "../shared/runner/tensor-wire.js";
import { toErrorBody } from "./errors.js";
import type { Runner } from "./runner.js";

type Env = { Variables: { body: Uint8Array } };

const ROUTES = new Set([FORWARD_PATH, "/health", "/ready", "/info", "/metrics"]);

export async function createApp(runner: Runner): Promise<Hono<Env>> {
  const { config, metrics, deps } = runner;
  const keys: SigningKey[] = await Promise.all(config.signingKeys.map(importSigningKey));
  const nonces = new NonceCache();
  const unsigned = new Set(config.unsignedPaths);
  const app = new Hono<Env>();

  const fail = (c: Context, error: ErrorBody & { status: number }) =>
    c.json({ error: error.error, code: error.code } satisfies ErrorBody, error.status as 400, { [HEADERS.runner]: runner.id });

  // Metrics and timing for every request (route label limited to known routes).
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    const route = ROUTES.has(c.req.path) ? c.req.path : "other";
    metrics.requests.inc({ route, status: String(c.res.status) });
    metrics.duration.observe({ route }, (performance.now() - started) / 1000);
  });

  // Shed load before reading (and holding) a body: a full or draining runner answers at once.
  app.use(FORWARD_PATH, async (c, next) => {
    const refused = c.req.method === "POST" ? runner.refusal() : null;
    return refused ? fail(c, toErrorBody(refused)) : next();
  });

  app.use(
    "*",
    bodyLimit({
      maxSize: config.maxBodyBytes,
      onError: (c) => fail(c, { error: `request body exceeds ${config.maxBodyBytes} bytes`, code: "too_large", status: 413 }),
    }),
  );

  // Signature check: reads the raw body once (it is signed) and hands it to the route.
  app.use("*", async (c, next) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    c.set("body", body);
    if (unsigned.has(c.req.path)) return next();
    const url = new URL(c.req.url);
    const result = await verifyRequest(keys, { method: c.req.method, path: url.pathname + url.search, header: (name) => c.req.header(name), body }, { windowMs: config.signatureWindowMs, nonces });
    if (!result.ok) return fail(c, { error: result.reason, code: "unauthorized", status: 401 });
    return next();
  });

  app.post(FORWARD_PATH, async (c) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(c.get("body")));
    } catch (e) {
      throw new ProtocolError(`request body is not JSON (${(e as Error).message})`);
    }
    const request = parseForwardRequest(parsed);
    const result = await runner.forward(request);
    const { headers, body } = encodeTensor({ shape: result.shape, data: result.data });
    return new Response(body, {
      status: 200,
      headers: { ...headers, [HEADERS.runner]: result.runner, [HEADERS.batchRows]: String(result.batchRows), [HEADERS.queueMs]: String(result.queueMs) },
    });
  });

  app.get("/health", (c) => c.json({ status: "ok", runner: runner.id }));

  app.get("/ready", (c) => {
    const ready = runner.state === "ready";
    if (ready) return c.json({ ready: true, runner: runner.id, inflight: runner.inflightRequests, queued: runner.batcher.queued });
    return c.json({ ready: false, runner: runner.id, error: `runner is ${runner.state}`, code: runner.state === "draining" ? "draining" : "busy" }, 503);
  });

  app.get("/info", (c) => c.json(runner.info()));

  app.get("/metrics", async (c) => {
    const { body, contentType } = await metrics.text();
    return c.body(body, 200, { "content-type": contentType });
  });

  app.notFound((c) => fail(c, { error: `no route ${c.req.method} ${c.req.path}`, code: "not_found", status: 404 }));

  app.onError((e, c) => {
    const error = toErrorBody(e);
    if (error.unexpected) deps.log.error(error.error, { path: c.req.path, stack: (e as Error).stack });
    return fail(c, error);
  });

  return app;
}
