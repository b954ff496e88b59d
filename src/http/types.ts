import type { IRequest, RouterType } from "itty-router";
import type { Env } from "../env";

/** Every route handler gets the itty request plus the Worker's env and context. */
export type Args = [Env, ExecutionContext];
export type HttpRouter = RouterType<IRequest, Args>;
export type { IRequest };

export const noContent = (): Response => new Response(null, { status: 204 });

/** The origin clients reached us on, for the URLs inside GitHub-shaped objects. */
export const originOf = (request: Request): string => new URL(request.url).origin;
