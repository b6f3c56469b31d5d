/** Adapter upload, list, get, replace and delete on the real D1 + R2, and every way an upload is rejected. */
import { beforeAll, describe, expect, it } from "vitest";
import { writeSafetensors, type LoraAdapter } from "../../shared/index.js";
import { PRESET, adapterBytes, backboneOf, call, d1Rows, encodeAdapter, names, putAdapter, r2Keys, tenantWithKey, type Tenant } from "./helpers.js";

let a: Tenant;
beforeAll(async () => {
  a = await tenantWithKey("tenant-a");
});

function float32(...shape: number[]) {
  const n = shape.reduce((x, y) => x * y, 1);
  return { dtype: "float32" as const, shape, data: new Float32Array(n).fill(0.01) };
}

describe("adapters", () => {
  it("uploads, lists, gets, replaces and deletes a tenant's adapter (D1 row and R2 object in step)", async () => {
    const bytes = await adapterBytes(1);
    const put = await putAdapter(a.key, "style", bytes);
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ object: "adapter", name: "style", base_preset: PRESET, format: "lora.safetensors", layout: "per_head", rank: 2, size: bytes.byteLength });
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(put.json.sha256).toBe(digest);
    expect((await call("GET", "/v1/adapters/style", { key: a.key })).json).toEqual(put.json);
    const list = await call("GET", "/v1/adapters", { key: a.key });
    expect(list.json.object).toBe("list");
    expect(names(list)).toEqual(["style"]);
    const keys = await r2Keys(`adapters/${a.tenantId}/style/`);
    expect(keys).toHaveLength(1);
    expect(await d1Rows("select state, r2_key from adapters where tenant_id = ? and name = 'style'", a.tenantId)).toEqual([{ state: "ready", r2_key: keys[0] }]);

    // replacing keeps one version: the new bytes, the old object removed
    const again = await putAdapter(a.key, "style", await adapterBytes(2));
    expect(again.status).toBe(200);
    expect(again.json.sha256).not.toBe(put.json.sha256);
    expect((await call("GET", "/v1/adapters/style", { key: a.key })).json.sha256).toBe(again.json.sha256);
    const after = await r2Keys(`adapters/${a.tenantId}/style/`);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(keys[0]);

    const del = await call("DELETE", "/v1/adapters/style", { key: a.key });
    expect(del.status).toBe(200);
    expect(del.json).toEqual({ object: "adapter", id: "style", deleted: true });
    const gone = await call("GET", "/v1/adapters/style", { key: a.key });
    expect(gone.status).toBe(404);
    expect(gone.json.error).toMatchObject({ type: "invalid_request_error", code: "adapter_not_found" });
    expect(await r2Keys(`adapters/${a.tenantId}/style/`)).toEqual([]);
    expect(await d1Rows("select * from adapters where tenant_id = ? and name = 'style'", a.tenantId)).toEqual([]);
    expect((await call("DELETE", "/v1/adapters/style", { key: a.key })).status).toBe(404);
    expect((await call("GET", "/v1/adapters", { key: a.key })).json).toEqual({ object: "list", data: [] });
  });

  it("rejects bad uploads: 400 missing base / empty body, 404 unknown base, 413 too big, 415 .lora.h5, 422 invalid", async () => {
    const bytes = await adapterBytes(3);
    const noBase = await call("PUT", "/v1/adapters/x", { key: a.key, body: bytes });
    expect(noBase.status).toBe(400);
    expect(noBase.json.error).toMatchObject({ type: "invalid_request_error", code: "missing_base", param: "base" });
    const empty = await putAdapter(a.key, "x", new Uint8Array(0));
    expect(empty.status).toBe(400);
    expect(empty.json.error.code).toBe("empty_body");
    const noPreset = await putAdapter(a.key, "x", bytes, "no-such-preset");
    expect(noPreset.status).toBe(404);
    expect(noPreset.json.error.code).toBe("preset_not_found");
    const big = await putAdapter(a.key, "x", new Uint8Array(300 * 1024)); // ADAPTER_MAX_BYTES is 256 KiB in the tests
    expect(big.status).toBe(413);
    expect(big.json.error).toMatchObject({ type: "invalid_request_error", code: "payload_too_large" });
    const h5 = new Uint8Array(64);
    h5.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    const h5res = await putAdapter(a.key, "x", h5);
    expect(h5res.status).toBe(415);
    expect(h5res.json.error.type).toBe("invalid_request_error");
    expect(h5res.json.error.message).toContain("edgebone lora-convert");
    const garbage = await putAdapter(a.key, "x", new TextEncoder().encode("not safetensors"));
    expect(garbage.status).toBe(422);
    expect(garbage.json.error.type).toBe("invalid_request_error");
    // right format, wrong shapes for this base
    const backbone = await backboneOf();
    const t = backbone.loraTargets()[0];
    const wrong: LoraAdapter = { rank: 2, scale: 1, layout: "per_head", factors: new Map([[t.kernelPath, { a: float32(3, 2), b: float32(2, 5) }]]) };
    const wrongRes = await putAdapter(a.key, "x", await encodeAdapter(wrong));
    expect(wrongRes.status).toBe(422);
    expect(wrongRes.json.error.message).toMatch(/expected A/);
    const badName = await putAdapter(a.key, "bad name!", bytes);
    expect(badName.status).toBe(422);
    expect(badName.json.error).toMatchObject({ code: "invalid_adapter_name", param: "name" });
    // nothing was written by any rejected upload
    expect(await d1Rows("select * from adapters where tenant_id = ?", a.tenantId)).toEqual([]);
    expect(await r2Keys(`adapters/${a.tenantId}/`)).toEqual([]);
  });

  it("accepts PEFT files (multipart) into our form; 422 for a missing file or DoRA", async () => {
    const r = 2;
    const peft: [string, { dtype: "float32"; shape: number[]; data: Float32Array }][] = [];
    let seed = 1;
    const rand = (shape: number[]) => ({ dtype: "float32" as const, shape, data: Float32Array.from({ length: shape[0] * shape[1] }, () => Math.sin(seed++) * 0.05) });
    for (let i = 0; i < 2; i++) {
      for (const m of ["q_lin", "v_lin"]) {
        peft.push([`base_model.model.distilbert.transformer.layer.${i}.attention.${m}.lora_A.weight`, rand([r, 64])]);
        peft.push([`base_model.model.distilbert.transformer.layer.${i}.attention.${m}.lora_B.weight`, rand([64, r])]);
      }
    }
    const config = { peft_type: "LORA", r, lora_alpha: 4, target_modules: ["q_lin", "v_lin"], bias: "none" };
    const weights = writeSafetensors(peft);
    const form = (cfg: object | null, w: Uint8Array | null) => {
      const f = new FormData();
      if (cfg) f.append("adapter_config.json", new Blob([JSON.stringify(cfg)]), "adapter_config.json");
      if (w) f.append("adapter_model.safetensors", new Blob([w]), "adapter_model.safetensors");
      return f;
    };
    const put = await putAdapter(a.key, "peft", form(config, weights));
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    expect(put.json).toMatchObject({ format: "peft", layout: "flat", rank: r, base_preset: PRESET });
    const used = await call("POST", `/v1/models/${PRESET}/forward?adapter=peft`, { key: a.key, body: { token_ids: [[2, 19, 20, 3]] } });
    expect(used.status).toBe(200);
    const plain = await call("POST", `/v1/models/${PRESET}/forward`, { key: a.key, body: { token_ids: [[2, 19, 20, 3]] } });
    expect(used.json.sequence_output.data).not.toEqual(plain.json.sequence_output.data);

    const missing = await putAdapter(a.key, "peft2", form(config, null));
    expect(missing.status).toBe(422);
    expect(missing.json.error.param).toBe("adapter_model.safetensors");
    const dora = await putAdapter(a.key, "peft2", form({ ...config, use_dora: true }, weights));
    expect(dora.status).toBe(422);
    expect(dora.json.error.message).toMatch(/DoRA/);
    expect(names(await call("GET", "/v1/adapters", { key: a.key }))).toEqual(["peft"]);
  });
});
