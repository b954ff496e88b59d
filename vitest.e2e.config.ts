// End-to-end tests: Node drives the Worker served by `wrangler dev` over real HTTP.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts its own relay; running them one at a time keeps a 2-core machine responsive.
    fileParallelism: false,
  },
});
