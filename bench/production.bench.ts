import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { gateTargetDescription } from '../gate-runner/gate-target.ts';
import { fromRoot } from '../hypervisor/paths.ts';
import { startMotoServer } from '../fixtures/moto-server.ts';
import { openProductionHost } from '../fixtures/production-host.ts';
import type { RehearsalOutput } from '../fixtures/rollback-rehearsal.ts';
import { hostSandboxStart } from './host-sandbox-start.ts';
import { readSuiteOutcome } from './playwright-results.ts';

/**
 * Phase 5's figures (issue 15) against the local target, each next to a baseline from the same run:
 * - the suite's wall time (`npx playwright test --project=phase5`, as a user runs it; goal < 180 s)
 *   against its fixed cost: booting the Phase 4 stand-in and deploying its three generations;
 * - the rollback rehearsal's time to serve the known-good release again, warm and cold (goal cold
 *   < 1.5 s, Phase 1's podman goal; the stand-in's hypervisor runs the process runtime) against the
 *   same sandbox program started by hand on that host to healthy.
 * The suite writes its evidence and reports under a temp dir, never the checkout's reports/.
 * Prints PASS/MISS per goal; exits non-zero only when something fails to run (or the suite fails).
 */
const handStarts = 5;
/** production-test.ts's localPublishIntervalSecs: the suite's stand-in publishes to moto this often (not imported: that module is Playwright's). */
const publishIntervalSecs = 5;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const show = (values: number[]): string => `p50 ${median(values).toFixed(0)} ms (n=${values.length}: ${values.map((v) => v.toFixed(0)).join(' ')})`;
const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function findFile(dir: string, name: string): Promise<string | undefined> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const hit = entries.find((entry) => entry.isFile() && entry.name === name);
  return hit ? path.join(hit.parentPath, hit.name) : undefined;
}

const description = gateTargetDescription();
if (description.hypervisor) {
  console.error(`the production bench boots the local Phase 4 stand-in; GATE_TARGET/GATE_TARGET_URL name a deployed target (${description.name}). Unset them to run it.`);
  process.exit(2);
}
const scratch = await mkdtemp(path.join(tmpdir(), 'choiros-bench-production-'));
try {
  // Baseline: the suite's fixed cost, as its fixtures pay it (moto, then the stand-in with three generations publishing to it).
  const handStartTimes: number[] = [];
  const began = performance.now();
  const moto = await startMotoServer();
  let opened = 0;
  let closing = 0;
  try {
    const host = await openProductionHost(description, { cloudwatch: { endpoint: moto.endpoint, intervalSecs: publishIntervalSecs } });
    opened = performance.now() - began;
    try {
      for (let i = 0; i < handStarts; i += 1) handStartTimes.push(await hostSandboxStart(host.access));
    } finally {
      // The suite's teardown is part of its fixed cost too; the hand starts in between are not.
      closing = performance.now();
      await host.close();
    }
  } finally {
    await moto.close();
    closing = closing ? performance.now() - closing : 0;
  }
  const fixed = opened + closing;
  console.log(`Phase 4 stand-in booted and three generations deployed (moto included), then closed (baseline): ${seconds(fixed)} (open ${seconds(opened)}, close ${seconds(closing)})`);
  console.log(`sandbox started by hand on the stand-in to healthy (baseline: the hypervisor's Node and workload, its compile cache, the sandbox user, timed on the host): ${show(handStartTimes)}`);

  const report = path.join(scratch, 'results.json');
  const env = { ...process.env, GATE_REPORTS_DIR: path.join(scratch, 'reports'), GATE_EVIDENCE_DIR: path.join(scratch, 'evidence'), PLAYWRIGHT_JSON_OUTPUT_NAME: report };
  const suiteBegan = performance.now();
  const run = await execa('npx', ['playwright', 'test', '--project=phase5', '--reporter=json', `--output=${path.join(scratch, 'test-results')}`], { cwd: fromRoot(), reject: false, all: true, env });
  const suite = performance.now() - suiteBegan;
  const outcome = await readSuiteOutcome(report).catch((error: Error) => {
    console.log(run.all);
    throw error;
  });
  const passed = run.exitCode === 0 && outcome.failed.length === 0 && outcome.errors.length === 0;
  console.log(`Phase 5 suite wall time (npx playwright test --project=phase5, ${passed ? 'passed' : `FAILED, exit ${run.exitCode}`}: ${outcome.passed} passed, ${outcome.failed.length} failed, ${outcome.skipped} skipped): ${seconds(suite)}, goal < 180 s: ${verdict(passed && suite < 180_000)}`);
  for (const line of outcome.failed) console.log(`  failed: ${line}`);
  for (const error of outcome.errors) console.log(`  error outside the tests: ${error}`);
  console.log(`  suite/baseline ${(suite / fixed).toFixed(2)}x; beyond the stand-in's boot and deploys: ${seconds(suite - fixed)}`);
  if (!passed) process.exitCode = 1;

  const file = await findFile(path.join(scratch, 'evidence'), 'rollback-rehearsal.json');
  if (!file) {
    console.log('rollback rehearsal: the suite wrote no rollback-rehearsal.json (the rehearsal line did not run to the end), so no rollback figures');
    process.exitCode = 1;
  } else {
    const rehearsal = JSON.parse(await readFile(file, 'utf8')) as RehearsalOutput;
    const line = (name: 'warm' | 'cold'): string => {
      const r = rehearsal[name];
      return `${name} ${r.serving_after_ms ?? 'n/a'} ms (mode ${r.answer.mode}, call ${r.answer.duration_ms ?? 'n/a'} ms, ${r.failed_requests} failed of ${r.traffic.total} requests, then served ${r.served_after.version ?? 'nothing'})`;
    };
    const cold = rehearsal.cold.serving_after_ms;
    console.log(`rollback rehearsal, time to serve the known-good release again (the hypervisor's serving_after_ms): ${line('warm')}; ${line('cold')}`);
    console.log(`  cold on the process runtime, goal < 1500 ms (Phase 1's podman cold-rollback goal, applied to the runtime this host runs): ${verdict(cold !== null && cold < 1500)}; cold/hand start ${cold === null ? 'n/a' : (cold / median(handStartTimes)).toFixed(2)}x, beyond it ${cold === null ? 'n/a' : (cold - median(handStartTimes)).toFixed(0)} ms`);
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
