/** Bundles a worker entry the way wrangler does for workerd (ESM, workerd export conditions), in memory. */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

export async function bundleForWorkerd(entry: URL, external: string[]): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    external,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}
