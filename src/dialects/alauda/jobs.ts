/**
 * A deployment is also a job, Alauda's subject: a status that finishes it publishes
 * `job:succeed` or `job:fail` on the job, in the same transaction as the status itself.
 */
import type { NewEvent } from "../../relay/events";
import type { DeploymentStatusListener } from "../../repos/deployments";
import type { DeploymentState } from "../../repos/types";

/** Deployment states that finish a job, and the event each one publishes. */
const JOB_EVENTS: Partial<Record<DeploymentState, "job:succeed" | "job:fail">> = {
  success: "job:succeed",
  failure: "job:fail",
  error: "job:fail",
};

export const jobEvents: DeploymentStatusListener = ({ deployment, status, repository, payload }): NewEvent[] => {
  const type = JOB_EVENTS[status.state];
  if (!type) return [];
  const subject = String(deployment.id);
  return [
    {
      type,
      subjectType: "job",
      subject,
      source: "hookrelay",
      payload: JSON.stringify({
        event: type,
        subject_type: "job",
        subject,
        job: { id: subject, state: status.state, description: status.description, target_url: status.target_url },
        deployment: payload.deployment,
        deployment_status: payload.deployment_status,
        repository: { full_name: repository.fullName },
      }),
    },
  ];
};
