/** Errors the runner answers with: each carries the protocol's error code (and so its HTTP status). */
import { InputError } from "../shared/node/index.js";
import { ERROR_STATUS, ProtocolError, type ErrorBody, type ErrorCode } from "../shared/runner/protocol.js";
import { StoreUnavailableError } from "./object-store.js";

export class ServeError extends Error {
  override name = "ServeError";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Any error → code + one-line message; unexpected errors are `internal` (and worth logging). */
export function toErrorBody(e: unknown): ErrorBody & { status: number; unexpected: boolean } {
  const message = (e as Error)?.message?.split("\n")[0] ?? String(e);
  const known = (code: ErrorCode) => ({ error: message, code, status: ERROR_STATUS[code], unexpected: false });
  if (e instanceof ServeError) return known(e.code);
  if (e instanceof InputError || e instanceof ProtocolError) return known("bad_request");
  if (e instanceof StoreUnavailableError) return known("store_unavailable");
  return { error: `internal error: ${message}`, code: "internal", status: 500, unexpected: true };
}

/**
 * Waits for `work` until `deadline` (epoch ms); then fails with a 504 naming the stage. `late` receives the
 * result if it arrives after the caller gave up (to release what it holds).
 */
export async function beforeDeadline<T>(work: Promise<T>, deadline: number, stage: string, late?: (value: T) => void): Promise<T> {
  let outcome: "pending" | "done" | "expired" = "pending";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (outcome !== "pending") return;
      outcome = "expired";
      reject(new ServeError("timeout", `request timed out while ${stage}`));
    }, Math.max(0, deadline - Date.now()));
  });
  const tracked = work.then(
    (value) => {
      if (outcome === "pending") outcome = "done";
      else late?.(value);
      return value;
    },
    (e) => {
      if (outcome === "pending") outcome = "done";
      throw e;
    },
  );
  tracked.catch(() => {}); // after expiry nobody awaits it
  try {
    return await Promise.race([tracked, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
