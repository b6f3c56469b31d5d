/**
 * JSON errors for everything a client can get wrong at the HTTP level, in workerd: unknown paths (404) and known
 * paths with another method (405 with Allow), malformed JSON (400), a non-JSON content type (415), bodies over the
 * limit (413, before reading when Content-Length says so), broken multipart (400), and `param` naming the field at
 * fault. OpenAI's shape under /v1, TEI's elsewhere.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { readReply } from "../helpers/reply.js";
import { ADMIN, PRESET, call, tenantWithKey, type Tenant } from "./helpers.js";

let t: Tenant;
beforeAll(async () => {
  t = await tenantWithKey("http-errors");
});

const openAiError = (code: string, param: string | null = null) => ({ error: { message: expect.any(String), type: "invalid_request_error", param, code } });

describe("unknown paths and methods", () => {
  it("404 route_not_found: TEI shape outside /v1, OpenAI shape under /v1 (after the key)", async () => {
    const tei = await call("GET", "/nope");
    expect(tei.status).toBe(404);
    expect(tei.json).toEqual({ error: "no route for GET /nope", error_type: "NotFound" });
    const v1 = await call("POST", "/v1/nope", { key: t.key, body: {} });
    expect(v1.status).toBe(404);
    expect(v1.json).toEqual(openAiError("route_not_found"));
  });

  it("405 method_not_allowed with Allow for a known path and another method", async () => {
    const cases: [string, string, string, string | undefined][] = [
      ["DELETE", "/health", "GET, HEAD", undefined],
      ["PATCH", "/metrics", "GET, HEAD", undefined],
      ["GET", "/embed", "POST", t.key],
      ["OPTIONS", "/tokenize", "POST", t.key],
      ["POST", "/admin/keys/x", "DELETE", ADMIN],
      ["PUT", "/v1/embeddings", "POST", t.key],
      ["POST", `/v1/models/${PRESET}`, "GET, HEAD", t.key],
      ["GET", `/v1/models/${PRESET}/forward`, "POST", t.key],
      ["PATCH", "/v1/adapters/x", "DELETE, GET, HEAD, PUT", t.key],
    ];
    for (const [method, path, allow, key] of cases) {
      const res = await call(method, path, { key });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow"), `${method} ${path}`).toBe(allow);
      const message = `${method} is not allowed on ${path}: use ${allow}`;
      expect(res.json).toEqual(path.startsWith("/v1/") ? { error: { message, type: "invalid_request_error", param: null, code: "method_not_allowed" } } : { error: message, error_type: "Validation" });
    }
    // HEAD is answered by the GET route
    expect((await call("HEAD", "/health")).status).toBe(200);
  });
});

describe("request bodies", () => {
  const post = (path: string, body: string | Uint8Array | ReadableStream, headers: Record<string, string> = { "content-type": "application/json" }) =>
    exports.default.fetch(`http://edge${path}`, { method: "POST", headers: { authorization: `Bearer ${t.key}`, ...headers }, body, duplex: "half" } as RequestInit).then(readReply);

  it("400 invalid_json with the parser's reason; an empty body is malformed too", async () => {
    for (const [path, body] of [["/v1/embeddings", '{"model": "x",'], ["/embed", "not json"], ["/v1/embeddings", ""]]) {
      const res = await post(path, body);
      expect(res.status, `${path} ${body}`).toBe(400);
      const message = path.startsWith("/v1/") ? res.json.error.message : res.json.error;
      expect(message).toMatch(/^the request body is not valid JSON: \S/);
    }
  });

  it("415 for a declared non-JSON content type; JSON types with parameters or +json pass", async () => {
    const body = JSON.stringify({ model: PRESET, input: "hello" });
    const form = await post("/v1/embeddings", "model=x", { "content-type": "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
    expect(form.json).toEqual({ error: { message: "the body must be JSON, sent with Content-Type: application/json (not application/x-www-form-urlencoded)", type: "invalid_request_error", param: null, code: "unsupported_media_type" } });
    const text = await post("/tokenize", JSON.stringify({ inputs: "x", model: PRESET }), { "content-type": "text/plain;charset=UTF-8" });
    expect(text.status).toBe(415);
    expect(text.json.error_type).toBe("Validation");
    for (const type of ["application/json; charset=utf-8", "application/vnd.edgebone+json", "APPLICATION/JSON"]) expect((await post("/v1/embeddings", body, { "content-type": type })).status, type).toBe(200);
    expect((await post("/v1/embeddings", new TextEncoder().encode(body), {})).status).toBe(200); // no content type: read as JSON
  });

  it("413 payload_too_large over 2 MB: from Content-Length before reading, or counted while a body streams", async () => {
    const big = JSON.stringify({ model: PRESET, input: "a ".repeat(1_100_000) });
    const declared = await post("/v1/embeddings", big);
    expect(declared.status).toBe(413);
    expect(declared.json).toEqual({ error: { message: `the request body of ${big.length} bytes exceeds the limit of 2000000 bytes`, type: "invalid_request_error", param: null, code: "payload_too_large" } });
    // a declared length is refused as is: nothing is read (the body here is 2 bytes)
    const forged = await post("/embed", "{}", { "content-type": "application/json", "content-length": "1000000000" });
    expect(forged.status).toBe(413);
    expect(forged.json).toEqual({ error: "the request body of 1000000000 bytes exceeds the limit of 2000000 bytes", error_type: "Validation" });
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 65_536) controller.enqueue(bytes.subarray(i, i + 65_536));
        controller.close();
      },
    });
    const streamed = await post("/embed", stream);
    expect(streamed.status).toBe(413);
    expect(streamed.json).toEqual({ error: "the request body exceeds the limit of 2000000 bytes", error_type: "Validation" });
  });

  it("400 invalid_multipart for a multipart body without a usable boundary", async () => {
    for (const type of ["multipart/form-data", "multipart/form-data; boundary=nope"]) {
      const res = await call("PUT", `/v1/adapters/x?base=${PRESET}`, { key: t.key, body: "--other\r\n\r\nx\r\n--other--\r\n", headers: { "content-type": type } });
      expect(res.status, type).toBe(400);
      expect(res.json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_multipart" });
    }
  });
});

describe("param names the field at fault; messages fit an HTTP caller", () => {
  it("model, input, adapter, inputs", async () => {
    const embeddings = (body: unknown) => call("POST", "/v1/embeddings", { key: t.key, body });
    expect((await embeddings({ model: "nope", input: "x" })).json).toEqual(openAiError("preset_not_found", "model"));
    expect((await embeddings({ model: `${PRESET}:missing`, input: "x" })).json).toEqual(openAiError("adapter_not_found", "model"));
    expect((await embeddings({ model: PRESET, input: [] })).json).toEqual(openAiError("validation_error", "input"));
    expect((await embeddings({ model: PRESET, input: [[2, 3], []] })).json).toEqual(openAiError("empty_input", "input"));
    const forward = await call("POST", `/v1/models/${PRESET}/forward?adapter=missing`, { key: t.key, body: { token_ids: [[2, 3]] } });
    expect(forward.json).toEqual(openAiError("adapter_not_found", "adapter"));
    const long = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { inputs: ["hi", "hello world ".repeat(100)] } });
    expect(long.status).toBe(422);
    expect(long.json).toEqual({ error: { message: 'inputs[1] is 202 tokens long, more than the model\'s 64: shorten it or send "truncate": true to cut it', type: "invalid_request_error", param: "inputs", code: "input_too_long" } });
    const inputs = await call("POST", "/embed_all", { key: t.key, body: { model: PRESET, inputs: Array.from({ length: 33 }, () => "x") } });
    expect(inputs.status).toBe(422);
    expect(inputs.json).toEqual({ error: "inputs has 33 inputs, over the limit of 32 per request", error_type: "Validation" });
    // a text cut into windows takes a row each: 3 texts of ~25 windows
    const rows = await call("POST", "/embed", { key: t.key, body: { model: PRESET, inputs: Array.from({ length: 3 }, () => "hello world ".repeat(700)) } });
    expect(rows.status).toBe(422);
    expect(rows.json.error).toMatch(/^the request makes \d+ rows .* over the limit of 64$/);
  });
});
