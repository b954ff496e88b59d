/**
 * One Durable Object per app. It serialises everything about the app's auto builds:
 * pushes waiting on status checks, builds and their transitions, and the events and
 * deployments they cause. State and "what must be announced" commit together in the
 * object's SQLite (an outbox); the outbox is then flushed to the event core, and retried
 * by the alarm until it goes through, so a build event or auto-deploy is never lost.
 *
 * The alarm also times out pushes whose checks never finish.
 */
import { DurableObject } from "cloudflare:workers";
import { config, type Env } from "../../env";
import { publish } from "../../relay/events";
import { createDeployment } from "../../repos/deployments";
import { repoScopeFor } from "../../repos/scope";
import { nowIso } from "../../storage/db";
import { type BuildRow, type BuildStatus, type CheckState, canTransition, checksVerdict } from "./build-rules";
import { renderBuild } from "./render";
import { type App, appKey, buildSubject } from "./store";

/** What the object needs to know about its app and auto build, passed with every call. */
export interface AppContext {
  app: Pick<App, "id" | "name" | "space">;
  statusCheck: boolean;
  autoDeploy: boolean;
  /** `owner/repo` on GitHub, as in the auto build's repo URL. */
  repoFullName: string;
  /** Login that auto-deploys are made as. */
  username: string;
  /** The relay's public origin, for URLs inside event payloads. */
  origin: string;
}

export type PushInput = {
  sha: string;
  branch: string;
  repo: string;
  author: string;
  message: string;
};

export type PushResult =
  | { outcome: "queued"; build: BuildRow }
  | { outcome: "waiting" }
  | { outcome: "cancelled"; reason: string };

export interface WaitingPush extends PushInput {
  since: string;
  deadline: number;
  checks: { context: string; state: CheckState }[];
}

export interface PushOutcome {
  commit: string;
  outcome: "cancelled" | "superseded" | "timed_out";
  reason: string;
  at: string;
}

export type ReportResult =
  | { kind: "ok"; build: BuildRow }
  | { kind: "not_found" }
  | { kind: "conflict"; message: string };

type OutboxEntry =
  | { kind: "event"; type: string; subjectType: string; sourceId: string; payload: unknown; ctx: AppContext }
  | { kind: "deploy"; build: BuildRow; ctx: AppContext };

/** A failed outbox flush is tried again this much later. */
const OUTBOX_RETRY_MS = 10_000;
/**
 * The object keeps its own history bounded, so an app pushed to for months does not grow
 * without end: the newest outcomes (the view shows 10) and check states (a commit's checks
 * matter only until it builds). Flushed outbox entries are deleted as they go.
 */
const KEEP_OUTCOMES = 100;
const KEEP_CHECKS = 1_000;

export class AppBuilds extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS builds (
        id TEXT PRIMARY KEY, status TEXT NOT NULL, commit_sha TEXT NOT NULL, branch TEXT NOT NULL,
        repo TEXT NOT NULL, author TEXT NOT NULL, message TEXT NOT NULL, image TEXT, reason TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS waiting (
        sha TEXT PRIMARY KEY, branch TEXT NOT NULL, repo TEXT NOT NULL, author TEXT NOT NULL,
        message TEXT NOT NULL, since TEXT NOT NULL, deadline INTEGER NOT NULL, context TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS checks (
        sha TEXT NOT NULL, context TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (sha, context));
      CREATE TABLE IF NOT EXISTS outcomes (
        id INTEGER PRIMARY KEY AUTOINCREMENT, commit_sha TEXT NOT NULL, outcome TEXT NOT NULL,
        reason TEXT NOT NULL, at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
    `);
  }

  // ---- Pushes and checks ----

  /** A push to the watched branch: build it now, or wait for its checks. */
  async push(ctx: AppContext, push: PushInput): Promise<PushResult> {
    const result = this.ctx.storage.transactionSync((): PushResult => {
      if (!ctx.statusCheck) return { outcome: "queued", build: this.queueBuild(ctx, push) };
      // A newer push supersedes the one still waiting: only the branch head is built.
      for (const older of this.sql.exec<{ sha: string }>("SELECT sha FROM waiting").toArray()) {
        if (older.sha !== push.sha) this.recordOutcome(older.sha, "superseded", `superseded by ${push.sha}`);
      }
      this.sql.exec("DELETE FROM waiting");
      const deadline = Date.now() + config(this.env).autoBuildCheckTimeoutSeconds * 1000;
      this.sql.exec(
        "INSERT INTO waiting (sha, branch, repo, author, message, since, deadline, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        push.sha,
        push.branch,
        push.repo,
        push.author,
        push.message,
        nowIso(),
        deadline,
        JSON.stringify(ctx),
      );
      // Checks may have been reported before the push reached us.
      return this.evaluate(push.sha) ?? { outcome: "waiting" };
    });
    await this.scheduleAlarm();
    await this.flush();
    return result;
  }

  /** A commit status or check suite result for a sha. */
  async check(sha: string, context: string, state: CheckState): Promise<PushResult | null> {
    const result = this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT INTO checks (sha, context, state) VALUES (?, ?, ?) ON CONFLICT (sha, context) DO UPDATE SET state = excluded.state",
        sha,
        context,
        state,
      );
      this.sql.exec(
        `DELETE FROM checks WHERE rowid <= (SELECT rowid FROM checks ORDER BY rowid DESC LIMIT 1 OFFSET ?)
           AND sha NOT IN (SELECT sha FROM waiting)`,
        KEEP_CHECKS,
      );
      return this.evaluate(sha);
    });
    await this.scheduleAlarm();
    await this.flush();
    return result;
  }

  /** If `sha` is the waiting push, builds or cancels it once its checks have decided. */
  private evaluate(sha: string): PushResult | null {
    const waiting = this.sql
      .exec<{ context: string } & PushInput>("SELECT * FROM waiting WHERE sha = ?", sha)
      .toArray()[0];
    if (!waiting) return null;
    const checks = this.sql
      .exec<{ context: string; state: CheckState }>(
        "SELECT context, state FROM checks WHERE sha = ? ORDER BY context",
        sha,
      )
      .toArray();
    const verdict = checksVerdict(checks);
    if (verdict.kind === "waiting") return { outcome: "waiting" };
    this.sql.exec("DELETE FROM waiting");
    if (verdict.kind === "failed") {
      this.recordOutcome(sha, "cancelled", verdict.reason);
      return { outcome: "cancelled", reason: verdict.reason };
    }
    const ctx = JSON.parse(waiting.context) as AppContext;
    return { outcome: "queued", build: this.queueBuild(ctx, waiting) };
  }

  private queueBuild(ctx: AppContext, push: PushInput): BuildRow {
    const now = nowIso();
    const build: BuildRow = {
      id: crypto.randomUUID(),
      status: "queued",
      commit_sha: push.sha,
      branch: push.branch,
      repo: push.repo,
      author: push.author,
      message: push.message,
      image: null,
      reason: null,
      created_at: now,
      updated_at: now,
    };
    this.sql.exec(
      `INSERT INTO builds (id, status, commit_sha, branch, repo, author, message, image, reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ...Object.values(build),
    );
    this.enqueue(this.buildEvent(ctx, "build:queued", build));
    return build;
  }

  private recordOutcome(sha: string, outcome: PushOutcome["outcome"], reason: string): void {
    this.sql.exec(
      "INSERT INTO outcomes (commit_sha, outcome, reason, at) VALUES (?, ?, ?, ?)",
      sha,
      outcome,
      reason,
      nowIso(),
    );
    this.sql.exec(
      "DELETE FROM outcomes WHERE id <= (SELECT id FROM outcomes ORDER BY id DESC LIMIT 1 OFFSET ?)",
      KEEP_OUTCOMES,
    );
  }

  // ---- Builds ----

  async listBuilds(): Promise<BuildRow[]> {
    return this.sql.exec<BuildRow>("SELECT * FROM builds ORDER BY created_at DESC, rowid DESC").toArray();
  }

  async getBuild(id: string): Promise<BuildRow | null> {
    return this.sql.exec<BuildRow>("SELECT * FROM builds WHERE id = ?", id).toArray()[0] ?? null;
  }

  /** The builder's progress report. Errors are returned, not thrown: they cross an RPC boundary. */
  async report(
    ctx: AppContext,
    id: string,
    update: { status: BuildStatus; image?: string | undefined; reason?: string | undefined },
  ): Promise<ReportResult> {
    const result = this.ctx.storage.transactionSync((): ReportResult => {
      const current = this.sql.exec<BuildRow>("SELECT * FROM builds WHERE id = ?", id).toArray()[0];
      if (!current) return { kind: "not_found" };
      if (current.status !== update.status && !canTransition(current.status, update.status)) {
        return { kind: "conflict", message: `A ${current.status} build cannot become ${update.status}.` };
      }
      const next: BuildRow = {
        ...current,
        status: update.status,
        image: update.image ?? current.image,
        reason: update.reason ?? current.reason,
        updated_at: nowIso(),
      };
      this.sql.exec(
        "UPDATE builds SET status = ?, image = ?, reason = ?, updated_at = ? WHERE id = ?",
        next.status,
        next.image,
        next.reason,
        next.updated_at,
        id,
      );
      if (update.image && update.image !== current.image) {
        this.enqueue(this.buildEvent(ctx, "image:push", next, { image: update.image }));
      }
      if (current.status !== next.status && (next.status === "succeeded" || next.status === "failed")) {
        this.enqueue(this.buildEvent(ctx, "build:complete", next, { outcome: next.status }));
        if (next.status === "succeeded" && ctx.autoDeploy) this.enqueue({ kind: "deploy", build: next, ctx });
      }
      return { kind: "ok", build: next };
    });
    await this.flush();
    return result;
  }

  /** Pushes waiting on checks, and recent pushes that never built, for the auto build view. */
  async checksState(): Promise<{ waiting: WaitingPush | null; recent: PushOutcome[] }> {
    const row = this.sql
      .exec<PushInput & { since: string; deadline: number }>(
        "SELECT sha, branch, repo, author, message, since, deadline FROM waiting LIMIT 1",
      )
      .toArray()[0];
    const waiting = row
      ? {
          ...row,
          checks: this.sql
            .exec<{ context: string; state: CheckState }>("SELECT context, state FROM checks WHERE sha = ?", row.sha)
            .toArray(),
        }
      : null;
    const recent = this.sql
      .exec<{ commit_sha: string; outcome: PushOutcome["outcome"]; reason: string; at: string }>(
        "SELECT commit_sha, outcome, reason, at FROM outcomes ORDER BY id DESC LIMIT 10",
      )
      .toArray()
      .map((o) => ({ commit: o.commit_sha, outcome: o.outcome, reason: o.reason, at: o.at }));
    return { waiting, recent };
  }

  // ---- Outbox: events and auto-deploys, delivered at least once ----

  private buildEvent(
    ctx: AppContext,
    type: "build:queued" | "build:complete" | "image:push",
    build: BuildRow,
    extra: Record<string, unknown> = {},
  ): OutboxEntry {
    return {
      kind: "event",
      type,
      subjectType: type === "image:push" ? "image_repo" : "build_repo",
      // Stable per build and event, so a retried flush is deduplicated by the event core.
      sourceId: `${build.id}:${type}:${build.status}:${type === "image:push" ? build.image : ""}`,
      payload: {
        event: type,
        subject: buildSubject(ctx.app),
        app: { id: ctx.app.id, name: appKey(ctx.app) },
        space: { name: ctx.app.space },
        build: renderBuild(build, ctx.app),
        ...extra,
      },
      ctx,
    };
  }

  private enqueue(entry: OutboxEntry): void {
    this.sql.exec("INSERT INTO outbox (entry) VALUES (?)", JSON.stringify(entry));
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    if (entry.kind === "event") {
      await publish(this.env, {
        type: entry.type,
        subjectType: entry.subjectType,
        subject: buildSubject(entry.ctx.app),
        source: "akkeris",
        sourceId: entry.sourceId,
        payload: JSON.stringify(entry.payload),
      });
      return;
    }
    const { build, ctx } = entry;
    const [owner = "", repo = ""] = ctx.repoFullName.split("/");
    const environment = appKey(ctx.app);
    await createDeployment(
      this.env,
      await repoScopeFor(this.env, { owner, repo, origin: ctx.origin, login: ctx.username }),
      {
        ref: build.commit_sha,
        task: "deploy",
        requiredContexts: [],
        payload: { app: { id: ctx.app.id, name: environment }, build: { id: build.id } },
        environment,
        description: `Auto-deploy of build ${build.id}`,
        transientEnvironment: false,
        productionEnvironment: false,
        // Exactly one deployment per build, however often this entry is retried.
        idempotencyKey: `akkeris-build:${build.id}`,
      },
    );
  }

  /** Sends what the outbox holds; whatever fails stays for the alarm to retry. */
  private async flush(): Promise<void> {
    const entries = this.sql.exec<{ id: number; entry: string }>("SELECT id, entry FROM outbox ORDER BY id").toArray();
    for (const { id, entry } of entries) {
      try {
        await this.deliver(JSON.parse(entry) as OutboxEntry);
        this.sql.exec("DELETE FROM outbox WHERE id = ?", id);
      } catch (error) {
        console.error(`app ${this.ctx.id}: outbox entry ${id} failed, will retry`, String(error));
        this.sql.exec("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", id);
      }
    }
    await this.scheduleAlarm();
  }

  /** One alarm covers both jobs: the earliest check deadline, or an outbox retry. */
  private async scheduleAlarm(): Promise<void> {
    const deadline = this.sql.exec<{ at: number | null }>("SELECT min(deadline) AS at FROM waiting").one().at;
    const pending = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
    const times = [deadline, pending > 0 ? Date.now() + OUTBOX_RETRY_MS : null].filter((t): t is number => t !== null);
    if (times.length === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm(Math.min(...times));
  }

  override async alarm(): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      const expired = this.sql
        .exec<{ sha: string }>("SELECT sha FROM waiting WHERE deadline <= ?", Date.now())
        .toArray();
      for (const { sha } of expired) {
        this.recordOutcome(sha, "timed_out", "timed out waiting for status checks");
        this.sql.exec("DELETE FROM waiting WHERE sha = ?", sha);
      }
    });
    await this.flush();
  }
}
