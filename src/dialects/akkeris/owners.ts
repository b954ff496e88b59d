/** Owners of Akkeris subjects: an app's builds and images belong to the app's organization. */
import type { OwnerResolver } from "../../access/owners";
import { findAppBySubject } from "./store";

export const appSubjectOwner: OwnerResolver = async (env, subject) =>
  (await findAppBySubject(env, subject))?.organization ?? null;
