/**
 * The part of `cloudflare:test` / `cloudflare:workers` (as @cloudflare/vitest-pool-workers provides them in
 * workerd) the worker tests use. The project has no global workers-types, so these are declared structurally
 * here (workers/cloudflare-workers.d.ts declares the rest of `cloudflare:workers`).
 */
declare module "cloudflare:workers" {
  export interface D1PreparedStatementLike {
    bind(...values: unknown[]): D1PreparedStatementLike;
    all<T = Record<string, unknown>>(): Promise<{ results: T[] }>;
    run(): Promise<unknown>;
    first<T = Record<string, unknown>>(): Promise<T | null>;
  }
  export interface D1DatabaseLike {
    prepare(sql: string): D1PreparedStatementLike;
    batch(statements: D1PreparedStatementLike[]): Promise<unknown[]>;
    exec(sql: string): Promise<unknown>;
  }
  /** The bindings of wrangler.toml plus the test-only ones of vitest.config.ts. */
  export type TestEnv = import("../../workers/env.js").Env & {
    DB: D1DatabaseLike;
    TEST_MIGRATIONS: { name: string; queries: string[] }[];
  };
  export const env: TestEnv;
  export interface FetcherLike {
    fetch(input: string | Request | URL, init?: RequestInit): Promise<Response>;
  }
  /** The main worker's (workers/index.ts) exports as loopback stubs. */
  export const exports: { default: FetcherLike; EdgeboneRpc: Record<string, (...args: unknown[]) => Promise<any>> };
}

declare module "cloudflare:test" {
  export function applyD1Migrations(db: unknown, migrations: { name: string; queries: string[] }[], migrationsTableName?: string): Promise<void>;
  export interface ExecutionContextLike {
    waitUntil(promise: Promise<unknown>): void;
    passThroughOnException(): void;
  }
  export function createExecutionContext(): ExecutionContextLike;
  export function waitOnExecutionContext(ctx: ExecutionContextLike): Promise<void>;
  export function createScheduledController(options?: { scheduledTime?: Date | number; cron?: string }): { scheduledTime: number; cron: string; noRetry(): void };
}
