import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { fetch } from 'undici';
import { removeDataDir, runRefusedSandbox, startSandboxProcess, tempDataDir, type SandboxProcess } from './testing/sandbox-process.ts';
import { WsClient } from './testing/ws-client.ts';
import type { RunView } from './run.ts';

const started: SandboxProcess[] = [];
const dataDirs: string[] = [];

afterEach(async () => {
  for (const sandbox of started.splice(0)) await sandbox.stop('SIGKILL');
  for (const dir of dataDirs.splice(0)) removeDataDir(dir);
});

async function start(dataDir: string, env: Record<string, string> = {}): Promise<SandboxProcess> {
  const sandbox = await startSandboxProcess({ dataDir, env: { CHOIR_SANDBOX_ROLE: 'live', ...env } });
  started.push(sandbox);
  return sandbox;
}

function freshDataDir(): string {
  const dir = tempDataDir();
  dataDirs.push(dir);
  return dir;
}

async function execute(url: string, objective: string, desktopId = 'desk-life'): Promise<string> {
  const response = await fetch(`${url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ objective, desktop_id: desktopId }) });
  return ((await response.json()) as { run_id: string }).run_id;
}

const getRun = async (url: string, runId: string): Promise<RunView> => (await (await fetch(`${url}/conductor/runs/${runId}`)).json()) as RunView;

describe('sandbox lifecycle (child process)', () => {
  test('completed runs and their documents survive a restart over the same data directory', async () => {
    const dataDir = freshDataDir();
    const first = await start(dataDir, { SANDBOX_CONDUCTOR_STEP_MS: '10' });
    const ws = await WsClient.connect(first.url);
    ws.send({ type: 'subscribe', desktop_id: 'desk-life' });
    await ws.waitFor((m) => m.type === 'desktop_state');
    const runId = await execute(first.url, 'Outlive a restart');
    await ws.waitFor((m) => m.type === 'conductor.run.completed' && m.run_id === runId);
    const before = (await (await fetch(`${first.url}/conductor/runs/${runId}/document`)).json()) as { content: string };
    await first.stop();

    const second = await start(dataDir);
    expect(await getRun(second.url, runId)).toMatchObject({ run_id: runId, status: 'completed' });
    const after = (await (await fetch(`${second.url}/conductor/runs/${runId}/document`)).json()) as { content: string };
    expect(after.content).toBe(before.content);
  });

  // How long the exit takes is a figure of `npm run bench -- image` (goal: under 1 s).
  test('SIGTERM ends an in-flight run as failed "interrupted", tells subscribers, and exits 0', async () => {
    const dataDir = freshDataDir();
    const sandbox = await start(dataDir, { SANDBOX_CONDUCTOR_STEP_MS: '5000' });
    const ws = await WsClient.connect(sandbox.url);
    ws.send({ type: 'subscribe', desktop_id: 'desk-life' });
    await ws.waitFor((m) => m.type === 'desktop_state');
    const runId = await execute(sandbox.url, 'A slow task cut short');
    await ws.waitFor((m) => m.type === 'conductor.run.started' && m.run_id === runId);

    const exit = await sandbox.stop('SIGTERM');
    expect(exit.code).toBe(0);
    const failed = await ws.waitFor((m) => m.type === 'conductor.run.failed' && m.run_id === runId);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(sandbox.output()).toContain('"event":"sandbox.stopped"');

    const restarted = await start(dataDir);
    expect(await getRun(restarted.url, runId)).toMatchObject({ status: 'failed', error: { code: 'interrupted', message: expect.stringContaining('SIGTERM') } });
  });

  test('SIGINT (Ctrl-C in a terminal) stops it the same way, with 0, naming the signal', async () => {
    const sandbox = await start(freshDataDir());
    const exit = await sandbox.stop('SIGINT');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(sandbox.output()).toMatch(/"event":"sandbox\.stopped","signal":"SIGINT"/);
  });

  test('a run cut off by SIGKILL is recorded as failed "interrupted" when the sandbox starts again', async () => {
    const dataDir = freshDataDir();
    const sandbox = await start(dataDir, { SANDBOX_CONDUCTOR_STEP_MS: '5000' });
    const runId = await execute(sandbox.url, 'Killed mid-run');
    expect((await getRun(sandbox.url, runId)).status).toBe('initializing');
    await sandbox.stop('SIGKILL');

    const restarted = await start(dataDir);
    expect(await getRun(restarted.url, runId)).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(restarted.output()).toContain('"event":"conductor.runs_recovered"');
  });

  test('a sandbox that cannot listen (its port taken) exits 1, not 78: the settings were fine, the start failed', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const exit = await runRefusedSandbox({ CHOIR_SANDBOX_ROLE: 'live', PORT: String((taken.address() as AddressInfo).port) });
      expect(exit.code).toBe(1);
      expect(exit.output).toMatch(/"event":"sandbox\.start_failed"/);
      expect(exit.output).toMatch(/sandbox could not start: .*EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  test('a managed sandbox with a provider key refuses to start: non-zero exit, the variable named, its value never printed', async () => {
    const exit = await runRefusedSandbox({ CHOIR_SANDBOX_ROLE: 'live', CHOIR_SANDBOX_USER_ID: 'u1', OPENAI_API_KEY: 'sk-test-do-not-print', AWS_SECRET_ACCESS_KEY: 'aws-secret-do-not-print' });
    expect(exit.code).toBe(78);
    expect(exit.output).toContain('refusing to start');
    expect(exit.output).toContain('AWS_SECRET_ACCESS_KEY, OPENAI_API_KEY');
    expect(exit.output).not.toMatch(/do-not-print/);
  });

  test.each([
    ['SANDBOX_CONDUCTOR_STEP_MS', 'abc'],
    ['CHOIR_SANDBOX_ROLE', 'staging'],
    ['PORT', 'eighty'],
  ])('an invalid setting %s=%s makes the sandbox exit non-zero with a message naming it', async (name, value) => {
    const exit = await runRefusedSandbox({ [name]: value });
    expect(exit.code).toBe(78);
    expect(exit.output).toContain(`${name}="${value}" is invalid`);
  });
});
