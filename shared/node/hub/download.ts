/**
 * One file from a hub's file host into a partial file, resumably and verified: an existing partial file is
 * continued with `Range: bytes=<have>-` (RFC 9110 §14), a connection cut mid-file is retried from where it
 * stopped, a server that ignores the range restarts the file, and the whole file's digest is checked before
 * it is handed over. The caller renames the partial file into the cache once `download` returns.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { FileProgress, Progress } from "./progress.js";

/** How a file's content is checked: Hugging Face LFS sha256, git blob sha1, or GCS's base64 MD5 (Kaggle). */
export type Digest = { algorithm: "sha256" | "git-sha1"; hex: string } | { algorithm: "md5"; base64: string };

export interface DownloadRequest {
  /** The file's name in progress lines and errors. */
  name: string;
  url: string;
  headers?: Record<string, string>;
  /** The partial file: continued from its size, complete and verified when `download` returns. */
  partial: string;
  /** Expected size, when the hub said (HF: X-Linked-Size); else the response's length. */
  size?: number;
  /** Expected digest, when known before the request; else read from each response (Kaggle's x-goog-hash). */
  digest?: Digest | ((response: Response) => Digest | undefined);
  progress: Progress;
}

/** A status the download cannot get past by retrying: the caller turns it into a message (auth, not found). */
export class HttpStatusError extends Error {
  constructor(readonly response: Response) {
    super(`${response.status} ${response.statusText} from ${response.url}`);
  }
}

const RETRIES = 5;
const IDLE_TIMEOUT_MS = 60_000;

export async function download(request: DownloadRequest): Promise<void> {
  await mkdir(dirname(request.partial), { recursive: true });
  let hasher: Hasher | null = null;
  let file: FileProgress | null = null;
  let size = request.size;
  let failures = 0;
  for (;;) {
    let have = await fileSize(request.partial);
    if (size !== undefined && have > size) have = await restart(request.partial);
    if (size !== undefined && have === size) break;
    let response: Response;
    const idle = new IdleTimeout(IDLE_TIMEOUT_MS);
    try {
      // identity: byte ranges and sizes are of the file itself, not of a compressed body.
      const headers = { ...request.headers, "accept-encoding": "identity", ...(have ? { range: `bytes=${have}-` } : {}) };
      response = await fetch(request.url, { headers, signal: idle.signal });
    } catch (e) {
      idle.clear();
      if (++failures > RETRIES) throw new Error(`${request.name}: ${reason(e)} (${RETRIES} retries)`);
      await backoff(failures);
      continue;
    }
    const discard = async () => {
      idle.clear();
      await response.body?.cancel();
    };
    if (response.status === 416 && have > 0) {
      // Our partial file is not a prefix the server can continue (the file changed, or it is complete but
      // its size was unknown): start over.
      await discard();
      await restart(request.partial);
      if (++failures > RETRIES) throw new HttpStatusError(response);
      continue;
    }
    if (response.status >= 500 || response.status === 429) {
      await discard();
      if (++failures > RETRIES) throw new HttpStatusError(response);
      await backoff(failures);
      continue;
    }
    if (response.status !== 200 && response.status !== 206) {
      await discard();
      throw new HttpStatusError(response);
    }
    if (response.status === 206 && rangeStart(response) !== have) {
      await discard();
      throw new Error(`${request.name}: asked for bytes from ${have}, ${request.url} answered ${response.headers.get("content-range")}`);
    }
    if (response.status === 200 && have > 0) have = await restart(request.partial); // the server ignored the range
    size ??= totalSize(response, have);
    const digest = typeof request.digest === "function" ? request.digest(response) : request.digest;
    if (digest && (!hasher || hasher.bytes !== have)) hasher = await Hasher.over(digest, request.partial, have, size);
    const progress = (file ??= request.progress.file(request.name, size ?? have, have));
    try {
      await append(request.partial, have, response, idle, (chunk) => {
        hasher?.update(chunk);
        progress.advance(chunk.byteLength);
      });
    } catch (e) {
      // A cut connection: what arrived is kept, the next attempt continues from there.
      if (++failures > RETRIES) throw new Error(`${request.name}: ${reason(e)} (${RETRIES} retries)`);
      await backoff(failures);
      continue;
    } finally {
      idle.clear();
    }
    const now = await fileSize(request.partial);
    if (size === undefined || now === size) break;
    if (++failures > RETRIES) throw new Error(`${request.name}: the file host sent ${now} of ${size} bytes (${RETRIES} retries)`);
  }
  file?.done();
  const digest = typeof request.digest === "function" ? undefined : request.digest;
  hasher ??= digest ? await Hasher.over(digest, request.partial, await fileSize(request.partial), size) : null;
  if (hasher && !hasher.matches()) {
    await rm(request.partial, { force: true });
    throw new Error(`${request.name}: the downloaded file's ${hasher.describe()} (the partial download is deleted; run again to download it afresh)`);
  }
}

/** Streams the body onto the end of the partial file (which holds `have` bytes). */
async function append(path: string, have: number, response: Response, idle: IdleTimeout, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const handle = await open(path, have ? "r+" : "w");
  try {
    let at = have;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      idle.reset();
      await handle.write(chunk, 0, chunk.byteLength, at);
      at += chunk.byteLength;
      onChunk(chunk);
    }
  } finally {
    await handle.close();
  }
}

/** An incremental digest; resumed downloads first hash the bytes already on disk. */
class Hasher {
  bytes = 0;
  private constructor(
    private readonly digest: Digest,
    private readonly hash: Hash,
  ) {}

  static async over(digest: Digest, path: string, have: number, size: number | undefined): Promise<Hasher> {
    const hasher = new Hasher(digest, createHash(digest.algorithm === "git-sha1" ? "sha1" : digest.algorithm));
    if (digest.algorithm === "git-sha1") {
      // A git blob id is sha1("blob <size>\0" + content) (git-scm.com/book/en/v2/Git-Internals-Git-Objects).
      if (size === undefined) throw new Error("internal: a git blob digest needs the file size");
      hasher.hash.update(`blob ${size}\0`);
    }
    if (have > 0) for await (const chunk of createReadStream(path, { start: 0, end: have - 1 })) hasher.update(chunk as Buffer);
    return hasher;
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
  }

  private actual: string | null = null;
  private get value(): string {
    this.actual ??= this.hash.digest(this.digest.algorithm === "md5" ? "base64" : "hex");
    return this.actual;
  }

  matches(): boolean {
    return this.value === (this.digest.algorithm === "md5" ? this.digest.base64 : this.digest.hex);
  }

  describe(): string {
    const expected = this.digest.algorithm === "md5" ? this.digest.base64 : this.digest.hex;
    return `${this.digest.algorithm} is ${this.value}, expected ${expected}`;
  }
}

class IdleTimeout {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;
  readonly signal = this.controller.signal;

  constructor(ms: number) {
    this.timer = setTimeout(() => this.controller.abort(new Error(`no data for ${ms / 1000} s`)), ms);
  }

  reset(): void {
    this.timer.refresh();
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

function rangeStart(response: Response): number | null {
  const match = /^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "");
  return match ? Number(match[1]) : null;
}

function totalSize(response: Response, have: number): number | undefined {
  const total = /\/(\d+)$/.exec(response.headers.get("content-range") ?? "")?.[1];
  if (total) return Number(total);
  const length = response.headers.get("content-length");
  return length === null ? undefined : have + Number(length);
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw e;
  }
}

async function restart(path: string): Promise<number> {
  await rm(path, { force: true });
  return 0;
}

function reason(e: unknown): string {
  const error = e as Error & { cause?: Error & { code?: string } };
  return error.cause?.code ? `${error.message} (${error.cause.code})` : (error.cause?.message ?? error.message);
}

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** (attempt - 1))));
