/**
 * HTTP helpers of the routes: request bodies read under a byte limit (a declared Content-Length over it is refused
 * before a byte is read; a body without one is counted as it streams, by hono's bodyLimit), JSON bodies validated
 * with zod, multipart forms, the one builder of 413s, and the methods a path allows (405).
 */
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import type { AppEnv } from "./context.js";
import { ApiError, badRequest, unprocessable } from "./errors.js";

/** `application/json` and `application/<anything>+json`, with or without parameters. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** 413: a body, a file or a batch over its limit. */
export function tooLarge(message: string, code = "payload_too_large", param: string | null = null): ApiError {
  return new ApiError(413, message, code, param);
}

/** The request body, at most `max` bytes. */
export async function readBody(c: Context<AppEnv>, max: number): Promise<Uint8Array> {
  const overLimit = (): never => {
    const declared = c.req.header("content-length");
    throw tooLarge(`the request body${declared ? ` of ${declared} bytes` : ""} exceeds the limit of ${max} bytes`);
  };
  await bodyLimit({ maxSize: max, onError: overLimit })(c, async () => {});
  return new Uint8Array(await c.req.arrayBuffer());
}

/**
 * The JSON body (at most the payload limit, workers/limits.ts) validated by `schema`: 415 for another declared
 * content type, 400 when it does not parse, 422 naming the first field at fault (`param`). An empty body stands for `empty` when given.
 */
export async function jsonBody<T extends z.ZodType>(c: Context<AppEnv>, schema: T, empty?: z.input<T>): Promise<z.output<T>> {
  const type = c.req.header("content-type");
  if (type !== undefined && !JSON_TYPE.test(type)) {
    throw new ApiError(415, `the body must be JSON, sent with Content-Type: application/json (not ${type})`, "unsupported_media_type");
  }
  return parseJson(await readBody(c, c.var.services.limits.payloadBytes), schema, empty);
}

/** Bytes already read (a signed body) as JSON validated by `schema`, with jsonBody's 400 and 422. */
export function parseJson<T extends z.ZodType>(bytes: Uint8Array, schema: T, empty?: z.input<T>): z.output<T> {
  let body: unknown = empty;
  if (bytes.byteLength || empty === undefined) {
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`, "invalid_json");
    }
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.join(".");
    throw unprocessable(`${path ? `${path}: ` : ""}${issue.message}`, "validation_error", path || null);
  }
  return parsed.data;
}

/** A multipart/form-data body of at most `max` bytes; 400 when it does not parse (no boundary, a wrong one). */
export async function formBody(c: Context<AppEnv>, max: number): Promise<FormData> {
  const bytes = await readBody(c, max);
  try {
    return await new Response(bytes, { headers: { "content-type": c.req.header("content-type") ?? "" } }).formData();
  } catch (e) {
    throw badRequest(`the multipart/form-data body does not parse (${(e as Error).message}): send it with the boundary its Content-Type names`, "invalid_multipart");
  }
}

/** The methods `app` routes at `path` (GET brings HEAD, which Hono answers with the GET route). */
export function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
  const methods = new Set(app.routes.map((r) => r.method).filter((m) => m !== "ALL"));
  const allowed = [...methods].filter((method) => app.router.match(method, path)[0].some(([[, route]]) => route.method === method));
  if (allowed.includes("GET")) allowed.push("HEAD");
  return allowed.sort();
}
