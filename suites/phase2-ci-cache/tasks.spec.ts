import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, expect } from '../../fixtures/flakes-proof.ts';
import { passedPhase2Ledger, recordPhase2Run } from '../../fixtures/passed-phase2-ledger.ts';
import { GateRefusedError } from '../../gate-runner/gate-refused.ts';
import { gateTargetFromEnv } from '../../gate-runner/gate-target.ts';
import { GitHubClient } from '../../gate-runner/github/client.ts';
import { LocalGitHub } from '../../gate-runner/github/local-github.ts';
import { flakesCheckName, promoteFlakesCheck } from '../../gate-runner/github/required-check.ts';
import { readFlakesWorkflow } from '../../nix/ci/flakes-workflow.ts';
import { checkReporting } from '../../fixtures/workflow-triggers.ts';
import { lintWorkflows, formatFinding } from '../../scripts/actionlint.ts';
import { misordered } from '../../fixtures/workflow-step-order.ts';

const workflowProvenOn = { place: "this checkout's .github/workflows/flakes.yml, read and linted locally", standIn: 'the workflow file read here stood in for its runs on GitHub Actions' };

test('Enable FlakeHub cache in workflow with OIDC permissions.', async ({ flakesSource, evidence }) => {
  const workflow = readFlakesWorkflow();
  await evidence.text('flakes.yml', workflow.text, 'text/yaml');
  await evidence.provenOn(flakesSource.kind === 'remote' ? flakesSource.provenOn : workflowProvenOn);
  expect(workflow.usesNixInstaller, 'DeterminateSystems/nix-installer-action').toBe(true);
  expect(workflow.usesFlakeHubCache, 'DeterminateSystems/flakehub-cache-action').toBe(true);
  // The build job's own permissions replace the workflow's when it has any (readFlakesWorkflow reads them so).
  expect(workflow.permissions, `${workflow.file}: the build job's token permissions`).toEqual({ 'id-token': 'write', contents: 'read' });
  await test.step('Nix is installed before the FlakeHub Cache step configures it, and both come before the builds', () => {
    expect(misordered(workflow, [['nix installer', 'FlakeHub Cache'], ['FlakeHub Cache', 'build']]), `${workflow.file}: the build job's steps out of order or missing`).toEqual([]);
  });
  const findings = await lintWorkflows([workflow.file]);
  expect(findings.map(formatFinding), 'actionlint').toEqual([]);
  if (flakesSource.kind === 'remote') {
    const [, latest] = flakesSource.runs;
    expect(latest.flakeHubEnabled, `"FlakeHub cache is enabled." in the log of ${latest.jobUrl}`).toBe(true);
  }
});

test('Keep workflow non-blocking initially; then promote to required checks.', async ({ flakesSource, evidence }) => {
  const workflow = readFlakesWorkflow();
  // The promotion itself is always proven against the local stand-in: a gate never changes a real branch's protection.
  const promotionStandIn = "a local HTTP server speaking GitHub's REST shapes stood in for branch protection, and a recorded passing Phase 2 run for the gate's own";
  await evidence.provenOn(flakesSource.kind === 'remote' ? { place: flakesSource.provenOn.place, standIn: `promote-check: ${promotionStandIn}` } : { place: workflowProvenOn.place, standIn: `${workflowProvenOn.standIn}; ${promotionStandIn}` });
  await test.step('the build job is non-blocking: continue-on-error', async () => {
    expect(workflow.buildJobName).toBe(flakesCheckName);
    expect(workflow.continueOnError).toBe(true);
  });
  await test.step(`once required, "${flakesCheckName}" reports on every pull request into main and every push to main: the workflow runs for both, and neither a filter nor the job's if: skips it`, async () => {
    const reporting = checkReporting(workflow, flakesCheckName);
    await evidence.json('check-reports-on', reporting);
    expect(reporting, `where "${flakesCheckName}" reports`).toEqual([{ event: 'pull_request into main', gap: undefined }, { event: 'push to main', gap: undefined }]);
  });
  await test.step('npm run promote-check refuses while the Phase 2 gate has not passed, and changes nothing', async () => {
    const local = flakesSource.kind === 'local' ? await new LocalGitHub().start() : undefined;
    try {
      local?.repositories.add('choiros/gates');
      const client = flakesSource.kind === 'remote' ? flakesSource.client : new GitHubClient({ apiUrl: local?.apiUrl ?? '', owner: 'choiros', repo: 'gates', token: local?.token ?? '', workflow: 'flakes.yml', branch: 'main' });
      const emptyLedger = mkdtempSync(path.join(tmpdir(), 'phase2-no-ledger-'));
      const refusal = await promoteFlakesCheck(client, gateTargetFromEnv(), emptyLedger).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(GateRefusedError);
      const message = (refusal as Error).message;
      await evidence.text('promote-check-refusal.txt', message);
      expect(message).toContain(`refusing to make "${flakesCheckName}" a required check`);
      if (local) expect(local.received.filter((r) => r.method !== 'GET'), 'requests that would change branch protection').toEqual([]);
    } finally {
      await local?.stop();
    }
  });
  await test.step('npm run promote-check refuses when the latest Phase 2 run for the target failed, though an earlier one passed, and changes nothing', async () => {
    const target = gateTargetFromEnv();
    const gatesDir = await passedPhase2Ledger(target);
    // A later run whose first line failed: the checks regressed since the passing run.
    await recordPhase2Run(gatesDir, target, { runId: 'stand-in-failed-run', day: '2026-01-02', firstLineFailed: true });
    const github = await new LocalGitHub().start();
    try {
      github.repositories.add('choiros/gates');
      const client = new GitHubClient({ apiUrl: github.apiUrl, owner: 'choiros', repo: 'gates', token: github.token, workflow: 'flakes.yml', branch: 'main' });
      const refusal = await promoteFlakesCheck(client, target, gatesDir).then(
        () => undefined,
        (error: unknown) => error,
      );
      await evidence.text('promote-check-refusal-after-a-failed-run.txt', String(refusal));
      expect(refusal, 'promote-check after a failed Phase 2 run').toBeInstanceOf(GateRefusedError);
      expect((refusal as Error).message).toContain('stand-in-failed-run');
      expect(github.received.filter((r) => r.method !== 'GET'), 'requests that would change branch protection').toEqual([]);
    } finally {
      await github.stop();
      rmSync(gatesDir, { recursive: true, force: true });
    }
  });
  await test.step("after a passing Phase 2 gate, npm run promote-check adds the check to the branch's required checks, keeping those already required, and a second promotion adds nothing", async () => {
    const target = gateTargetFromEnv();
    const gatesDir = await passedPhase2Ledger(target);
    const github = await new LocalGitHub().start();
    try {
      github.repositories.add('choiros/gates');
      const alreadyRequired = { strict: false, contexts: ['ci / test', 'lint'] };
      github.protections.set('choiros/gates#main', { required_status_checks: alreadyRequired });
      const client = new GitHubClient({ apiUrl: github.apiUrl, owner: 'choiros', repo: 'gates', token: github.token, workflow: 'flakes.yml', branch: 'main' });
      const first = await promoteFlakesCheck(client, target, gatesDir);
      const afterFirst = structuredClone(github.protections.get('choiros/gates#main'));
      const second = await promoteFlakesCheck(client, target, gatesDir);
      const afterSecond = github.protections.get('choiros/gates#main');
      await evidence.json('promote-check-after-phase2-passed', { alreadyRequired, first, afterFirst, second, afterSecond, changes: github.received.filter((r) => r.method !== 'GET').map((r) => ({ method: r.method, path: r.path, body: r.body })) });
      const required = { strict: false, contexts: [...alreadyRequired.contexts, flakesCheckName] };
      expect(afterFirst, 'branch protection after promoting').toEqual({ required_status_checks: required });
      expect(afterSecond, 'branch protection after promoting again').toEqual({ required_status_checks: required });
      expect(second.contexts, 'the required checks promote-check reports').toEqual(required.contexts);
      expect(first.phase2RunId, 'the Phase 2 run promote-check names as allowing it').toBe('stand-in-run');
    } finally {
      await github.stop();
      rmSync(gatesDir, { recursive: true, force: true });
    }
  });
  await test.step(`on the target's branch with no protection yet (here "release", not main), promote-check protects that branch with "${flakesCheckName}" required and every other protection left off, in the body GitHub accepts`, async () => {
    const target = gateTargetFromEnv();
    const gatesDir = await passedPhase2Ledger(target);
    const github = await new LocalGitHub().start();
    try {
      github.repositories.add('choiros/gates');
      const client = new GitHubClient({ apiUrl: github.apiUrl, owner: 'choiros', repo: 'gates', token: github.token, workflow: 'flakes.yml', branch: 'release' });
      const promotion = await promoteFlakesCheck(client, target, gatesDir);
      const changes = github.received.filter((r) => r.method !== 'GET').map((r) => ({ method: r.method, path: r.path, body: r.body }));
      await evidence.json('promote-check-on-an-unprotected-branch', { promotion, protections: Object.fromEntries(github.protections), changes });
      expect(promotion.branch, 'the branch promote-check reports').toBe('release');
      expect([...github.protections.keys()], 'the branches protected afterwards').toEqual(['choiros/gates#release']);
      expect(github.protections.get('choiros/gates#release'), 'the new protection of release').toEqual({ required_status_checks: { strict: true, contexts: [flakesCheckName] }, enforce_admins: null, required_pull_request_reviews: null, restrictions: null });
    } finally {
      await github.stop();
      rmSync(gatesDir, { recursive: true, force: true });
    }
  });
});

test('Capture baseline and post-cache build times.', async ({ flakesProof, evidence }) => {
  await evidence.provenOn(flakesProof.provenOn);
  if (flakesProof.kind === 'remote') {
    const [older, newer] = flakesProof.runs;
    const times = { baseline: { run: older.url, buildStepMs: older.buildStepMs, jobMs: older.jobMs }, postCache: { run: newer.url, buildStepMs: newer.buildStepMs, jobMs: newer.jobMs } };
    await evidence.json('build-times', times);
    expect(older.buildStepMs).toBeGreaterThan(0);
    expect(newer.buildStepMs).toBeGreaterThan(0);
    return;
  }
  const { measurement } = flakesProof;
  const times = measurement.outputs.map((o) => ({ output: o.output, baselineMs: Math.round(o.cold.durationMs), postCacheMs: Math.round(o.warm.durationMs), baselineCommand: o.cold.command.join(' '), postCacheCommand: o.warm.command.join(' ') }));
  await evidence.json('build-times', times);
  for (const time of times) {
    expect(time.baselineMs, `${time.output} cold`).toBeGreaterThan(0);
    expect(time.postCacheMs, `${time.output} warm`).toBeGreaterThan(0);
  }
  // A time is only a baseline if no cache was asked, and only post-cache if the cache alone was.
  const substitutersOf = (command: readonly string[]): string | undefined => {
    const at = command.findIndex((arg, i) => arg === '--option' && command[i + 1] === 'substituters');
    return at < 0 ? undefined : command[at + 2];
  };
  for (const o of measurement.outputs) {
    expect(substitutersOf(o.cold.command), `${o.output}: the baseline build's substituters (${o.cold.command.join(' ')})`).toBe('');
    expect(o.cold.transcript.misses.some((drv) => drv.includes(`-choiros-${o.output}-`)), `${o.output}: the baseline built its own derivation`).toBe(true);
    expect(substitutersOf(o.warm.command), `${o.output}: the post-cache build's substituters`).toBe(measurement.cacheUrl);
    expect(o.warm.transcript.hits.length, `${o.output}: the post-cache build copied from the cache`).toBeGreaterThan(0);
  }
});
