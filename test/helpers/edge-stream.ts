/**
 * The production edge (Miniflare, real D1/R2) seeded for runner tests — the tiny Gemma 2 preset in its R2, a
 * tenant with uploaded adapters — and a stream of public forward requests checked against the library, shared by
 * the tests that start, kill and drain real runner processes behind it.
 */
import { expect } from "vitest";
import { nodeRuntime, type BackboneSession, type LoraAdapter } from "../../shared/node/index.js";
import { collectPresetFiles, publishPreset, type ObjectStore } from "../../shared/runner/index.js";
import { startEdge, tenantWithKey, type EdgePlatform } from "./edge-platform.js";
import { PRESET, makeFixture, maxDiff, reference, tokens, type Fixture } from "./runner-fixtures.js";

export const ADAPTERS = ["a0", "a1", "a2", "a3", "a4", "a5"];

export interface StreamResult {
  ok: number;
  failures: string[];
  /** Requests served per runner id. */
  byRunner: Map<string, number>;
  /** Requests the edge had to retry on another runner. */
  retried: number;
  /** Largest difference from the library's own forward pass. */
  worst: number;
}

export interface SeededEdge {
  edge: EdgePlatform;
  fx: Fixture;
  tenantId: string;
  /** The tenant's API key. */
  apiKey: string;
  /** Request i of a stream: 1–2 rows of 3–8 tokens, one of the tenant's adapters or (every 7th) the base model. */
  streamRequest(i: number): { tokenIds: number[][]; adapter: string | null };
  /** One public forward call (float32 binary response), served by a runner. */
  forward(i: number): Promise<{ runner: string; attempts: number; data: Float32Array }>;
  /** Requests `from`…`from + count - 1` from `clients` concurrent clients; `onProgress(done)` after each. */
  stream(from: number, count: number, clients: number, onProgress?: (done: number) => void): Promise<StreamResult>;
}

export async function seededEdge(bindings: Record<string, string>, adminToken: string): Promise<SeededEdge> {
  const fx = await makeFixture(ADAPTERS.length);
  const session: BackboneSession = await fx.backbone.createSession(nodeRuntime({ threads: 1 }), { lora: true });
  const edge = await startEdge({ ...bindings, ADMIN_TOKEN: adminToken });
  // The preset in the edge's R2 (the layout `npm run preset:install` writes), adapters uploaded by the tenant.
  const bucket: ObjectStore = { description: "edge R2", get: async () => null, put: async (key, bytes) => void (await edge.bucket.put(key, bytes)) };
  const files = collectPresetFiles();
  await fx.backbone.saveToPreset(files);
  await publishPreset(bucket, PRESET, files.files);
  const { key: apiKey, tenantId } = await tenantWithKey(edge.url, adminToken, "acme");
  for (const name of ADAPTERS) {
    const res = await fetch(new URL(`/v1/adapters/${name}?base=${PRESET}`, edge.url), { method: "PUT", headers: { authorization: `Bearer ${apiKey}` }, body: fx.adapterBytes.get(name)! });
    expect(res.status, await res.clone().text()).toBe(201);
  }

  const streamRequest = (i: number) => ({ tokenIds: tokens(1 + (i % 2), 3 + (i % 6), i), adapter: i % 7 === 6 ? null : ADAPTERS[(i * 5) % ADAPTERS.length] });
  const refs = new Map<number, Float32Array>();
  const expected = async (i: number) => {
    if (!refs.has(i)) {
      const { tokenIds, adapter } = streamRequest(i);
      refs.set(i, await reference(session, tokenIds, tokenIds.map((): LoraAdapter | null => (adapter ? fx.adapters.get(adapter)! : null))));
    }
    return refs.get(i)!;
  };
  const forward = async (i: number) => {
    const { tokenIds, adapter } = streamRequest(i);
    const res = await fetch(new URL(`/v1/models/${PRESET}/forward${adapter ? `?adapter=${adapter}` : ""}`, edge.url), {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", accept: "application/octet-stream" },
      body: JSON.stringify({ token_ids: tokenIds }),
    });
    if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
    expect(res.headers.get("x-edgebone-backend")).toBe("runner");
    return { runner: res.headers.get("x-edgebone-runner")!, attempts: Number(res.headers.get("x-edgebone-attempts")), data: new Float32Array(await res.arrayBuffer()) };
  };
  const stream = async (from: number, count: number, clients: number, onProgress: (done: number) => void = () => {}) => {
    const result: StreamResult = { ok: 0, failures: [], byRunner: new Map(), retried: 0, worst: 0 };
    let next = from;
    let done = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < from + count) {
          const i = next++;
          try {
            const out = await forward(i);
            result.worst = Math.max(result.worst, maxDiff(out.data, await expected(i)));
            result.byRunner.set(out.runner, (result.byRunner.get(out.runner) ?? 0) + 1);
            result.ok++;
            if (out.attempts > 1) result.retried++;
          } catch (e) {
            result.failures.push(`request ${i}: ${(e as Error).message}`);
          }
          onProgress(++done);
          await new Promise((r) => setTimeout(r, 10)); // a steady stream, so the edge's health checks run during it
        }
      }),
    );
    return result;
  };
  return { edge, fx, tenantId, apiKey, streamRequest, forward, stream };
}
