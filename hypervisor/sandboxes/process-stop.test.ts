import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { processStartTime } from './proc.ts';
import { describeExit, ProcessRuntime } from './process-runtime.ts';
import type { RuntimeInstance } from './runtime.ts';

const dataRoot = mkdtempSync(path.join(tmpdir(), 'choiros-process-stop-'));
afterAll(() => rmSync(dataRoot, { recursive: true, force: true }));
const runtime = new ProcessRuntime({ dataRoot, runAs: null });
const started: number[] = [];
// A stop that failed must not leave a process that ignores SIGTERM behind.
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/**
 * A detached process (its own group, as a sandbox is) that on SIGTERM takes `termMs` to end by
 * itself with exit 0, or ignores SIGTERM when termMs is undefined. Resolves once its handler is set.
 */
async function sandboxLike(termMs: number | undefined): Promise<RuntimeInstance> {
  const onTerm = termMs === undefined ? "'IGNORE'" : `sub { select(undef, undef, undef, ${termMs / 1000}); exit 0 }`;
  const child = spawn('perl', ['-e', `$| = 1; $SIG{TERM} = ${onTerm}; print "ready\\n"; sleep 1 while 1`], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(describeExit(code, signal))));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('error', reject);
  });
  const pid = child.pid as number;
  started.push(pid);
  return { runtime: 'process', containerId: null, pid, pidStart: processStartTime(pid) ?? null, exited };
}

describe('stopping a process sandbox', () => {
  it('asks with SIGTERM and gives it the stop timeout, in seconds, to end by itself', async () => {
    const instance = await sandboxLike(300);
    await runtime.stop(instance, 5);
    expect(await instance.exited).toBe('exit code 0');
  });

  it('kills it with SIGKILL once the stop timeout has passed', async () => {
    const instance = await sandboxLike(undefined);
    await runtime.stop(instance, 1);
    expect(await instance.exited).toBe('killed by SIGKILL');
  });
});
