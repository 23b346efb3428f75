import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from '@playwright/test';
import { DesktopPage } from '../../fixtures/desktop-page.ts';
import { nightlyDefectIssuesToken, nightlyGateStepRuns, nightlyLedgerCarriedOver, nightlyResultSteps, nightlyRunsOnOneTarget, nightlyWorkflowFile } from '../../fixtures/nightly-workflow.ts';
import { runsAfterFailure } from '../../nix/ci/step-condition.ts';
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

  await test.step("the nightly runs this suite against each deployed host: on a scheduled night and a manual run its gate step runs `npm run gate -- phase5` with GATE_TARGET and the environment its matrix target, and only a manual run asking for all phases runs `npm run gate` (phases 1 to 5)", async () => {
    const starts = [
      { name: 'scheduled night', event: 'schedule', inputs: {} },
      { name: 'manual run', event: 'workflow_dispatch', inputs: { target: 'staging', 'all-phases': 'false', phases: '' } },
      { name: 'manual run, all phases', event: 'workflow_dispatch', inputs: { target: 'staging', 'all-phases': 'true', phases: '' } },
    ] as const;
    const runs = await nightlyGateStepRuns('staging', starts);
    await evidence.json('nightly-gate-step', { workflow: path.relative(process.cwd(), nightlyWorkflowFile), matrixTarget: 'staging', runs });
    expect(runs, `${nightlyWorkflowFile}: the gate step, run for matrix target staging (npm stood in for)`).toEqual([
      { start: 'scheduled night', gateTarget: 'staging', environment: 'staging', npm: ['run gate -- phase5'], exitCode: 0 },
      { start: 'manual run', gateTarget: 'staging', environment: 'staging', npm: ['run gate -- phase5'], exitCode: 0 },
      { start: 'manual run, all phases', gateTarget: 'staging', environment: 'staging', npm: ['run gate'], exitCode: 0 },
    ]);
  });

  // Two validations of one host at once would each remove the other's gate users mid-run.
  await test.step("the nightly runs the suite against a host one run at a time: two runs of one target (a scheduled night, a manual run) join the same concurrency group, and a newer run waits rather than cancel the one in progress", async () => {
    const nightly = nightlyRunsOnOneTarget('production');
    await evidence.json('nightly-concurrency', { workflow: path.relative(process.cwd(), nightlyWorkflowFile), ...nightly });
    expect(nightly.groups[0], `${nightlyWorkflowFile}: job ${nightly.job ?? '(no job runs the gate)'} has no concurrency group`).toBeDefined();
    expect(nightly.groups[1], `${nightlyWorkflowFile}: job ${nightly.job}'s concurrency group for two runs of one target (it must not differ per run)`).toBe(nightly.groups[0]);
    expect(nightlyRunsOnOneTarget('staging').groups[0], `${nightlyWorkflowFile}: job ${nightly.job}'s concurrency group names the target, so another host's run does not wait on this one`).not.toBe(nightly.groups[0]);
    expect(nightly.cancelInProgress, `${nightlyWorkflowFile}: job ${nightly.job}'s cancel-in-progress (a cancelled run leaves its gate users on the host)`).toBe(false);
  });
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

  await test.step("the nightly's defect-issues step may file, comment on and close issues: its job's token, under the job's own permissions or else the workflow's, has issues: write, and the step hands it on as GITHUB_TOKEN", async () => {
    const token = nightlyDefectIssuesToken();
    await evidence.json('nightly-defect-issues-token', { workflow: path.relative(process.cwd(), nightlyWorkflowFile), ...token });
    expect(token.issues, `${nightlyWorkflowFile}: job ${token.job ?? '(no job runs the gate)'}'s token permissions (from the ${token.permissionsFrom}: ${JSON.stringify(token.permissions)}); a job's permissions replace the workflow's`).toBe('write');
    expect(token.tokenGiven, `${nightlyWorkflowFile}: the defect-issues step's env GITHUB_TOKEN`).toMatch(/^\$\{\{\s*(github\.token|secrets\.GITHUB_TOKEN)\s*\}\}$/);
  });

  await test.step("the nightly carries the ledger and Allure history from one night to the next: it restores them before its gate step under a key that matches the previous night's save, and saves the same paths after the gate under a key of that run's own, on a failing night too", async () => {
    const ledger = nightlyLedgerCarriedOver('production');
    await evidence.json('nightly-ledger-cache', { workflow: path.relative(process.cwd(), nightlyWorkflowFile), ...ledger });
    expect(ledger.restore, `${nightlyWorkflowFile}: a cache restore step in the gate job`).toBeDefined();
    expect(ledger.save, `${nightlyWorkflowFile}: a cache save step in the gate job`).toBeDefined();
    expect(ledger.restore?.paths, `${nightlyWorkflowFile}: the restored paths`).toEqual(expect.arrayContaining(['reports/gates', 'reports/allure-history']));
    expect(ledger.save?.paths, `${nightlyWorkflowFile}: the saved paths are the restored ones`).toEqual(ledger.restore?.paths);
    expect({ restoreBeforeGate: (ledger.restore?.at ?? Infinity) < ledger.gateAt, saveAfterGate: (ledger.save?.at ?? -1) > ledger.gateAt }, `${nightlyWorkflowFile}: the restore and save steps around the gate step`).toEqual({ restoreBeforeGate: true, saveAfterGate: true });
    expect(ledger.nextNightRestores, `${nightlyWorkflowFile}: the next night's restore keys ${JSON.stringify(ledger.restore?.keys)} against this night's save key ${ledger.save?.key} (GitHub matches a restore key that is a prefix of a saved key)`).toBe(true);
    expect(new Set(ledger.saveKeys).size, `${nightlyWorkflowFile}: the save keys of two attempts of one night and of the next night, ${JSON.stringify(ledger.saveKeys)} (a saved cache is never overwritten, so a repeated key keeps the first night's ledger)`).toBe(3);
    expect(runsAfterFailure(ledger.save?.if), `${nightlyWorkflowFile}: the save step's if: is ${ledger.save?.if ?? 'absent, so a failing night keeps no verdict'}`).toBe(true);
  });
});
