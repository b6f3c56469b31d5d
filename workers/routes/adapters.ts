/**
 * A tenant's LoRA adapters (mounted under /v1; the API key is checked by the app): upload (`.lora.safetensors`
 * bytes, or PEFT files as multipart/form-data) against a base preset, list, get, delete. The upload protocol is
 * workers/adapters.ts's.
 */
import { Hono } from "hono";
import { deleteAdapter, findReadyAdapter, isAdapterName, listReadyAdapters, parseAdapter, publicAdapter, storeAdapter } from "../adapters.js";
import type { AppEnv } from "../context.js";
import { numberVar } from "../env.js";
import { badRequest, notFound, unprocessable } from "../errors.js";
import { formBody, readBody, tooLarge } from "../http.js";
import type { AppHooks } from "../services.js";

const DEFAULT_ADAPTER_MAX_BYTES = 64 * 1024 * 1024;

export function adapterRoutes(hooks: AppHooks = {}): Hono<AppEnv> {
  const adapters = new Hono<AppEnv>();

  adapters.put("/adapters/:name", async (c) => {
    const name = c.req.param("name");
    if (!isAdapterName(name)) throw unprocessable(`invalid adapter name "${name}": 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit`, "invalid_adapter_name", "name");
    const base = c.req.query("base");
    if (!base) throw badRequest("query parameter base=<preset> is required: the preset the adapter was trained on", "missing_base", "base");
    const max = numberVar(c.env.ADAPTER_MAX_BYTES, DEFAULT_ADAPTER_MAX_BYTES);
    const backbone = await c.var.services.config(base);
    let input: Parameters<typeof parseAdapter>[0];
    if ((c.req.header("content-type") ?? "").startsWith("multipart/form-data")) {
      const form = await formBody(c, max);
      const file = async (field: string): Promise<Uint8Array> => {
        const value = form.get(field);
        if (value === null || typeof value === "string") throw unprocessable(`PEFT upload needs a file field "${field}"`, "invalid_adapter", field);
        return new Uint8Array(await value.arrayBuffer());
      };
      input = { kind: "peft", config: await file("adapter_config.json"), weights: await file("adapter_model.safetensors") };
    } else {
      input = { kind: "bytes", bytes: await readBody(c, max) };
      if (!input.bytes.byteLength) throw badRequest("empty body: send the .lora.safetensors bytes, or PEFT files as multipart/form-data", "empty_body");
    }
    const parsed = await parseAdapter(input, backbone, `adapter "${name}"`);
    // PEFT files are stored converted, which can come out larger than the upload
    if (parsed.bytes.byteLength > max) throw tooLarge(`the adapter converts to ${parsed.bytes.byteLength} bytes, over the limit of ${max} bytes`);
    const { row, replaced } = await storeAdapter({
      db: c.var.db,
      bucket: c.env.BUCKET,
      tenantId: c.var.tenantId,
      name,
      basePreset: base,
      parsed,
      afterPut: hooks.afterAdapterPut,
    });
    return c.json(publicAdapter(row), replaced ? 200 : 201);
  });

  adapters.get("/adapters", async (c) => c.json({ object: "list", data: (await listReadyAdapters(c.var.db, c.var.tenantId)).map(publicAdapter) }));

  adapters.get("/adapters/:name", async (c) => {
    const row = await findReadyAdapter(c.var.db, c.var.tenantId, c.req.param("name"));
    if (!row) throw notFound(`adapter "${c.req.param("name")}" not found`, "adapter_not_found", "name");
    return c.json(publicAdapter(row));
  });

  adapters.delete("/adapters/:name", async (c) => {
    const name = c.req.param("name");
    if (!(await deleteAdapter(c.var.db, c.env.BUCKET, c.var.tenantId, name))) throw notFound(`adapter "${name}" not found`, "adapter_not_found", "name");
    return c.json({ object: "adapter", id: name, deleted: true });
  });

  return adapters;
}
