/** The part of workerd's `cloudflare:workers` module the worker uses (no global workers-types in this project). */
declare module "cloudflare:workers" {
  export abstract class WorkerEntrypoint<Env = unknown> {
    protected readonly ctx: { waitUntil(promise: Promise<unknown>): void };
    protected readonly env: Env;
    constructor(ctx: unknown, env: Env);
  }
  /** A SQLite-backed Durable Object's storage: synchronous SQL. */
  export interface DurableObjectStateLike {
    readonly storage: { readonly sql: { exec<T = Record<string, unknown>>(query: string, ...bindings: unknown[]): { toArray(): T[] } } };
  }
  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: DurableObjectStateLike;
    protected readonly env: Env;
    constructor(ctx: DurableObjectStateLike, env: Env);
  }
}
