/**
 * Property-based fuzzing of every route of the production bundle (workers/index.ts bundled as wrangler does, in
 * workerd through Miniflare on a loopback port; test/helpers/edge-platform.ts), shared by the CI test
 * (test/edge-fuzz.test.ts) and `npm run fuzz` (test/bench/fuzz.ts). The platform has the demo encoder and the demo
 * Gemma installed through the admin API, a tenant's adapter, and a runner pool that is down (a closed port), so
 * Gemma requests answer 503.
 *
 * Requests are drawn with fast-check: methods (those workerd parses, and unknown tokens), every route's path with
 * good and bad parameters and garbage paths, keys (the tenant's, another tenant's, revoked, admin, garbage, none),
 * content types and bodies (valid-shaped for the route with odd values: huge, negative, fractional, wrong types,
 * unicode and lone surrogates, long texts; any JSON; malformed JSON; raw bytes; multipart with and without its
 * boundary; a Content-Length far over the limit). `problems` states what every answer must be: below 500, or a 503
 * with a JSON reason; JSON errors in the route's shape (OpenAI's under /v1, TEI's elsewhere); successes in their
 * shape with finite numbers; an answer within the timeout. Methods workerd does not parse are answered by workerd
 * itself (plain-text 501 "Unrecognized request method", before any worker code): counted apart, and checked to be
 * exactly that.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { Backbone, initLora, loraSafetensorsFormat } from "../../shared/node/index.js";
import { writeDemoEncoder, writeDemoGemma } from "../../workers/tools/demo-presets.js";
import { installPreset } from "../../workers/tools/install-preset.js";
import { freePort, startEdge, tenantWithKey, type EdgePlatform } from "./edge-platform.js";

export const ENCODER = "demo-encoder";
export const GEMMA = "demo-gemma";
export const ADAPTER = "fz";
const ADMIN = `adm_${"f".repeat(32)}`;

export interface FuzzTarget {
  url: URL;
  admin: string;
  /** The tenant's key (it owns ADAPTER), another tenant's, and a revoked one. */
  key: string;
  otherKey: string;
  revokedKey: string;
  /** workerd's inspector, when asked for (test/helpers/isolate-heap.ts). */
  inspectorPort?: number;
  dispose(): Promise<void>;
}

/** The production bundle on a loopback port with the demo presets, two tenants, a revoked key and an adapter. */
export async function startFuzzTarget(inspectorPort?: number): Promise<FuzzTarget> {
  const dir = mkdtempSync(join(tmpdir(), "edgebone-fuzz-"));
  // a runner pool that is down: Gemma requests get 503 with the reason
  const edge: EdgePlatform = await startEdge({ ADMIN_TOKEN: ADMIN, TEI_DEFAULT_PRESET: ENCODER, RUNNER_URLS: `http://127.0.0.1:${await freePort()}`, RUNNER_SIGNING_KEY: "s".repeat(32) }, inspectorPort);
  try {
    const encoderDir = join(dir, ENCODER);
    await Promise.all([writeDemoEncoder(encoderDir), writeDemoGemma(join(dir, GEMMA))]);
    for (const name of [ENCODER, GEMMA]) await installPreset({ dir: join(dir, name), name, url: edge.url.href, token: ADMIN });
    const { key } = await tenantWithKey(edge.url, ADMIN, "fuzz");
    const { key: otherKey } = await tenantWithKey(edge.url, ADMIN, "fuzz-other");
    const revoked = await adminJson(edge.url, "POST", `/admin/tenants/${(await adminJson(edge.url, "POST", "/admin/tenants", { name: "revoked" })).id}/keys`, {});
    await adminJson(edge.url, "DELETE", `/admin/keys/${revoked.id}`);
    const backbone = await Backbone.fromPreset(encoderDir, { loadWeights: false });
    const adapter = await loraSafetensorsFormat.encode(initLora(backbone.loraTargets(), 2, 1, true), backbone);
    const put = await fetch(new URL(`/v1/adapters/${ADAPTER}?base=${ENCODER}`, edge.url), { method: "PUT", headers: { authorization: `Bearer ${key}` }, body: adapter });
    if (put.status !== 201) throw new Error(`adapter upload: ${put.status} ${await put.text()}`);
    return {
      url: edge.url,
      admin: ADMIN,
      key,
      otherKey,
      revokedKey: revoked.key,
      inspectorPort,
      dispose: async () => {
        await edge.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await edge.dispose();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function adminJson(base: URL, method: string, path: string, body?: unknown): Promise<Record<string, string>> {
  const res = await fetch(new URL(path, base), { method, headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, string>;
}

export interface FuzzRequest {
  method: string;
  /** The route it aims at (for the tally), e.g. `POST /v1/embeddings`. */
  route: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** Methods workerd parses (its HTTP parser's list) and tokens it does not. */
const KNOWN_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "PURGE"];
const UNKNOWN_METHODS = ["FOO", "BREW", "GETT", "X-CUSTOM"];

const enc = new TextEncoder();
const lone = fc.constantFrom("\ud800", "a\udfffb", "\udc00\ud800");
/** Text as clients send it, and as they should not. */
const text = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("hello world", "the quick brown fox", "[CLS] [SEP] [MASK]", "héllo wörld café", "你好", "😀👍🏽", "a".repeat(5_000), "hello ".repeat(1_000)) },
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 200 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 200 }) },
  { weight: 1, arbitrary: fc.oneof(lone, fc.constantFrom("", " ", "\n")) },
  { weight: 1, arbitrary: fc.constantFrom("x".repeat(130_000), "word ".repeat(60_000)) },
);
const id = fc.integer({ min: 0, max: 300 });
const int = fc.oneof({ weight: 8, arbitrary: id }, { weight: 1, arbitrary: fc.integer() }, { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 31, 2 ** 53, 1e300, 0.5) });
const odd = fc.oneof(text, int, fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer({ min: -2, max: 2 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 }));
const texts = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 5, arbitrary: fc.array(text, { minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.oneof(fc.array(text, { minLength: 30, maxLength: 40 }), fc.constant([])) },
);
const idRows = fc.oneof(
  { weight: 5, arbitrary: fc.array(id, { minLength: 1, maxLength: 20 }) },
  { weight: 5, arbitrary: fc.array(fc.array(id, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.array(fc.array(int, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.oneof(fc.constant([[]]), fc.constant([]), fc.array(fc.array(id, { minLength: 600, maxLength: 600 }), { minLength: 30, maxLength: 33 })) },
);
const model = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(ENCODER, `${ENCODER}:${ADAPTER}`, GEMMA) },
  { weight: 2, arbitrary: fc.constantFrom(`${ENCODER}:nope`, `${GEMMA}:${ADAPTER}`, "nope", ":", `${ENCODER}:`, "../x") },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
const presetName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(ENCODER, GEMMA) }, { weight: 1, arbitrary: fc.constantFrom("nope", "..", "%2e%2e", "a".repeat(300)) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) });

/** `a` one time in `n`, else absent. */
const rarely = (a: fc.Arbitrary<unknown>, n: number) => fc.oneof({ weight: n - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });

/**
 * A route's body: most of the time well formed (required fields, optional ones half the time); else with fields of
 * the wrong type and an unknown field now and then.
 */
function shaped(required: Record<string, fc.Arbitrary<unknown>>, optional: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const body = (field: (a: fc.Arbitrary<unknown>) => fc.Arbitrary<unknown>, extra: fc.Arbitrary<unknown>) =>
    fc
      .record({
        ...Object.fromEntries(Object.entries(required).map(([k, a]) => [k, field(a)])),
        ...Object.fromEntries(Object.entries(optional).map(([k, a]) => [k, rarely(field(a), 2)])),
        extra,
      })
      .map((r) => JSON.parse(JSON.stringify(r)) as unknown);
  const clean = body((a) => a, fc.constant(undefined));
  const noisy = body((a) => fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: odd }), rarely(odd, 4));
  return fc.oneof({ weight: 3, arbitrary: clean }, { weight: 2, arbitrary: noisy });
}

const bodies: Record<string, fc.Arbitrary<unknown>> = {
  embeddings: shaped(
    { model, input: fc.oneof(texts, idRows) },
    { encoding_format: fc.constantFrom("float", "base64"), dimensions: fc.integer({ min: 1, max: 130 }), truncate: fc.boolean(), prompt_name: fc.constantFrom("query", "nope"), user: text },
  ),
  forward: shaped({}, { token_ids: idRows, padding_mask: idRows, inputs: texts, truncate: fc.boolean(), adapter: fc.constantFrom(ADAPTER, "nope") }),
  embed: shaped({ inputs: texts }, { model, normalize: fc.boolean(), truncate: fc.boolean(), dimensions: fc.integer({ min: 1, max: 130 }), prompt_name: fc.constantFrom("query", "nope") }),
  tokenize: shaped({ inputs: texts }, { model, add_special_tokens: fc.boolean() }),
  decode: shaped({ ids: idRows }, { model, skip_special_tokens: fc.boolean() }),
  tenant: shaped({}, { name: text }),
};

interface Route {
  method: string;
  route: string;
  path: fc.Arbitrary<string>;
  body?: fc.Arbitrary<unknown>;
}

const routes: Route[] = [
  { method: "POST", route: "/v1/embeddings", path: fc.constant("/v1/embeddings"), body: bodies.embeddings },
  { method: "GET", route: "/v1/models", path: fc.constant("/v1/models") },
  { method: "GET", route: "/v1/models/:id", path: model.map((m) => `/v1/models/${encodeURIComponent(m)}`) },
  { method: "POST", route: "/v1/models/:preset/forward", path: fc.tuple(presetName, fc.option(fc.constantFrom(ADAPTER, "nope", ""), { nil: undefined })).map(([p, a]) => `/v1/models/${encodeURIComponent(p)}/forward${a === undefined ? "" : `?adapter=${a}`}`), body: bodies.forward },
  { method: "GET", route: "/v1/adapters", path: fc.constant("/v1/adapters") },
  { method: "GET", route: "/v1/adapters/:name", path: fc.constantFrom(ADAPTER, "nope", "..", "a".repeat(100)).map((n) => `/v1/adapters/${n}`) },
  { method: "PUT", route: "/v1/adapters/:name", path: fc.tuple(fc.constantFrom("fz-new", "x", "..", "a".repeat(100)), fc.option(presetName, { nil: undefined })).map(([n, b]) => `/v1/adapters/${n}${b === undefined ? "" : `?base=${encodeURIComponent(b)}`}`) },
  { method: "DELETE", route: "/v1/adapters/:name", path: fc.constantFrom("fz-new", "nope").map((n) => `/v1/adapters/${n}`) },
  { method: "POST", route: "/embed", path: fc.constant("/embed"), body: bodies.embed },
  { method: "POST", route: "/embed_all", path: fc.constant("/embed_all"), body: bodies.embed },
  { method: "POST", route: "/tokenize", path: fc.constant("/tokenize"), body: bodies.tokenize },
  { method: "POST", route: "/decode", path: fc.constant("/decode"), body: bodies.decode },
  { method: "GET", route: "/info", path: fc.constant("/info") },
  { method: "GET", route: "/health", path: fc.constant("/health") },
  { method: "GET", route: "/metrics", path: fc.constant("/metrics") },
  { method: "GET", route: "/openapi.json", path: fc.constant("/openapi.json") },
  { method: "POST", route: "/admin/tenants", path: fc.constant("/admin/tenants"), body: bodies.tenant },
  { method: "POST", route: "/admin/tenants/:id/keys", path: fc.string({ maxLength: 40 }).map((id) => `/admin/tenants/${encodeURIComponent(id)}/keys`), body: bodies.tenant },
  { method: "DELETE", route: "/admin/keys/:id", path: fc.string({ maxLength: 40 }).map((id) => `/admin/keys/${encodeURIComponent(id)}`) },
  // never the installed presets' names: a file PUT uninstalls a preset until its record commits
  {
    method: "PUT",
    route: "/admin/presets/:name/:file",
    path: fc.tuple(fc.constantFrom("fuzz-a", "fuzz-b", "..", "a".repeat(200)), fc.oneof(fc.constantFrom("config.json", "record.json", "tokenizer.hf.json", "edgebone.json", "edge/manifest.json", "a".repeat(1100), "../x"), fc.string({ maxLength: 30 }))).map(([n, f]) => `/admin/presets/${n}/${f.split("/").map(encodeURIComponent).join("/")}`),
  },
  { method: "GET", route: "/internal/objects/*", path: fc.constantFrom("presets/demo-encoder/config.json", "secrets/x", "").map((k) => `/internal/objects/${k}`) },
  { method: "GET", route: "garbage", path: fc.oneof(fc.webPath(), fc.string({ maxLength: 60 }).map((s) => `/${encodeURIComponent(s)}`), fc.constantFrom("/", "//", "/v1", "/v1/", "/%", "/%zz", "/a/../../b")) },
];

/** One request: a route, perhaps another method, a key, a content type and a body. */
export function fuzzRequests(t: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  // "own": the tenant's key, or on /admin the admin token
  const auth = fc.oneof(
    { weight: 8, arbitrary: fc.constant("own") },
    { weight: 1, arbitrary: fc.constantFrom(`Bearer ${t.otherKey}`, `Bearer ${t.revokedKey}`, `Bearer ${t.admin}`, `Bearer ${t.key}`, "Bearer eb_nope", "Basic eA==", "Bearer", "") },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const method = (usual: string) =>
    fc.oneof({ weight: 12, arbitrary: fc.constant(usual) }, { weight: 3, arbitrary: fc.constantFrom(...KNOWN_METHODS) }, { weight: 1, arbitrary: fc.constantFrom(...UNKNOWN_METHODS) });
  const payload = (shape?: fc.Arbitrary<unknown>) =>
    fc.oneof(
      { weight: shape ? 10 : 0, arbitrary: (shape ?? fc.constant(null)).map((b) => ({ type: "application/json", bytes: enc.encode(JSON.stringify(b)) })) },
      { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map((s) => ({ type: "application/json", bytes: enc.encode(s) })) },
      { weight: 1, arbitrary: fc.constantFrom("{", '{"model": ', "[1,2", "nul", "\u0000", '{"a":1}{"b":2}').map((s) => ({ type: "application/json", bytes: enc.encode(s) })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => ({ type: "application/octet-stream", bytes })) },
      { weight: 1, arbitrary: fc.constantFrom("text/plain", "multipart/form-data", "multipart/form-data; boundary=nope", "application/x-www-form-urlencoded", "").map((type) => ({ type, bytes: enc.encode("--x\r\n\r\nhello\r\n--x--\r\n") })) },
      { weight: 1, arbitrary: fc.constant(null).map(() => ({ type: undefined, bytes: undefined })) },
      { weight: 1, arbitrary: multipart },
    );
  return fc.constantFrom(...routes).chain((r) =>
    fc.record({ method: method(r.method), path: r.path, auth, payload: payload(r.body), huge: fc.integer({ min: 0, max: 39 }).map((n) => n === 0) }).map(({ method, path, auth, payload, huge }) => {
      const headers: Record<string, string> = {};
      if (auth !== undefined) headers.authorization = auth !== "own" ? auth : `Bearer ${r.route.startsWith("/admin/") ? t.admin : t.key}`;
      if (payload.type !== undefined && payload.type !== "") headers["content-type"] = payload.type;
      const request: FuzzRequest = { method, route: `${r.method} ${r.route}`, path, headers, body: payload.bytes };
      // a Content-Length far over the 2 MB payload limit with a small body: refused before reading (JSON routes)
      if (huge && r.body && payload.bytes) headers["content-length"] = "1000000000";
      return request;
    }),
  );
}

const BOUNDARY = "edgebone-fuzz-boundary";

/** A multipart/form-data body (PEFT upload shaped, or not) with its boundary. */
const multipart = fc
  .record({ config: fc.oneof(fc.json({ maxDepth: 2 }), fc.constant('{"r": 2, "lora_alpha": 4, "peft_type": "LORA"}')), weights: fc.uint8Array({ maxLength: 256 }), field: fc.constantFrom("adapter_config.json", "config") })
  .map(({ config, weights, field }) => {
    const part = (name: string, bytes: Uint8Array) => [enc.encode(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"; filename="${name}"\r\ncontent-type: application/octet-stream\r\n\r\n`), bytes, enc.encode("\r\n")];
    const chunks = [...part(field, enc.encode(config)), ...part("adapter_model.safetensors", weights), enc.encode(`--${BOUNDARY}--\r\n`)];
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    return { type: `multipart/form-data; boundary=${BOUNDARY}` as string | undefined, bytes: bytes as Uint8Array | undefined };
  });

export interface FuzzOutcome {
  status: number;
  contentType: string;
  text: string;
  ms: number;
}

/** Sends one request on a connection of its own (a refused body must not leave bytes for the next request). */
export function send(base: URL, r: FuzzRequest, timeoutMs: number): Promise<FuzzOutcome> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    // the path as drawn, not normalised by URL parsing
    const options = { host: base.hostname, port: base.port, path: r.path.startsWith("/") ? r.path : `/${r.path}`, method: r.method, headers: r.headers, agent: false };
    const req = httpRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - t0 }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => {
      // the server may answer (413) and close before a declared-but-never-sent body: that answer was already read
      if ((e as NodeJS.ErrnoException).code === "EPIPE" || (e as NodeJS.ErrnoException).code === "ECONNRESET") reject(new Error(`connection ${(e as NodeJS.ErrnoException).code} without an answer`));
      else reject(e);
    });
    if (r.body && r.headers["content-length"] === undefined) req.end(r.body);
    else if (r.body) req.end(r.body.subarray(0, 64)); // the declared length is a lie: send a little, then wait
    else req.end();
  });
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const finiteArray = (x: unknown): boolean => Array.isArray(x) && x.every((v) => typeof v === "number" && Number.isFinite(v));

/** What is wrong with an answer (empty: nothing). */
export function problems(r: FuzzRequest, out: FuzzOutcome): string[] {
  const found: string[] = [];
  if (UNKNOWN_METHODS.includes(r.method)) {
    // workerd's own answer, before the worker: its HTTP parser knows a fixed list of methods
    if (out.status !== 501 || !/Unrecognized request method/.test(out.text)) found.push(`an unknown method should get workerd's own 501, got ${out.status} ${out.text.slice(0, 100)}`);
    return found;
  }
  let json: unknown;
  const isJson = out.contentType.includes("application/json");
  if (isJson && r.method !== "HEAD") {
    try {
      json = JSON.parse(out.text);
    } catch {
      found.push(`content-type JSON but the body does not parse: ${out.text.slice(0, 100)}`);
    }
  }
  const v1 = r.path.startsWith("/v1/") || r.path === "/v1";
  if (out.status >= 500 && !(out.status === 503 && isJson)) found.push(`status ${out.status}: ${out.text.slice(0, 300)}`);
  if (out.status >= 400 && r.method !== "HEAD") {
    const shaped = v1
      ? isObject(json) && isObject(json.error) && typeof json.error.message === "string" && typeof json.error.type === "string" && typeof json.error.code === "string" && "param" in json.error
      : isObject(json) && typeof json.error === "string" && typeof json.error_type === "string";
    if (!shaped) found.push(`error ${out.status} not in ${v1 ? "OpenAI's" : "TEI's"} shape: ${out.text.slice(0, 200)}`);
  }
  if (out.status === 200 && r.method === r.route.split(" ")[0] && json !== undefined) {
    const route = r.route.split(" ")[1];
    const ok =
      route === "/v1/embeddings"
        ? isObject(json) && Array.isArray(json.data) && json.data.every((d) => isObject(d) && (typeof d.embedding === "string" || finiteArray(d.embedding)))
        : route === "/embed"
          ? Array.isArray(json) && json.every(finiteArray)
          : route === "/embed_all"
            ? Array.isArray(json) && json.every((rows) => Array.isArray(rows) && rows.every(finiteArray))
            : route === "/tokenize"
              ? Array.isArray(json) && json.every((row) => Array.isArray(row) && row.every((t) => isObject(t) && Number.isInteger(t.id) && typeof t.text === "string"))
              : route === "/decode"
                ? typeof json === "string" || (Array.isArray(json) && json.every((x) => typeof x === "string"))
                : route === "/v1/models/:preset/forward"
                  ? isObject(json) && isObject(json.sequence_output) && finiteArray(json.sequence_output.data)
                  : true;
    if (!ok) found.push(`200 from ${route} not in its shape (or not finite): ${out.text.slice(0, 200)}`);
  }
  return found;
}

/** Counts of answers by status and by route, failures kept with their request. */
export class FuzzTally {
  readonly byStatus = new Map<string, number>();
  readonly byRoute = new Map<string, Map<number, number>>();
  readonly failures: { request: FuzzRequest; problems: string[] }[] = [];
  readonly ms: number[] = [];
  count = 0;

  add(r: FuzzRequest, out: FuzzOutcome | Error): string[] {
    this.count++;
    const status = out instanceof Error ? "no answer" : UNKNOWN_METHODS.includes(r.method) && out.status === 501 ? "501 (workerd, unknown method)" : String(out.status);
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    if (!(out instanceof Error)) {
      this.ms.push(out.ms);
      const route = this.byRoute.get(r.route) ?? new Map<number, number>();
      route.set(out.status, (route.get(out.status) ?? 0) + 1);
      this.byRoute.set(r.route, route);
    }
    const found = out instanceof Error ? [out.message] : problems(r, out);
    if (found.length) this.failures.push({ request: { ...r, body: r.body && (r.body.subarray(0, 300) as Uint8Array) }, problems: found });
    return found;
  }

  /** Answers >= 500 other than 503 and workerd's 501 for unknown methods. */
  serverErrors(): number {
    let n = 0;
    for (const [status, count] of this.byStatus) if (Number(status) >= 500 && status !== "503") n += count;
    return n;
  }

  summary(): string {
    const sorted = [...this.ms].sort((a, b) => a - b);
    const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1) : "-");
    const statuses = [...this.byStatus].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}: ${n}`).join(", ");
    const lines = [`${this.count} requests; by status: ${statuses}; latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms; failures: ${this.failures.length}`];
    for (const [route, counts] of [...this.byRoute].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`  ${route}: ${[...counts].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ")}`);
    }
    return lines.join("\n");
  }
}

/** What is wrong with the platform after the run (empty: healthy): /health, and a real embedding (no adapter: a drawn DELETE may have removed it). */
export async function unhealthy(t: FuzzTarget): Promise<string[]> {
  const found: string[] = [];
  const health = await fetch(new URL("/health", t.url));
  if (health.status !== 200) found.push(`/health: ${health.status} ${await health.text()}`);
  const res = await fetch(new URL("/v1/embeddings", t.url), {
    method: "POST",
    headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: ENCODER, input: ["hello world", "the quick brown fox"] }),
  });
  const body = (await res.json()) as { data?: { embedding: number[] }[] };
  if (res.status !== 200 || body.data?.length !== 2 || !body.data.every((d) => finiteArray(d.embedding))) found.push(`embeddings after the run: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
  return found;
}
