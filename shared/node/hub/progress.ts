/**
 * Download progress on stderr. On a terminal: one line rewritten in place (files done, bytes, rate); otherwise
 * (logs, CI): one line per finished file. `HF_HUB_DISABLE_PROGRESS_BARS=1` (huggingface_hub's switch)
 * silences both.
 */

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface FileProgress {
  /** Bytes received (not counting what a resumed file already had). */
  advance(bytes: number): void;
  done(): void;
}

const REDRAW_MS = 100;

export class Progress {
  private files = 0;
  private finished = 0;
  private total = 0;
  private received = 0;
  private readonly started = performance.now();
  private drawn = 0;

  constructor(
    /** What is being downloaded, e.g. "hf://org/model". */
    private readonly label: string,
    private readonly out: ProgressOutput | null = defaultOutput(),
  ) {}

  /** A file of `size` bytes of which `already` are on disk (a resumed download). */
  file(name: string, size: number, already = 0): FileProgress {
    this.files++;
    this.total += size - already;
    const t0 = performance.now();
    let bytes = 0;
    return {
      advance: (n) => {
        bytes += n;
        this.received += n;
        this.redraw(false);
      },
      done: () => {
        this.finished++;
        if (this.out?.isTTY) return this.redraw(true);
        const resumed = already ? `, resumed at ${formatBytes(already)}` : "";
        this.out?.write(`${this.label} ${name}: ${formatBytes(bytes)} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${rate(bytes, performance.now() - t0)}${resumed})\n`);
      },
    };
  }

  /** Ends the terminal line. */
  close(): void {
    if (this.out?.isTTY && this.drawn) this.out.write("\n");
  }

  private redraw(force: boolean): void {
    if (!this.out?.isTTY) return;
    const now = performance.now();
    if (!force && now - this.drawn < REDRAW_MS) return;
    this.drawn = now;
    const line = `${this.label}: ${this.finished}/${this.files} files, ${formatBytes(this.received)} / ${formatBytes(this.total)}, ${rate(this.received, now - this.started)}`;
    this.out.write(`\r${line}\u001b[K`);
  }
}

function defaultOutput(): ProgressOutput | null {
  return /^(1|on|yes|true)$/i.test(process.env.HF_HUB_DISABLE_PROGRESS_BARS ?? "") ? null : process.stderr;
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

function rate(bytes: number, ms: number): string {
  return `${formatBytes(ms > 0 ? Math.round((bytes * 1000) / ms) : 0)}/s`;
}
