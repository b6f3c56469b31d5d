/** A runner as its own process (`gpu-runner/main.ts`, or the image's command), for tests of signals and exits. */
import { spawn, type ChildProcess } from "node:child_process";

export const ROOT = new URL("../..", import.meta.url).pathname;

export interface RunnerProcess {
  child: ChildProcess;
  /** stderr (the JSON-lines log). */
  log: string[];
  /** Exit code; null when killed by a signal. */
  exited: Promise<number | null>;
  /** Base URL from its `listening on …` line. */
  url: string;
}

/**
 * Starts `argv` (default: what `npm run runner` runs) in the repository root with exactly `env` (plus PATH), and
 * waits for the `listening on` line. Rejects with the log if it exits first or takes over `timeoutMs`.
 */
export async function startRunnerProcess(env: Record<string, string>, argv: string[] = [process.execPath, "--import", "tsx", "gpu-runner/main.ts"], timeoutMs = 60_000): Promise<RunnerProcess> {
  const [command, ...args] = argv;
  const child = spawn(command === "node" ? process.execPath : command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  child.stderr!.on("data", (d) => log.push(String(d)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runner did not start in ${timeoutMs} ms:\n${log.join("")}`)), timeoutMs);
    let out = "";
    child.stdout!.on("data", (d) => {
      out += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => reject(new Error(`runner exited with ${code}:\n${log.join("")}`)));
  });
  return { child, log, exited, url };
}
