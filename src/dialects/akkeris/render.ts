/** Akkeris' JSON shapes: apps, auto builds and builds. */
import type { BuildRow } from "./build-rules";
import { type App, type AutoBuild, appKey } from "./store";

export function renderApp(app: App) {
  return {
    id: app.id,
    name: appKey(app),
    simple_name: app.name,
    space: { name: app.space },
    organization: { name: app.organization },
    created_at: app.created_at,
    updated_at: app.updated_at,
  };
}

/** The spec's auto build object. `organization` keeps the spec example's odd id/name pairing of ids. */
export function renderAutoBuild(app: App, autoBuild: AutoBuild) {
  return {
    app: { id: app.id, name: appKey(app) },
    auto_deploy: autoBuild.auto_deploy === 1,
    branch: autoBuild.branch,
    created_at: autoBuild.created_at,
    id: autoBuild.id,
    organization: { id: app.organization, name: app.organization },
    repo: autoBuild.repo,
    site: autoBuild.site,
    space: { id: app.space, name: app.space },
    status_check: autoBuild.status_check === 1,
    updated_at: autoBuild.updated_at,
    username: autoBuild.username,
  };
}

/** Akkeris' build object: what the builds API answers and what build events carry. */
export function renderBuild(build: BuildRow, app: Pick<App, "id" | "name" | "space">) {
  return {
    id: build.id,
    app: { id: app.id, name: appKey(app) },
    status: build.status,
    source_blob: {
      commit: build.commit_sha,
      branch: build.branch,
      repo: build.repo,
      author: build.author,
      message: build.message,
    },
    image: build.image,
    reason: build.reason,
    created_at: build.created_at,
    updated_at: build.updated_at,
  };
}
