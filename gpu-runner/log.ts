/** One JSON object per line on stderr (what log collectors parse); tests pass their own sink. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(fields: Record<string, unknown> = {}, write: (line: string) => void = (line) => process.stderr.write(line + "\n")): Logger {
  const emit = (level: string) => (msg: string, extra?: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields, ...extra }));
  return { info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
