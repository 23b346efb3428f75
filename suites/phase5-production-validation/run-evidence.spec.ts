import { describeChecks } from '../../fixtures/runtime-metrics/snapshot.ts';
import { attachSnapshot } from '../../fixtures/runtime-metrics/run-metrics.ts';
import { test, expect } from '../../fixtures/production-test.ts';

// Last in the run (files run in name order): the snapshot's window spans the lines before it.
test('Runtime metrics snapshot attached.', async ({ target, cloudwatch, thresholds, runMetrics, browser, request, evidence, provenOnTarget }) => {
  await evidence.provenOn(target.local ? { place: provenOnTarget.place, standIn: `${provenOnTarget.standIn}; moto stood in for CloudWatch` } : provenOnTarget);
  expect(cloudwatch, 'the target description names no `cloudwatch` section: add region and host (see targets/README.md)').toBeDefined();
  if (!cloudwatch) return;
  // Some proxied traffic in the window even when this line runs alone (refused without a session, still timed).
  expect((await request.get(`${target.url}/conductor/runs`)).status()).toBe(401);
  const snapshot = await runMetrics.end(cloudwatch, thresholds, { waitMs: 60_000 });
  await attachSnapshot(evidence, browser, snapshot, 'Phase 5 runtime metrics');
  expect(snapshot.held, describeChecks(snapshot.checks)).toBe(true);
});
