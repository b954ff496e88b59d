/**
 * Who may do what: pure rules, no I/O, so they are easy to read and to test. Every route
 * that takes a token applies them, through `access/guard.ts` or its dialect's loader.
 *
 * - The admin (ADMIN_TOKEN) may do everything, including minting tokens.
 * - A token may read, or read and write. A read-only token gets 403 on writes, before the
 *   request body is read.
 * - Every resource has one owner (README, "Authorization"). A token limited to some owners
 *   acts only on their resources: anything else is answered exactly as if it did not exist
 *   (404), as GitHub hides private repositories from those who may not see them, and lists
 *   leave it out.
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

const readOnly = () => forbidden("Resource not accessible by this token: it is read-only.");

/** Whether the caller may see and act on what `owner` owns (null: a resource no owner claims). */
export function mayActOn(principal: Principal, owner: string | null): boolean {
  return principal.owners === null || (owner !== null && principal.owners.includes(owner.toLowerCase()));
}

/**
 * The one owner rule. `owner` is the owner of the resource, or null when it has none the
 * relay knows (only tokens without an owner limit reach those). A resource the caller may
 * not see is answered as if it did not exist: `missing` is the route's own answer for a
 * resource that does not exist, so the two cannot be told apart.
 */
export function authorizeOwner(
  principal: Principal,
  owner: string | null,
  access: Access,
  missing: () => Error = notFound,
): void {
  if (!mayActOn(principal, owner)) throw missing();
  if (access === "write" && !principal.canWrite) throw readOnly();
}

/** The owners whose resources a list may show this caller; null means every owner. */
export function visibleOwners(principal: Principal): readonly string[] | null {
  return principal.owners;
}

/** Keeps what the caller may see of a list, for lists filtered after they are read. */
export function visibleOnly<T>(principal: Principal, items: readonly T[], ownerOf: (item: T) => string | null): T[] {
  return items.filter((item) => mayActOn(principal, ownerOf(item)));
}

/**
 * A write on one resource that reaches another owner's (a build whose success auto-deploys
 * to a repository): the caller must be allowed there too. The first resource was visible,
 * so this is a 403 that says why, not a 404.
 */
export function authorizeReach(principal: Principal, owner: string | null, what: string): void {
  if (!mayActOn(principal, owner)) throw forbidden(`Resource not accessible by this token: ${what}.`);
}

export function authorizeAdmin(principal: Principal): void {
  if (!principal.admin) throw new ApiError(403, "Must be an admin: only ADMIN_TOKEN can manage tokens.");
}

/** The access check that needs no resource: a read-only token may not write anything. */
export function authorizeAccess(principal: Principal, access: Access): void {
  if (access === "write" && !principal.canWrite) throw readOnly();
}

/** Write access with no owner scope, for resources that belong to no repository. */
export function authorizeWrite(principal: Principal): void {
  authorizeAccess(principal, "write");
}
