/**
 * Who owns a subject. Every subscription, delivery and event concerns a subject
 * (`repository` `octo-org/app`, `build_repo` `space/app`, `job` `42`), and the subject's
 * owner decides which tokens see it. Whoever keeps the data behind a subject type
 * registers how to find its owner (src/app.ts wires them), so this module imports none.
 */
import type { Env } from "../env";

/** The lower-cased owner of a subject, or null when the subject names nothing the relay knows. */
export type OwnerResolver = (env: Env, subject: string) => Promise<string | null>;

const resolvers = new Map<string, OwnerResolver>();

export function registerSubjectOwner(subjectType: string, resolver: OwnerResolver): void {
  resolvers.set(subjectType, resolver);
}

export async function subjectOwner(env: Env, subjectType: string, subject: string): Promise<string | null> {
  const resolver = resolvers.get(subjectType);
  const owner = resolver ? await resolver(env, subject) : null;
  return owner ? owner.toLowerCase() : null;
}
