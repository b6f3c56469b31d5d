/**
 * Child processes that cannot outlive the process that started them. Each child leads its own process group
 * (`detached`), so what it starts in turn (wrangler's workerd) shares the group and goes with it. The groups are
 * ended by a small watchdog process that reads their ids from a pipe: when the pipe closes, because the owner
 * called `stop()` or because it died without a chance to (SIGKILL, a crash), the watchdog sends SIGTERM to every
 * group and SIGKILL to whatever is left after the grace period. One code path for both, and nothing survives.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

// Plain JavaScript for `node -e`: on stdin, "+<pgid>" adds a group, "-<pgid>" forgets one that is already empty
// (its id could be reused); stdin closing means "end them all".
const WATCHDOG = `
const groups = new Set();
let partial = "";
process.stdin.on("data", (d) => {
  const lines = (partial + d).split("\\n");
  partial = lines.pop();
  for (const l of lines) l[0] === "+" ? groups.add(Number(l.slice(1))) : groups.delete(Number(l.slice(1)));
});
process.stdin.on("end", async () => {
  const signal = (pgid, sig) => { try { process.kill(-pgid, sig); return true; } catch { return false; } };
  let alive = [...groups].filter((g) => signal(g, "SIGTERM"));
  for (const deadline = Date.now() + Number(process.argv[1]); alive.length && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter((g) => signal(g, 0)); // 0: is any process left in the group?
  }
  for (const g of alive) signal(g, "SIGKILL");
});
`;

/** Whether a process is left in the group (signal 0 only checks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the exit code (or signal) once `child` has exited. */
export function exited(child: ChildProcess): Promise<number | NodeJS.Signals> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return new Promise((r) => child.once("exit", (code, signal) => r(code ?? signal!)));
}

export class ProcessGroups {
  private watchdog?: ChildProcess;

  /** @param graceMs how long a group has after SIGTERM before SIGKILL */
  constructor(private readonly graceMs = 3000) {}

  /** Spawns `command` as the leader of a new process group that `stop()` (or our death) ends. */
  spawn(command: string, args: string[], options: Omit<SpawnOptions, "detached">): ChildProcess {
    const watchdog = this.start();
    const child = spawn(command, args, { ...options, detached: true });
    const pgid = child.pid;
    if (pgid === undefined) return child; // its 'error' event says why
    watchdog.stdin!.write(`+${pgid}\n`);
    child.once("exit", () => {
      if (!groupAlive(pgid) && watchdog.stdin!.writable) watchdog.stdin!.write(`-${pgid}\n`);
    });
    return child;
  }

  /** Ends every group: SIGTERM, then SIGKILL after the grace period; resolves when that is done. */
  async stop(): Promise<void> {
    const watchdog = this.watchdog;
    if (!watchdog) return;
    watchdog.ref(); // the owner stays up until its children are gone
    watchdog.stdin!.end();
    await exited(watchdog);
  }

  private start(): ChildProcess {
    if (!this.watchdog) {
      // Its own group too: a Ctrl-C meant for the owner must not end it before it has done its work.
      this.watchdog = spawn(process.execPath, ["-e", WATCHDOG, String(this.graceMs)], { stdio: ["pipe", "ignore", "ignore"], detached: true });
      this.watchdog.unref();
      (this.watchdog.stdin as unknown as { unref(): void }).unref(); // the pipe must not keep the owner alive
    }
    return this.watchdog;
  }
}
