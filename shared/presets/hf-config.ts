/** Typed reads of Hugging Face config.json fields, with errors that name the field. */
export function hfNumber(config: Record<string, unknown>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`Hugging Face config: "${key}" must be a number, got ${JSON.stringify(config[key])}`);
  }
  return value;
}

export function hfOptionalNumber(config: Record<string, unknown>, key: string): number | null {
  const value = config[key];
  return value === undefined || value === null ? null : hfNumber(config, key);
}

/** Fails loudly on a config value the port does not implement, instead of silently computing something else. */
export function requireHf(config: Record<string, unknown>, key: string, allowed: readonly unknown[], fallback: unknown): void {
  const value = config[key] ?? fallback;
  if (!allowed.includes(value)) {
    throw new Error(`Hugging Face config: ${key}=${JSON.stringify(value)} is not supported (supported: ${allowed.map((a) => JSON.stringify(a)).join(", ")})`);
  }
}
