/**
 * Where presets and adapters come from: a local directory (default), an S3-compatible bucket (R2 in
 * production) through aws4fetch, or the edge's bucket through its signed internal route. All stream downloads,
 * so a multi-GB model goes to the disk cache without being held in memory, and all implement the shared
 * `ObjectStore` (bytes get/put) the edge also uses.
 */
import { createReadStream } from "node:fs";
import { copyFile, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { AwsClient } from "aws4fetch";
import { isObjectKey, type ObjectStore } from "../shared/runner/layout.js";
import { importSigningKey, signRequest, type SigningKey } from "../shared/runner/signing.js";
import type { RunnerConfig } from "./config.js";

export interface ObjectStream {
  body: AsyncIterable<Uint8Array>;
  /** From the store's metadata, when it has one (checked against the record before downloading). */
  size: number | null;
}

export interface RunnerStore extends ObjectStore {
  /** A streaming read; null when the object does not exist. */
  open(key: string, signal?: AbortSignal): Promise<ObjectStream | null>;
  /** Stores a local file as an object (a directory store copies it: checkpoints of any size). */
  putFile?(key: string, path: string): Promise<void>;
}

/** The store could not be reached or failed (not: the object is missing). Retryable on another runner. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

function checkKey(key: string): void {
  if (!isObjectKey(key)) throw new Error(`invalid object key "${key}"`);
}

/** `get` (whole object) in terms of each store's streaming `open`. */
abstract class StreamingStore implements RunnerStore {
  abstract readonly description: string;
  abstract open(key: string, signal?: AbortSignal): Promise<ObjectStream | null>;
  abstract put(key: string, bytes: Uint8Array): Promise<void>;

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | null> {
    const stream = await this.open(key, signal);
    return stream && readAll(stream.body, signal);
  }

  /** Through one buffer (at most 2 GiB, Node's readFile limit) where a store has no streaming upload. */
  async putFile(key: string, path: string): Promise<void> {
    await this.put(key, await readFile(path));
  }
}

export class LocalDirStore extends StreamingStore {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    super();
    this.root = resolve(root);
    this.description = `local directory ${this.root}`;
  }

  private path(key: string): string {
    checkKey(key);
    const path = join(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`invalid object key "${key}"`);
    return path;
  }

  async open(key: string): Promise<ObjectStream | null> {
    const path = this.path(key);
    const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT" || e.code === "ENOTDIR") return null;
      throw new StoreUnavailableError(`${this.description}: cannot read ${key} (${e.code ?? e.message})`);
    });
    if (!info || !info.isFile()) return null;
    return { body: createReadStream(path), size: info.size };
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.replace(key, (tmp) => writeFile(tmp, bytes));
  }

  override async putFile(key: string, path: string): Promise<void> {
    await this.replace(key, (tmp) => copyFile(path, tmp));
  }

  /** Writes a temporary file, then renames it over the object: readers never see a partial object. */
  private async replace(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await write(tmp);
    await rename(tmp, path);
  }
}

export interface S3Options {
  /** `https://<account id>.r2.cloudflarestorage.com` for R2; `https://s3.<region>.amazonaws.com` for AWS. */
  endpoint: string;
  bucket: string;
  /** Key prefix inside the bucket (no leading or trailing slash). */
  prefix?: string;
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  fetch?: typeof fetch;
}

/** S3 API (path-style URLs, SigV4 by aws4fetch): R2, AWS S3, MinIO. */
export class S3Store extends StreamingStore {
  readonly description: string;
  private readonly client: AwsClient;
  private readonly base: string;
  private readonly prefix: string;
  private readonly fetcher: typeof fetch;

  constructor(options: S3Options) {
    super();
    this.client = new AwsClient({ accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, service: "s3", region: options.region ?? "auto", retries: 2 });
    this.base = `${options.endpoint.replace(/\/+$/, "")}/${encodeURIComponent(options.bucket)}`;
    this.prefix = options.prefix ? `${options.prefix.replace(/^\/+|\/+$/g, "")}/` : "";
    this.description = `s3://${options.bucket}/${this.prefix} at ${options.endpoint}`;
    this.fetcher = options.fetch ?? fetch;
  }

  url(key: string): string {
    checkKey(key);
    return `${this.base}/${`${this.prefix}${key}`.split("/").map(encodeURIComponent).join("/")}`;
  }

  private async send(method: string, key: string, body?: Uint8Array, signal?: AbortSignal): Promise<Response> {
    const request = await this.client.sign(this.url(key), { method, ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}), ...(signal ? { signal } : {}) });
    try {
      return await this.fetcher(request);
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new StoreUnavailableError(`${this.description}: ${method} ${key} failed (${(e as Error).message})`);
    }
  }

  async open(key: string, signal?: AbortSignal): Promise<ObjectStream | null> {
    return objectStream(this.description, key, await this.send("GET", key, undefined, signal));
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const response = await this.send("PUT", key, bytes);
    if (!response.ok) throw new StoreUnavailableError(`${this.description}: PUT ${key} returned ${response.status}`);
    await response.body?.cancel();
  }
}

/** A GET's response as a stream: null on 404, StoreUnavailableError on any other failure. */
async function objectStream(description: string, key: string, response: Response): Promise<ObjectStream | null> {
  if (response.status === 404) {
    await response.body?.cancel();
    return null;
  }
  if (!response.ok || !response.body) {
    const text = (await response.text().catch(() => "")).slice(0, 200).replace(/\s+/g, " ");
    throw new StoreUnavailableError(`${description}: GET ${key} returned ${response.status}${text ? ` (${text})` : ""}`);
  }
  const length = response.headers.get("content-length");
  return { body: Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>), size: length === null ? null : Number(length) };
}

/**
 * The edge's bucket read through the worker's signed `GET /internal/objects/<key>` (workers/internal-objects.ts),
 * signed like the edge's own requests. For runners that cannot reach R2's S3 API — above all `npm start`, whose
 * R2 is wrangler dev's local simulation. Read-only: the edge writes the bucket.
 */
export class EdgeStore extends StreamingStore {
  readonly description: string;
  private readonly base: string;
  private readonly key: Promise<SigningKey>;
  private readonly fetcher: typeof fetch;

  constructor(url: string, signingKey: string, fetcher: typeof fetch = fetch) {
    super();
    this.base = url.replace(/\/+$/, "");
    this.description = `edge bucket at ${this.base}`;
    this.key = importSigningKey(signingKey);
    this.fetcher = fetcher;
  }

  async open(key: string, signal?: AbortSignal): Promise<ObjectStream | null> {
    checkKey(key);
    const url = new URL(`${this.base}/${key.split("/").map(encodeURIComponent).join("/")}`);
    const headers = await signRequest(await this.key, "GET", url.pathname + url.search);
    let response: Response;
    try {
      response = await this.fetcher(url, { headers: { ...headers }, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new StoreUnavailableError(`${this.description}: GET ${key} failed (${(e as Error).message})`);
    }
    return objectStream(this.description, key, response);
  }

  async put(key: string): Promise<void> {
    throw new Error(`${this.description} is read-only (cannot write ${key}): the edge writes its bucket`);
  }
}

async function readAll(body: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    signal?.throwIfAborted();
    chunks.push(chunk);
    total += chunk.byteLength;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * `RUNNER_STORE`: `s3://bucket[/prefix]` (endpoint and keys from the S3 settings), an edge's
 * `http(s)://…/internal/objects` (read with the first signing key), or a directory.
 */
export function storeFromConfig(config: Pick<RunnerConfig, "store" | "s3"> & { signingKeys?: string[] }): RunnerStore {
  if (/^https?:\/\//.test(config.store)) {
    if (!config.signingKeys?.length) throw new Error(`RUNNER_STORE ${config.store} needs RUNNER_SIGNING_KEY (the edge checks the signature)`);
    return new EdgeStore(config.store, config.signingKeys[0]);
  }
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(config.store);
  if (!m) return new LocalDirStore(config.store);
  const { endpoint, accessKeyId, secretAccessKey, region } = config.s3;
  if (!endpoint) throw new Error(`RUNNER_STORE ${config.store} needs RUNNER_S3_ENDPOINT (R2: https://<account id>.r2.cloudflarestorage.com)`);
  if (!accessKeyId || !secretAccessKey) throw new Error(`RUNNER_STORE ${config.store} needs RUNNER_S3_ACCESS_KEY_ID and RUNNER_S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)`);
  return new S3Store({ endpoint, bucket: m[1], prefix: m[2], region, accessKeyId, secretAccessKey });
}
