/**
 * The one error type. Core and handlers throw it; each dialect's router turns it into
 * that dialect's error body in one place (`toGitHubError` below for the GitHub-style APIs).
 */
export interface FieldError {
  resource?: string;
  field?: string;
  code: string;
  message?: string;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const unauthorized = () => new ApiError(401, "Requires authentication");
export const forbidden = (message = "Must have admin rights to Repository.") => new ApiError(403, message);
export const notFound = () => new ApiError(404, "Not Found");
export const validationFailed = (errors: FieldError[], message = "Validation Failed") =>
  new ApiError(422, message, errors);
export const badRequest = (message: string) => new ApiError(400, message);
export const payloadTooLarge = (limit: number) => new ApiError(413, `Payload too large: the limit is ${limit} bytes`);

const GITHUB_DOCS = "https://docs.github.com/rest";

/** GitHub's error body: `{message, errors?, documentation_url}`. */
export function toGitHubError(error: unknown): Response {
  const apiError = asApiError(error);
  const body: Record<string, unknown> = { message: apiError.message };
  if (apiError.errors) body.errors = apiError.errors;
  body.documentation_url = GITHUB_DOCS;
  return Response.json(body, { status: apiError.status, headers: apiError.headers });
}

/** Akkeris' error body: `{code, message}`, as its controller answers. */
export function toAkkerisError(error: unknown): Response {
  const apiError = asApiError(error);
  const message = apiError.errors?.length
    ? `${apiError.message}: ${apiError.errors.map((e) => e.message ?? e.field).join("; ")}`
    : apiError.message;
  return Response.json({ code: apiError.status, message }, { status: apiError.status, headers: apiError.headers });
}

/** Flightcontrol's shape: its success answers say `"success": "true"`, so errors say `"false"`. */
export function toFlightcontrolError(error: unknown): Response {
  const apiError = asApiError(error);
  const body: Record<string, unknown> = { success: "false", error: apiError.message };
  if (apiError.errors) body.errors = apiError.errors;
  return Response.json(body, { status: apiError.status, headers: apiError.headers });
}

/** Alauda's shape: `{"errors": [{"code", "message", "source"?}]}`. */
export function toAlaudaError(error: unknown): Response {
  const apiError = asApiError(error);
  const code = ALAUDA_CODES[apiError.status] ?? "error";
  const errors = apiError.errors?.length
    ? apiError.errors.map((e) => ({
        code,
        message: e.message ?? apiError.message,
        ...(e.field ? { source: e.field } : {}),
      }))
    : [{ code, message: apiError.message }];
  return Response.json({ errors }, { status: apiError.status, headers: apiError.headers });
}

const ALAUDA_CODES: Record<number, string> = {
  400: "invalid_args",
  401: "not_authenticated",
  403: "permission_denied",
  404: "resource_not_exist",
  413: "request_too_large",
  422: "invalid_args",
};

/** Anything that is not an ApiError is our fault: log it, answer 500, reveal nothing. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  console.error("unhandled error", error instanceof Error ? (error.stack ?? error.message) : error);
  return new ApiError(500, "Internal Server Error");
}
