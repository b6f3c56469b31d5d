/**
 * JSON errors. `/v1/*` answers in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`; every other
 * route in TEI's, `{"error": "…", "error_type": "…"}`.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
    /** Extra response headers (e.g. `Retry-After` of a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = "bad_request", param: string | null = null) => new ApiError(400, message, code, param);
export const unprocessable = (message: string, code = "validation_error", param: string | null = null) => new ApiError(422, message, code, param);
export const notFound = (message: string, code = "not_found", param: string | null = null) => new ApiError(404, message, code, param);

function openAiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

function teiType(status: number): string {
  if (status === 401 || status === 403) return "Unauthorized";
  if (status === 429) return "Overloaded";
  if (status === 503) return "Unhealthy";
  if (status >= 500) return "Backend";
  if (status === 404) return "NotFound";
  return "Validation";
}

function errorBody(path: string, status: number, message: string, code: string, param: string | null = null): unknown {
  return path.startsWith("/v1/") || path === "/v1"
    ? { error: { message, type: openAiType(status), param, code } }
    : { error: message, error_type: teiType(status) };
}

export function errorResponse(c: Context, error: ApiError): Response {
  return c.json(errorBody(c.req.path, error.status, error.message, error.code, error.param), error.status, error.headers);
}
