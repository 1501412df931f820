import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["src/**/*.test.ts"],
    // Installs Paperclip (cached outside the repo) and builds the adapters Paperclip imports.
    globalSetup: ["src/global-setup.ts"],
    testTimeout: 240_000,
    hookTimeout: 300_000,
  },
});
