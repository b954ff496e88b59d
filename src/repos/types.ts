/** The repository model's rows and the scope its writes act in: types only, so stores and shapes share them without importing each other. */

export interface RepositoryRef {
  id: number;
  fullName: string;
}

/** Where a repository's objects live on the relay, and who is looking. */
export interface RepoUrls {
  /** `https://relay/repos/:owner/:repo` */
  apiBase: string;
  origin: string;
}

/** A repository as the caller addressed it, and who is acting. */
export interface RepoScope {
  subject: string;
  repository: RepositoryRef;
  urls: RepoUrls;
  login: string;
}

export interface DeploymentRow {
  id: number;
  subject: string;
  sha: string;
  ref: string;
  task: string;
  payload: string;
  environment: string;
  original_environment: string;
  description: string;
  creator: string;
  transient_environment: number;
  production_environment: number;
  created_at: string;
  updated_at: string;
}

export type DeploymentState = "error" | "failure" | "inactive" | "in_progress" | "queued" | "pending" | "success";

export interface DeploymentStatusRow {
  id: number;
  deployment_id: number;
  state: DeploymentState;
  description: string;
  environment: string;
  target_url: string;
  log_url: string;
  environment_url: string;
  creator: string;
  created_at: string;
  updated_at: string;
}

export type CommitState = "error" | "failure" | "pending" | "success";

export interface CommitStatusRow {
  id: number;
  subject: string;
  sha: string;
  state: CommitState;
  context: string;
  description: string | null;
  target_url: string | null;
  creator: string;
  created_at: string;
  updated_at: string;
}
