/** Config plumbing: KerasHub configs are snake_case JSON, the TS API is camelCase. */
import type { z } from "zod";

const toSnakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const toCamelCase = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export function snakeKeys(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [toSnakeCase(k), v]));
}

export function camelKeys(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [toCamelCase(k), v]));
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses a camelCase config with a zod schema, turning issues into one readable message. */
export function parseConfig<S extends z.ZodType>(className: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join(".");
    return key ? `${key}: ${issue.message}` : issue.message;
  });
  throw new ConfigError(`invalid ${className} config: ${problems.join("; ")}`);
}
