/** The part of workerd's `cloudflare:workers` module the worker uses (no global workers-types in this project). */
declare module "cloudflare:workers" {
  export abstract class WorkerEntrypoint<Env = unknown> {
    protected readonly ctx: { waitUntil(promise: Promise<unknown>): void };
    protected readonly env: Env;
    constructor(ctx: unknown, env: Env);
  }
}
