/**
 * Hugging Face Hub downloads (`hf://org/model[@revision]`) into huggingface_hub's own cache, so files a user
 * already fetched with Python are reused and the other way round. What this follows, from huggingface_hub's
 * source (src/huggingface_hub, read at commit ee0a451):
 * - constants.py: `HF_ENDPOINT`; `HF_HOME` (default `$XDG_CACHE_HOME/huggingface`, else
 *   `~/.cache/huggingface`); `HF_HUB_CACHE` / `HUGGINGFACE_HUB_CACHE` (default `$HF_HOME/hub`);
 *   `HF_TOKEN_PATH` (default `$HF_HOME/token`); `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) true when 1/ON/YES/TRUE.
 * - utils/_auth.py: the token is `HF_TOKEN` (or the legacy `HUGGING_FACE_HUB_TOKEN`), else the token file.
 * - hf_api.py `model_info`: `GET /api/models/{repo}/revision/{revision}` gives the commit `sha` and the file list
 *   (`siblings[].rfilename`); the revision is then pinned to that sha for every file.
 * - file_download.py `get_hf_file_metadata`: `HEAD /{repo}/resolve/{sha}/{file}` with `Accept-Encoding: identity`,
 *   following only relative redirects (renamed repos); the etag is `X-Linked-Etag` (an LFS file's sha256) or
 *   `ETag` (a git blob sha1, huggingface_hub#3018), quotes and `W/` stripped; the size is `X-Linked-Size` or
 *   `Content-Length`; an absolute `Location` is the file host, which gets no Authorization header.
 * - file_download.py `_hf_hub_download_to_cache_dir`: `models--org--name/blobs/<etag>` (written as
 *   `<etag>.incomplete`, resumed from its size), `snapshots/<sha>/<file>` a relative symlink to the blob,
 *   `refs/<revision>` holding the sha.
 * - utils/_http.py `hf_raise_for_status`: `X-Error-Code` GatedRepo / RepoNotFound / RevisionNotFound /
 *   EntryNotFound; a 401 without a token also means private, gated or missing.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import type { PresetParts } from "../../presets/hub.js";
import { download, HttpStatusError, type Digest } from "./download.js";
import { eachLimit, expandHome, isRedirect, NetworkError, request } from "./http.js";
import type { Progress } from "./progress.js";

export interface HfConfig {
  /** The Hub's base URL (`HF_ENDPOINT`), no trailing slash. */
  endpoint: string;
  token: string | null;
  /** Where the token came from, for error messages ("HF_TOKEN", a file path). */
  tokenSource: string | null;
  /** huggingface_hub's cache directory (holds `models--org--name/`). */
  cacheDir: string;
  offline: boolean;
}

const isTrue = (value: string | undefined) => /^(1|on|yes|true)$/i.test(value ?? "");

export function hfConfigFromEnv(env: NodeJS.ProcessEnv = process.env): HfConfig {
  const home = homedir();
  const hfHome = expandHome(env.HF_HOME || join(env.XDG_CACHE_HOME || join(home, ".cache"), "huggingface"), home);
  const tokenPath = expandHome(env.HF_TOKEN_PATH || join(hfHome, "token"), home);
  const envToken = (env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || "").trim();
  const fileToken = envToken ? "" : readTokenFile(tokenPath);
  return {
    endpoint: (env.HF_ENDPOINT || "https://huggingface.co").replace(/\/+$/, ""),
    token: envToken || fileToken || null,
    tokenSource: envToken ? (env.HF_TOKEN ? "HF_TOKEN" : "HUGGING_FACE_HUB_TOKEN") : fileToken ? tokenPath : null,
    cacheDir: expandHome(env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(hfHome, "hub"), home),
    offline: isTrue(env.HF_HUB_OFFLINE || env.TRANSFORMERS_OFFLINE),
  };
}

function readTokenFile(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

const COMMIT = /^[0-9a-f]{40}$/;
const CONCURRENCY = 8; // huggingface_hub's snapshot_download max_workers

export class HfHub {
  private readonly blobs = new Map<string, Promise<void>>();

  constructor(
    readonly config: HfConfig,
    private readonly progress: Progress,
  ) {}

  /**
   * The snapshot directory of `repo` at `revision` holding the files `parts` needs, downloading what the cache
   * lacks. Offline (`HF_HUB_OFFLINE`), or when the Hub cannot be reached, a complete cached snapshot is used.
   */
  async snapshot(repo: string, revision = "main", parts: PresetParts): Promise<string> {
    const storage = join(this.config.cacheDir, `models--${repo.split("/").join("--")}`);
    const handle = `hf://${repo}${revision === "main" ? "" : `@${revision}`}`;
    if (this.config.offline) return this.cached(storage, handle, revision, parts, "HF_HUB_OFFLINE is set");
    let info: { sha: string; files: Set<string> };
    try {
      info = await this.repoInfo(repo, revision, handle);
    } catch (e) {
      if (e instanceof NetworkError) return this.cached(storage, handle, revision, parts, e.message);
      throw e;
    }
    if (revision !== info.sha) await writeAtomically(join(storage, "refs", revision), info.sha);
    const snapshot = join(storage, "snapshots", info.sha);
    const fetchAll = (names: string[]) => eachLimit(names.filter((n) => info.files.has(n)), CONCURRENCY, (file) => this.file(repo, info.sha, storage, file, handle));
    // Two rounds: the index and modules.json name the shards and module configs of the second.
    await fetchAll(firstRound(parts));
    if (parts === "all") await fetchAll([...weightFiles(snapshot), ...moduleConfigs(snapshot)]);
    const missing = missingFiles(snapshot, parts);
    if (missing.length) throw incompleteRepository(handle, missing, info.files);
    return snapshot;
  }

  /** A complete cached snapshot for `revision`, when the Hub is not asked. */
  private cached(storage: string, handle: string, revision: string, parts: PresetParts, why: string): string {
    const sha = COMMIT.test(revision) ? revision : readRef(join(storage, "refs", revision));
    const snapshot = sha && join(storage, "snapshots", sha);
    if (!snapshot || !existsSync(snapshot)) {
      throw new Error(`${why} and ${handle} is not in the Hugging Face cache ${this.config.cacheDir}${this.config.offline ? ": unset HF_HUB_OFFLINE to download it" : ""}`);
    }
    const missing = missingFiles(snapshot, parts);
    if (missing.length) throw new Error(`${why} and the cached snapshot ${snapshot} lacks ${missing.join(", ")}`);
    return snapshot;
  }

  private async repoInfo(repo: string, revision: string, handle: string): Promise<{ sha: string; files: Set<string> }> {
    const url = `${this.config.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
    const response = await request(url, { headers: this.auth() });
    if (!response.ok) throw this.error(response, handle, repo, revision);
    const body = (await response.json()) as { sha?: unknown; siblings?: { rfilename?: unknown }[] };
    if (typeof body.sha !== "string" || !COMMIT.test(body.sha) || !Array.isArray(body.siblings)) {
      throw new Error(`${url} did not answer like the Hugging Face Hub (no commit sha or file list): is HF_ENDPOINT right?`);
    }
    return { sha: body.sha, files: new Set(body.siblings.map((s) => String(s.rfilename))) };
  }

  /** One file of the pinned commit, into blobs/ and linked from the snapshot (nothing is fetched if linked). */
  private async file(repo: string, sha: string, storage: string, file: string, handle: string): Promise<void> {
    const pointer = join(storage, "snapshots", sha, ...file.split("/"));
    if (existsSync(pointer)) return;
    const { etag, size, location } = await this.metadata(repo, sha, file, handle);
    const blob = join(storage, "blobs", etag);
    if (!existsSync(blob)) {
      // Files with the same content share a blob: one download, however many files wait for it.
      let pending = this.blobs.get(blob);
      if (!pending) this.blobs.set(blob, (pending = this.fetchBlob(blob, location, size, etag, file)));
      try {
        await pending;
      } catch (e) {
        if (e instanceof HttpStatusError) throw this.error(e.response, handle, repo, sha, file);
        throw new Error(`${handle} ${(e as Error).message}`); // download errors start with the file name
      }
    }
    await mkdir(dirname(pointer), { recursive: true });
    await rm(pointer, { force: true }); // a dangling link whose blob was deleted
    try {
      await symlink(relative(dirname(pointer), blob), pointer);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // linked concurrently: same blob
    }
  }

  private async fetchBlob(blob: string, location: string, size: number, etag: string, name: string): Promise<void> {
    const sameHost = new URL(location).host === new URL(this.config.endpoint).host;
    const partial = `${blob}.incomplete`;
    await download({ name, url: location, headers: sameHost ? this.auth() : {}, partial, size, digest: etagDigest(etag), progress: this.progress });
    await rename(partial, blob);
  }

  /** HEAD on the resolve URL: the file's etag, size and where its bytes are. */
  private async metadata(repo: string, sha: string, file: string, handle: string): Promise<{ etag: string; size: number; location: string }> {
    let url = `${this.config.endpoint}/${repo}/resolve/${sha}/${file.split("/").map(encodeURIComponent).join("/")}`;
    for (let hops = 0; ; hops++) {
      const response = await request(url, { method: "HEAD", headers: { ...this.auth(), "accept-encoding": "identity" } });
      const location = response.headers.get("location");
      if (isRedirect(response) && location!.startsWith("/") && hops < 5) {
        url = new URL(location!, url).href; // a renamed repository: same host, follow
        continue;
      }
      if (!response.ok && !isRedirect(response)) throw this.error(response, handle, repo, sha, file);
      const etag = (response.headers.get("x-linked-etag") ?? response.headers.get("etag") ?? "").replace(/^W\//, "").replace(/"/g, "");
      const size = Number(response.headers.get("x-linked-size") ?? (isRedirect(response) ? NaN : response.headers.get("content-length")));
      if (!/^[\w.-]+$/.test(etag) || !Number.isInteger(size)) {
        throw new Error(`${handle} ${file}: ${url} answered without an ETag and size, not like the Hugging Face Hub (is HF_ENDPOINT right?)`);
      }
      return { etag, size, location: isRedirect(response) ? new URL(location!, url).href : url };
    }
  }

  private auth(): Record<string, string> {
    return this.config.token ? { authorization: `Bearer ${this.config.token}` } : {};
  }

  /** The Hub's refusal as a message that says what to do. */
  private error(response: Response, handle: string, repo: string, revision: string, file?: string): Error {
    const code = response.headers.get("x-error-code");
    const detail = response.headers.get("x-error-message");
    const page = `${this.config.endpoint}/${repo}`;
    const tokens = `${this.config.endpoint}/settings/tokens`;
    const token = this.config.token ? `the token from ${this.config.tokenSource}` : null;
    const status = `${response.status}${detail ? `: ${detail}` : ""}`;
    if (code === "GatedRepo" || (response.status === 403 && /gated|restricted/i.test(detail ?? ""))) {
      return new Error(
        token
          ? `${handle} is a gated model and ${token} has no access to it (${status}): accept the licence on ${page} while logged in as the token's account (some authors approve requests by hand), then try again`
          : `${handle} is a gated model (${status}): accept its licence on ${page} while logged in, then set HF_TOKEN to a read token of that account (${tokens})`,
      );
    }
    if (code === "RevisionNotFound") return new Error(`${handle}: the repository has no revision "${revision}" (${status})`);
    if (code === "EntryNotFound" || (file && response.status === 404 && code !== "RepoNotFound")) {
      return new Error(`${handle}: ${file ?? "a file"} is not in the repository at ${revision} (${status})`);
    }
    if (response.status === 401 && detail === "Invalid credentials in Authorization header") {
      return new Error(`${handle}: the Hub rejected ${token ?? "the token"} (401): create a new read token at ${tokens}`);
    }
    if (response.status === 401 || response.status === 404) {
      return new Error(
        token
          ? `${handle} was not found (${status}), or ${token} cannot read it: check the name on ${page}`
          : `${handle} was not found (${status}): it does not exist, or it is private or gated and no token was sent. Check the name; for a private or gated repository set HF_TOKEN (${tokens})`,
      );
    }
    if (response.status === 403) return new Error(`${handle}: access denied (${status}): give ${token ?? "your token"} read access to ${page}`);
    return new Error(`${handle}: the Hub answered ${response.status} ${response.statusText}${detail ? ` (${detail})` : ""} for ${response.url}; try again later`);
  }
}

/** The files a preset needs (transformers config, tokenizer, sentence-transformers metadata, weights index). */
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.txt", "vocab.json", "merges.txt", "tokenizer.model", "sentencepiece.bpe.model", "spiece.model"];
const SENTENCE_TRANSFORMERS_FILES = ["modules.json", "config_sentence_transformers.json", "sentence_bert_config.json"];

function firstRound(parts: PresetParts): string[] {
  if (parts === "config") return ["config.json"];
  if (parts === "tokenizer") return ["config.json", ...TOKENIZER_FILES];
  return ["config.json", ...TOKENIZER_FILES, ...SENTENCE_TRANSFORMERS_FILES, "model.safetensors.index.json"];
}

/** The shards the snapshot's index names, else the single `model.safetensors`. */
function weightFiles(snapshot: string): string[] {
  const index = readJsonFile(join(snapshot, "model.safetensors.index.json")) as { weight_map?: Record<string, string> } | null;
  return index?.weight_map ? [...new Set(Object.values(index.weight_map))] : ["model.safetensors"];
}

/** The configs of the sentence-transformers modules (1_Pooling/config.json, …) that modules.json lists. */
function moduleConfigs(snapshot: string): string[] {
  const modules = readJsonFile(join(snapshot, "modules.json"));
  return Array.isArray(modules) ? modules.filter((m) => typeof m?.path === "string" && m.path).map((m) => `${m.path}/config.json`) : [];
}

function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

/** LFS files are named by sha256, git files by their blob sha1; anything else cannot be checked. */
function etagDigest(etag: string): Digest | undefined {
  if (/^[0-9a-f]{64}$/.test(etag)) return { algorithm: "sha256", hex: etag };
  if (/^[0-9a-f]{40}$/.test(etag)) return { algorithm: "git-sha1", hex: etag };
  return undefined;
}

function readRef(path: string): string | null {
  try {
    const sha = readFileSync(path, "utf8").trim();
    return COMMIT.test(sha) ? sha : null;
  } catch {
    return null;
  }
}

/** The files `parts` needs that the snapshot lacks. */
function missingFiles(snapshot: string, parts: PresetParts): string[] {
  const need = ["config.json", ...(parts === "all" ? weightFiles(snapshot) : [])];
  return need.filter((f) => !existsSync(join(snapshot, f)));
}

/** Why a fresh download lacks files: the repository does not have them (`remote` is its file list). */
function incompleteRepository(handle: string, missing: string[], remote: Set<string>): Error {
  if (!remote.has("config.json")) return new Error(`${handle} has no config.json: not a transformers model repository`);
  if (missing.includes("model.safetensors")) {
    const other = [...remote].filter((f) => /\.(bin|pt|pth|h5|msgpack|ckpt|gguf|onnx)$/.test(f));
    return new Error(`${handle} has no safetensors weights${other.length ? ` (it has ${other.join(", ")}, which Edgebone does not read)` : ""}`);
  }
  return new Error(`${handle}: the repository lacks ${missing.join(", ")}`);
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  if ((await readFile(path, "utf8").catch(() => null)) === text) return;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
