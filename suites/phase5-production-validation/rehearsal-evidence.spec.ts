import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test, expect } from '../../fixtures/production-test.ts';
import { rehearseRollback, trafficAround, type RehearsalOutput } from '../../fixtures/rollback-rehearsal.ts';

test('Rollback rehearsal output attached.', async ({ hostTarget: target, hostRequests: request, page, passkey, desktop, gateUsers, evidence, oncePerWorker }) => {
  void passkey;
  await evidence.provenOn(target.provenOn);
  const rehearsal = await oncePerWorker.once('rollback rehearsal', () => rehearseRollback({ target, request, page, desktop, register: (p) => gateUsers.register(p), evidence }));

  const output = await test.step('rollback-rehearsal.json is kept as evidence and parses', async () => {
    const text = await readFile(rehearsal.file, 'utf8');
    if (path.dirname(rehearsal.file) !== evidence.dir) await evidence.text('rollback-rehearsal.json', text, 'application/json');
    return JSON.parse(text) as RehearsalOutput;
  });

  await test.step('it names the known-good release, the one rolled back from, and the one staged for the cold rollback, each its own version', async () => {
    expect(output.rolled_back_from.id).not.toBe(output.known_good.id);
    expect(output.cold.staged.id).not.toBe(output.known_good.id);
    expect(new Set(Object.values(output.versions)).size).toBe(3);
  });

  for (const mode of ['warm', 'cold'] as const) {
    const rollback = output[mode];
    await test.step(`${mode}: it records the mode, the time to serve the known-good release again, and that release answering afterwards`, async () => {
      expect(rollback.answer.mode).toBe(mode);
      expect(rollback.answer.release.id).toBe(output.known_good.id);
      expect(rollback.answer.from_release).toBe(output.rolled_back_from.id);
      expect(rollback.serving_after_ms).toEqual(expect.any(Number));
      expect(rollback.serving_after_ms).toBe(rollback.answer.serving_after_ms);
      expect(rollback.served_after).toEqual({ status: 200, version: output.versions.known_good, instance_role: rollback.answer.main });
    });

    await test.step(`${mode}: it records the traffic around the rollback and its failed-request count: none`, async () => {
      expect(rollback.traffic.total).toBeGreaterThanOrEqual(2 * trafficAround);
      expect(rollback.failed_requests).toBe(rollback.traffic.failures.length);
      expect(rollback.failed_requests).toBe(0);
    });

    await test.step(`${mode}: the gate user's data digests, slot by slot, match before and after`, async () => {
      const { before, after } = rollback.data_digests;
      expect(Object.keys(before).sort()).toEqual(['dev', 'live']);
      for (const digest of Object.values(before)) expect(digest.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(after).toEqual(before);
      expect(before.live.runs + before.dev.runs).toBeGreaterThanOrEqual(2);
    });
  }
});
