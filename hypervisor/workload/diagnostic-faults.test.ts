import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { fetch } from 'undici';
import { createLogger } from '../log.ts';
import { crashAfterFirstHealthy, diagnosticCrashExitCode, runsListAnswers, stopListeningAfterFirstHealthy } from './diagnostic-faults.ts';
import { parseSettings } from './settings.ts';
import { removeDataDir, startSandboxProcess, type SandboxProcess } from './testing/sandbox-process.ts';

const started: SandboxProcess[] = [];

afterEach(async () => {
  for (const sandbox of started.splice(0)) {
    await sandbox.stop('SIGKILL');
    removeDataDir(sandbox.dataDir);
  }
});

async function sandboxWith(env: Record<string, string>): Promise<SandboxProcess> {
  const sandbox = await startSandboxProcess({ env });
  started.push(sandbox);
  return sandbox;
}

describe('diagnostic faults a release config can ask the workload for', () => {
  test('SANDBOX_RUNS_OK_ANSWERS=N: N run lists, then every one refused; unset: always listed', () => {
    const answers = (env: NodeJS.ProcessEnv, count: number): boolean[] => {
      const next = runsListAnswers(parseSettings(env));
      return Array.from({ length: count }, () => next());
    };
    expect(answers({}, 3)).toEqual([true, true, true]);
    expect(answers({ SANDBOX_RUNS_OK_ANSWERS: '1' }, 3)).toEqual([true, false, false]);
    expect(answers({ SANDBOX_RUNS_OK_ANSWERS: '0' }, 1)).toEqual([false]);
  });

  test('SANDBOX_CRASH_AFTER_HEALTHY_MS: one exit, with the crash code, after the first health answer only; unset: none', async () => {
    const exits: number[] = [];
    const log = createLogger('test', { write: () => undefined });
    const never = crashAfterFirstHealthy(parseSettings({}), log, (code) => exits.push(code));
    never();
    const crash = crashAfterFirstHealthy(parseSettings({ SANDBOX_CRASH_AFTER_HEALTHY_MS: '0' }), log, (code) => exits.push(code));
    expect(exits).toEqual([]);
    crash();
    expect(exits, 'not within the health answer: the readiness answer reaches the hypervisor first').toEqual([]);
    crash();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(exits).toEqual([diagnosticCrashExitCode]);
    expect(diagnosticCrashExitCode, 'EX_SOFTWARE, as the workload README says').toBe(70);
  });

  test('SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS: the listener closed once, after the first health answer only; unset: never', async () => {
    const stops: string[] = [];
    const log = createLogger('test', { write: () => undefined });
    stopListeningAfterFirstHealthy(parseSettings({}), log, () => stops.push('never'))();
    const refuse = stopListeningAfterFirstHealthy(parseSettings({ SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS: '0' }), log, () => stops.push('stopped'));
    expect(stops).toEqual([]);
    refuse();
    refuse();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(stops).toEqual(['stopped']);
  });

  test('bad values are refused naming the variable', () => {
    expect(() => parseSettings({ SANDBOX_RUNS_OK_ANSWERS: 'some' })).toThrow(/SANDBOX_RUNS_OK_ANSWERS="some" is invalid: use a whole number/);
    expect(() => parseSettings({ SANDBOX_CRASH_AFTER_HEALTHY_MS: '60001' })).toThrow(/SANDBOX_CRASH_AFTER_HEALTHY_MS="60001" is invalid: use a whole number from 0 to 60000/);
    expect(() => parseSettings({ SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS: '-1' })).toThrow(/SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS="-1" is invalid: use a whole number from 0 to 60000/);
  });

  test('a real sandbox with SANDBOX_RUNS_OK_ANSWERS=1 lists its runs once, then answers 500 with a JSON error, while /health stays healthy', async () => {
    const sandbox = await sandboxWith({ SANDBOX_RUNS_OK_ANSWERS: '1' });
    const first = await fetch(`${sandbox.url}/conductor/runs?limit=1`);
    expect([first.status, await first.json()]).toEqual([200, { runs: [] }]);
    const second = await fetch(`${sandbox.url}/conductor/runs?limit=1`);
    expect(second.status).toBe(500);
    expect(second.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await second.json()).toMatchObject({ error: expect.stringContaining('SANDBOX_RUNS_OK_ANSWERS=1') });
    expect(await (await fetch(`${sandbox.url}/health`)).json()).toMatchObject({ status: 'healthy' });
  });

  test('a real sandbox with SANDBOX_CRASH_AFTER_HEALTHY_MS answers /health healthy, then exits with the crash code', async () => {
    const sandbox = await sandboxWith({ SANDBOX_CRASH_AFTER_HEALTHY_MS: '0' });
    // 'close': the crash's log line is in the output once its pipes have ended, which can be after 'exit'.
    const exited = sandbox.child.exitCode === null ? once(sandbox.child, 'close') : Promise.resolve([sandbox.child.exitCode]);
    expect(sandbox.child.exitCode, 'running before any health answer').toBeNull();
    expect(await (await fetch(`${sandbox.url}/health`)).json()).toMatchObject({ status: 'healthy' });
    const [code] = (await exited) as [number | null];
    expect(code).toBe(diagnosticCrashExitCode);
    expect(sandbox.output()).toContain('"event":"sandbox.diagnostic_crash"');
  });

  test('a real sandbox with SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS answers /health healthy, then refuses every connection while its process runs on, and still stops on SIGTERM', async () => {
    const sandbox = await sandboxWith({ SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS: '0' });
    expect(await (await fetch(`${sandbox.url}/health`)).json()).toMatchObject({ status: 'healthy' });
    const refusal = async (): Promise<string> => {
      try {
        await fetch(`${sandbox.url}/health`);
        return 'answered';
      } catch (error) {
        return ((error as Error).cause as { code?: string } | undefined)?.code ?? String(error);
      }
    };
    await expect.poll(refusal, { timeout: 5_000 }).toBe('ECONNREFUSED');
    // Refused, not gone: the process the hypervisor watches has not exited.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sandbox.child.exitCode, 'the process after its listener closed').toBeNull();
    expect(await refusal()).toBe('ECONNREFUSED');
    expect(sandbox.output()).toContain('"event":"sandbox.diagnostic_stop_listening"');
    const stopped = await sandbox.stop('SIGTERM');
    expect(stopped.code, 'the exit on SIGTERM (a clean stop)').toBe(0);
  });
});
