import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Every *.test.ts outside node_modules, wherever a concept's folder puts it.
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.git/**'],
    globalSetup: ['fixtures/vitest.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: podman- and process-backed tests contend for them, so files run one or two at a time.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
