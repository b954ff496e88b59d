/**
 * The one error type. Core and handlers throw it; each dialect's router turns it into
 * that dialect's error body in one place (its `errors.ts`). GitHub's shape, below, is
 * also the relay's own: tokens, `/relay/` and anything no dialect claims.
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

/** Anything that is not an ApiError is our fault: log it, answer 500, reveal nothing. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  console.error("unhandled error", error instanceof Error ? (error.stack ?? error.message) : error);
  return new ApiError(500, "Internal Server Error");
}
