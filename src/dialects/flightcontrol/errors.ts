import { asApiError } from "../../http/errors";

/** Flightcontrol's shape: its success answers say `"success": "true"`, so errors say `"false"`. */
export function toFlightcontrolError(error: unknown): Response {
  const apiError = asApiError(error);
  const body: Record<string, unknown> = { success: "false", error: apiError.message };
  if (apiError.errors) body.errors = apiError.errors;
  return Response.json(body, { status: apiError.status, headers: apiError.headers });
}
