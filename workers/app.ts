/**
 * The Edgebone edge worker's Hono app: error handling, per-request state, metrics and the route modules.
 * `createApp(options)` takes the onnxruntime to run models on and optional hooks, so the entry (workers/index.ts)
 * and the tests share every route.
 *
 *   public          GET /health, /info, /metrics, /openapi.json
 *   admin           /admin/…          routes/admin.ts     (Bearer ADMIN_TOKEN)
 *   tenant          /v1/adapters…     routes/adapters.ts  (Bearer API key, for everything under /v1)
 *                   /v1/embeddings, /v1/models[/:id]      routes/openai.ts
 *                   /v1/models/:preset/forward            routes/models.ts
 *   TEI             /info, /embed, /embed_all, /tokenize, /decode   routes/tei.ts
 *   runners         GET /internal/objects/<key>           internal-objects.ts (signed)
 *                   POST /internal/runners                runner-registry.ts (signed heartbeats)
 */
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { InputError } from "../shared/index.js";
import { requireTenant } from "./auth.js";
import type { AppEnv, Db } from "./context.js";
import * as schema from "./db/schema.js";
import { ApiError, errorResponse, notFound, unprocessable } from "./errors.js";
import { isolateWedged } from "./limiter.js";
import { allowedMethods } from "./http.js";
import { internalObjects } from "./internal-objects.js";
import { openApiDocument } from "./openapi.js";
import { runnerRegistry } from "./runner-registry.js";
import { adapterRoutes } from "./routes/adapters.js";
import { adminRoutes } from "./routes/admin.js";
import { modelRoutes } from "./routes/models.js";
import { openAiRoutes } from "./routes/openai.js";
import { teiRoutes } from "./routes/tei.js";
import { Services, type AppOptions } from "./services.js";

export function createApp(options: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let services: Services | undefined;

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    if (error instanceof InputError) return errorResponse(c, unprocessable(error.message, "invalid_input"));
    console.error(error);
    // details go to the log, not to the client (they can name tables, keys, stack frames)
    return errorResponse(c, new ApiError(500, "internal server error", "internal_error"));
  });
  // No route: 405 with Allow when the path has routes for other methods, else 404.
  app.notFound((c) => {
    const allow = allowedMethods(app, c.req.path);
    if (!allow.length) return errorResponse(c, notFound(`no route for ${c.req.method} ${c.req.path}`, "route_not_found"));
    c.header("Allow", allow.join(", "));
    return errorResponse(c, new ApiError(405, `${c.req.method} is not allowed on ${c.req.path}: use ${allow.join(", ")}`, "method_not_allowed"));
  });

  app.use("*", async (c, next) => {
    c.set("db", drizzle(c.env.DB as never, { schema }) as unknown as Db);
    services ??= new Services(c.env.BUCKET, c.env, options);
    c.set("services", services);
    await next();
  });
  app.use("*", (c, next) => c.var.services.metrics.middleware(c, next));
  app.use("/v1/*", requireTenant);

  // 503 while the isolate's admission control is wedged (a slot held far beyond any inference: workers/limiter.ts)
  app.get("/health", (c) => {
    const wedged = isolateWedged();
    if (wedged !== null) throw new ApiError(503, wedged, "isolate_wedged");
    return c.json({ status: "ok" });
  });
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  app.get("/metrics", (c) => c.text(c.var.services.metrics.text(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }));

  app.route("/internal/objects", internalObjects());
  app.route("/internal/runners", runnerRegistry());
  app.route("/admin", adminRoutes());
  app.route("/v1", adapterRoutes(options.hooks));
  app.route("/v1", openAiRoutes());
  app.route("/v1", modelRoutes());
  app.route("/", teiRoutes());
  return app;
}
