/**
 * Helpers of the worker tests (run in workerd): requests through the main worker's loopback
 * (`exports.default.fetch`) or, with an altered env (a wrapped binding, other vars), through its default
 * export called directly; D1/R2 inspection; tenants with keys; adapter bytes made by the library in workerd.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports, type TestEnv } from "cloudflare:workers";
import { readReply, type Json, type Reply } from "../helpers/reply.js";
import { expect } from "vitest";
import worker from "../../workers/index.js";
import { R2PresetStore } from "../../workers/r2-preset-store.js";
import { Backbone, initLora, loraSafetensorsFormat, type LoraAdapter } from "../../shared/index.js";

export const PRESET = "tiny-distilbert";
export const GEMMA = "tiny-gemma";
export const ADMIN = env.ADMIN_TOKEN!;

export type { Json, Reply } from "../helpers/reply.js";

export interface CallOptions {
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Call the worker's fetch handler with this env instead of the real bindings (fault injection, other vars). */
  env?: TestEnv;
}

export async function call(method: string, path: string, { key, body, headers = {}, env: altered }: CallOptions = {}): Promise<Reply> {
  const h: Record<string, string> = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  let payload: RequestInit["body"];
  if (body instanceof Uint8Array || body instanceof FormData || typeof body === "string") payload = body as RequestInit["body"];
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["content-type"] = "application/json";
  }
  const init: RequestInit = { method, headers: h, body: payload };
  let res: Response;
  if (altered) {
    const ctx = createExecutionContext();
    res = await worker.fetch(new Request(`http://edge${path}`, init), altered as never, ctx as never);
    await waitOnExecutionContext(ctx);
  } else {
    res = await exports.default.fetch(`http://edge${path}`, init);
  }
  return readReply(res);
}

/** Forwards every property of `target` (a binding), bound, except those in `overrides`: fault injection, altered views. */
export function wrap<T extends object>(target: T, overrides: Record<string, unknown>): T {
  return new Proxy(target, {
    get(t, p) {
      if (typeof p === "string" && p in overrides) return overrides[p];
      const v = Reflect.get(t, p);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

export interface Tenant {
  tenantId: string;
  key: string;
  keyId: string;
}

export async function tenantWithKey(name: string): Promise<Tenant> {
  const t = await call("POST", "/admin/tenants", { key: ADMIN, body: { name } });
  expect(t.status).toBe(201);
  const k = await call("POST", `/admin/tenants/${t.json.id}/keys`, { key: ADMIN, body: { name: "default" } });
  expect(k.status).toBe(201);
  return { tenantId: t.json.id, key: k.json.key, keyId: k.json.id };
}

const backbones = new Map<string, Promise<Backbone>>();
/** A preset's backbone as the worker sees it: its config.json in R2 (no weights). */
export function backboneOf(preset = PRESET): Promise<Backbone> {
  if (!backbones.has(preset)) backbones.set(preset, Backbone.fromPreset(preset, { store: new R2PresetStore(env.BUCKET), loadWeights: false }));
  return backbones.get(preset)!;
}

export async function adapterBytes(seed: number, rank = 2, preset = PRESET): Promise<Uint8Array> {
  const backbone = await backboneOf(preset);
  return loraSafetensorsFormat.encode(initLora(backbone.loraTargets(), rank, seed, true), backbone);
}

export async function encodeAdapter(adapter: LoraAdapter, preset = PRESET): Promise<Uint8Array> {
  return loraSafetensorsFormat.encode(adapter, await backboneOf(preset));
}

export function putAdapter(key: string, name: string, bytes: Uint8Array | FormData, base = PRESET): Promise<Reply> {
  return call("PUT", `/v1/adapters/${name}?base=${base}`, { key, body: bytes });
}

export async function d1Rows(sql: string, ...params: unknown[]): Promise<Json[]> {
  return (await env.DB.prepare(sql).bind(...params).all<Json>()).results ?? [];
}

export async function r2Keys(prefix: string): Promise<string[]> {
  return (await env.BUCKET.list({ prefix })).objects.map((o: { key: string }) => o.key).sort();
}

export async function r2Get(key: string): Promise<Uint8Array | null> {
  const object = await env.BUCKET.get(key);
  return object ? new Uint8Array(await object.arrayBuffer()) : null;
}

export const names = (reply: Reply): string[] => reply.json.data.map((x: Json) => x.name).sort();
