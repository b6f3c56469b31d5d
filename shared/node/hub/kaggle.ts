/**
 * Kaggle Models downloads (`kaggle://owner/model/framework/variation[/version]`, and the built-in presets'
 * handles) into kagglehub's cache. What this follows:
 * - Kaggle's public API as kagglesdk describes it (Kaggle/kaggle-api, kagglesdk/models/types/model_api_service.py):
 *   `GET /api/v1/models/{owner}/{model}/{framework}/{instance}/get` (the instance: `versionNumber` is the latest),
 *   `GET …/{version}/files?page_size=&page_token=` (`files[].name/size`, `nextPageToken`),
 *   `GET …/{version}/download/{path}` (a redirect to the file on Cloud Storage).
 * - kagglehub (Kaggle/kagglehub at d4b9a30, http_resolver.py, clients.py, config.py, cache.py, integrity.py):
 *   `KAGGLE_API_ENDPOINT` (default https://www.kaggle.com); HTTP basic auth from `KAGGLE_USERNAME` +
 *   `KAGGLE_KEY`, else `$KAGGLE_CONFIG_DIR/kaggle.json` (default `~/.kaggle`); the cache `$KAGGLEHUB_CACHE`
 *   (default `~/.cache/kagglehub`) `/models/<owner>/<model>/<framework>/<variation>/<version>/<path>`, a file
 *   resumed in place from its size, and complete once its marker
 *   `…/<variation>/.complete/<version>/<path>.complete` exists (a whole version: `…/<variation>/<version>.complete`);
 *   the file's MD5 from Cloud Storage's `x-goog-hash` header.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { PresetParts } from "../../presets/hub.js";
import { download, HttpStatusError, type Digest } from "./download.js";
import { eachLimit, expandHome, isRedirect, request } from "./http.js";
import type { Progress } from "./progress.js";

export interface KaggleConfig {
  /** Kaggle's base URL (`KAGGLE_API_ENDPOINT`), no trailing slash. */
  endpoint: string;
  /** The Authorization header value, when credentials were found. */
  authorization: string | null;
  /** Where the credentials came from, for error messages. */
  credentialsSource: string | null;
  /** kagglehub's cache directory (holds `models/`). */
  cacheDir: string;
}

export function kaggleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): KaggleConfig {
  const home = homedir();
  const file = join(expandHome(env.KAGGLE_CONFIG_DIR || join(home, ".kaggle"), home), "kaggle.json");
  let credentials: { username: string; key: string } | null = null;
  let source: string | null = null;
  if (env.KAGGLE_USERNAME && env.KAGGLE_KEY) {
    credentials = { username: env.KAGGLE_USERNAME, key: env.KAGGLE_KEY };
    source = "KAGGLE_USERNAME/KAGGLE_KEY";
  } else if (existsSync(file)) {
    credentials = readCredentials(file);
    source = file;
  }
  return {
    endpoint: (env.KAGGLE_API_ENDPOINT || "https://www.kaggle.com").replace(/\/+$/, ""),
    authorization: credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.key}`).toString("base64")}` : null,
    credentialsSource: source,
    cacheDir: expandHome(env.KAGGLEHUB_CACHE || join(home, ".cache", "kagglehub"), home),
  };
}

function readCredentials(file: string): { username: string; key: string } {
  let json: { username?: unknown; key?: unknown };
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}): it should hold {"username": …, "key": …}`);
  }
  if (typeof json.username !== "string" || typeof json.key !== "string") throw new Error(`${file} needs "username" and "key"`);
  return { username: json.username, key: json.key };
}

/** KerasHub preset files (spec §2): config, weights, tokenizer config and assets. */
const WEIGHT_FILES = ["model.weights.h5", "model.safetensors"];
const KERAS_TOKENIZER = (name: string) => name === "tokenizer.json" || name.startsWith("assets/tokenizer/");
const CONCURRENCY = 8; // kagglehub downloads at most 8 files at a time

export class KaggleHub {
  constructor(
    readonly config: KaggleConfig,
    private readonly progress: Progress,
  ) {}

  /** The version directory of `path` (owner/model/framework/variation[/version]) holding what `parts` needs. */
  async model(path: string, parts: PresetParts): Promise<string> {
    const [owner, model, framework, variation, pinned] = path.split("/");
    const instance = `${owner}/${model}/${framework}/${variation}`;
    const version = pinned ? Number(pinned) : await this.latestVersion(instance);
    const handle = `kaggle://${instance}/${version}`;
    const base = join(this.config.cacheDir, "models", owner, model, framework, variation);
    const dir = join(base, String(version));
    const complete = (file: string) =>
      existsSync(join(dir, file)) && (existsSync(join(base, `${version}.complete`)) || existsSync(join(base, ".complete", String(version), `${file}.complete`)));
    const files = parts === "config" ? [{ name: "config.json", size: 0 }] : select(await this.listFiles(instance, version, handle), parts, handle);
    const api = `${this.config.endpoint}/api/v1/models/${instance}/${version}`;
    await eachLimit(
      files.filter((f) => !complete(f.name)),
      CONCURRENCY,
      async ({ name, size }) => {
        const url = await this.fileUrl(`${api}/download/${name.split("/").map(encodeURIComponent).join("/")}`, handle);
        try {
          await download({ name, url: url.href, headers: url.auth, partial: join(dir, name), size: size || undefined, digest: gcsMd5, progress: this.progress });
        } catch (e) {
          if (e instanceof HttpStatusError) throw this.error(e.response, handle);
          throw new Error(`${handle} ${(e as Error).message}`); // download errors start with the file name
        }
        const marker = join(base, ".complete", String(version), `${name}.complete`);
        await mkdir(dirname(marker), { recursive: true });
        await writeFile(marker, "");
      },
    );
    return dir;
  }

  private async latestVersion(instance: string): Promise<number> {
    const response = await request(`${this.config.endpoint}/api/v1/models/${instance}/get`, { headers: this.auth() });
    if (!response.ok) throw this.error(response, `kaggle://${instance}`);
    const version = ((await response.json()) as { versionNumber?: unknown }).versionNumber;
    if (!Number.isInteger(version)) throw new Error(`${response.url} answered without a versionNumber: is KAGGLE_API_ENDPOINT right?`);
    return version as number;
  }

  private async listFiles(instance: string, version: number, handle: string): Promise<{ name: string; size: number }[]> {
    const out: { name: string; size: number }[] = [];
    let token = "";
    do {
      const url = `${this.config.endpoint}/api/v1/models/${instance}/${version}/files?page_size=100${token ? `&page_token=${encodeURIComponent(token)}` : ""}`;
      const response = await request(url, { headers: this.auth() });
      if (!response.ok) throw this.error(response, handle);
      const body = (await response.json()) as { files?: { name?: unknown; size?: unknown }[]; nextPageToken?: unknown };
      if (!Array.isArray(body.files)) throw new Error(`${url} answered without a file list: is KAGGLE_API_ENDPOINT right?`);
      for (const f of body.files) out.push({ name: String(f.name), size: Number(f.size) || 0 });
      token = typeof body.nextPageToken === "string" ? body.nextPageToken : "";
    } while (token);
    return out;
  }

  /** Where a file's bytes are: the API redirects to Cloud Storage (a signed URL: no credentials go there). */
  private async fileUrl(api: string, handle: string): Promise<{ href: string; auth: Record<string, string> }> {
    const response = await request(api, { method: "GET", headers: this.auth() });
    await response.body?.cancel();
    if (isRedirect(response)) return { href: new URL(response.headers.get("location")!, api).href, auth: {} };
    if (!response.ok) throw this.error(response, handle);
    return { href: api, auth: this.auth() };
  }

  private auth(): Record<string, string> {
    return this.config.authorization ? { authorization: this.config.authorization } : {};
  }

  private error(response: Response, handle: string): Error {
    const [owner, model] = handle.slice("kaggle://".length).split("/");
    const page = `${this.config.endpoint}/models/${owner}/${model}`;
    const credentials = this.config.credentialsSource ? `the credentials from ${this.config.credentialsSource}` : null;
    const setUp = `set KAGGLE_USERNAME and KAGGLE_KEY (or ~/.kaggle/kaggle.json) from an API token (${this.config.endpoint}/settings, "Create New Token")`;
    switch (response.status) {
      case 401:
        return new Error(credentials ? `${handle}: Kaggle rejected ${credentials} (401): ${setUp}` : `${handle} needs Kaggle credentials (401): ${setUp}`);
      case 403:
        return new Error(
          `${handle}: access denied (403). The model may require accepting its licence: open ${page}, accept the terms with your Kaggle account${credentials ? ` (the one of ${credentials})` : `, then ${setUp}`}`,
        );
      case 404:
        return new Error(`${handle} was not found (404): check the owner, model, framework, variation and version on ${page}${credentials ? "" : ` (private models need credentials: ${setUp})`}`);
      default:
        return new Error(`${handle}: Kaggle answered ${response.status} ${response.statusText} for ${response.url}; try again later`);
    }
  }
}

/** The preset's files among the version's (`all`: also weights; `tokenizer`: config and tokenizer only). */
function select(files: { name: string; size: number }[], parts: PresetParts, handle: string): { name: string; size: number }[] {
  const names = new Set(files.map((f) => f.name));
  if (!names.has("config.json")) throw new Error(`${handle} has no config.json: not a KerasHub preset (files: ${[...names].slice(0, 8).join(", ")})`);
  const weights = WEIGHT_FILES.find((w) => names.has(w));
  if (parts === "all" && !weights) {
    const sharded = [...names].some((n) => /^model_\d+\.weights\.h5$/.test(n));
    throw new Error(`${handle} has no model.weights.h5 or model.safetensors${sharded ? " (its weights are sharded, which Edgebone does not read yet)" : ""}`);
  }
  return files.filter((f) => f.name === "config.json" || f.name === "metadata.json" || KERAS_TOKENIZER(f.name) || (parts === "all" && f.name === weights));
}

/** Cloud Storage's `x-goog-hash: crc32c=…,md5=…` (cloud.google.com/storage/docs/xml-api/reference-headers#xgooghash). */
function gcsMd5(response: Response): Digest | undefined {
  const md5 = /(?:^|,)\s*md5=([A-Za-z0-9+/=]+)/.exec(response.headers.get("x-goog-hash") ?? "")?.[1];
  return md5 ? { algorithm: "md5", base64: md5 } : undefined;
}
