/**
 * GitHub's JSON shapes for objects that both the API answers and event payloads carry:
 * users, repositories, deployments and statuses. The core builds `deployment`,
 * `deployment_status` and `status` payloads with them, so they sit beside the core rather
 * than inside the GitHub dialect.
 */
import type { CommitStatusRow, DeploymentRow, DeploymentStatusRow, RepositoryRef, RepoUrls } from "./types";

/** A stable numeric id for a login: logins are the relay's users, and GitHub objects want ids. */
export function userId(login: string): number {
  let hash = 0;
  for (const char of login.toLowerCase()) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return (hash % 2_000_000_000) + 1;
}

/** GitHub's simple-user for a relay login, with URLs on the relay. */
export function renderUser(login: string, origin: string) {
  const url = `${origin}/users/${login}`;
  return {
    login,
    id: userId(login),
    node_id: btoa(`04:User${userId(login)}`),
    avatar_url: `https://github.com/${login}.png`,
    gravatar_id: "",
    url,
    html_url: `https://github.com/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: "User",
    site_admin: false,
  };
}

/** GitHub's minimal-repository, as webhook payloads and combined statuses carry it. */
export function renderRepository(repository: RepositoryRef, origin: string) {
  const [owner = "", name = ""] = repository.fullName.split("/");
  const url = `${origin}/repos/${repository.fullName}`;
  return {
    id: repository.id,
    node_id: btoa(`010:Repository${repository.id}`),
    name,
    full_name: repository.fullName,
    owner: renderUser(owner, origin),
    private: false,
    html_url: `https://github.com/${repository.fullName}`,
    description: null,
    fork: false,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    hooks_url: `${url}/hooks`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
  };
}

function deploymentPayload(stored: string): unknown {
  try {
    return JSON.parse(stored);
  } catch {
    return stored;
  }
}

export function renderDeployment(row: DeploymentRow, urls: RepoUrls) {
  const url = `${urls.apiBase}/deployments/${row.id}`;
  return {
    url,
    id: row.id,
    node_id: btoa(`010:Deployment${row.id}`),
    sha: row.sha,
    ref: row.ref,
    task: row.task,
    payload: deploymentPayload(row.payload),
    original_environment: row.original_environment,
    environment: row.environment,
    description: row.description,
    creator: renderUser(row.creator, urls.origin),
    created_at: row.created_at,
    updated_at: row.updated_at,
    statuses_url: `${url}/statuses`,
    repository_url: urls.apiBase,
    transient_environment: row.transient_environment === 1,
    production_environment: row.production_environment === 1,
  };
}

export function renderDeploymentStatus(row: DeploymentStatusRow, urls: RepoUrls) {
  const deploymentUrl = `${urls.apiBase}/deployments/${row.deployment_id}`;
  return {
    url: `${deploymentUrl}/statuses/${row.id}`,
    id: row.id,
    node_id: btoa(`016:DeploymentStatus${row.id}`),
    state: row.state,
    creator: renderUser(row.creator, urls.origin),
    description: row.description,
    environment: row.environment,
    target_url: row.target_url,
    log_url: row.log_url,
    environment_url: row.environment_url,
    created_at: row.created_at,
    updated_at: row.updated_at,
    deployment_url: deploymentUrl,
    repository_url: urls.apiBase,
  };
}

export function renderCommitStatus(row: CommitStatusRow, urls: RepoUrls) {
  return {
    url: `${urls.apiBase}/statuses/${row.sha}`,
    avatar_url: null,
    id: row.id,
    node_id: btoa(`012:StatusContext${row.id}`),
    state: row.state,
    description: row.description,
    target_url: row.target_url,
    context: row.context,
    created_at: row.created_at,
    updated_at: row.updated_at,
    creator: renderUser(row.creator, urls.origin),
  };
}
