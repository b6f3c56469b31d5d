/**
 * Pool discovery: runners announce themselves to the edge with signed heartbeats (the same HMAC scheme as the
 * edge's requests to them, shared/runner/signing.ts), so runners can join and leave without redeploying the
 * worker. The edge keeps each announced URL until its heartbeats stop for longer than its TTL, or until the
 * runner says it is draining; its pool is that membership plus the static RUNNER_URLS.
 */
import { z } from "zod";

/** Edge route runners POST their heartbeat to. */
export const HEARTBEAT_PATH = "/internal/runners";

/** `http(s)://host[:port]`, no path: what the pool client accepts as a runner. */
export const RUNNER_URL = /^https?:\/\/[^/?#\s]+$/;

export const heartbeatSchema = z
  .object({
    /** Where the edge reaches this runner (its pod or host address, not 0.0.0.0). */
    url: z.string().max(256).regex(RUNNER_URL, "must be http(s)://host[:port] without a path"),
    /** The runner's id (x-edgebone-runner), for logs and listings. */
    runner: z.string().min(1).max(128),
    /** `draining`: leaving now; the edge drops it at once instead of waiting for the TTL. */
    state: z.enum(["ready", "draining"]),
  })
  .strict();
export type Heartbeat = z.infer<typeof heartbeatSchema>;
