/** Akkeris' JSON shapes: apps, auto builds and builds. */
import type { App, AutoBuild } from "./store";

export function renderApp(app: App) {
  return {
    id: app.id,
    name: `${app.name}-${app.space}`,
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
    app: { id: app.id, name: `${app.name}-${app.space}` },
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

export { renderBuild } from "./build-shape";
