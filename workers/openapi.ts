/**
 * The OpenAPI 3.1 document served at GET /openapi.json. Request bodies come from the same zod schemas the routes
 * validate with (workers/schemas.ts, via z.toJSONSchema), so the document cannot drift from validation.
 */
import { z } from "zod";
import { embeddingsBody, forwardBody, keyBody, limitsBody, teiDecodeBody, teiEmbedAllBody, teiEmbedBody, teiTokenizeBody, tenantBody } from "./schemas.js";
import { VERSION_INFO } from "./version.js";

const json = (schema: z.ZodType) => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { content: { "application/json": { schema: rest } }, required: true };
};

const openAiError = {
  type: "object",
  properties: { error: { type: "object", properties: { message: { type: "string" }, type: { type: "string" }, param: { type: ["string", "null"] }, code: { type: "string" } }, required: ["message", "type", "code"] } },
};
const teiError = { type: "object", properties: { error: { type: "string" }, error_type: { type: "string" } }, required: ["error", "error_type"] };

function responses(errorShape: object, ok: Record<string, unknown>, codes: number[]) {
  const out: Record<string, unknown> = { "200": ok };
  for (const code of codes) out[String(code)] = { description: `error ${code}`, content: { "application/json": { schema: errorShape } } };
  return out;
}

const okJson = (description: string) => ({ description, content: { "application/json": { schema: {} } } });
const V1_ERRORS = [400, 401, 403, 404, 413, 415, 422, 429, 503];
const TEI_ERRORS = [400, 401, 403, 404, 413, 415, 422, 429, 503];
const bearer = [{ apiKey: [] }];
const admin = [{ adminToken: [] }];
const pathParam = (name: string, description: string) => ({ name, in: "path", required: true, schema: { type: "string" }, description });

let cached: unknown;

export function openApiDocument(): unknown {
  cached ??= {
    openapi: "3.1.0",
    info: { title: "Edgebone", version: VERSION_INFO.version, description: "Transformer backbones (hidden states and embeddings) at the edge." },
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "A tenant API key (eb_…)" },
        adminToken: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN" },
      },
    },
    paths: {
      "/health": { get: { summary: "Liveness; 503 with the reason when an inference slot is wedged", responses: responses(teiError, okJson("ok"), [503]) } },
      "/info": { get: { summary: "Service information", responses: { "200": okJson("info") } } },
      "/openapi.json": { get: { summary: "This document", responses: { "200": okJson("OpenAPI 3.1") } } },
      "/metrics": {
        get: {
          summary: "Prometheus metrics of the isolate that answers (requests by route and status, latency, inferences by backend, 429s)",
          responses: { "200": { description: "Prometheus text format 0.0.4", content: { "text/plain": { schema: { type: "string" } } } } },
        },
      },
      "/admin/tenants": { post: { summary: "Create a tenant", security: admin, requestBody: json(tenantBody), responses: responses(teiError, okJson("the tenant"), [401, 403, 422, 503]) } },
      "/admin/tenants/{id}/keys": {
        post: { summary: "Create an API key (returned once)", security: admin, parameters: [pathParam("id", "tenant id")], requestBody: json(keyBody), responses: responses(teiError, okJson("the key"), [401, 403, 404, 422]) },
      },
      "/admin/tenants/{id}/limits": {
        get: {
          summary: "The tenant's quota limits (its own, the defaults, in force; null: default / no limit) and today's usage",
          security: admin,
          parameters: [pathParam("id", "tenant id")],
          responses: responses(teiError, okJson("limits"), [401, 403, 404]),
        },
        put: {
          summary: "Set the tenant's requests per second and tokens per UTC day (replaces both; absent or null: the default)",
          security: admin,
          parameters: [pathParam("id", "tenant id")],
          requestBody: json(limitsBody),
          responses: responses(teiError, okJson("limits"), [400, 401, 403, 404, 415, 422]),
        },
      },
      "/admin/presets/{name}/{file}": {
        put: {
          summary:
            "Install one preset file into R2 (streamed; Content-Length required; x-sha256 verified by R2). Send record.json last: it is checked (files, sizes, sha256s; config builds a backbone; tokenizer, edge manifest and edgebone.json load) and commits the preset (422 naming the problem otherwise); any other file's PUT hides the preset until then.",
          security: admin,
          parameters: [pathParam("name", "preset name"), pathParam("file", "file path within the preset"), { name: "x-sha256", in: "header", required: false, schema: { type: "string" } }],
          requestBody: { required: true, content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
          responses: { ...responses(teiError, okJson("stored"), [400, 401, 403, 411, 413, 422]), "201": okJson("stored") },
        },
      },
      "/admin/keys/{id}": { delete: { summary: "Revoke an API key", security: admin, parameters: [pathParam("id", "key id")], responses: responses(teiError, okJson("revoked"), [401, 403, 404]) } },
      "/v1/models/{preset}/forward": {
        post: {
          summary: "sequence_output for token ids (JSON, or float32 bytes with x-shape when Accept: application/octet-stream)",
          security: bearer,
          parameters: [pathParam("preset", "preset name"), { name: "adapter", in: "query", required: false, schema: { type: "string" } }],
          requestBody: json(forwardBody),
          responses: responses(openAiError, { description: "sequence_output", content: { "application/json": { schema: {} }, "application/octet-stream": { schema: { type: "string", format: "binary" } } } }, V1_ERRORS),
        },
      },
      "/v1/models": { get: { summary: "Installed presets and the tenant's adapters (preset:adapter), OpenAI's model list", security: bearer, responses: responses(openAiError, okJson("list of models"), [401, 403]) } },
      "/v1/models/{id}": {
        get: { summary: "One model: a preset or preset:adapter", security: bearer, parameters: [pathParam("id", "preset or preset:adapter")], responses: responses(openAiError, okJson("model"), [400, 401, 403, 404]) },
      },
      "/v1/embeddings": { post: { summary: "OpenAI-compatible embeddings (model: preset or preset:adapter)", security: bearer, requestBody: json(embeddingsBody), responses: responses(openAiError, okJson("list of embeddings"), V1_ERRORS) } },
      "/v1/adapters": { get: { summary: "The tenant's adapters", security: bearer, responses: responses(openAiError, okJson("list"), [401, 403]) } },
      "/v1/adapters/{name}": {
        put: {
          summary: "Upload an adapter (.lora.safetensors body, or multipart PEFT adapter_config.json + adapter_model.safetensors); ?base=<preset>",
          security: bearer,
          parameters: [pathParam("name", "adapter name"), { name: "base", in: "query", required: true, schema: { type: "string" } }],
          requestBody: {
            required: true,
            content: {
              "application/octet-stream": { schema: { type: "string", format: "binary" } },
              "multipart/form-data": { schema: { type: "object", properties: { "adapter_config.json": { type: "string", format: "binary" }, "adapter_model.safetensors": { type: "string", format: "binary" } } } },
            },
          },
          responses: { ...responses(openAiError, okJson("replaced"), [400, 401, 403, 404, 413, 415, 422]), "201": okJson("created") },
        },
        get: { summary: "One adapter", security: bearer, parameters: [pathParam("name", "adapter name")], responses: responses(openAiError, okJson("adapter"), [401, 403, 404]) },
        delete: { summary: "Delete an adapter", security: bearer, parameters: [pathParam("name", "adapter name")], responses: responses(openAiError, okJson("deleted"), [401, 403, 404]) },
      },
      "/embed": { post: { summary: "TEI embed", security: bearer, requestBody: json(teiEmbedBody), responses: responses(teiError, okJson("vectors"), TEI_ERRORS) } },
      "/embed_all": { post: { summary: "TEI embed_all (per-token vectors)", security: bearer, requestBody: json(teiEmbedAllBody), responses: responses(teiError, okJson("vectors"), TEI_ERRORS) } },
      "/tokenize": { post: { summary: "TEI tokenize", security: bearer, requestBody: json(teiTokenizeBody), responses: responses(teiError, okJson("tokens"), TEI_ERRORS) } },
      "/decode": { post: { summary: "TEI decode", security: bearer, requestBody: json(teiDecodeBody), responses: responses(teiError, okJson("text"), TEI_ERRORS) } },
    },
  };
  return cached;
}
