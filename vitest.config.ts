import { configDefaults, defineConfig } from "vitest/config";

/**
 * Suites that start many processes and put a machine under load (chaos now; fleet, workers
 * and browser suites later). They run in a project of their own, one file at a time, after
 * the rest: on two cores they would otherwise starve each other and the integration tests.
 */
const HEAVY_SUITES = [
  "test/chaos/**/*.test.ts",
  "test/fleet/**/*.test.ts",
  "test/workers/**/*.test.ts",
  "test/browser/**/*.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "default",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...HEAVY_SUITES],
          // Integration tests start real servers; two cores do not gain from many workers.
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: "heavy",
          include: HEAVY_SUITES,
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 60_000,
        },
      },
    ],
  },
});
