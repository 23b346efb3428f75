import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test, expect } from '../../fixtures/production-test.ts';
import { runSmokeSuite, smokeSteps, type SmokeResults } from '../../fixtures/smoke-suite.ts';

test('Run smoke suite against deployed host.', async ({ target, page, passkey, desktop, gateUsers, evidence, provenOnTarget, oncePerWorker }) => {
  void passkey;
  await evidence.provenOn(provenOnTarget);
  // Run once per worker: "Smoke suite results attached." reads the same results.
  const { results } = await oncePerWorker.once('smoke suite', () => runSmokeSuite({ target: target.identity.id, url: target.url, page, desktop, register: (p) => gateUsers.register(p), evidence }));
  expect(results.steps.map((s) => s.step)).toEqual([...smokeSteps]);
  expect(results.steps.filter((s) => !s.passed), JSON.stringify(results.steps, null, 2)).toEqual([]);
});

test('Smoke suite results attached.', async ({ target, page, passkey, desktop, gateUsers, evidence, provenOnTarget, oncePerWorker }) => {
  void passkey;
  await evidence.provenOn(provenOnTarget);
  const run = await oncePerWorker.once('smoke suite', () => runSmokeSuite({ target: target.identity.id, url: target.url, page, desktop, register: (p) => gateUsers.register(p), evidence }));

  const results = await test.step('smoke-results.json is kept as evidence and parses', async () => {
    const text = await readFile(run.file, 'utf8');
    if (path.dirname(run.file) !== evidence.dir) await evidence.text('smoke-results.json', text, 'application/json');
    return JSON.parse(text) as SmokeResults;
  });

  await test.step('it names this run\'s target and records every step, each passed, with its time and what it saw', async () => {
    expect(results).toMatchObject({ target: target.identity.id, url: target.url, passed: true });
    expect(results.steps.map((s) => s.step)).toEqual([...smokeSteps]);
    for (const step of results.steps) {
      expect(step, step.step).toMatchObject({ passed: true, ms: expect.any(Number) });
      expect(step.detail, `${step.step}: what it saw`).toBeTruthy();
    }
    const task = results.steps.find((s) => s.step === 'a task runs end to end over the WebSocket')?.detail as { status: string; websocket_frames: number };
    expect(task).toMatchObject({ status: 'completed' });
    expect(task.websocket_frames).toBeGreaterThan(2);
  });
});
