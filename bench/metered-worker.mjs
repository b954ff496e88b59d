// The relay exactly as `wrangler deploy` builds it (dist/index.js), with its bindings metered:
// every D1 result's `meta` (rows read and written, SQL time), transactions, queue messages and
// Durable Object calls, counted per entry point. `npm run bench:capacity` reads the counts at
// GET /__meter and clears them with DELETE /__meter. Used by the bench only; never deployed.
import * as built from "../dist/index.js";

const relay = built.default;
// Older builds (the bench compares against them) may not have every class.
const RelayIngestShard = built.IngestShard ?? class {};
const RelayAppBuilds = built.AppBuilds ?? class {};

const buckets = {};
const bucket = (name) => {
  buckets[name] ??= {
    invocations: 0,
    transactions: 0,
    statements: 0,
    rowsRead: 0,
    rowsWritten: 0,
    sqlMs: 0,
    queueMessages: 0,
    queueSends: 0,
    objectCalls: 0,
  };
  return buckets[name];
};

function meterStatement(statement, count) {
  const bind = statement.bind.bind(statement);
  const all = statement.all.bind(statement);
  const run = statement.run.bind(statement);
  const counted = async (call) => {
    const result = await call();
    count.transactions++;
    count.statements++;
    count.rowsRead += result.meta?.rows_read ?? 0;
    count.rowsWritten += result.meta?.rows_written ?? 0;
    count.sqlMs += result.meta?.duration ?? 0;
    return result;
  };
  statement.bind = (...values) => meterStatement(bind(...values), count);
  statement.all = () => counted(all);
  statement.run = () => counted(run);
  // first() has no meta; the same rows through all().
  statement.first = async (column) => {
    const row = (await statement.all()).results[0] ?? null;
    return column === undefined ? row : (row?.[column] ?? null);
  };
  return statement;
}

function metered(env, name) {
  const count = bucket(name);
  const db = env.DB;
  const objects = (namespace) => ({
    idFromName: (n) => namespace.idFromName(n),
    idFromString: (s) => namespace.idFromString(s),
    newUniqueId: (o) => namespace.newUniqueId(o),
    get: (id) => {
      const stub = namespace.get(id);
      return new Proxy(stub, {
        get(target, property) {
          const value = target[property];
          if (typeof value !== "function") return value;
          return (...args) => {
            count.objectCalls++;
            return Reflect.apply(value, target, args);
          };
        },
      });
    },
  });
  const queue = (q) => ({
    send: (body, options) => {
      count.queueSends++;
      count.queueMessages++;
      return q.send(body, options);
    },
    sendBatch: (messages, options) => {
      count.queueSends++;
      count.queueMessages += messages.length;
      return q.sendBatch(messages, options);
    },
  });
  return {
    ...env,
    DB: {
      prepare: (sql) => meterStatement(db.prepare(sql), count),
      batch: async (statements) => {
        const results = await db.batch(statements);
        count.transactions++;
        count.statements += statements.length;
        for (const result of results) {
          count.rowsRead += result.meta?.rows_read ?? 0;
          count.rowsWritten += result.meta?.rows_written ?? 0;
          count.sqlMs += result.meta?.duration ?? 0;
        }
        return results;
      },
    },
    DELIVERIES: queue(env.DELIVERIES),
    DEAD_LETTERS: queue(env.DEAD_LETTERS),
    ...(env.INGEST_SHARDS ? { INGEST_SHARDS: objects(env.INGEST_SHARDS) } : {}),
    APP_BUILDS: objects(env.APP_BUILDS),
  };
}

export class IngestShard extends RelayIngestShard {
  constructor(ctx, env) {
    super(ctx, metered(env, "ingest shard"));
  }
}

export class AppBuilds extends RelayAppBuilds {
  constructor(ctx, env) {
    super(ctx, metered(env, "app builds"));
  }
}

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__meter") {
      if (request.method === "DELETE") for (const key of Object.keys(buckets)) delete buckets[key];
      return Response.json(buckets);
    }
    bucket("http").invocations++;
    return relay.fetch(request, metered(env, "http"), ctx);
  },
  queue(batch, env, ctx) {
    bucket("queue consumer").invocations++;
    return relay.queue(batch, metered(env, "queue consumer"), ctx);
  },
  scheduled(controller, env, ctx) {
    bucket("cron").invocations++;
    return relay.scheduled(controller, metered(env, "cron"), ctx);
  },
};
