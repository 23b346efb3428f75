import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['hypervisor/**/*.test.ts', 'fixtures/**/*.test.ts', 'gate-runner/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts', 'nix/**/*.test.ts'],
    globalSetup: ['fixtures/podman-api.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: podman- and process-backed tests contend for them, so files run one or two at a time.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
