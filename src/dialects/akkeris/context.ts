/** An app's Durable Object, and what every call to it carries about the app. */
import type { Env } from "../../env";
import type { AppBuilds, AppContext } from "./app-builds";
import type { App, AutoBuild } from "./store";

/** The AppBuilds object of an app: one per app id, wherever the request lands. */
export function appBuilds(env: Env, appId: string): DurableObjectStub<AppBuilds> {
  const namespace = env.APP_BUILDS as DurableObjectNamespace<AppBuilds>;
  return namespace.get(namespace.idFromName(appId));
}

export function appContext(app: App, autoBuild: AutoBuild | null, origin: string, repoFallback = ""): AppContext {
  return {
    app: { id: app.id, name: app.name, space: app.space },
    statusCheck: autoBuild?.status_check === 1,
    autoDeploy: autoBuild?.auto_deploy === 1,
    repoFullName: (autoBuild?.repo ?? repoFallback).replace("https://github.com/", ""),
    username: autoBuild?.username ?? app.created_by,
    origin,
  };
}
