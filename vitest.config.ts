import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
    // One Postgres cluster for the run, started by the first file that needs it.
    globalSetup: ['test/helpers/postgres-global-setup.ts'],
  },
});
