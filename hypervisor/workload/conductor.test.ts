import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { createLogger } from '../log.ts';
import { Conductor, type ConductorEvent } from './conductor.ts';
import { reportSteps } from './report.ts';
import { RunStore } from './run-store.ts';
import { removeDataDir, tempDataDir } from './testing/sandbox-process.ts';

let dataDir: string;
let store: RunStore;
let events: ConductorEvent[];

beforeEach(() => {
  dataDir = tempDataDir();
  store = new RunStore(`sqlite:${path.join(dataDir, 'sandbox.db')}`);
  events = [];
});

afterEach(() => {
  store.close();
  removeDataDir(dataDir);
});

function conductor(stepMs: number): Conductor {
  const created = new Conductor({ store, dataDir, stepMs, log: createLogger('conductor-test', { write: () => undefined }) });
  created.onEvent((event) => events.push(event));
  return created;
}

const request = (objective: string) => ({ objective, desktopId: 'desk-run', outputMode: 'markdown_report_to_writer' as const });

describe('the conductor', () => {
  test('a run goes initializing, running per step, completing, completed, and writes documents/<slug>-<run id prefix>.md', async () => {
    const started = conductor(0).execute(request('Write the Release Notes'));
    await vi.waitFor(() => expect(store.get(started.runId)?.status).toBe('completed'), { timeout: 10_000 });
    const run = store.get(started.runId);
    expect(run?.documentPath).toBe(`documents/write-the-release-notes-${started.runId.slice(0, 8)}.md`);
    expect(run).toMatchObject({ stepsDone: 4, stepsTotal: 4, currentStep: undefined });
    const file = path.join(dataDir, run?.documentPath ?? '');
    expect(readFileSync(file, 'utf8')).toBe(store.document(started.runId)?.content);
    expect(existsSync(`${file}.partial`)).toBe(false);
    const base = { run_id: started.runId, desktop_id: 'desk-run' };
    const progress = (status: string, index: number, name: string) => ({ type: 'conductor.run.progress', ...base, status, step: { index, total: 4, name } });
    expect(events).toEqual([
      { type: 'conductor.run.started', ...base, status: 'initializing', objective: 'Write the Release Notes', steps_total: 4 },
      ...reportSteps.map((step, i) => progress('running', i + 1, step.name)),
      progress('completing', 4, 'write document'),
      { type: 'conductor.run.completed', ...base, status: 'completed', document_path: run?.documentPath },
    ]);
  });

  test('each transition is recorded before it is announced: at every event the store already shows its status and step', async () => {
    const runs = conductor(0);
    const seen: string[] = [];
    runs.onEvent((event) => {
      const stored = store.get(event.run_id);
      seen.push(`${event.type}:${event.status}=${String(stored?.status)}:${String(stored?.stepsDone)}:${String(stored?.currentStep)}`);
    });
    const started = runs.execute(request('recorded first'));
    await vi.waitFor(() => expect(store.get(started.runId)?.status).toBe('completed'), { timeout: 10_000 });
    expect(seen).toEqual([
      'conductor.run.started:initializing=initializing:0:undefined',
      ...reportSteps.map((step, i) => `conductor.run.progress:running=running:${i + 1}:${step.name}`),
      'conductor.run.progress:completing=completing:4:write document',
      'conductor.run.completed:completed=completed:4:undefined',
    ]);
  });

  test('interruptAll ends every run in flight as failed with code interrupted, announced once, and none goes on', async () => {
    const runs = conductor(0);
    const first = runs.execute(request('first'));
    const second = runs.execute(request('second'));
    runs.interruptAll('the sandbox was stopped');
    expect(runs.activeCount).toBe(0);
    // A later run finishing proves the interrupted runs' step timers had their turn (they are due first).
    const later = runs.execute(request('later'));
    await vi.waitFor(() => expect(store.get(later.runId)?.status).toBe('completed'), { timeout: 10_000 });
    for (const { runId } of [first, second]) {
      expect(store.get(runId), runId).toMatchObject({ status: 'failed', stepsDone: 0, error: { code: 'interrupted', message: 'the sandbox was stopped' } });
      expect(store.get(runId)?.finishedAt).toBeDefined();
      expect(events.filter((e) => e.run_id === runId).map((e) => e.type), runId).toEqual(['conductor.run.started', 'conductor.run.failed']);
    }
    runs.interruptAll('again');
    expect(events.filter((e) => e.type === 'conductor.run.failed')).toHaveLength(2);
  });

  test('a document that cannot be written fails the run with document_write_failed, and no document is recorded', async () => {
    // A file where the documents directory should be: mkdir fails.
    writeFileSync(path.join(dataDir, 'documents'), 'in the way');
    const started = conductor(0).execute(request('blocked'));
    await vi.waitFor(() => expect(store.get(started.runId)?.status).toBe('failed'), { timeout: 10_000 });
    expect(store.get(started.runId)?.error?.code).toBe('document_write_failed');
    expect(store.document(started.runId)).toBeUndefined();
    expect(events.at(-1)).toEqual({ type: 'conductor.run.failed', run_id: started.runId, desktop_id: 'desk-run', status: 'failed', error: store.get(started.runId)?.error });
    expect(store.get(started.runId)?.error?.message).toMatch(/could not write documents\/blocked-[0-9a-f]{8}\.md/);
  });
});
