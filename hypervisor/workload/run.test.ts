import { describe, expect, test } from 'vitest';
import { runView, type Run } from './run.ts';

const at = '2026-01-01T00:00:00.000Z';
const running: Run = {
  runId: 'r1', desktopId: 'desk', objective: 'o', outputMode: 'auto', status: 'running', stepsDone: 1, stepsTotal: 4,
  currentStep: 'read objective', documentPath: undefined, error: undefined, createdAt: at, updatedAt: at, finishedAt: undefined,
};

describe('the JSON view of a run (API and WebSocket)', () => {
  test('a run in flight has no finished_at, document_path or error key; only the fields that apply', () => {
    expect(runView(running)).toStrictEqual({
      run_id: 'r1', desktop_id: 'desk', objective: 'o', output_mode: 'auto', status: 'running', steps_done: 1, steps_total: 4,
      current_step: 'read objective', created_at: at, updated_at: at,
    });
  });

  test('a failed run carries its error and when it finished', () => {
    const failed: Run = { ...running, status: 'failed', error: { code: 'interrupted', message: 'stopped' }, finishedAt: '2026-01-01T00:00:01.000Z' };
    expect(runView(failed)).toMatchObject({ status: 'failed', error: { code: 'interrupted', message: 'stopped' }, finished_at: '2026-01-01T00:00:01.000Z', updated_at: at });
  });

  test('a completed run carries its document path', () => {
    expect(runView({ ...running, status: 'completed', currentStep: undefined, documentPath: 'documents/o-r1.md', finishedAt: at })).toMatchObject({ document_path: 'documents/o-r1.md', finished_at: at });
  });

  test('each time is its own: updated_at moves as the run progresses, created_at stays', () => {
    const later = '2026-01-01T00:00:05.000Z';
    expect(runView({ ...running, stepsDone: 2, updatedAt: later })).toMatchObject({ created_at: at, updated_at: later });
  });
});
