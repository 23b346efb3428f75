import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RunStore } from './run-store.ts';
import type { Run, RunStatus } from './run.ts';
import { removeDataDir, tempDataDir } from './testing/sandbox-process.ts';

let dataDir: string;
let store: RunStore;

beforeEach(() => {
  dataDir = tempDataDir();
  store = new RunStore(`sqlite:${path.join(dataDir, 'sandbox.db')}`);
});

afterEach(() => {
  store.close();
  removeDataDir(dataDir);
});

function run(runId: string, status: RunStatus, createdAt: string, desktopId = 'desk'): Run {
  return {
    runId, desktopId, objective: `objective of ${runId}`, outputMode: 'markdown_report_to_writer', status, stepsDone: 0, stepsTotal: 4,
    currentStep: undefined, documentPath: undefined, error: undefined, createdAt, updatedAt: createdAt, finishedAt: undefined,
  };
}

describe('the sandbox run store (SQLite file)', () => {
  test('a run left initializing, running or completing is recorded failed with the error given; finished runs are left as they were', () => {
    const at = '2026-01-01T00:00:00.000Z';
    for (const [id, status] of [['init', 'initializing'], ['going', 'running'], ['ending', 'completing'], ['done', 'completed'], ['broke', 'failed']] as const) {
      store.insert(run(id, status, at));
    }
    store.fail({ ...run('broke', 'failed', at), updatedAt: at }, { code: 'step_failed', message: 'earlier failure' });
    const later = '2026-01-02T00:00:00.000Z';
    expect(store.failUnfinished({ code: 'interrupted', message: 'stopped' }, later).sort()).toEqual(['ending', 'going', 'init']);
    for (const id of ['init', 'going', 'ending']) {
      expect(store.get(id), id).toMatchObject({ status: 'failed', error: { code: 'interrupted', message: 'stopped' }, finishedAt: later });
    }
    expect(store.get('done')).toMatchObject({ status: 'completed', error: undefined });
    expect(store.get('broke')).toMatchObject({ status: 'failed', error: { code: 'step_failed' } });
  });

  test('runs are listed newest first (insertion order within the same instant), filtered by desktop and cut at the limit', () => {
    store.insert(run('old', 'running', '2026-01-01T00:00:00.000Z'));
    store.insert(run('new', 'running', '2026-01-03T00:00:00.000Z'));
    store.insert(run('same-1', 'running', '2026-01-02T00:00:00.000Z'));
    store.insert(run('same-2', 'running', '2026-01-02T00:00:00.000Z'));
    store.insert(run('other', 'running', '2026-01-04T00:00:00.000Z', 'elsewhere'));
    expect(store.list({ desktopId: 'desk', limit: 10 }).map((r) => r.runId)).toEqual(['new', 'same-2', 'same-1', 'old']);
    expect(store.list({ desktopId: 'desk', limit: 2 }).map((r) => r.runId)).toEqual(['new', 'same-2']);
    expect(store.list({ limit: 10 }).map((r) => r.runId)).toEqual(['other', 'new', 'same-2', 'same-1', 'old']);
  });

  test('runs and documents outlive the store: a new store on the same file reads them back', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const done = { ...run('kept', 'completed', at), stepsDone: 4, documentPath: 'documents/kept.md', finishedAt: at };
    store.insert(run('kept', 'running', at));
    store.complete(done, { runId: 'kept', path: 'documents/kept.md', content: '# Report', sha256: 'abc' });
    store.close();
    store = new RunStore(`sqlite:${path.join(dataDir, 'sandbox.db')}`);
    expect(store.get('kept')).toMatchObject({ status: 'completed', stepsDone: 4, documentPath: 'documents/kept.md', finishedAt: at, currentStep: undefined });
    expect(store.document('kept')).toEqual({ runId: 'kept', path: 'documents/kept.md', content: '# Report', sha256: 'abc' });
    expect(store.get('missing')).toBeUndefined();
  });

  test('a completed or failed run keeps the finished_at it was given, and a failure its code and message, even an empty code', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const finishedAt = '2026-01-01T00:00:05.000Z';
    store.insert(run('done', 'running', at));
    store.complete({ ...run('done', 'completed', at), stepsDone: 4, finishedAt }, { runId: 'done', path: 'documents/done.md', content: '# Report', sha256: 'abc' });
    store.insert(run('broke', 'running', at));
    store.fail({ ...run('broke', 'failed', at), finishedAt }, { code: '', message: 'no code' });
    expect(store.get('done')).toMatchObject({ finishedAt, updatedAt: at });
    expect(store.get('broke')).toMatchObject({ status: 'failed', finishedAt, error: { code: '', message: 'no code' } });
  });
});
