/**
 * The `edgebone` command line (node-only): run a backbone, tokenize text, list presets, convert presets.
 * Every failure is one line on stderr and a non-zero exit; set EDGEBONE_DEBUG=1 for stack traces.
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  Backbone,
  FsPresetStore,
  Preprocessor,
  checkBatch,
  tokenBatch,
  runtimeByName,
  EdgeModel,
  parsePlan,
  readEdgeManifest,
  type PresetFiles,
  type FloatDType,
  type Padding,
  type RuntimeName,
  type Tensor,
  type Truncation,
} from "./index.js";
import { readAdapter, writeAdapter } from "./adapters.js";
import { writeEdgeArtifact } from "./edge-build.js";
import { convertPreset, copyTokenizer, sourceFiles } from "./convert.js";

const USAGE = `usage: edgebone <command> [options]

commands:
  forward      --preset <name|dir|hf://…|kaggle://…> --input <in.json> [--output <out.json>]
               [--random-weights] [--seed N] [--runtime wasm|node] [--threads N] [--store DIR]
               [--adapter <file.lora.h5|file.lora.safetensors|peft-dir>]   (applied to every row)
               in.json: {"token_ids": [[…]], "padding_mask": [[…]]} (or input_ids / attention_mask)
               a preset directory with an edge artifact (edge/) runs it with --runtime wasm, through the
               worker's own loader; --float runs the float graph instead
  tokenize     --preset <name|dir|…> (--text "…" [--text …] | --input <texts.json>) [--pair "…"]
               [--no-special-tokens] [--sequence-length N|none] [--truncate none|left|right]
               [--padding longest|max_length] [--chunk] [--overlap N] [--offsets]
               [--lowercase true|false] [--strip-accents true|false] [--special-tokens-in-text true|false]
               prints {"token_ids": [[…]], "padding_mask": [[…]]} (+ "offsets", + "chunks" with --chunk)
               texts.json: ["…", …] or {"texts": ["…", …], "pairs": ["…", …]}
               a text longer than the sequence length (default: the model's) fails unless
               --truncate or --chunk (overlapping windows, with their spans) is given
  presets      [--json]   list the built-in presets
  save-preset  --preset <src> --out <dir> [--random-weights] [--seed N] [--dtype float32|float16|bfloat16]
               write a KerasHub-format preset (e.g. convert hf://org/model or a Hugging Face checkpoint
               directory), with its tokenizer as tokenizer.hf.json plus KerasHub's tokenizer.json and
               assets/tokenizer/, and edgebone.json (embedding defaults of sentence-transformers models)
               [--quantize auto|int8|int4|mixed|attention=…,ffn=…,embedding=…] [--no-measure]
               --quantize adds the quantized edge artifact (edge/: what the worker runs in the isolate),
               checked against the float model and measured (peak isolate memory, WASM tokens/s)

  lora-init    --preset <p> --rank <r> --out <file.lora.h5|file.lora.safetensors> [--seed N] [--random-b]
               a fresh KerasHub-initialised adapter (A he_uniform, B zeros; --random-b: random B, for tests)
  merge-lora   --preset <p> --adapter <a> --out <dir>   a preset with the adapter folded into its kernels
  lora-convert --from <peft-dir|file.lora.h5|file.lora.safetensors> --preset <p> --out <file>
               convert between adapter formats (the output's suffix picks the format)

--store DIR: preset store for built-in names and hf:// / kaggle:// handles
             (default $EDGEBONE_PRESETS or ~/.cache/edgebone/presets); what is not installed there
             is downloaded into the hubs' caches: Hugging Face (HF_ENDPOINT, HF_TOKEN, HF_HOME,
             HF_HUB_CACHE, HF_HUB_OFFLINE) and Kaggle (KAGGLE_USERNAME/KAGGLE_KEY or ~/.kaggle/kaggle.json,
             KAGGLEHUB_CACHE), as huggingface_hub and kagglehub do`;

/** A usage mistake: exit code 2 and a pointer to --help. */
class UsageError extends Error {}

const COMMON = {
  preset: { type: "string" },
  store: { type: "string" },
  "random-weights": { type: "boolean" },
  seed: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "forward":
      return forward(rest);
    case "tokenize":
      return tokenize(rest);
    case "presets":
      return presets(rest);
    case "save-preset":
      return savePreset(rest);
    case "lora-init":
      return loraInit(rest);
    case "merge-lora":
      return mergeLora(rest);
    case "lora-convert":
      return loraConvert(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function parse<O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got "${value}"`);
  return value as T;
}

async function loadBackbone(values: { preset?: string; store?: string; "random-weights"?: boolean; seed?: string }, dtype?: FloatDType) {
  const preset = required(values.preset, "--preset");
  return Backbone.fromPreset(preset, {
    loadWeights: !values["random-weights"],
    seed: integer(values.seed, "--seed"),
    store: values.store ? new FsPresetStore(values.store) : undefined,
    dtype,
    download: true,
  });
}

async function forward(args: string[]): Promise<void> {
  const values = parse(args, {
    ...COMMON,
    input: { type: "string" },
    output: { type: "string" },
    runtime: { type: "string" },
    threads: { type: "string" },
    adapter: { type: "string" },
    float: { type: "boolean" },
  });
  if (values.help) return console.log(USAGE);
  const inputPath = required(values.input, "--input");
  const runtimeName = oneOf<RuntimeName>(values.runtime, "--runtime", ["wasm", "node"], "wasm");
  const threads = integer(values.threads, "--threads");

  const input = await readJsonFile(inputPath);
  const ids = input.token_ids ?? input.input_ids;
  const mask = input.padding_mask ?? input.attention_mask;
  if (ids === undefined) throw new Error(`${inputPath}: needs "token_ids" (or "input_ids")`);
  const batch = tokenBatch(ids, mask);

  const edgeFiles = values.float ? null : await edgeArtifactFiles(values);
  const backbone = edgeFiles ? await loadBackbone({ ...values, "random-weights": true }) : await loadBackbone(values); // the artifact carries the weights
  checkBatch(batch, backbone); // fail before building the graph
  const adapter = values.adapter ? await readAdapter(values.adapter, backbone) : null;
  let sequenceOutput: Tensor;
  if (edgeFiles) {
    if (runtimeName !== "wasm") throw new UsageError("an edge artifact runs on onnxruntime-web: use --runtime wasm (or --float for the float graph)");
    const model = await EdgeModel.load(edgeFiles, backbone, runtimeByName("wasm"));
    console.error(`running the ${model.manifest.plan} edge artifact of ${edgeFiles.location}`);
    ({ sequenceOutput } = await model.forward(batch, { adapters: adapter ? [adapter] : [] }));
  } else {
    if (adapter) backbone.setLora(adapter, values.adapter);
    const session = await backbone.createSession(runtimeByName(runtimeName, { threads }));
    ({ sequenceOutput } = await session.forward(batch));
  }
  const json = JSON.stringify({ sequence_output: { shape: sequenceOutput.shape, data: nested(sequenceOutput) } });
  if (values.output) {
    await writeFile(values.output, json + "\n");
    console.error(`wrote sequence_output [${sequenceOutput.shape.join(", ")}] to ${values.output}`);
  } else {
    process.stdout.write(json + "\n");
  }
}

async function tokenize(args: string[]): Promise<void> {
  const values = parse(args, {
    preset: { type: "string" },
    store: { type: "string" },
    text: { type: "string", multiple: true },
    pair: { type: "string", multiple: true },
    input: { type: "string" },
    "no-special-tokens": { type: "boolean" },
    "sequence-length": { type: "string" },
    truncate: { type: "string" },
    padding: { type: "string" },
    chunk: { type: "boolean" },
    overlap: { type: "string" },
    offsets: { type: "boolean" },
    lowercase: { type: "string" },
    "strip-accents": { type: "string" },
    "special-tokens-in-text": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return console.log(USAGE);
  const preset = required(values.preset, "--preset");
  if ((values.text === undefined) === (values.input === undefined)) throw new UsageError("give the text with --text or --input (one of them)");
  let texts: string[];
  let pairs: string[] | undefined = values.pair;
  if (values.input !== undefined) {
    ({ texts, pairs } = await readTexts(values.input, pairs));
  } else {
    texts = values.text!;
  }
  if (pairs && values.chunk) throw new UsageError("--chunk takes single texts, not pairs");
  const lengthFlag = values["sequence-length"];
  const sequenceLength = lengthFlag === "none" ? null : integer(lengthFlag, "--sequence-length");
  const preprocessor = await Preprocessor.fromPreset(preset, {
    store: values.store ? new FsPresetStore(values.store) : undefined,
    download: true,
    sequenceLength,
    truncate: oneOf<Truncation>(values.truncate, "--truncate", ["none", "left", "right"], "none"),
    padding: oneOf<Padding>(values.padding, "--padding", ["longest", "max_length"], "longest"),
    addSpecialTokens: !values["no-special-tokens"],
    lowercase: bool(values.lowercase, "--lowercase"),
    stripAccents: bool(values["strip-accents"], "--strip-accents"),
    specialTokensInText: bool(values["special-tokens-in-text"], "--special-tokens-in-text"),
  });
  const overlap = integer(values.overlap, "--overlap");
  if (overlap !== undefined && !values.chunk) throw new UsageError("--overlap applies to --chunk");
  const out = values.chunk ? preprocessor.chunk(texts, { overlap }) : preprocessor.call(texts, pairs);
  const json: Record<string, unknown> = { token_ids: out.tokenIds, padding_mask: out.paddingMask };
  if (values.offsets) json.offsets = out.offsets;
  if (values.chunk) json.chunks = out.rows.map((r) => ({ text: r.text, tokens: [r.tokenStart, r.tokenEnd], span: [r.start, r.end] }));
  for (const r of out.rows) if (r.truncated > 0) console.error(`edgebone: text ${r.text}: truncated ${r.truncated} token(s) (--truncate ${preprocessor.truncate})`);
  process.stdout.write(JSON.stringify(json) + "\n");
}

/** texts.json: an array of strings, or {"texts": [...], "pairs": [...]}. */
async function readTexts(path: string, flagPairs: string[] | undefined): Promise<{ texts: string[]; pairs?: string[] }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const strings = (v: unknown, what: string): string[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new Error(`${path}: ${what} must be an array of strings`);
    return v;
  };
  if (Array.isArray(value)) return { texts: strings(value, "the texts"), pairs: flagPairs };
  if (value && typeof value === "object" && "texts" in value) {
    const o = value as { texts: unknown; pairs?: unknown };
    if (o.pairs !== undefined && flagPairs) throw new UsageError("give pairs in the input file or with --pair, not both");
    return { texts: strings(o.texts, '"texts"'), pairs: o.pairs === undefined ? flagPairs : strings(o.pairs, '"pairs"') };
  }
  throw new Error(`${path} must hold an array of strings or {"texts": [...]}`);
}

function bool(value: string | undefined, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== "true" && value !== "false") throw new UsageError(`${flag} must be true or false, got "${value}"`);
  return value === "true";
}

async function presets(args: string[]): Promise<void> {
  const values = parse(args, { json: { type: "boolean" }, help: { type: "boolean", short: "h" } });
  if (values.help) return console.log(USAGE);
  const rows = Object.values(Backbone.presets).map((p) => ({
    name: p.name,
    family: p.className,
    parameters: p.parameters,
    description: p.description,
    handle: p.kaggleHandle,
  }));
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  const width = (key: keyof (typeof rows)[number]) => Math.max(key.length, ...rows.map((r) => r[key].length));
  const cols = ["name", "family", "parameters", "handle"] as const;
  const line = (r: Record<string, string>) => cols.map((c) => r[c].padEnd(width(c))).join("  ");
  console.log(line({ name: "name", family: "family", parameters: "parameters", handle: "handle" }));
  for (const r of rows) console.log(`${line(r)}\n  ${r.description}`);
}

async function savePreset(args: string[]): Promise<void> {
  const values = parse(args, { ...COMMON, out: { type: "string" }, dtype: { type: "string" }, quantize: { type: "string" }, "no-measure": { type: "boolean" } });
  if (values.help) return console.log(USAGE);
  const out = required(values.out, "--out");
  const dtype = values.dtype === undefined ? undefined : oneOf<FloatDType>(values.dtype, "--dtype", ["float32", "float16", "bfloat16"], "float32");
  if (values.quantize !== undefined && values.quantize !== "auto") {
    try {
      parsePlan(values.quantize);
    } catch (e) {
      throw new UsageError(`--quantize: ${(e as Error).message}`);
    }
  }
  const { backbone, files } = await convertPreset(required(values.preset, "--preset"), out, {
    store: new FsPresetStore(values.store),
    dtype,
    randomWeights: values["random-weights"],
    seed: integer(values.seed, "--seed"),
  });
  if (values.quantize === undefined) return;
  const { manifest } = await writeEdgeArtifact(backbone, files.location, {
    plan: values.quantize,
    measure: !values["no-measure"],
    log: (line) => console.error(line),
  });
  console.error(manifest ? `wrote the ${manifest.plan} edge artifact to ${files.location}/edge/` : "no plan meets the fidelity bars within the isolate budget: no edge artifact (the preset runs on the runner pool)");
}

/** The preset's files when `--preset` is a directory with an edge artifact. */
async function edgeArtifactFiles(values: { preset?: string; store?: string }): Promise<PresetFiles | null> {
  const files = new FsPresetStore(values.store).openPath(required(values.preset, "--preset"));
  return files && (await readEdgeManifest(files)) ? files : null;
}

async function loraInit(args: string[]): Promise<void> {
  const values = parse(args, { ...COMMON, rank: { type: "string" }, out: { type: "string" }, "random-b": { type: "boolean" } });
  if (values.help) return console.log(USAGE);
  const rank = integer(required(values.rank, "--rank"), "--rank")!;
  const out = required(values.out, "--out");
  const backbone = await loadBackbone({ ...values, "random-weights": true }); // shapes only
  backbone.enableLora(rank, { seed: integer(values.seed, "--seed"), randomB: values["random-b"] });
  await backbone.saveLoraWeights(out);
  const { trainableParams, nonTrainableParams } = backbone.weightSummary();
  console.error(`wrote rank-${rank} adapter for ${backbone.className} to ${out}: ${trainableParams.toLocaleString("en-US")} trainable, ${nonTrainableParams.toLocaleString("en-US")} frozen parameters`);
}

async function mergeLora(args: string[]): Promise<void> {
  const values = parse(args, { ...COMMON, adapter: { type: "string" }, out: { type: "string" } });
  if (values.help) return console.log(USAGE);
  const adapterPath = required(values.adapter, "--adapter");
  const out = required(values.out, "--out");
  const backbone = await loadBackbone(values);
  const adapter = await readAdapter(adapterPath, backbone);
  backbone.mergeLora(adapter);
  const store = new FsPresetStore(values.store);
  const files = await backbone.saveToPreset(out, store);
  console.error(`merged ${adapterPath} (rank ${adapter.rank}, ${adapter.layout}, scale ${adapter.scale}) into ${files.location}`);
  const source = await sourceFiles(values.preset!, { store });
  if (source) await copyTokenizer(source, backbone, files, (line) => console.error(line));
}

async function loraConvert(args: string[]): Promise<void> {
  const values = parse(args, { ...COMMON, from: { type: "string" }, out: { type: "string" } });
  if (values.help) return console.log(USAGE);
  const from = required(values.from, "--from");
  const out = required(values.out, "--out");
  const backbone = await loadBackbone({ ...values, "random-weights": true }); // shapes only
  const adapter = await readAdapter(from, backbone);
  await writeAdapter(out, adapter, backbone);
  const note = adapter.layout === "flat" && out.endsWith(".lora.h5") ? " (KerasHub layout: per-head, rank heads·r, scale folded into B)" : "";
  console.error(`converted ${from} (rank ${adapter.rank}, ${adapter.layout}) to ${out}${note}`);
}

async function readJsonFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("expected a JSON object");
    return value;
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** [B, T, H] flat data → nested arrays. */
function nested(t: Tensor): number[][][] {
  const [B, T, H] = t.shape;
  return Array.from({ length: B }, (_, b) =>
    Array.from({ length: T }, (_, s) => Array.from(t.data.subarray((b * T + s) * H, (b * T + s + 1) * H))),
  );
}

// `edgebone forward … | head` closes stdout early: that is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

main(process.argv.slice(2)).catch((e: unknown) => {
  const error = e as Error;
  if (process.env.EDGEBONE_DEBUG) console.error(error);
  else console.error(`edgebone: ${error.message}${error instanceof UsageError ? " (see edgebone --help)" : ""}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
