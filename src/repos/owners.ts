/** Owners of the repository model's subjects, for src/access/owners.ts. */
import type { OwnerResolver } from "../access/owners";
import { deploymentWithState } from "./deployments";

const ownerOfFullName = (fullName: string): string | null => {
  const slash = fullName.indexOf("/");
  return slash > 0 ? fullName.slice(0, slash).toLowerCase() : null;
};

/** A repository belongs to its GitHub owner. */
export const repositoryOwner: OwnerResolver = async (_env, subject) => ownerOfFullName(subject);

/** A job is a deployment: it belongs to the owner of the deployment's repository. */
export const jobOwner: OwnerResolver = async (env, subject) => {
  if (!/^\d+$/.test(subject)) return null;
  const deployment = await deploymentWithState(env, Number(subject));
  return deployment ? ownerOfFullName(deployment.subject) : null;
};
