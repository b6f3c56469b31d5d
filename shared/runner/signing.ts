/**
 * Edge → runner request signatures: HMAC-SHA256 (WebCrypto, so it runs in workerd and Node) over
 *
 *   "edgebone-v1\n" METHOD "\n" path?query "\n" timestamp-ms "\n" nonce "\n" hex(sha256(body))
 *
 * sent as `x-edgebone-timestamp`, `x-edgebone-nonce`, `x-edgebone-signature` (hex). The verifier rejects
 * timestamps outside a window (stale or future) and nonces it has already seen inside that window, so a captured
 * request cannot be replayed. Several keys may verify at once (key rotation: add the new one, move the edge, drop
 * the old one).
 */
import { HEADERS } from "./protocol.js";

const encoder = new TextEncoder();

/** WebCrypto's CryptoKey (named through the global so the module needs neither DOM nor Node typings). */
export type SigningKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const SCHEME = "edgebone-v1";
/** Shorter secrets are refused: 32 characters of randomness is the least an HMAC-SHA256 key should have. */
export const MIN_KEY_LENGTH = 32;

export interface SignedHeaders {
  [HEADERS.timestamp]: string;
  [HEADERS.nonce]: string;
  [HEADERS.signature]: string;
}

export async function importSigningKey(secret: string): Promise<SigningKey> {
  if (secret.length < MIN_KEY_LENGTH) throw new Error(`signing key must be at least ${MIN_KEY_LENGTH} characters, got ${secret.length}`);
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>)));
}

function canonical(method: string, path: string, timestamp: string, nonce: string, bodyHash: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${SCHEME}\n${method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${bodyHash}`);
}

/** Headers that sign one request. `path` includes the query string, if any. */
export async function signRequest(key: SigningKey, method: string, path: string, body: Uint8Array | string = "", now = Date.now()): Promise<SignedHeaders> {
  const timestamp = String(Math.floor(now));
  const nonce = hex(crypto.getRandomValues(new Uint8Array(16)));
  const mac = await crypto.subtle.sign("HMAC", key, canonical(method, path, timestamp, nonce, await sha256Hex(body)));
  return { [HEADERS.timestamp]: timestamp, [HEADERS.nonce]: nonce, [HEADERS.signature]: hex(new Uint8Array(mac)) };
}

export interface VerifyOptions {
  /** Accepted clock difference either way, ms. */
  windowMs: number;
  now?: number;
  /** Remembers nonces; without it only the window limits replays. */
  nonces?: NonceCache;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Checks a request's signature headers (`header(name)` returns a header or null). */
export async function verifyRequest(
  keys: readonly SigningKey[],
  request: { method: string; path: string; header: (name: string) => string | null | undefined; body: Uint8Array },
  options: VerifyOptions,
): Promise<VerifyResult> {
  const timestamp = request.header(HEADERS.timestamp);
  const nonce = request.header(HEADERS.nonce);
  const signature = request.header(HEADERS.signature);
  if (!timestamp || !nonce || !signature) return { ok: false, reason: "request is not signed (x-edgebone-timestamp, -nonce and -signature are required)" };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: "x-edgebone-timestamp must be milliseconds since the epoch" };
  if (!/^[0-9a-f]{16,64}$/.test(nonce)) return { ok: false, reason: "x-edgebone-nonce must be 16-64 lowercase hex digits" };
  const mac = unhex(signature);
  if (!mac || mac.length !== 32) return { ok: false, reason: "x-edgebone-signature must be 64 hex digits" };
  const now = options.now ?? Date.now();
  const skew = now - Number(timestamp);
  if (Math.abs(skew) > options.windowMs) {
    return { ok: false, reason: `request timestamp is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? "old" : "in the future"}, outside the ${options.windowMs / 1000} s window` };
  }
  const data = canonical(request.method, request.path, timestamp, nonce, await sha256Hex(request.body));
  let valid = false;
  for (const key of keys) {
    // subtle.verify compares in constant time.
    if (await crypto.subtle.verify("HMAC", key, mac, data)) {
      valid = true;
      break;
    }
  }
  if (!valid) return { ok: false, reason: "signature does not match (wrong key, or the method, path, timestamp, nonce or body changed)" };
  if (options.nonces && !options.nonces.add(nonce, Number(timestamp) + options.windowMs, now)) {
    return { ok: false, reason: "nonce was already used (replayed request)" };
  }
  return { ok: true };
}

/**
 * Nonces seen inside the replay window, each kept until its request would be stale anyway. Bounded: past
 * `maxEntries` the oldest are dropped (their requests could then be replayed until the window closes; size the
 * bound above the peak request rate × 2 × window).
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 200_000) {}

  /** False when the nonce is already present (a replay). */
  add(nonce: string, expiresAt: number, now: number): boolean {
    const prior = this.seen.get(nonce);
    if (prior !== undefined && prior >= now) return false;
    this.seen.delete(nonce);
    this.prune(now);
    this.seen.set(nonce, expiresAt);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    // Insertion order ≈ expiry order (windows are equal), so expired entries sit at the front.
    for (const [nonce, expiresAt] of this.seen) {
      if (expiresAt >= now && this.seen.size < this.maxEntries) break;
      this.seen.delete(nonce);
    }
  }
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function unhex(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
