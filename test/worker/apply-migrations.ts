// Storage is isolated per test file, so each file starts from a freshly migrated D1.
import { applyD1Migrations, env } from "cloudflare:test";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
