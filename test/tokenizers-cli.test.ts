/** `edgebone tokenize` and the tokenizer part of `edgebone save-preset`, as real processes. */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { edgeboneCli } from "./helpers/cli.js";
import { GOLDEN_DIR } from "./helpers/golden.js";
import { gemmaStyleModel, wordPieceFiles, writePresetDir } from "./helpers/tiny-tokenizers.js";

const dir = mkdtempSync(join(tmpdir(), "edgebone-tok-cli-"));

const edgebone = edgeboneCli(join(dir, "store"));

/** An HF DistilBERT checkpoint (the tiny golden model) with a WordPiece vocabulary beside it. */
const hfDir = writePresetDir(dir, "hf-distilbert", { ...wordPieceFiles(), "tokenizer_config.json": JSON.stringify({ do_lower_case: true }) });
for (const f of ["config.json", "model.safetensors"]) copyFileSync(`${GOLDEN_DIR}distilbert/${f}`, join(hfDir, f));
const gemmaDir = writePresetDir(dir, "gemma-tok", { "tokenizer.model": gemmaStyleModel() });

describe("edgebone tokenize", () => {
  it("prints token_ids and padding_mask, with offsets on request", async () => {
    const r = await edgebone("tokenize", "--preset", hfDir, "--text", "The quick brown fox.", "--text", "hello", "--offsets");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      token_ids: [[2, 5, 6, 7, 8, 9, 3], [2, 19, 3, 0, 0, 0, 0]],
      padding_mask: [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0]],
      offsets: [
        [[0, 0], [0, 3], [4, 9], [10, 15], [16, 19], [19, 20], [0, 0]],
        [[0, 0], [0, 5], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]],
      ],
    });
  });

  it("reads texts and pairs from a JSON file, without special tokens on request", async () => {
    const input = join(dir, "texts.json");
    writeFileSync(input, JSON.stringify({ texts: ["the", "fox"], pairs: ["quick", "hello"] }));
    const r = await edgebone("tokenize", "--preset", hfDir, "--input", input);
    expect(JSON.parse(r.stdout).token_ids).toEqual([[2, 5, 3, 6, 3], [2, 8, 3, 19, 3]]);
    const bare = await edgebone("tokenize", "--preset", gemmaDir, "--text", "the fox", "--no-special-tokens");
    expect(JSON.parse(bare.stdout).token_ids[0][0]).not.toBe(2);
  });

  it("chunks or truncates long text only when asked, and says what it did", async () => {
    const text = Array.from({ length: 100 }, () => "the quick").join(" ");
    const fail = await edgebone("tokenize", "--preset", hfDir, "--text", text);
    expect(fail.code).toBe(1);
    expect(fail.stderr.trim().split("\n")).toHaveLength(1);
    expect(fail.stderr).toMatch(/text 0 is 202 tokens long with special tokens, more than the sequence length 64: truncate it \(--truncate left\|right\) or split it into overlapping chunks \(--chunk\)/);
    const chunked = JSON.parse((await edgebone("tokenize", "--preset", hfDir, "--text", text, "--chunk", "--overlap", "4")).stdout);
    expect(chunked.token_ids.length).toBe(4);
    expect(chunked.token_ids.every((row: number[]) => row.length === 64)).toBe(true);
    expect(chunked.chunks[0]).toEqual({ text: 0, tokens: [0, 62], span: [0, 309] });
    expect(chunked.chunks.at(-1).tokens[1]).toBe(200);
    const cut = await edgebone("tokenize", "--preset", hfDir, "--text", text, "--truncate", "right", "--sequence-length", "6");
    expect(JSON.parse(cut.stdout).token_ids).toEqual([[2, 5, 6, 5, 6, 3]]);
    expect(cut.stderr).toMatch(/text 0: truncated 196 token\(s\) \(--truncate right\)/);
  });

  it("fails with one clear line and the right exit code", async () => {
    writeFileSync(join(dir, "SURROGATE"), '["a\\ud83d"]');
    writeFileSync(join(dir, "NOT_STRINGS"), "[1, 2]");
    const cases: [string[], number, RegExp][] = [
      [["--text", "x"], 2, /--preset is required/],
      [["--preset", hfDir], 2, /give the text with --text or --input/],
      [["--preset", hfDir, "--text", "x", "--truncate", "middle"], 2, /--truncate must be one of none, left, right/],
      [["--preset", hfDir, "--text", "x", "--lowercase", "yes"], 2, /--lowercase must be true or false/],
      [["--preset", hfDir, "--input", join(dir, "SURROGATE")], 1, /text contains an unpaired UTF-16 surrogate U\+D83D at index 1/],
      [["--preset", hfDir, "--input", join(dir, "NOT_STRINGS")], 1, /the texts must be an array of strings/],
      [["--preset", join(dir, "nowhere"), "--text", "x"], 1, /no preset at ".*nowhere"/],
    ];
    // Processes in parallel: each one mostly waits for Node to start.
    const results = await Promise.all(cases.map(([args]) => edgebone("tokenize", ...args)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i];
      expect(r.code, args.join(" ")).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    });
  });
});

describe("edgebone save-preset with a tokenizer", () => {
  it("writes tokenizer.hf.json and tokenizer.bin, KerasHub's tokenizer.json and assets, and the saved preset tokenizes the same", async () => {
    const out = join(dir, "store", "tiny_distilbert");
    const r = await edgebone("save-preset", "--preset", hfDir, "--out", out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/saved DistilBertTokenizer \(37 tokens\): assets\/tokenizer\/vocabulary\.txt, tokenizer\.hf\.json, tokenizer\.bin, tokenizer\.json/);
    expect(readFileSync(join(out, "assets/tokenizer/vocabulary.txt"), "utf8")).toBe(readFileSync(join(hfDir, "vocab.txt"), "utf8"));
    const keras = JSON.parse(readFileSync(join(out, "tokenizer.json"), "utf8"));
    expect(keras).toMatchObject({ class_name: "DistilBertTokenizer", registered_name: "keras_hub>DistilBertTokenizer", config: { lowercase: true, strip_accents: true } });
    const canonical = JSON.parse(readFileSync(join(out, "tokenizer.hf.json"), "utf8"));
    expect(canonical.model.type).toBe("WordPiece");
    expect(canonical.edgebone).toMatchObject({ family: "distil_bert", lowercase: true });
    const a = await edgebone("tokenize", "--preset", hfDir, "--text", "Héllo, the QUICK fox!");
    const b = await edgebone("tokenize", "--preset", "tiny_distilbert", "--text", "Héllo, the QUICK fox!");
    expect(b.stdout).toBe(a.stdout);
  });

  it("saves a backbone without a tokenizer when the source has none", async () => {
    const r = await edgebone("save-preset", "--preset", `${GOLDEN_DIR}gemma`, "--out", join(dir, "gemma-out"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no tokenizer files in .*gemma: the preset has no tokenizer/);
    expect(existsSync(join(dir, "gemma-out", "tokenizer.hf.json"))).toBe(false);
  });
});
