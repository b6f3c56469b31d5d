/** Runs the `edgebone` bin as a user does: a real Node process, its exit code, stdout and stderr. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BIN = fileURLToPath(new URL("../../shared/node/edgebone.mjs", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A runner bound to a preset store directory (`$EDGEBONE_PRESETS`), so tests never touch the user's. */
export function edgeboneCli(presetStore: string): (...args: string[]) => Promise<CliResult> {
  return async (...args) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
        env: { ...process.env, EDGEBONE_PRESETS: presetStore },
        maxBuffer: 64 << 20,
      });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as CliResult;
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };
}
