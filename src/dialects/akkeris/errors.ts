import { asApiError } from "../../http/errors";

/** Akkeris' error body: `{code, message}`, as its controller answers. */
export function toAkkerisError(error: unknown): Response {
  const apiError = asApiError(error);
  const message = apiError.errors?.length
    ? `${apiError.message}: ${apiError.errors.map((e) => e.message ?? e.field).join("; ")}`
    : apiError.message;
  return Response.json({ code: apiError.status, message }, { status: apiError.status, headers: apiError.headers });
}
