/** Akkeris' build object: what the builds API answers and what build events carry. */
import type { App } from "./store";
import type { BuildRow } from "./app-builds";

export function renderBuild(build: BuildRow, app: Pick<App, "id" | "name" | "space">) {
  return {
    id: build.id,
    app: { id: app.id, name: `${app.name}-${app.space}` },
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
