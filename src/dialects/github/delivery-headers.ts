/** The headers GitHub's own deliveries carry, which GitHub hook receivers check. */
import type { DeliveryHeaders } from "../../relay/dispatch";
import { findRepository } from "../../repos/repositories";

export const githubDeliveryHeaders: DeliveryHeaders = async (env, delivery) => {
  const headers: Record<string, string> = {
    "x-github-event": delivery.eventType,
    "x-github-delivery": delivery.guid,
    "x-github-hook-id": String(delivery.subscriptionId),
    "x-github-hook-installation-target-type": "repository",
  };
  const repository = delivery.subjectType === "repository" ? await findRepository(env, delivery.subject) : null;
  if (repository) headers["x-github-hook-installation-target-id"] = String(repository.id);
  return headers;
};
