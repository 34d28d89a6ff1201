import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Most files wait on sockets and timers, not the CPU: three at a time (the default, cores - 1, is one on two cores).
    maxWorkers: 3,
    // Files share their worker's module cache: importing the server's modules again for each of 144 files was about
    // half the run (347.6 s isolated vs 184.7 s shared, full suite, this machine). Every test starts its own servers
    // in its own folder and no test mocks modules, stubs globals or fakes timers (a test that would must restore them).
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
    // `expect.poll` waits for what happens over the network or on a timer: 10 s, looking every 10 ms.
    expect: { poll: { timeout: 10_000, interval: 10 } },
    // One Postgres cluster for the run, started by the first file that needs it.
    globalSetup: ['test/helpers/postgres-global-setup.ts'],
  },
});
