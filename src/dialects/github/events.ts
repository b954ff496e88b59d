/**
 * Event names a GitHub hook may subscribe to: the 2012 spec's list, the events the
 * relay itself emits (deployment, deployment_status, status, ping), and the rest of
 * today's GitHub webhook events, so relayed traffic can be subscribed to by name.
 */
export const GITHUB_EVENTS: ReadonlySet<string> = new Set([
  // spec 001
  "push",
  "issues",
  "issue_comment",
  "commit_comment",
  "pull_request",
  "gollum",
  "watch",
  "download",
  "fork",
  "fork_apply",
  "member",
  "public",
  // emitted by the relay
  "deployment",
  "deployment_status",
  "status",
  "ping",
  // today's GitHub
  "branch_protection_rule",
  "check_run",
  "check_suite",
  "code_scanning_alert",
  "create",
  "delete",
  "dependabot_alert",
  "deploy_key",
  "deployment_protection_rule",
  "deployment_review",
  "discussion",
  "discussion_comment",
  "label",
  "merge_group",
  "meta",
  "milestone",
  "package",
  "page_build",
  "project",
  "project_card",
  "project_column",
  "pull_request_review",
  "pull_request_review_comment",
  "pull_request_review_thread",
  "registry_package",
  "release",
  "repository",
  "repository_dispatch",
  "repository_import",
  "secret_scanning_alert",
  "security_advisory",
  "star",
  "team_add",
  "workflow_dispatch",
  "workflow_job",
  "workflow_run",
]);

/** `*` subscribes to every event. */
export const isGitHubEvent = (name: string): boolean => name === "*" || GITHUB_EVENTS.has(name);
