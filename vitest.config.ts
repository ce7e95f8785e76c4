import { defineConfig } from 'vitest/config';

// Under CI, .ci/run asks for a JSON report to check that no compat test was skipped.
const report = process.env.ETCDTS_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the temp dirs a test file made (test/helpers/procs.ts tempDir).
    setupFiles: ['test/setup/cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration and compat tests start real processes on loopback ports; keep
    // parallelism modest on these 2-core machines.
    maxWorkers: 2,
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
  },
});
