import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["src/**/*.test.ts"],
    // Installing a CLI from npm (cached) copies a ~250 MB binary.
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
