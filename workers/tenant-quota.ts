/**
 * `TenantQuota`: the Durable Object that enforces one tenant's quota (one object per tenant, named by its id), so
 * every isolate in every location asks the same counter and concurrent requests cannot overrun it. It holds:
 *
 * - requests per second: a token bucket (capacity one second's worth, refilled continuously), in memory; a
 *   restarted object starts full, as an idle tenant's bucket would be;
 * - tokens per UTC day: the day's settled tokens and the reservations of requests in flight, in the object's
 *   SQLite storage. A request reserves its tokens before inference (`admit`) and settles them after (`settle`,
 *   0 when it failed). A reservation never settled (its request died) is released after `RESERVATION_TTL_MS`.
 *   The day starts from D1's `usage` row (the record, workers/inference.ts), so a new or wiped object, or a limit
 *   set in the middle of a day, counts what the tenant already used.
 *
 * Times come from the caller (`now`, ms): the worker's clock, which tests can set.
 */
import { DurableObject, type DurableObjectStateLike } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { SingleFlight } from "../shared/cache/single-flight.js";
import * as schema from "./db/schema.js";
import type { Env } from "./env.js";
import { utcDay } from "./quota.js";

/** A reservation not settled within this long belongs to a request that died: its tokens are released. */
export const RESERVATION_TTL_MS = 5 * 60_000;

type QuotaLimit = "requests_per_second" | "tokens_per_day";

export interface AdmitRequest {
  tenantId: string;
  now: number;
  /** The request's tokens (padding excluded). */
  tokens: number;
  /** Effective limits; null: none. */
  requestsPerSecond: number | null;
  tokensPerDay: number | null;
}

export type Admission =
  | { ok: true; reservation: string; day: string }
  | { ok: false; limit: QuotaLimit; retryAfterS: number; message: string };

const DAY_MS = 86_400_000;

export class TenantQuota extends DurableObject<Env> {
  private bucket = { tokens: 0, at: Number.NEGATIVE_INFINITY };
  private readonly seeding = new SingleFlight<void>();

  constructor(ctx: DurableObjectStateLike, env: Env) {
    super(ctx, env);
    this.sql(`CREATE TABLE IF NOT EXISTS days (day TEXT PRIMARY KEY, used INTEGER NOT NULL)`);
    this.sql(`CREATE TABLE IF NOT EXISTS reservations (id TEXT PRIMARY KEY, day TEXT NOT NULL, tokens INTEGER NOT NULL, expires INTEGER NOT NULL)`);
  }

  /** Admits one inference request of `tokens` tokens, reserving them, or says which limit refuses it. */
  async admit(r: AdmitRequest): Promise<Admission> {
    const day = utcDay(r.now);
    if (!this.sql(`SELECT day FROM days WHERE day = ?`, day).length) await this.seeding.run(day, () => this.seed(r.tenantId, day));
    // From here on nothing awaits: the check and the reservation are one step, whatever else arrives meanwhile.
    const refusal = this.takeRequest(r) ?? this.checkTokens(r, day);
    if (refusal) return refusal;
    const reservation = crypto.randomUUID();
    this.sql(`INSERT INTO reservations (id, day, tokens, expires) VALUES (?, ?, ?, ?)`, reservation, day, r.tokens, r.now + RESERVATION_TTL_MS);
    return { ok: true, reservation, day };
  }

  /** Ends a reservation: `tokens` (what the request used, 0 if it failed) count for the reservation's day. */
  settle(reservation: string, day: string, tokens: number): void {
    this.sql(`DELETE FROM reservations WHERE id = ?`, reservation);
    if (tokens > 0) this.sql(`UPDATE days SET used = used + ? WHERE day = ?`, tokens, day);
  }

  /** The day's row from D1's record; older days and their reservations go. */
  private async seed(tenantId: string, day: string): Promise<void> {
    const db = drizzle(this.env.DB as never, { schema });
    const rows = await db.select({ tokens: schema.usage.tokens }).from(schema.usage).where(and(eq(schema.usage.tenantId, tenantId), eq(schema.usage.day, day)));
    this.sql(`INSERT OR IGNORE INTO days (day, used) VALUES (?, ?)`, day, rows[0]?.tokens ?? 0);
    this.sql(`DELETE FROM days WHERE day < ?`, day);
    this.sql(`DELETE FROM reservations WHERE day < ?`, day);
  }

  /** Takes one request from the bucket, or refuses with the wait for the next one. */
  private takeRequest({ now, requestsPerSecond: rate }: AdmitRequest): Admission | null {
    if (rate === null) return null;
    const elapsedS = Math.max(0, now - this.bucket.at) / 1000;
    this.bucket = { tokens: Math.min(rate, this.bucket.tokens + elapsedS * rate), at: now };
    if (this.bucket.tokens < 1) {
      const retryAfterS = Math.max(1, Math.ceil((1 - this.bucket.tokens) / rate));
      return { ok: false, limit: "requests_per_second", retryAfterS, message: `this tenant's limit of ${rate} requests per second is reached; retry in ${retryAfterS} s` };
    }
    this.bucket.tokens -= 1;
    return null;
  }

  /** Refuses a request whose tokens do not fit what is left of the day's budget (settled and reserved). */
  private checkTokens({ now, tokens, tokensPerDay: limit }: AdmitRequest, day: string): Admission | null {
    this.sql(`DELETE FROM reservations WHERE expires <= ?`, now);
    if (limit === null) return null;
    const used = this.sql<{ used: number }>(`SELECT used FROM days WHERE day = ?`, day)[0]?.used ?? 0;
    const reserved = this.sql<{ n: number }>(`SELECT COALESCE(SUM(tokens), 0) AS n FROM reservations WHERE day = ?`, day)[0].n;
    if (used + reserved + tokens <= limit) return null;
    // Only requests in flight stand in the way: they may release their tokens soon. Otherwise, tomorrow (UTC).
    const untilMidnightS = Math.ceil((DAY_MS - (now % DAY_MS)) / 1000);
    const retryAfterS = used + tokens <= limit ? 1 : untilMidnightS;
    const left = Math.max(0, limit - used - reserved);
    const why =
      tokens > limit
        ? `this request's ${tokens} tokens exceed this tenant's whole daily budget of ${limit} tokens`
        : `this request's ${tokens} tokens exceed what is left of this tenant's daily budget (${left} of ${limit} tokens${reserved ? `, ${reserved} more reserved by requests in flight` : ""})`;
    return { ok: false, limit: "tokens_per_day", retryAfterS, message: `${why}; the budget renews at 00:00 UTC${retryAfterS === 1 ? "; retry in 1 s" : ` (in ${retryAfterS} s)`}` };
  }

  private sql<T = Record<string, unknown>>(query: string, ...bindings: unknown[]): T[] {
    return this.ctx.storage.sql.exec<T>(query, ...bindings).toArray();
  }
}
