import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { fetch } from 'undici';
import { RunStore } from './run-store.ts';
import type { Run, RunView } from './run.ts';
import { startSandboxInProcess, type InProcessSandbox } from './testing/sandbox-in-process.ts';
import { tempDataDir } from './testing/sandbox-process.ts';
import { WsClient } from './testing/ws-client.ts';

let sandbox: InProcessSandbox | undefined;

afterEach(async () => {
  await sandbox?.dispose();
  sandbox = undefined;
});

const storeIn = (dataDir: string): RunStore => new RunStore(`sqlite:${path.join(dataDir, 'sandbox.db')}`);

function unfinished(runId: string, status: Run['status']): Run {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    runId, desktopId: 'desk', objective: 'cut off', outputMode: 'markdown_report_to_writer', status, stepsDone: 1, stepsTotal: 4,
    currentStep: 'read objective', documentPath: undefined, error: undefined, createdAt: at, updatedAt: at, finishedAt: undefined,
  };
}

describe('starting and stopping the sandbox (in process)', () => {
  test('runs found unfinished at start (after a crash or SIGKILL) are recorded failed with code interrupted; none is left running', async () => {
    const dataDir = tempDataDir();
    const before = storeIn(dataDir);
    before.insert(unfinished('crashed-running', 'running'));
    before.insert(unfinished('crashed-starting', 'initializing'));
    before.close();
    sandbox = await startSandboxInProcess({}, dataDir);
    for (const runId of ['crashed-running', 'crashed-starting']) {
      const run = (await (await fetch(`${sandbox.url}/conductor/runs/${runId}`)).json()) as RunView;
      expect(run, runId).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
      expect(run.finished_at, runId).toBeDefined();
    }
  });

  test('close ends the runs in flight as interrupted in the database file, stops listening, and may be called again', async () => {
    sandbox = await startSandboxInProcess({ SANDBOX_CONDUCTOR_STEP_MS: '10000' });
    const response = await fetch(`${sandbox.url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ objective: 'in flight', desktop_id: 'desk' }) });
    const { run_id: runId } = (await response.json()) as { run_id: string };
    await sandbox.close('the sandbox was stopped (SIGTERM) before the run finished');
    await sandbox.close('twice');
    await expect(fetch(`${sandbox.url}/health`)).rejects.toThrow();
    // SQLite removes the write-ahead log when the last connection closes: the store was closed too.
    expect(existsSync(path.join(sandbox.dataDir, 'sandbox.db-wal')), 'the database is closed').toBe(false);
    const after = storeIn(sandbox.dataDir);
    try {
      expect(after.get(runId)).toMatchObject({ status: 'failed', error: { code: 'interrupted', message: 'the sandbox was stopped (SIGTERM) before the run finished' } });
    } finally {
      after.close();
    }
  });

  test('an IPv6 SANDBOX_HOST is listened on and reported as a bracketed URL that answers', async () => {
    sandbox = await startSandboxInProcess({ SANDBOX_HOST: '::1' });
    expect(sandbox.url).toBe(`http://[::1]:${sandbox.port}`);
    expect((await fetch(`${sandbox.url}/health`)).status).toBe(200);
  });

  test('SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS: after the first /health the sandbox says goodbye (1001) to WebSocket clients and refuses connections', async () => {
    sandbox = await startSandboxInProcess({ SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS: '0' });
    const client = await WsClient.connect(sandbox.url);
    expect((await fetch(`${sandbox.url}/health`)).status).toBe(200);
    await vi.waitFor(() => expect(client.closed).toBeDefined(), { timeout: 10_000 });
    expect(client.closed?.code).toBe(1001);
    await expect(fetch(`${sandbox.url}/health`)).rejects.toThrow();
  });
});
