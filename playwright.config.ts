import { defineConfig } from '@playwright/test';
import { phases } from './suites/phases.ts';
import type { GateWorkerOptions } from './fixtures/gate-test.ts';

/**
 * One Playwright project per bootstrap phase (suites/<phase>/), plus `hypervisor` for the
 * hypervisor's own browser tests. The same suites run against a local target (booted on podman)
 * or a deployed host (GATE_TARGET_URL), unchanged.
 */
export default defineConfig<object, GateWorkerOptions>({
  timeout: 120_000,
  expect: { timeout: 15_000 },
  // Two cores and one podman: gate tests share a target and run one at a time, in order.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  outputDir: 'test-results',
  globalSetup: './fixtures/playwright.global-setup.ts',
  reporter: [
    ['list'],
    // GATE_REPORTS_DIR: `npm run gate` may keep reports elsewhere (gate-runner/reports-dir.ts reads the same variable).
    ['allure-playwright', { resultsDir: `${process.env.GATE_REPORTS_DIR?.trim() || 'reports'}/allure-results`, detail: true, suiteTitle: true }],
  ],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-gpu', '--no-first-run', '--disable-sync', '--disable-quic'],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    // gatePhase (fixtures/gate-test.ts) labels each gate test with its phase and checklist line.
    ...phases.map((phase) => ({ name: phase.id, testDir: `suites/${phase.folder}`, use: { gatePhase: phase.id } })),
    { name: 'hypervisor', testDir: 'hypervisor', testMatch: '**/*.spec.ts' },
  ],
});
