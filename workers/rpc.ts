/**
 * Workers RPC: another Worker calls Edgebone through a service binding
 * (`services = [{ binding = "EDGEBONE", service = "edgebone", entrypoint = "EdgeboneRpc" }]`):
 *
 *   await env.EDGEBONE.embed(apiKey, { model: "preset[:adapter]", input: ["a text"] })   // OpenAI response object
 *   await env.EDGEBONE.forward(apiKey, "preset", { token_ids, padding_mask, adapter })  // { shape, data: Float32Array }
 *   await env.EDGEBONE.tokenize(apiKey, "preset", ["a text"], { addSpecialTokens })     // TEI /tokenize rows
 *
 * Each method runs the same route as HTTP (same auth, tenant scoping, validation and usage accounting): the
 * tenant is the API key's. Errors reject with an `Error` whose message is `<status> <code>: <message>`.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Hono } from "hono";
import type { AppEnv } from "./context.js";
import type { Env } from "./env.js";

export interface RpcForwardResult {
  shape: number[];
  data: Float32Array;
}

async function failure(response: Response): Promise<Error> {
  let message = `${response.status}`;
  try {
    const body = (await response.json()) as { error: string | { message: string; code: string }; error_type?: string };
    message = typeof body.error === "string" ? `${response.status} ${body.error_type}: ${body.error}` : `${response.status} ${body.error.code}: ${body.error.message}`;
  } catch {
    // not JSON: the status alone
  }
  return new Error(message);
}

export function rpcEntrypoint(app: Hono<AppEnv>) {
  return class EdgeboneRpc extends WorkerEntrypoint<Env> {
    private async call(apiKey: string, path: string, body: unknown, accept = "application/json"): Promise<Response> {
      const request = new Request(`http://edgebone.rpc${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", accept },
        body: JSON.stringify(body),
      });
      const response = await app.fetch(request, this.env, this.ctx as never);
      if (!response.ok) throw await failure(response);
      return response;
    }

    async embed(apiKey: string, request: { model: string; input: unknown; encoding_format?: "float" | "base64"; dimensions?: number; truncate?: boolean }): Promise<unknown> {
      return (await this.call(apiKey, "/v1/embeddings", request)).json();
    }

    async forward(apiKey: string, preset: string, request: { token_ids: number[][]; padding_mask?: number[][]; adapter?: string }): Promise<RpcForwardResult> {
      const response = await this.call(apiKey, `/v1/models/${encodeURIComponent(preset)}/forward`, request, "application/octet-stream");
      const shape = (response.headers.get("x-shape") ?? "").split(",").map(Number);
      return { shape, data: new Float32Array(await response.arrayBuffer()) };
    }

    async tokenize(apiKey: string, preset: string, inputs: string | string[], options: { addSpecialTokens?: boolean } = {}): Promise<unknown> {
      return (await this.call(apiKey, "/tokenize", { inputs, model: preset, add_special_tokens: options.addSpecialTokens ?? true })).json();
    }
  };
}
