/**
 * Every input bounded and validated before work, in workerd (issue #10 item 2): the request limits /info reports
 * (inputs, characters per input and per request, tokens, /tokenize and /decode sizes), preset installs checked
 * before their record.json commits them (nothing visible before), adapter files checked at upload (header, offsets,
 * rank, finite values, factor pairs, the backbone they were made for). Each case names what used to be a 5xx.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { presetRecordKey, recordOf } from "../../shared/runner/layout.js";
import { ADMIN, PRESET, adapterBytes, call, putAdapter, r2Get, r2Keys, tenantWithKey, type Reply, type Tenant } from "./helpers.js";

let t: Tenant;
beforeAll(async () => {
  t = await tenantWithKey("validation");
});

const post = (path: string, body: unknown) => call("POST", path, { key: t.key, body });

describe("request limits", () => {
  it("/info reports them", async () => {
    const info = await call("GET", "/info");
    expect(info.json).toMatchObject({ max_client_batch_size: 32, max_batch_tokens: 16384, payload_limit: 2_000_000, max_input_chars: 128_000, max_request_chars: 256_000 });
  });

  it('["hi"] × 200000 is a 422 before any tokenization (was 500: Maximum call stack size exceeded)', async () => {
    for (const [path, body, param] of [
      ["/embed", { model: PRESET, inputs: Array(200_000).fill("hi") }, "inputs"],
      ["/tokenize", { model: PRESET, inputs: Array(200_000).fill("hi") }, "inputs"],
      ["/v1/embeddings", { model: PRESET, input: Array(200_000).fill("hi") }, "input"],
      ["/v1/embeddings", { model: PRESET, input: Array(200_000).fill([1]) }, "input"],
      ["/decode", { model: PRESET, ids: Array(200_000).fill([1]) }, "ids"],
    ] as const) {
      const res = await post(path, body);
      expect(res.status, path).toBe(422);
      const message = path.startsWith("/v1/") ? res.json.error.message : res.json.error;
      expect(message).toBe(`${param} has 200000 inputs, over the limit of 32 per request`);
    }
  });

  it("characters: 422 for one input over 128,000, 413 for a request over 256,000", async () => {
    const long = await post("/v1/embeddings", { model: PRESET, input: ["ok", "a".repeat(128_001)] });
    expect(long.status).toBe(422);
    expect(long.json.error).toEqual({ message: "input[1] has 128001 characters, over the limit of 128000 per input", type: "invalid_request_error", param: "input", code: "input_too_long" });
    const many = await post("/tokenize", { model: PRESET, inputs: Array(3).fill("a ".repeat(50_000)) });
    expect(many.status).toBe(413);
    expect(many.json).toEqual({ error: "inputs has 300000 characters in all, over the limit of 256000 per request", error_type: "Validation" });
  });

  it("/tokenize answers at most 16,384 tokens (a 1 MB text gave a 12 MB response), /decode reads at most 16,384 ids", async () => {
    const ok = await post("/tokenize", { model: PRESET, inputs: "hello ".repeat(1000) });
    expect(ok.status).toBe(200);
    expect(ok.json[0]).toHaveLength(1002);
    const big = await post("/tokenize", { model: PRESET, inputs: "a ".repeat(20_000) });
    expect(big.status).toBe(413);
    expect(big.json).toEqual({ error: "the inputs' 20002 tokens exceed the limit of 16384 per request", error_type: "Validation" });
    const decode = await post("/decode", { model: PRESET, ids: Array(20_000).fill(5) });
    expect(decode.status).toBe(413);
    expect(decode.json.error).toBe("20000 token ids exceed the limit of 16384 per request");
  });

  it("token id rows: the padded batch is counted before it is built", async () => {
    // one long row pads every short one: 32 × 600 tokens
    const ids = [Array(600).fill(5), ...Array(31).fill([5])];
    const res = await post("/v1/embeddings", { model: PRESET, input: ids });
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({ code: "too_many_tokens", param: "input", message: "32×600 tokens exceed the limit of 16384 per request" });
  });
});

const enc = new TextEncoder();
const sha256 = async (bytes: Uint8Array) => (await recordOf(bytes)).sha256;
const putFile = async (name: string, file: string, data: Uint8Array | string, headers: Record<string, string> = {}): Promise<Reply> => {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return call("PUT", `/admin/presets/${name}/${file}`, { key: ADMIN, body: bytes, headers: { "x-sha256": await sha256(bytes), ...headers } });
};
/** Uploads `files` and then their record; returns the record's reply. */
async function install(name: string, files: Record<string, Uint8Array | string>): Promise<Reply> {
  const record: { files: Record<string, { size: number; sha256: string }> } = { files: {} };
  for (const [file, data] of Object.entries(files)) {
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    expect((await putFile(name, file, bytes)).status, file).toBe(201);
    if (!file.includes("/")) record.files[file] = await recordOf(bytes);
  }
  return putFile(name, "record.json", JSON.stringify(record));
}
/** The test preset's files (flat ones), as stored. */
async function presetFiles(): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const key of await r2Keys(`presets/${PRESET}/`)) {
    const file = key.slice(`presets/${PRESET}/`.length);
    if (file !== "record.json") out[file] = (await r2Get(key))!;
  }
  return out;
}

describe("preset installs are checked before record.json commits them", () => {
  it('PUT config.json {"hello":1} stores a file but no preset; its record is a 422 naming the problem (was 201, then 500 for every request)', async () => {
    const res = await install("x", { "config.json": '{"hello":1}' });
    expect(res.status).toBe(422);
    expect(res.json.error_type).toBe("Validation");
    expect(res.json.error).toMatch(/^preset "x" cannot be committed: config.json does not build a backbone: .*neither a KerasHub config .* nor a Hugging Face config/);
    expect(await r2Get(presetRecordKey("x"))).toBeNull();
    const embed = await post("/v1/embeddings", { model: "x", input: "hi" });
    expect(embed.status).toBe(404);
    expect(embed.json.error.code).toBe("preset_not_found");
    expect((await call("GET", "/v1/models/x", { key: t.key })).status).toBe(404);
    expect((await call("GET", "/v1/models", { key: t.key })).json.data.map((m: { id: string }) => m.id)).not.toContain("x");
  });

  it("a good install commits; a re-install hides the preset from its first file until its record commits", async () => {
    const files = await presetFiles();
    expect((await install("good", files)).status).toBe(201);
    const body = { model: "good", input: "hello" };
    expect((await post("/v1/embeddings", body)).status).toBe(200);
    expect((await putFile("good", "config.json", files["config.json"])).status).toBe(201);
    expect((await post("/v1/embeddings", body)).status).toBe(404);
    expect((await install("good", files)).status).toBe(201);
    expect((await post("/v1/embeddings", body)).status).toBe(200);
  });

  it("422 for a tokenizer that does not load, an edge manifest that does not parse, bad settings, a record that lies", async () => {
    const files = await presetFiles();
    const cases: [string, Record<string, Uint8Array | string>, RegExp][] = [
      ["bad-tokenizer", { ...files, "tokenizer.hf.json": '{"model": 3}' }, /the tokenizer does not load: /],
      ["bad-edge", { ...files, "edge/manifest.json": '{"format": "edgebone-edge"}' }, /edge\/manifest.json does not parse: .*edge\/manifest.json: version: /],
      ["bad-settings", { ...files, "edgebone.json": '{"pooling": "sum"}' }, /edgebone.json does not parse: .*pooling/],
    ];
    for (const [name, set, message] of cases) {
      const res = await install(name, set);
      expect(res.status, name).toBe(422);
      expect(res.json.error, name).toMatch(message);
      expect(await r2Get(presetRecordKey(name))).toBeNull();
    }
    const config = files["config.json"];
    const record = (entry: object) => JSON.stringify({ files: { "config.json": { size: config.byteLength, sha256: "0".repeat(64), ...entry } } });
    expect((await putFile("liar", "config.json", config)).status).toBe(201);
    for (const [body, message] of [
      [record({}), /config.json has sha256 [0-9a-f]{64}, record.json says 0{64}/],
      [record({ size: 1 }), /config.json has \d+ bytes, record.json says 1$/],
      [JSON.stringify({ files: { "config.json": await recordOf(config), "model.safetensors": { size: 1, sha256: "0".repeat(64) } } }), /record.json lists model.safetensors, which was not uploaded/],
      [JSON.stringify({ files: {} }), /record.json: files: must list config.json/],
      ["[", /record.json is not valid JSON/],
    ] as const) {
      const res = await putFile("liar", "record.json", body);
      expect(res.status, body).toBe(422);
      expect(res.json.error).toMatch(message);
    }
  });

  it("file names: 422 for a 1,100-character name (was 500 from R2), 413 from Content-Length before reading", async () => {
    const long = await putFile("x", "a".repeat(1100), "x");
    expect(long.status).toBe(422);
    expect(long.json).toEqual({ error: "the file name makes an object key of 1110 bytes, over R2's 1024", error_type: "Validation" });
    const big = await call("PUT", "/admin/presets/x/tokenizer.hf.json", { key: ADMIN, body: "{}", headers: { "content-length": String(65 * 1024 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.json.error).toBe(`tokenizer.hf.json of ${65 * 1024 * 1024} bytes exceeds the limit of 67108864 bytes for a JSON file`);
  });
});

/** A .lora.safetensors file with its header (and optionally its data) rewritten. */
async function rewritten(edit: (header: Record<string, any>) => void, data?: (values: Float32Array) => void): Promise<Uint8Array> {
  const bytes = await adapterBytes(7);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const body = bytes.slice(8 + n);
  edit(header);
  data?.(new Float32Array(body.buffer));
  const json = enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + body.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(body, 8 + json.byteLength);
  return out;
}
const tensorNames = (h: Record<string, any>) => Object.keys(h).filter((k) => k !== "__metadata__");

describe("adapter files are checked at upload", () => {
  it("each problem is a 422 invalid_adapter naming it, and nothing is stored", async () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ["rank", await rewritten((h) => (h.__metadata__.rank = "1e12")), /rank is 1000000000000 but its largest factor has rank 2/],
      ["rank-text", await rewritten((h) => (h.__metadata__.rank = "two")), /metadata rank "two" is not a positive integer/],
      ["nan", await rewritten(() => {}, (v) => v.fill(NaN)), /factor A has a non-finite value \(NaN\) at index 0/],
      ["inf", await rewritten(() => {}, (v) => (v[v.length - 1] = Infinity)), /factor B has a non-finite value \(Infinity\)/],
      ["scale", await rewritten((h) => (h.__metadata__.scale = "1e30")), /LoRA scale must be finite and at most 1024 in magnitude/],
      ["no-b", await rewritten((h) => delete h[tensorNames(h).find((k) => k.endsWith("lora_kernel_b"))!]), /has transformer_layer_\d\/\w+\/\w+\/lora_kernel_a but not .*lora_kernel_b/],
      ["negative", await rewritten((h) => (h[tensorNames(h)[0]].data_offsets = [-64, h[tensorNames(h)[0]].data_offsets[1] - h[tensorNames(h)[0]].data_offsets[0] - 64])), /data_offsets \[-64,.*not \[begin, end\] with 0 <= begin <= end/],
      ["overlap", await rewritten((h) => {
        const [a0, a1] = tensorNames(h).filter((k) => k.endsWith("lora_kernel_a")); // same shape, different bytes
        h[a1].data_offsets = h[a0].data_offsets.slice();
      }), /lora_kernel_a" overlaps tensor ".*lora_kernel_a" \(data_offsets must not overlap\)/],
      ["beyond", await rewritten((h) => (h[tensorNames(h)[0]].data_offsets = [1e9, 1e9 + h[tensorNames(h)[0]].data_offsets[1] - h[tensorNames(h)[0]].data_offsets[0]])), /byte range \[1000000000, .* does not fit/],
      ["shape", await rewritten((h) => (h[tensorNames(h)[0]].shape = [-1, 2])), /has shape \[-1,2\], not a list of non-negative integers/],
      ["backbone", await rewritten((h) => (h.__metadata__.backbone = "GemmaBackbone")), /was made for a GemmaBackbone, not for this preset's DistilBertBackbone/],
    ];
    for (const [name, bytes, message] of cases) {
      const res = await putAdapter(t.key, name, bytes);
      expect(res.status, name).toBe(422);
      expect(res.json.error.code, name).toBe("invalid_adapter");
      expect(res.json.error.message, name).toMatch(message);
    }
    expect(await r2Keys(`adapters/${t.tenantId}/`)).toEqual([]);
    expect((await putAdapter(t.key, "fine", await rewritten(() => {}))).status).toBe(201);
  });
});
