/**
 * Real-size Gemma on the runner (issue #11): the `gemma2_2b_en` architecture (26 blocks, 2.61B parameters;
 * vocabulary 256,000 × hidden 2304) with seeded random bf16 weights written in the Hugging Face layout (two shards
 * and `model.safetensors.index.json`), published into a runner store as it is (`gpu-runner/publish.ts --as-is`),
 * and served by a runner process (`gpu-runner/main.ts`, CPU) that preloads it: the checkpoint is read tensor by
 * tensor into the ONNX external data file (lazy weights), so the runner's peak RSS is about one float32 copy.
 *
 * Reported: the runner's load time (its own log: disk-cache copy + sha256, graph, external data, session) and
 * peak RSS (VmHWM of its /proc status, with the anonymous / file-backed split sampled at that peak), forward time,
 * and the served output against the library's reference on the same batch: the in-memory path (weights loaded as
 * float32, one protobuf) run --slice blocks at a time, each slice fed the previous one's hidden states through its
 * embedding table (rows = h / sqrt(hidden), which the graph multiplies back), the last one ending in the final norm.
 *
 *   npm run bench:large [-- --layers 26 --slice 4 --threads 0 --dir /tmp --keep --no-hugepages]
 *
 * Needs ~16 GB free in --dir (5.2 GB checkpoint, its store and cache copies) plus ~10.4 GB in $TMPDIR (external
 * data, deleted once mapped), and RAM for the runner (~9 GB) then the reference (~5 GB). Everything it writes is
 * deleted at the end unless --keep.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GemmaBackbone, castTensor, nodeRuntime, tokenBatch, type LazyTensor, type Tensor } from "../../shared/node/index.js";
import { RunnerPool } from "../../shared/runner/index.js";
import { Random } from "../../shared/tensor/random.js";
import { writeHfShards, type ShardTensor } from "../helpers/hf-shards.js";

const { values } = parseArgs({
  options: {
    layers: { type: "string", default: "26" },
    slice: { type: "string", default: "4" },
    threads: { type: "string", default: "0" },
    dir: { type: "string", default: "/tmp" },
    keep: { type: "boolean", default: false },
    "no-hugepages": { type: "boolean", default: false },
  },
});
const ROOT = new URL("../..", import.meta.url).pathname;
const log = (msg: string) => console.error(`[bench:large] ${msg}`);
const GB = 1e9;
const layers = Number(values.layers);
const slice = Number(values.slice);
const threads = Number(values.threads) || availableParallelism();
if (slice % 2 !== 0) throw new Error("--slice must be even (Gemma 2's sliding window is on even blocks)");
const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

// gemma-2-2b's config.json, in bfloat16.
const hfConfig = {
  architectures: ["Gemma2ForCausalLM"], model_type: "gemma2", torch_dtype: "bfloat16",
  vocab_size: 256000, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: layers,
  num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256, query_pre_attn_scalar: 256,
  hidden_activation: "gelu_pytorch_tanh", rms_norm_eps: 1e-6, rope_theta: 10000.0, max_position_embeddings: 8192,
  attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0, sliding_window: 4096, attention_bias: false,
  pad_token_id: 0, bos_token_id: 2, eos_token_id: 1, tie_word_embeddings: true,
};
const H = hfConfig.hidden_size;

/** Seeded uniform values in [-limit, limit), rounded to bf16, produced piece by piece. */
function randomBf16(name: string, shape: number[], limit: number): ShardTensor {
  const rng = new Random(1234, name);
  return {
    name, dtype: "bfloat16", shape,
    next(count) {
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = (2 * rng.uniform() - 1) * limit;
      return castTensor({ dtype: "float32", shape: [count], data: values }, "bfloat16").data;
    },
  };
}

/** The HF tensors of gemma-2-2b in its checkpoints' order: kernels glorot-scaled, norm weights small. */
function hfTensors(): ShardTensor[] {
  const { intermediate_size: F, num_attention_heads: nq, num_key_value_heads: nkv, head_dim: hd } = hfConfig;
  const linear = (name: string, out: number, inp: number) => randomBf16(name, [out, inp], Math.sqrt(6 / (out + inp)));
  const norm = (name: string) => randomBf16(name, [H], 0.1);
  const list = [randomBf16("model.embed_tokens.weight", [hfConfig.vocab_size, H], Math.sqrt(3) / Math.sqrt(H))];
  for (let i = 0; i < layers; i++) {
    const l = `model.layers.${i}`;
    list.push(
      norm(`${l}.input_layernorm.weight`),
      linear(`${l}.mlp.down_proj.weight`, H, F),
      linear(`${l}.mlp.gate_proj.weight`, F, H),
      linear(`${l}.mlp.up_proj.weight`, F, H),
      norm(`${l}.post_attention_layernorm.weight`),
      norm(`${l}.post_feedforward_layernorm.weight`),
      norm(`${l}.pre_feedforward_layernorm.weight`),
      linear(`${l}.self_attn.k_proj.weight`, nkv * hd, H),
      linear(`${l}.self_attn.o_proj.weight`, H, nq * hd),
      linear(`${l}.self_attn.q_proj.weight`, nq * hd, H),
      linear(`${l}.self_attn.v_proj.weight`, nkv * hd, H),
    );
  }
  list.push(norm("model.norm.weight"));
  return list;
}

interface MemoryStatus {
  /** VmHWM: the peak resident set. */
  peak: number;
  rss: number;
  anon: number;
  file: number;
}

function memoryOf(pid: number): MemoryStatus | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const bytes = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { peak: bytes("VmHWM"), rss: bytes("VmRSS"), anon: bytes("RssAnon"), file: bytes("RssFile") };
}

const SIGNING_KEY = "bench-large-signing-key-0123456789abcdef";

/** A runner process that preloads `preset`; resolves once it listens (the model is loaded by then). */
async function startRunner(preset: string, work: string) {
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "gpu-runner/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      RUNNER_PORT: "0",
      RUNNER_SIGNING_KEY: SIGNING_KEY,
      RUNNER_STORE: join(work, "store"),
      RUNNER_CACHE_DIR: join(work, "cache"),
      RUNNER_THREADS: String(threads),
      RUNNER_PRELOAD: preset,
      RUNNER_REQUEST_TIMEOUT_MS: "600000",
      // glibc madvises its large allocations for transparent huge pages: first touches of fresh memory fault
      // 2 MiB at a time instead of 4 KiB (the load copies every weight through fresh buffers, twice in ORT).
      ...(values["no-hugepages"] ? {} : { GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  child.stderr!.on("data", (d) => logs.push(String(d)));
  // The split of the resident set at its highest (VmHWM itself is exact; the split is sampled).
  let atPeak: MemoryStatus | null = null;
  const sampler = setInterval(() => {
    const m = memoryOf(child.pid!);
    if (m && (!atPeak || m.rss > atPeak.rss)) atPeak = m;
  }, 100);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`runner exited with ${code}:\n${logs.join("").slice(-4000)}`)));
  });
  const readyMs = performance.now() - started;
  return {
    url,
    readyMs,
    logs,
    memory: () => ({ now: memoryOf(child.pid!)!, atPeak: atPeak! }),
    async stop() {
      clearInterval(sampler);
      child.kill("SIGTERM");
      return exited;
    },
  };
}

/**
 * The library's in-memory forward pass on the same checkpoint, `slice` blocks at a time: each slice is a Gemma
 * backbone with float32 weights loaded from the checkpoint, one protobuf, whose embedding table holds the batch's
 * input rows (the real token rows for the first slice, then the previous slice's block output / sqrt(hidden)) and
 * which outputs its last block's output (hidden_states; a dummy extra block keeps it before the final norm) or,
 * for the last slice, the final normalized output.
 */
async function sliceReference(checkpoint: GemmaBackbone, ids: number[][], mask: (0 | 1)[][]): Promise<Float32Array> {
  const c = checkpoint.config;
  const [B, T] = [ids.length, ids[0].length];
  const load = (path: string) => (checkpoint.weight(path) as LazyTensor).load();
  const embedding = checkpoint.weight("token_embedding/embeddings") as LazyTensor;
  let table = new Float32Array(B * T * H);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) table.set(await embedding.readRange!(ids[b][t] * H, H), (b * T + t) * H);
  const rows = ids.map((row, b) => row.map((_, t) => b * T + t));
  const runtime = nodeRuntime({ threads });
  for (let start = 0; start < c.numLayers; start += slice) {
    const end = Math.min(c.numLayers, start + slice);
    const last = end === c.numLayers;
    const part = new GemmaBackbone({ ...c, vocabularySize: B * T, numLayers: end - start + (last ? 0 : 1) });
    const weights = new Map<string, Tensor>([["token_embedding/embeddings", { dtype: "float32", shape: [B * T, H], data: table }]]);
    for (const v of part.variables()) {
      const block = /^decoder_block_(\d+)\/(.+)$/.exec(v.path);
      if (!block) {
        if (v.path !== "token_embedding/embeddings") weights.set(v.path, await load(v.path));
        continue;
      }
      const source = start + Number(block[1]);
      // the dummy block after the slice: zeros (its output is not used)
      weights.set(v.path, source < end ? await load(`decoder_block_${source}/${block[2]}`) : { dtype: "float32", shape: v.shape, data: new Float32Array(v.shape.reduce((n, d) => n * d, 1)) });
    }
    part.setWeights(weights);
    const session = await part.createSession(runtime, { hiddenStates: true });
    const out = await session.forward(tokenBatch(rows, mask));
    await session.release();
    log(`reference: blocks ${start}..${end - 1} done`);
    if (last) return out.sequenceOutput.data as Float32Array;
    const h = out.hiddenStates![end - start].data as Float32Array;
    table = Float32Array.from(h, (x) => x / Math.fround(Math.sqrt(H)));
  }
  throw new Error("internal: no blocks");
}

const work = mkdtempSync(join(values.dir!, "edgebone-large-"));
try {
  const hf = join(work, "hf");
  mkdirSync(hf);
  writeFileSync(join(hf, "config.json"), JSON.stringify(hfConfig, null, 2));
  let t = performance.now();
  const shards = writeHfShards(hf, hfTensors(), 2);
  const writeMs = performance.now() - t;
  const checkpoint = await GemmaBackbone.fromPreset(hf, { lazyWeights: true });
  const params = checkpoint.countParams();
  if (layers === 26 && params !== (await GemmaBackbone.fromPreset("gemma2_2b_en", { loadWeights: false })).countParams()) {
    throw new Error("the HF config does not convert to gemma2_2b_en's architecture");
  }
  const fp32Bytes = params * 4;
  log(`wrote ${shards.join(", ")} (${(params / 1e9).toFixed(2)}B parameters, bf16) in ${seconds(writeMs)} s`);

  t = performance.now();
  execFileSync(process.execPath, ["--import", "tsx", "gpu-runner/publish.ts", "preset", hf, "gemma2_2b_random", "--as-is"], {
    cwd: ROOT, env: { ...process.env, RUNNER_STORE: join(work, "store") }, stdio: ["ignore", "ignore", "inherit"],
  });
  const publishMs = performance.now() - t;
  log(`published as it is into ${join(work, "store")} in ${seconds(publishMs)} s; starting the runner (preloads it)…`);

  const runner = await startRunner("gemma2_2b_random", work);
  const loadedLine = runner.logs.join("").split("\n").find((l) => l.includes('"loaded gemma2_2b_random'));
  const loadMs = loadedLine ? (JSON.parse(loadedLine) as { ms: number }).ms : NaN;
  log(`runner ready after ${seconds(runner.readyMs)} s (model load ${seconds(loadMs)} s)`);
  const ids = [[2, 651, 6037, 8426, 25341, 1163, 573, 27894], [2, 4521, 17, 90210, 255999, 3, 0, 0]];
  const mask: (0 | 1)[][] = [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0]];
  const pool = new RunnerPool({ runners: [runner.url], signingKey: SIGNING_KEY, deadlineMs: 600_000, attemptTimeoutMs: 600_000 });
  const forwardMs: number[] = [];
  let served: Float32Array | null = null;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    served = (await pool.forward({ preset: "gemma2_2b_random", token_ids: ids, padding_mask: mask })).data;
    forwardMs.push(performance.now() - t);
  }
  const memory = runner.memory();
  log(`runner exited with ${await runner.stop()}`);

  t = performance.now();
  const expected = await sliceReference(checkpoint, ids, mask);
  const referenceMs = performance.now() - t;
  let maxDiff = 0;
  let maxAbs = 0;
  ids.forEach((row, b) => {
    const valid = mask[b].reduce<number>((n, m) => n + m, 0);
    for (let i = b * row.length * H; i < (b * row.length + valid) * H; i++) {
      const d = Math.abs(served![i] - expected[i]);
      if (!(d <= maxDiff)) maxDiff = d;
      maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
    }
  });

  const result = {
    architecture: "gemma2_2b_en",
    layers,
    parameters: params,
    checkpoint: `HF layout, ${shards.length} shards, bf16, ${((params * 2) / GB).toFixed(2)} GB`,
    fp32_weight_gb: Number((fp32Bytes / GB).toFixed(2)),
    threads,
    runner_env: values["no-hugepages"] ? "" : "GLIBC_TUNABLES=glibc.malloc.hugetlb=1",
    write_checkpoint_s: seconds(writeMs),
    publish_s: seconds(publishMs),
    runner_ready_s: seconds(runner.readyMs),
    model_load_s: seconds(loadMs),
    peak_rss_gb: Number((memory.now.peak / GB).toFixed(2)),
    peak_rss_over_fp32_weights: Number((memory.now.peak / fp32Bytes).toFixed(3)),
    at_peak_anon_gb: Number((memory.atPeak.anon / GB).toFixed(2)),
    at_peak_file_gb: Number((memory.atPeak.file / GB).toFixed(2)),
    after_forward_rss_gb: Number((memory.now.rss / GB).toFixed(2)),
    after_forward_anon_gb: Number((memory.now.anon / GB).toFixed(2)),
    after_forward_file_gb: Number((memory.now.file / GB).toFixed(2)),
    batch: "2 × 8 (one row padded by 2)",
    forward_ms: forwardMs.map(Math.round),
    reference: `in-memory library path, ${slice} blocks per slice (${seconds(referenceMs)} s)`,
    max_abs_diff: Number(maxDiff.toExponential(2)),
    max_abs_value: Number(maxAbs.toFixed(3)),
  };
  console.log(JSON.stringify(result, null, 2));
  if (!(maxDiff <= 1e-4)) {
    log(`FAILED: the served output differs from the reference by ${maxDiff}`);
    process.exitCode = 1;
  }
} finally {
  if (values.keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
