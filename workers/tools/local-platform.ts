/**
 * The local platform's processes as `npm start` runs them, shared with the tests that run the production bundle
 * the way users do: wrangler from node_modules (`wrangler dev` of wrangler.toml's worker, local D1 with
 * migrations/ applied and local R2, both persisted under one directory), on loopback ports checked before anything
 * starts.
 */
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exited, type ProcessGroups } from "./process-groups.js";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
/** No prompts, no telemetry. */
const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CI: "1" };

/** `wrangler d1 migrations apply --local`: the local D1 under `persistTo` gets migrations/. */
export async function applyLocalMigrations(groups: ProcessGroups, persistTo: string): Promise<void> {
  const child = groups.spawn(process.execPath, [WRANGLER, "d1", "migrations", "apply", "edgebone", "--local", "--persist-to", persistTo], {
    cwd: ROOT,
    env: { ...process.env, ...WRANGLER_ENV },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const code = await exited(child);
  if (code !== 0) throw new Error(`wrangler d1 migrations apply failed (${code}): ${output.slice(-2000)}`);
}

export interface WranglerDevOptions {
  port: number;
  /** wrangler dev's inspector (default 9229) would collide between two local platforms. */
  inspectorPort: number;
  persistTo: string;
  /** `--var NAME:value` each (secrets locally). */
  vars: Record<string, string>;
}

/** `wrangler dev --local` of the production worker on 127.0.0.1, in its own process group. */
export function startWranglerDev(groups: ProcessGroups, options: WranglerDevOptions): ChildProcess {
  const args = [WRANGLER, "dev", "--local", "--ip", "127.0.0.1", "--port", String(options.port), "--inspector-port", String(options.inspectorPort)];
  args.push("--persist-to", options.persistTo, "--show-interactive-dev-session=false");
  for (const [name, value] of Object.entries(options.vars)) args.push("--var", `${name}:${value}`);
  return groups.spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...WRANGLER_ENV }, stdio: ["ignore", "pipe", "pipe"] });
}

/** Whether something already listens on 127.0.0.1:`port` (binding it fails). */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}
