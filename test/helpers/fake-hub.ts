/**
 * A Hugging Face Hub and a Kaggle Models API on loopback, written from their public API descriptions (not from
 * the clients under test), with their file hosts on a second port (a different origin, like the real CDNs):
 *
 * Hugging Face (huggingface.co/docs/hub/api, huggingface_hub's file_download.py / utils/_http.py):
 * - `GET /api/models/{org}/{name}/revision/{rev}` → `{id, sha, siblings: [{rfilename}]}`.
 * - `HEAD|GET /{org}/{name}/resolve/{rev}/{path}`: a git file answers 200 with `ETag: "<git blob sha1>"`; an
 *   LFS file (weights, SentencePiece models) answers 302 to the file host with `X-Linked-Etag: "<sha256>"`,
 *   `X-Linked-Size`; both carry `X-Repo-Commit`. Errors carry `X-Error-Code` (RepoNotFound, GatedRepo,
 *   RevisionNotFound, EntryNotFound) and `X-Error-Message`; a repo unknown to an anonymous caller is a 401.
 * Kaggle (kagglesdk model_api_service.py): `/api/v1/models/{owner}/{model}/{framework}/{instance}/get`,
 * `…/{version}/files` (two files per page), `…/{version}/download/{path}` → 302 to the file host, which answers
 * with `x-goog-hash: crc32c=…,md5=…` as Cloud Storage does.
 * The file host honours `Range: bytes=N-` (206, `Content-Range`; 416 past the end). Faults can be injected
 * per file name: cut the connection after some bytes, or flip one byte.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface HubRequest {
  server: "hub" | "files";
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

export interface HfRepo {
  /** Commits, oldest first; `refs` names them (default: `main` → the last). */
  commits: { sha: string; files: Record<string, Uint8Array | string> }[];
  refs?: Record<string, string>;
  /** Gated: files need a token listed in `access`. Private: the repo itself does too. */
  gated?: boolean;
  private?: boolean;
  access?: string[];
}

export interface KaggleInstance {
  /** Versions by number. */
  versions: Record<number, Record<string, Uint8Array | string>>;
  /** Kaggle usernames that accepted the model's licence (absent: not gated). */
  consented?: string[];
}

interface Fault {
  kind: "cut" | "corrupt";
  at: number;
  times: number;
}

const enc = new TextEncoder();
const bytesOf = (b: Uint8Array | string) => (typeof b === "string" ? enc.encode(b) : b);
const isLfs = (path: string) => /\.(safetensors|model|h5|bin)$/.test(path);
export const gitBlobSha1 = (b: Uint8Array) => createHash("sha1").update(`blob ${b.byteLength}\0`).update(b).digest("hex");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

export class FakeHub {
  readonly requests: HubRequest[] = [];
  readonly hf = new Map<string, HfRepo>();
  readonly kaggle = new Map<string, KaggleInstance>();
  /** Kaggle credentials: username → key. */
  readonly kaggleUsers = new Map<string, string>();
  /** Hugging Face tokens the Hub accepts (repos grant access with `access`). */
  readonly hfTokens = new Set<string>();
  private readonly faults = new Map<string, Fault>();
  private blobs = new Map<string, Uint8Array>();

  private constructor(
    private readonly hub: Server,
    private readonly files: Server,
  ) {}

  static async start(): Promise<FakeHub> {
    const hub = createServer();
    const files = createServer();
    const fake = new FakeHub(hub, files);
    hub.on("request", (req, res) => fake.onHub(req, res));
    files.on("request", (req, res) => fake.onFiles(req, res));
    await Promise.all([hub, files].map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r))));
    return fake;
  }

  /** What HF_ENDPOINT / KAGGLE_API_ENDPOINT point at. */
  get url(): string {
    return `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
  }

  private get filesUrl(): string {
    return `http://127.0.0.1:${(this.files.address() as AddressInfo).port}`;
  }

  /** The next `times` downloads of `file` from the file host break: cut after `at` bytes, or flip byte `at`. */
  fault(file: string, kind: Fault["kind"], at: number, times = 1): void {
    this.faults.set(file, { kind, at, times });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Requests that moved file bytes: GETs of resolve URLs answered directly, and every file-host GET. */
  downloads(): HubRequest[] {
    return this.requests.filter((r) => r.method === "GET" && (r.server === "files" || (r.path.includes("/resolve/") && !isLfs(r.path))));
  }

  close(): Promise<void> {
    const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));
    this.hub.closeAllConnections();
    this.files.closeAllConnections();
    return Promise.all([close(this.hub), close(this.files)]).then(() => undefined);
  }

  private record(server: HubRequest["server"], req: IncomingMessage): URL {
    const url = new URL(req.url!, "http://x");
    this.requests.push({ server, method: req.method!, path: url.pathname, range: req.headers.range, authorization: req.headers.authorization });
    return url;
  }

  private onHub(req: IncomingMessage, res: ServerResponse): void {
    const url = this.record("hub", req);
    const path = decodeURIComponent(url.pathname);
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(path))) return this.hfInfo(req, res, m[1], m[2]);
    if ((m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path))) return this.hfResolve(req, res, m[1], m[2], m[3]);
    if ((m = /^\/api\/v1\/models\/([^/]+\/[^/]+\/[^/]+\/[^/]+)\/get$/.exec(path))) return this.kaggleGet(req, res, m[1]);
    if ((m = /^\/api\/v1\/models\/([^/]+\/[^/]+\/[^/]+\/[^/]+)\/(\d+)\/files$/.exec(path))) return this.kaggleFiles(req, res, m[1], Number(m[2]), url);
    if ((m = /^\/api\/v1\/models\/([^/]+\/[^/]+\/[^/]+\/[^/]+)\/(\d+)\/download\/(.+)$/.exec(path))) return this.kaggleDownload(req, res, m[1], Number(m[2]), m[3]);
    res.writeHead(404).end("not found");
  }

  // ---- Hugging Face ----

  private hfToken(req: IncomingMessage): string | null {
    return /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? null;
  }

  /** The repo the caller may see, or an error already sent. */
  private hfRepo(req: IncomingMessage, res: ServerResponse, id: string, files: boolean): HfRepo | null {
    const repo = this.hf.get(id);
    const token = this.hfToken(req);
    const allowed = token !== null && (repo?.access ?? []).includes(token);
    if (token !== null && !this.hfTokens.has(token)) {
      this.hfError(res, 401, "", "Invalid credentials in Authorization header");
      return null;
    }
    if (!repo || (repo.private && !allowed)) {
      this.hfError(res, token ? 404 : 401, "RepoNotFound", "Repository not found");
      return null;
    }
    if (files && repo.gated && !allowed) {
      if (token) this.hfError(res, 403, "GatedRepo", `Access to model ${id} is restricted and you are not in the authorized list. Visit https://huggingface.co/${id} to ask for access.`);
      else this.hfError(res, 401, "GatedRepo", `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      return null;
    }
    return repo;
  }

  private hfError(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { ...(code ? { "x-error-code": code } : {}), "x-error-message": message, "content-type": "application/json" }).end(JSON.stringify({ error: message }));
  }

  private hfCommit(repo: HfRepo, rev: string) {
    const sha = repo.refs?.[rev] ?? (rev === "main" ? repo.commits.at(-1)!.sha : rev);
    return repo.commits.find((c) => c.sha === sha) ?? null;
  }

  private hfInfo(req: IncomingMessage, res: ServerResponse, id: string, rev: string): void {
    const repo = this.hfRepo(req, res, id, false);
    if (!repo) return;
    const commit = this.hfCommit(repo, rev);
    if (!commit) return this.hfError(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({ id, modelId: id, sha: commit.sha, gated: repo.gated ? "manual" : false, private: !!repo.private, siblings: Object.keys(commit.files).map((rfilename) => ({ rfilename })) }),
    );
  }

  private hfResolve(req: IncomingMessage, res: ServerResponse, id: string, rev: string, path: string): void {
    const repo = this.hfRepo(req, res, id, true);
    if (!repo) return;
    const commit = this.hfCommit(repo, rev);
    if (!commit) return this.hfError(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
    const file = commit.files[path];
    if (file === undefined) {
      res.setHeader("x-repo-commit", commit.sha);
      return this.hfError(res, 404, "EntryNotFound", `${path} does not exist on "${rev}"`);
    }
    const bytes = bytesOf(file);
    if (isLfs(path)) {
      const oid = sha256(bytes);
      this.blobs.set(oid, bytes);
      res
        .writeHead(302, {
          location: `${this.filesUrl}/lfs/${oid}?file=${encodeURIComponent(path)}&X-Amz-Signature=fake`,
          "x-linked-etag": `"${oid}"`,
          "x-linked-size": String(bytes.byteLength),
          etag: `"${gitBlobSha1(enc.encode(`version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${bytes.byteLength}\n`))}"`,
          "x-repo-commit": commit.sha,
        })
        .end();
      return;
    }
    const headers = { etag: `W/"${gitBlobSha1(bytes)}"`, "x-repo-commit": commit.sha };
    if (req.method === "HEAD") return void res.writeHead(200, { ...headers, "content-length": String(bytes.byteLength) }).end();
    this.send(req, res, path, bytes, headers);
  }

  // ---- Kaggle ----

  /** The instance the caller may download, or an error already sent. */
  private kaggleInstance(req: IncomingMessage, res: ServerResponse, id: string): { instance: KaggleInstance; user: string | null } | null {
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    let user: string | null = null;
    if (basic) {
      const [name, key] = Buffer.from(basic, "base64").toString().split(":");
      if (this.kaggleUsers.get(name) !== key) {
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ code: 401, message: "Unauthenticated" }));
        return null;
      }
      user = name;
    }
    const instance = this.kaggle.get(id);
    if (!instance) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ code: 404, message: "Not found" }));
      return null;
    }
    if (instance.consented && !(user && instance.consented.includes(user))) {
      res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ code: 403, message: "Permission 'models.get' was denied" }));
      return null;
    }
    return { instance, user };
  }

  private kaggleGet(req: IncomingMessage, res: ServerResponse, id: string): void {
    const found = this.kaggleInstance(req, res, id);
    if (!found) return;
    const [owner, model, framework, slug] = id.split("/");
    const versionNumber = Math.max(...Object.keys(found.instance.versions).map(Number));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ownerSlug: owner, modelSlug: model, framework, slug, versionNumber }));
  }

  private kaggleFiles(req: IncomingMessage, res: ServerResponse, id: string, version: number, url: URL): void {
    const found = this.kaggleInstance(req, res, id);
    if (!found) return;
    const files = found.instance.versions[version];
    if (!files) return void res.writeHead(404).end(JSON.stringify({ code: 404, message: "Not found" }));
    const names = Object.keys(files).sort();
    const start = Number(url.searchParams.get("page_token") || 0);
    const page = names.slice(start, start + 2);
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        files: page.map((name) => ({ name, size: bytesOf(files[name]).byteLength, creationDate: "2024-02-21T00:00:00Z" })),
        nextPageToken: start + 2 < names.length ? String(start + 2) : "",
      }),
    );
  }

  private kaggleDownload(req: IncomingMessage, res: ServerResponse, id: string, version: number, path: string): void {
    const found = this.kaggleInstance(req, res, id);
    if (!found) return;
    const file = found.instance.versions[version]?.[path];
    if (file === undefined) return void res.writeHead(404).end(JSON.stringify({ code: 404, message: "Not found" }));
    const key = `kaggle/${id}/${version}/${path}`;
    this.blobs.set(key, bytesOf(file));
    res.writeHead(302, { location: `${this.filesUrl}/gcs/${key}?X-Goog-Signature=fake` }).end();
  }

  // ---- the file host ----

  private onFiles(req: IncomingMessage, res: ServerResponse): void {
    const url = this.record("files", req);
    const key = url.pathname.startsWith("/lfs/") ? url.pathname.slice(5) : decodeURIComponent(url.pathname.slice(5));
    const bytes = this.blobs.get(key);
    if (!bytes || !/^\/(lfs|gcs)\//.test(url.pathname)) return void res.writeHead(404).end("NoSuchKey");
    const name = url.searchParams.get("file") ?? key.split("/").slice(6).join("/");
    const headers: Record<string, string> = {};
    if (url.pathname.startsWith("/gcs/")) headers["x-goog-hash"] = `crc32c=AAAAAA==,md5=${createHash("md5").update(bytes).digest("base64")}`;
    this.send(req, res, name, bytes, headers);
  }

  /** File bytes with range support, through the faults injected for `name`. */
  private send(req: IncomingMessage, res: ServerResponse, name: string, bytes: Uint8Array, extra: Record<string, string>): void {
    const headers: Record<string, string> = { ...extra, "accept-ranges": "bytes", "content-type": "application/octet-stream" };
    let start = 0;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (range) {
      start = Number(range[1]);
      if (start >= bytes.byteLength) return void res.writeHead(416, { ...headers, "content-range": `bytes */${bytes.byteLength}` }).end();
      headers["content-range"] = `bytes ${start}-${bytes.byteLength - 1}/${bytes.byteLength}`;
    }
    let body = Buffer.from(bytes.subarray(start));
    res.writeHead(range ? 206 : 200, { ...headers, "content-length": String(body.byteLength) });
    const fault = this.faults.get(name);
    if (fault && fault.times > 0) {
      fault.times--;
      if (fault.kind === "corrupt" && fault.at >= start) {
        body = Buffer.from(body);
        body[fault.at - start] ^= 0xff;
      } else if (fault.kind === "cut" && fault.at > start) {
        // The connection dies a while after the bytes went out, as a real cut does: a body stream that errors drops
        // the chunks its reader has not taken yet (WHATWG streams), so an immediate cut could lose them all
        res.write(body.subarray(0, fault.at - start), () => setTimeout(() => res.destroy(), 250));
        return;
      }
    }
    res.end(body);
  }
}
