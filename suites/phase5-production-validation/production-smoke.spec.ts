import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from '@playwright/test';
import { DesktopPage } from '../../fixtures/desktop-page.ts';
import { nightlyResultSteps, nightlyWorkflowFile } from '../../fixtures/nightly-workflow.ts';
import type { Evidence } from '../../fixtures/evidence.ts';
import { addVirtualAuthenticator } from '../../fixtures/passkey.ts';
import type { ProductionHost } from '../../fixtures/production-host.ts';
import { test, expect } from '../../fixtures/production-test.ts';
import { runSmokeSuite, smokeSteps, type SmokeResults, type SmokeRun } from '../../fixtures/smoke-suite.ts';

/**
 * The smoke suite against the host's own URL, in a context of its own in the run's browser: for the
 * local Phase 4 stand-in, the browser maps its name to 127.0.0.1 and trusts Caddy's internal root
 * (the `browser` fixture, host-browser.ts).
 */
async function smokeOnHost(host: ProductionHost, browser: Browser, evidence: Evidence): Promise<SmokeRun> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const desktop = new DesktopPage(page);
    await addVirtualAuthenticator(page);
    return await runSmokeSuite({ target: host.url, url: host.url, page, desktop, evidence, removeUser: (userId) => host.admin.call('DELETE', `/admin/users/${encodeURIComponent(userId)}`) });
  } finally {
    await context.close();
  }
}

test('Run smoke suite against deployed host.', async ({ productionHost: host, browser, evidence, oncePerWorker }) => {
  await evidence.provenOn(host.webProvenOn);
  // Run once per worker: "Smoke suite results attached." reads the same results.
  const { results } = await oncePerWorker.once('smoke suite', () => smokeOnHost(host, browser, evidence));
  expect(results.steps.map((s) => s.step)).toEqual([...smokeSteps]);
  expect(results.steps.filter((s) => !s.passed), JSON.stringify(results.steps, null, 2)).toEqual([]);
});

test('Smoke suite results attached.', async ({ productionHost: host, browser, evidence, oncePerWorker }) => {
  await evidence.provenOn(host.webProvenOn);
  const run = await oncePerWorker.once('smoke suite', () => smokeOnHost(host, browser, evidence));

  const results = await test.step('smoke-results.json is kept as evidence and parses', async () => {
    const text = await readFile(run.file, 'utf8');
    if (path.dirname(run.file) !== evidence.dir) await evidence.text('smoke-results.json', text, 'application/json');
    return JSON.parse(text) as SmokeResults;
  });

  await test.step("it names the host's URL, records every step, each passed, with its time and what it saw, and the gate user removed", async () => {
    expect(results).toMatchObject({ url: host.url, passed: true, gate_user_removed: true });
    expect(results.steps.map((s) => s.step)).toEqual([...smokeSteps]);
    for (const step of results.steps) {
      expect(step, step.step).toMatchObject({ passed: true, ms: expect.any(Number) });
      expect(step.detail, `${step.step}: what it saw`).toBeTruthy();
    }
    const task = results.steps.find((s) => s.step === 'a task runs end to end over the WebSocket')?.detail as { status: string; websocket_frames: number };
    expect(task).toMatchObject({ status: 'completed' });
    expect(task.websocket_frames).toBeGreaterThan(2);
  });

  // The nightly is how these results reach the issues: a failing line is filed, a line passing again is closed.
  await test.step('the nightly validation hands the results on whatever the gate concluded: after its gate step, the defect-issues step and the evidence upload run on a night it passes and on one it fails (each if: as GitHub reads it)', async () => {
    const nightly = nightlyResultSteps();
    await evidence.json('nightly-result-steps', { workflow: path.relative(process.cwd(), nightlyWorkflowFile), ...nightly });
    for (const step of nightly.steps) {
      expect(step.name, `${nightlyWorkflowFile}: a step that ${step.role}`).toBeDefined();
      expect(step, `${nightlyWorkflowFile}: the step that ${step.role} (if: ${step.if ?? 'none'})`).toMatchObject({ afterGate: true, runsWhenGatePasses: true, runsWhenGateFails: true });
    }
  });
});
