// Tests that run inside workerd, with the real D1, Queues and bindings from wrangler.toml.
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: "test-admin-token",
            SECRETS_KEY: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            // Seconds instead of hours, so retries and dead-lettering happen within a test.
            DELIVERY_RETRY_SCHEDULE: "1,1",
            DELIVERY_TIMEOUT_MS: "2000",
            // Set explicitly: a developer's .dev.vars would otherwise leak into the tests.
            ALLOW_PRIVATE_TARGETS: "false",
          },
          // Tests never reach the network: anything not intercepted gets a plain 200.
          outboundService: () => new Response("ok from the test network"),
        },
      }),
    ],
    test: {
      include: ["test/worker/**/*.test.ts"],
      setupFiles: ["./test/worker/apply-migrations.ts"],
      restoreMocks: true,
      testTimeout: 30_000,
    },
  };
});
