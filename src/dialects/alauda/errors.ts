import { asApiError } from "../../http/errors";

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
