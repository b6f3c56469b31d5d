/**
 * Tenant isolation of adapters, the full matrix: in both directions (A vs B, B vs A), a tenant can never list
 * (/v1/adapters, /v1/models), read, use (forward by query or body, /v1/embeddings, TEI /embed and /embed_all, Workers RPC) or delete the
 * other's adapter, and a name both tenants use always resolves to the caller's own.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { PRESET, adapterBytes, call, d1Rows, names, putAdapter, r2Keys, tenantWithKey, type Json, type Tenant } from "./helpers.js";

const tenants: Record<"A" | "B", Tenant & { sha: Record<string, string> }> = {} as never;
const ids = [[2, 19, 20, 3]];

beforeAll(async () => {
  let seed = 100;
  for (const who of ["A", "B"] as const) {
    tenants[who] = { ...(await tenantWithKey(`tenant-${who}`)), sha: {} };
    for (const name of [`only-${who}`, "shared"]) {
      const put = await putAdapter(tenants[who].key, name, await adapterBytes(seed++));
      expect(put.status).toBe(201);
      tenants[who].sha[name] = put.json.sha256;
    }
  }
  expect(tenants.A.sha.shared).not.toBe(tenants.B.sha.shared);
});

/** The other tenant's adapter is still there, untouched. */
async function intact(owner: Tenant & { sha: Record<string, string> }, name: string) {
  const got = await call("GET", `/v1/adapters/${name}`, { key: owner.key });
  expect(got.status).toBe(200);
  expect(got.json.sha256).toBe(owner.sha[name]);
  expect(await r2Keys(`adapters/${owner.tenantId}/${name}/`)).toHaveLength(1);
}

/** The message an RPC call rejects with ("" if it resolves). */
async function rpcError(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
    return "";
  } catch (e) {
    return String((e as Error).message);
  }
}

function expectNotFoundOpenAi(res: { status: number; json: Json }) {
  expect(res.status, JSON.stringify(res.json)).toBe(404);
  expect(res.json.error).toMatchObject({ type: "invalid_request_error", code: "adapter_not_found" });
}

function expectNotFoundTei(res: { status: number; json: Json }) {
  expect(res.status, JSON.stringify(res.json)).toBe(404);
  expect(res.json).toMatchObject({ error_type: "NotFound" });
  expect(res.json.error).toMatch(/adapter "only-[AB]" not found/);
}

describe.each([
  ["A", "B"],
  ["B", "A"],
] as const)("tenant %s against tenant %s's adapters", (me, them) => {
  const self = () => tenants[me];
  const other = () => tenants[them];
  const foreign = `only-${them}`;

  it("list: only its own adapters", async () => {
    const list = await call("GET", "/v1/adapters", { key: self().key });
    expect(list.status).toBe(200);
    expect(names(list)).toEqual([`only-${me}`, "shared"].sort());
    const shared = list.json.data.find((x: Json) => x.name === "shared");
    expect(shared.sha256).toBe(self().sha.shared);
  });

  it("model list (/v1/models): only its own adapters; 404 model_not_found for the other's", async () => {
    const models = await call("GET", "/v1/models", { key: self().key });
    const adapters = models.json.data.filter((m: Json) => m.id.includes(":"));
    expect(adapters.map((m: Json) => m.id).sort()).toEqual([`${PRESET}:only-${me}`, `${PRESET}:shared`]);
    expect(adapters.every((m: Json) => m.owned_by === self().tenantId)).toBe(true);
    const res = await call("GET", `/v1/models/${PRESET}:${foreign}`, { key: self().key });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("model_not_found");
  });

  it("read: 404 for the other's, its own version of a shared name", async () => {
    expectNotFoundOpenAi(await call("GET", `/v1/adapters/${foreign}`, { key: self().key }));
    expect((await call("GET", "/v1/adapters/shared", { key: self().key })).json.sha256).toBe(self().sha.shared);
  });

  it("use in forward (query and body): 404, and a shared name runs its own adapter", async () => {
    expectNotFoundOpenAi(await call("POST", `/v1/models/${PRESET}/forward?adapter=${foreign}`, { key: self().key, body: { token_ids: ids } }));
    expectNotFoundOpenAi(await call("POST", `/v1/models/${PRESET}/forward`, { key: self().key, body: { token_ids: ids, adapter: foreign } }));
    const mine = await call("POST", `/v1/models/${PRESET}/forward?adapter=shared`, { key: self().key, body: { token_ids: ids } });
    const theirs = await call("POST", `/v1/models/${PRESET}/forward?adapter=shared`, { key: other().key, body: { token_ids: ids } });
    const own = await call("POST", `/v1/models/${PRESET}/forward?adapter=only-${me}`, { key: self().key, body: { token_ids: ids } });
    expect([mine.status, theirs.status, own.status]).toEqual([200, 200, 200]);
    expect(mine.json.sequence_output.data).not.toEqual(theirs.json.sequence_output.data);
    expect(mine.json.sequence_output.data).not.toEqual(own.json.sequence_output.data);
  });

  it("use in /v1/embeddings (model preset:adapter): 404", async () => {
    expectNotFoundOpenAi(await call("POST", "/v1/embeddings", { key: self().key, body: { model: `${PRESET}:${foreign}`, input: ids } }));
    const ownEmb = await call("POST", "/v1/embeddings", { key: self().key, body: { model: `${PRESET}:only-${me}`, input: ids } });
    expect(ownEmb.status).toBe(200);
    expect(ownEmb.json.model).toBe(`${PRESET}:only-${me}`);
  });

  it("use in TEI /embed and /embed_all: 404 in TEI shape", async () => {
    expectNotFoundTei(await call("POST", "/embed", { key: self().key, body: { model: `${PRESET}:${foreign}`, inputs: "hello world" } }));
    expectNotFoundTei(await call("POST", "/embed_all", { key: self().key, body: { model: `${PRESET}:${foreign}`, inputs: "hello world" } }));
    expect((await call("POST", "/embed", { key: self().key, body: { model: `${PRESET}:only-${me}`, inputs: "hello world" } })).status).toBe(200);
  });

  it("use over Workers RPC (EdgeboneRpc): 404 adapter_not_found", async () => {
    expect(await rpcError(() => exports.EdgeboneRpc.embed(self().key, { model: `${PRESET}:${foreign}`, input: "hello" }))).toMatch(/^404 adapter_not_found/);
    expect(await rpcError(() => exports.EdgeboneRpc.forward(self().key, PRESET, { token_ids: ids, adapter: foreign }))).toMatch(/^404 adapter_not_found/);
  });

  it("delete: 404, the other's adapter (D1 row and R2 object) untouched", async () => {
    expectNotFoundOpenAi(await call("DELETE", `/v1/adapters/${foreign}`, { key: self().key }));
    await intact(other(), foreign);
    expect(await d1Rows("select tenant_id from adapters where name = ? and state = 'ready'", foreign)).toEqual([{ tenant_id: other().tenantId }]);
  });
});

describe("shared adapter names", () => {
  it("replacing or deleting a name one tenant uses leaves the other's", async () => {
    const replaced = await putAdapter(tenants.B.key, "shared", await adapterBytes(200));
    expect(replaced.status).toBe(200);
    await intact(tenants.A, "shared");
    expect((await call("DELETE", "/v1/adapters/shared", { key: tenants.B.key })).status).toBe(200);
    await intact(tenants.A, "shared");
    expect((await call("GET", "/v1/adapters/shared", { key: tenants.B.key })).status).toBe(404);
    expect(names(await call("GET", "/v1/adapters", { key: tenants.B.key }))).toEqual(["only-B"]);
    expect(names(await call("GET", "/v1/adapters", { key: tenants.A.key }))).toEqual(["only-A", "shared"]);
  });
});
