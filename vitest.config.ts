import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Every *.test.ts outside node_modules, wherever a concept's folder puts it. `npm run test:unit`
    // runs the tests that build, delete or root paths in the shared Nix store (nix/, host/, the module,
    // the host fixture) in a second, serial run: a host's profile made while the cache test deletes
    // its paths keeps them alive and the cold build is no longer cold.
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
