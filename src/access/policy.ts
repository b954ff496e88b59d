/**
 * Who may do what: pure rules, no I/O, so they are easy to read and to test.
 *
 * - The admin (ADMIN_TOKEN) may do everything, including minting tokens.
 * - A token may read, or read and write. A read-only token gets 403 on writes.
 * - A token limited to some owners sees other owners' repositories as 404, as GitHub
 *   hides private repositories from those who may not see them.
 */
import { ApiError, forbidden, notFound } from "../http/errors";

export interface Principal {
  /** Shown as `creator` / `sender` / `created_by` on what this caller makes. */
  login: string;
  admin: boolean;
  canWrite: boolean;
  /** Lower-cased owners this caller may touch; null means every owner. */
  owners: string[] | null;
}

export type Access = "read" | "write";

/**
 * The one owner rule. `owner` is the lower-cased owner of the resource, or null when it has
 * none the relay knows (only tokens without an owner limit reach those). A resource the
 * caller may not see is answered as if it did not exist.
 */
export function authorizeOwner(principal: Principal, owner: string | null, access: Access): void {
  if (principal.owners && (owner === null || !principal.owners.includes(owner.toLowerCase()))) throw notFound();
  if (access === "write" && !principal.canWrite) {
    throw forbidden("Resource not accessible by this token: it is read-only.");
  }
}

/** The owners whose resources a list may show this caller; null means every owner. */
export function visibleOwners(principal: Principal): readonly string[] | null {
  return principal.owners;
}

export function authorizeAdmin(principal: Principal): void {
  if (!principal.admin) throw new ApiError(403, "Must be an admin: only ADMIN_TOKEN can manage tokens.");
}

/** Write access with no owner scope, for resources that belong to no repository. */
export function authorizeWrite(principal: Principal): void {
  if (!principal.canWrite) throw forbidden("Resource not accessible by this token: it is read-only.");
}
