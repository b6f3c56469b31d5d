/** HTTP plumbing the hub clients share: requests that never follow redirects by themselves, bounded parallelism. */

const USER_AGENT = "edgebone/0.1.0";

/** The hub could not be reached at all (DNS, refused, reset): callers may fall back to their cache. */
export class NetworkError extends Error {}

/** One request with `redirect: "manual"`, so a redirect's own headers (X-Linked-Etag, Location) stay readable. */
export async function request(url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: "manual", headers: { "user-agent": USER_AGENT, ...init.headers }, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new NetworkError(`cannot reach ${new URL(url).origin} (${cause?.code ?? cause?.message ?? (e as Error).message})`);
  }
}

export const isRedirect = (response: Response) => response.status >= 300 && response.status < 400 && response.headers.has("location");

/** Runs `fn` over `items`, at most `limit` at a time; the first failure rejects (the others still finish). */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
}

/** A leading `~` as the home directory (huggingface_hub expands it in its path variables). */
export function expandHome(path: string, home: string): string {
  return path === "~" || path.startsWith("~/") ? home + path.slice(1) : path;
}
