import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test, expect } from '../../fixtures/production-test.ts';
import { rehearseRollback, trafficAround, type RehearsalOutput } from '../../fixtures/rollback-rehearsal.ts';

test('Rollback rehearsal output attached.', async ({ target, page, passkey, desktop, gateUsers, evidence, provenOnTarget, oncePerWorker }) => {
  void passkey;
  await evidence.provenOn(provenOnTarget);
  const rehearsal = await oncePerWorker.once('rollback rehearsal', () => rehearseRollback({ target, page, desktop, register: (p) => gateUsers.register(p), evidence }));

  const output = await test.step('rollback-rehearsal.json is kept as evidence and parses', async () => {
    const text = await readFile(rehearsal.file, 'utf8');
    if (path.dirname(rehearsal.file) !== evidence.dir) await evidence.text('rollback-rehearsal.json', text, 'application/json');
    return JSON.parse(text) as RehearsalOutput;
  });

  await test.step('it records the time to serve the known-good release again', async () => {
    expect(output.answer.release.id).toBe(output.known_good.id);
    expect(output.rolled_back_from.id).not.toBe(output.known_good.id);
    expect(output.serving_after_ms).toEqual(expect.any(Number));
    expect(output.serving_after_ms).toBe(output.answer.serving_after_ms);
  });

  await test.step('it records the traffic around the rollback and its failed-request count: none', async () => {
    expect(output.traffic.total).toBeGreaterThanOrEqual(2 * trafficAround);
    expect(output.failed_requests).toBe(output.traffic.failures.length);
    expect(output.failed_requests).toBe(0);
  });

  await test.step("the gate user's data digests, slot by slot, match before and after", async () => {
    const { before, after } = output.data_digests;
    expect(Object.keys(before).sort()).toEqual(['dev', 'live']);
    for (const digest of Object.values(before)) expect(digest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(after).toEqual(before);
    expect(before.live.runs + before.dev.runs).toBeGreaterThanOrEqual(2);
  });
});
