/**
 * The production worker as users run it: `wrangler dev --local` from node_modules (wrangler bundles
 * workers/index.ts itself), local D1 with migrations/ applied and local R2 persisted in a temporary directory, the
 * demo encoder preset of `npm start` installed through the admin API, a tenant with a key. Every process it starts
 * is ended by `stop()`, or by the watchdog of workers/tools/process-groups.ts if the test process dies first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDemoEncoder } from "../../workers/tools/demo-presets.js";
import { installPreset } from "../../workers/tools/install-preset.js";
import { applyLocalMigrations, startWranglerDev } from "../../workers/tools/local-platform.js";
import { ProcessGroups } from "../../workers/tools/process-groups.js";
import { freePort, tenantWithKey } from "./edge-platform.js";

export const DEMO_ENCODER = "demo-encoder";

export interface WranglerPlatform {
  url: URL;
  /** The demo tenant's API key. */
  key: string;
  /** What wrangler and workerd printed so far. */
  logs(): string;
  stop(): Promise<void>;
}

/** Presets to install besides the demo encoder: name → a writer of its directory (or an existing directory). */
export type ExtraPresets = Record<string, string | ((dir: string) => Promise<void>)>;

export async function startWranglerPlatform(vars: Record<string, string> = {}, readyTimeoutMs = 60_000, extra: ExtraPresets = {}): Promise<WranglerPlatform> {
  const dir = mkdtempSync(join(tmpdir(), "edgebone-wrangler-"));
  const groups = new ProcessGroups(2000);
  const adminToken = `adm_${crypto.randomUUID()}`;
  let output = "";
  const stop = async () => {
    await groups.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const presetDir = join(dir, "presets", DEMO_ENCODER);
    await Promise.all([applyLocalMigrations(groups, join(dir, "state")), writeDemoEncoder(presetDir)]);
    const port = await freePort();
    const child = startWranglerDev(groups, { port, inspectorPort: await freePort(), persistTo: join(dir, "state"), vars: { ADMIN_TOKEN: adminToken, ...vars } });
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    const url = new URL(`http://127.0.0.1:${port}/`);
    for (const deadline = Date.now() + readyTimeoutMs; ; await new Promise((r) => setTimeout(r, 200))) {
      if (await fetch(new URL("/health", url)).then((r) => r.ok, () => false)) break;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`wrangler dev exited (${child.exitCode ?? child.signalCode}): ${output.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`wrangler dev did not answer within ${readyTimeoutMs / 1000} s: ${output.slice(-3000)}`);
    }
    await installPreset({ dir: presetDir, name: DEMO_ENCODER, url: url.href, token: adminToken });
    for (const [name, source] of Object.entries(extra)) {
      let extraDir = source as string;
      if (typeof source === "function") await source((extraDir = join(dir, "presets", name)));
      await installPreset({ dir: extraDir, name, url: url.href, token: adminToken });
    }
    const { key } = await tenantWithKey(url, adminToken, "demo");
    return { url, key, logs: () => output, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
