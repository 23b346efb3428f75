import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  completedTask,
  hypervisorEnv,
  removeDir,
  runHypervisorToExit,
  sandboxHealth,
  sandboxProcesses,
  spawnHypervisor,
  startTestHypervisor,
  uniqueUser,
  waitFor,
  type ChildHypervisor,
  type LogLine,
  type TestHypervisor,
} from '../../fixtures/test-hypervisor.ts';
import type { SandboxView } from '../http/admin-sandboxes.ts';
import { AdminClient } from '../admin-client/admin-client.ts';
import { sandboxUser } from '../workload/image/image.ts';
import { contractEnvNames } from './env.ts';
import { processSandboxUser } from './process-runtime.ts';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function hypervisor(overrides: Record<string, string> = {}): Promise<TestHypervisor> {
  const target = await startTestHypervisor(overrides);
  cleanups.push(() => removeDir(target.dir));
  cleanups.push(() => target.close());
  return target;
}

/** A real `node hypervisor/main.ts`; on clean-up it and every sandbox process under its data root are killed. */
async function childHypervisor(env: Record<string, string>, dir: string): Promise<ChildHypervisor> {
  const child = await spawnHypervisor(env);
  cleanups.push(() => removeDir(dir));
  cleanups.push(() => {
    for (const { pid } of sandboxProcesses(env.SANDBOX_DATA_ROOT as string)) process.kill(pid, 'SIGKILL');
  });
  cleanups.push(async () => {
    if (child.child.exitCode === null && child.child.signalCode === null) {
      child.child.kill('SIGKILL');
      await child.exited;
    }
  });
  return child;
}

/** One sample from GET /metrics (0 when the series does not exist yet); the registry is per process, so compare before and after. */
async function metric(target: TestHypervisor, series: string): Promise<number> {
  const text = await (await fetch(`${target.url}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const transitions = (logs: LogLine[], user: string, role?: string): string[] =>
  logs.filter((line) => line.user === user && (role === undefined || line.role === role) && String(line.event).startsWith('sandbox.')).map((line) => String(line.event));

describe('process runtime', () => {
  it('runs live and dev for two users at once, each on its own port with its own data directory', async () => {
    const target = await hypervisor();
    const users = [uniqueUser('ann'), uniqueUser('bob')];
    const keys = users.flatMap((user) => [`${user}/live`, `${user}/dev`]);
    const started = await Promise.all(keys.map((key) => target.admin<SandboxView>('POST', `/admin/sandboxes/${key}/start`)));
    for (const answer of started) expect(answer.body).toMatchObject({ status: 'running', runtime: 'process' });
    const ports = started.map((answer) => answer.body.port);
    expect(new Set(ports).size).toBe(4);
    for (const answer of started) {
      expect(await sandboxHealth(answer.body.port)).toMatchObject({ status: 'healthy', instance_role: answer.body.role });
      expect(existsSync(path.join(target.env.SANDBOX_DATA_ROOT as string, answer.body.user_id, answer.body.role, 'sandbox.db'))).toBe(true);
    }
    const listed = (await target.admin<SandboxView[]>('GET', '/admin/sandboxes')).body;
    expect(listed.map((s) => [s.user_id, s.role, s.status])).toEqual(
      [...users].sort().flatMap((user) => [
        [user, 'dev', 'running'],
        [user, 'live', 'running'],
      ]),
    );
    for (const entry of listed) expect(entry).toEqual(expect.objectContaining({ port: expect.any(Number), idle_secs: expect.any(Number) }));
    expect(sandboxProcesses(target.env.SANDBOX_DATA_ROOT as string).map((p) => p.sandboxId).sort()).toEqual(keys.map((key) => key.replace('/', ':')).sort());
    for (const key of keys) expect(transitions(target.logs, key.split('/')[0] as string, key.split('/')[1])).toEqual(['sandbox.start_requested', 'sandbox.ready']);
    const health = (await (await fetch(`${target.url}/health`)).json()) as { sandboxes: Record<string, number> };
    expect(health.sandboxes).toEqual({ running: 4, stopped: 0, failed: 0 });
    const metrics = await (await fetch(`${target.url}/metrics`)).text();
    expect(metrics).toMatch(/^choiros_sandboxes\{state="running",role="live"\} 2$/m);
    expect(metrics).toMatch(/^choiros_sandboxes\{state="running",role="dev"\} 2$/m);
    const ready = target.logs.find((line) => line.event === 'sandbox.ready');
    expect(ready).toEqual(expect.objectContaining({ runtime: 'process', port: expect.any(Number), pid: expect.any(Number), duration_ms: expect.any(Number) }));
  });

  it('stops and restarts a sandbox, each transition logged with its duration', async () => {
    const target = await hypervisor();
    const user = uniqueUser('cat');
    const stopsBefore = await metric(target, 'choiros_sandbox_stop_duration_seconds_count{runtime="process",role="live"}');
    const stopSecsBefore = await metric(target, 'choiros_sandbox_stop_duration_seconds_sum{runtime="process",role="live"}');
    const readySecsBefore = await metric(target, 'choiros_sandbox_start_duration_seconds_sum{runtime="process",role="live",outcome="ready"}');
    const first = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    const stopped = await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/stop`);
    expect(stopped).toMatchObject({ status: 200, body: { status: 'stopped', pid: null } });
    expect(sandboxProcesses(target.env.SANDBOX_DATA_ROOT as string)).toEqual([]);
    const restarted = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/restart`)).body;
    expect(restarted).toMatchObject({ status: 'running', port: first.port, restarts: 1 });
    expect(restarted.pid).not.toBe(first.pid);
    expect(transitions(target.logs, user)).toEqual(['sandbox.start_requested', 'sandbox.ready', 'sandbox.stop', 'sandbox.restart', 'sandbox.start_requested', 'sandbox.ready']);
    expect(await metric(target, 'choiros_sandbox_stop_duration_seconds_count{runtime="process",role="live"}')).toBe(stopsBefore + 1);
    expect(target.logs.find((line) => line.event === 'sandbox.stop' && line.user === user)).toEqual(expect.objectContaining({ duration_ms: expect.any(Number), pid: first.pid, reason: 'admin' }));
    // The histograms are in seconds: each grew by the logged durations (ms) / 1000.
    const loggedMs = (event: string): number => target.logs.filter((line) => line.event === event && line.user === user).reduce((sum, line) => sum + Number(line.duration_ms), 0);
    expect((await metric(target, 'choiros_sandbox_stop_duration_seconds_sum{runtime="process",role="live"}')) - stopSecsBefore).toBeCloseTo(loggedMs('sandbox.stop') / 1000, 6);
    expect((await metric(target, 'choiros_sandbox_start_duration_seconds_sum{runtime="process",role="live",outcome="ready"}')) - readySecsBefore).toBeCloseTo(loggedMs('sandbox.ready') / 1000, 6);
  });

  it('a stop asks the sandbox with SIGTERM first, and the next start keeps the stopped run\'s log beside the new one as <role>.log.1', async () => {
    const target = await hypervisor();
    const user = uniqueUser('cal');
    const first = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/stop`);
    const second = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    const logFile = path.join(target.env.SANDBOX_DATA_ROOT as string, user, 'live.log');
    const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as LogLine);
    const previous = lines(`${logFile}.1`);
    expect(new Set(previous.map((line) => line.pid)), 'pids in live.log.1').toEqual(new Set([first.pid]));
    expect(previous.map((line) => line.event)).toEqual(expect.arrayContaining(['sandbox.listening', 'sandbox.stopping', 'sandbox.stopped']));
    expect(previous.find((line) => line.event === 'sandbox.stopped')).toMatchObject({ signal: 'SIGTERM' });
    // The sandbox logs that it listens before it can answer the health check its start waited for.
    expect(lines(logFile).map((line) => [line.event, line.pid])).toContainEqual(['sandbox.listening', second.pid]);
    expect(new Set(lines(logFile).map((line) => line.pid)), 'pids in live.log').toEqual(new Set([second.pid]));
  });

  it('a stopped sandbox whose recorded port something else has taken starts on a new port', async () => {
    const target = await hypervisor();
    const user = uniqueUser('cyd');
    const first = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/stop`);
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port: first.port as number }, resolve));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const second = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    expect(second).toMatchObject({ status: 'running' });
    expect(second.port).not.toBe(first.port);
    expect(await sandboxHealth(second.port as number)).toMatchObject({ status: 'healthy', instance_role: 'live' });
  });

  it('restarts a sandbox killed with kill -9, on the same port', async () => {
    const target = await hypervisor();
    const user = uniqueUser('dan');
    const before = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/dev/start`)).body;
    process.kill(before.pid as number, 'SIGKILL');
    await target.waitForLog((line) => line.event === 'sandbox.crash' && line.user === user);
    await target.waitForLog((line) => line.event === 'sandbox.ready' && line.user === user && line.reason === 'crash');
    const after = (await target.admin<SandboxView>('GET', `/admin/sandboxes/${user}/dev`)).body;
    expect(after).toMatchObject({ status: 'running', port: before.port, restarts: 1 });
    expect(after.pid).not.toBe(before.pid);
    expect(await sandboxHealth(after.port)).toMatchObject({ status: 'healthy', instance_role: 'dev' });
    expect(transitions(target.logs, user)).toEqual(['sandbox.start_requested', 'sandbox.ready', 'sandbox.crash', 'sandbox.restart', 'sandbox.start_requested', 'sandbox.ready']);
    expect(await metric(target, 'choiros_sandbox_restarts_total{runtime="process",role="dev",reason="crash"}')).toBeGreaterThanOrEqual(1);
  });

  it('marks a sandbox failed once it has crashed more often in a row than the restart limit', async () => {
    const target = await hypervisor({ SANDBOX_RESTART_LIMIT: '1' });
    const user = uniqueUser('eve');
    const first = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    process.kill(first.pid as number, 'SIGKILL');
    await target.waitForLog((line) => line.event === 'sandbox.ready' && line.user === user && line.reason === 'crash');
    process.kill((await target.admin<SandboxView>('GET', `/admin/sandboxes/${user}/live`)).body.pid as number, 'SIGKILL');
    const failed = await target.waitForLog((line) => line.event === 'sandbox.failed' && line.user === user);
    expect(failed.error).toMatch(/crashed 2 times in a row \(restart limit 1\)/);
    expect((await target.admin<SandboxView>('GET', `/admin/sandboxes/${user}/live`)).body).toMatchObject({ status: 'failed', state: 'failed' });
    expect(sandboxProcesses(target.env.SANDBOX_DATA_ROOT as string)).toEqual([]);
    // Only an admin's stop clears the mark; any other stop (here a refused release's) leaves it for the operator to see.
    expect(await target.hypervisor.sandboxes.stop({ userId: user, role: 'live' }, 'release_refused')).toMatchObject({ status: 'failed' });
    expect((await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/stop`)).body).toMatchObject({ status: 'stopped', state: 'stopped' });
    expect((await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body).toMatchObject({ status: 'running' });
  });

  it('a sandbox that never becomes healthy is stopped, marked failed, and the error carries its log tail', async () => {
    const target = await hypervisor();
    const user = uniqueUser('fay');
    const answer = await target.admin<{ error: string; log_tail: string; status: string }>('POST', `/admin/sandboxes/${user}/live/start`, { config: { SANDBOX_CONDUCTOR_STEP_MS: 'abc' } });
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatch(/exited before it became healthy \(exit code 78\)/);
    expect(answer.body.log_tail).toContain('SANDBOX_CONDUCTOR_STEP_MS="abc" is invalid');
    expect((await target.admin<SandboxView>('GET', `/admin/sandboxes/${user}/live`)).body).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/exit code 78/) });
    const failed = await target.waitForLog((line) => line.event === 'sandbox.failed' && line.user === user);
    expect(failed.log_tail).toContain('SANDBOX_CONDUCTOR_STEP_MS');
    expect(sandboxProcesses(target.env.SANDBOX_DATA_ROOT as string)).toEqual([]);
  });

  it('concurrent starts of one sandbox give one process', async () => {
    const target = await hypervisor();
    const user = uniqueUser('gus');
    const answers = await Promise.all(Array.from({ length: 6 }, () => target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)));
    expect(new Set(answers.map((answer) => answer.body.pid)).size).toBe(1);
    expect(sandboxProcesses(target.env.SANDBOX_DATA_ROOT as string)).toHaveLength(1);
    expect(transitions(target.logs, user)).toEqual(['sandbox.start_requested', 'sandbox.ready']);
  });

  it('stops an idle sandbox after the idle timeout; activity (touch) keeps it running', async () => {
    const target = await hypervisor({ SANDBOX_IDLE_TIMEOUT_SECS: '1' });
    const idle = uniqueUser('hal');
    const busy = uniqueUser('ivy');
    await target.admin('POST', `/admin/sandboxes/${idle}/live/start`);
    await target.admin('POST', `/admin/sandboxes/${busy}/live/start`);
    const touching = setInterval(() => target.hypervisor.sandboxes.touch({ userId: busy, role: 'live' }), 200);
    try {
      const stop = await target.waitForLog((line) => line.event === 'sandbox.stop' && line.user === idle, 10_000);
      expect(stop.reason).toBe('idle');
      // A sandbox started now being stopped as idle proves a whole idle timeout (and reaper passes) went by.
      const witness = uniqueUser('jay');
      await target.admin('POST', `/admin/sandboxes/${witness}/live/start`);
      await target.waitForLog((line) => line.event === 'sandbox.stop' && line.user === witness && line.reason === 'idle', 10_000);
      expect(target.hypervisor.sandboxes.get({ userId: busy, role: 'live' })?.status).toBe('running');
    } finally {
      clearInterval(touching);
    }
    await target.waitForLog((line) => line.event === 'sandbox.stop' && line.user === busy && line.reason === 'idle', 10_000);
    const port = (await target.hypervisor.sandboxes.ensureRunning({ userId: idle, role: 'live' })).port;
    expect(await sandboxHealth(port)).toMatchObject({ status: 'healthy' });
  });

  it('gives the child process only the allowlisted environment, never a platform secret', async () => {
    const { dir, env } = hypervisorEnv({ OPENAI_API_KEY: 'sk-platform-secret', AWS_SECRET_ACCESS_KEY: 'aws-platform-secret', SESSION_SECRET: 'session-platform-secret' });
    const child = await childHypervisor(env, dir);
    const user = uniqueUser('jan');
    const started = await child.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`);
    expect(started.body.status).toBe('running');
    const [sandbox] = sandboxProcesses(env.SANDBOX_DATA_ROOT as string);
    expect(sandbox?.pid).toBe(started.body.pid);
    const names = Object.keys(sandbox?.env ?? {}).sort();
    expect(names).toEqual([...contractEnvNames].sort());
    const values = Object.values(sandbox?.env ?? {}).join('\n');
    for (const secret of ['sk-platform-secret', 'aws-platform-secret', 'session-platform-secret', env.HYPERVISOR_ADMIN_TOKEN as string]) expect(values).not.toContain(secret);
  });

  it('as root, runs the sandbox as the sandbox user, who cannot read the admin token, the database or the hypervisor\'s environ', async () => {
    expect(process.getuid?.(), 'this test needs a root hypervisor, as on the project hosts').toBe(0);
    const { dir, env } = hypervisorEnv({ OPENAI_API_KEY: 'sk-platform-secret' });
    delete env.HYPERVISOR_ADMIN_TOKEN;
    const child = await childHypervisor(env, dir);
    const tokenFile = path.join(dir, 'admin-token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    const user = uniqueUser('uid');
    // The hypervisor generated this token itself, so the child's own client (env's token) has none.
    const started = await new AdminClient({ url: child.url, token }).start(user, 'live');
    expect(started.status).toBe('running');
    await completedTask(started.port);
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${String(started.pid)}/status`, 'utf8'))?.[1];
    expect(Number(uid)).toBe(sandboxUser.uid);
    expect(processSandboxUser).toEqual({ uid: sandboxUser.uid, gid: sandboxUser.gid });
    const database = path.join(dir, 'hypervisor.db');
    expect([database, `${database}-wal`, `${database}-shm`, tokenFile].map((file) => (statSync(file).mode & 0o777).toString(8))).toEqual(['600', '600', '600', '600']);
    const ownData = path.join(env.SANDBOX_DATA_ROOT as string, user, 'live', 'sandbox.db');
    const targets = [ownData, tokenFile, database, `/proc/${String(child.child.pid)}/environ`];
    // A process with the sandbox's uid and gid, as the sandbox itself would try it.
    // The sandbox's own Node (the staged one): the checkout's may sit in a directory the sandbox user cannot enter.
    const sandboxNode = readlinkSync(`/proc/${String(started.pid)}/exe`);
    const reader = spawnSync(sandboxNode, ['-e', 'for (const f of process.argv.slice(1)) { try { require("fs").readFileSync(f); console.log("read"); } catch (e) { console.log(e.code); } }', ...targets], { uid: sandboxUser.uid, gid: sandboxUser.gid, encoding: 'utf8' });
    expect(reader.stdout.trim().split('\n')).toEqual(['read', 'EACCES', 'EACCES', 'EACCES']);
  });

  it('as root, refuses a data root the sandbox user cannot reach, naming it, and loosens no directory it did not make', async () => {
    const { dir, env } = hypervisorEnv();
    cleanups.push(() => removeDir(dir));
    // A private directory (a 0700 home, say) above the data root guards other files: it must stay private.
    const privateDir = path.join(dir, 'private');
    mkdirSync(privateDir, { mode: 0o700 });
    const result = await runHypervisorToExit({ ...env, SANDBOX_DATA_ROOT: path.join(privateDir, 'sandboxes') });
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(new RegExp(`uid ${processSandboxUser.uid} \\(the sandbox user\\), which cannot .*reach the data root ${privateDir}/sandboxes: .*EACCES`));
    expect(statSync(privateDir).mode & 0o777).toBe(0o700);
  });

  it('the hypervisor killed (SIGKILL) and started again adopts its sandboxes: no duplicates, data intact', async () => {
    const { dir, env } = hypervisorEnv();
    const first = await childHypervisor(env, dir);
    const user = uniqueUser('kim');
    const live = (await first.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    const dev = (await first.admin<SandboxView>('POST', `/admin/sandboxes/${user}/dev/start`)).body;
    const run = await completedTask(live.port);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await childHypervisor(env, dir);
    expect(second.port).not.toBe(0);
    const adopted = second.logs.filter((line) => line.event === 'sandbox.adopt');
    expect(adopted.map((line) => [line.role, line.pid]).sort()).toEqual([
      ['dev', dev.pid],
      ['live', live.pid],
    ]);
    const listed = (await second.admin<SandboxView[]>('GET', '/admin/sandboxes')).body;
    expect(listed.map((s) => [s.role, s.status, s.pid, s.port])).toEqual([
      ['dev', 'running', dev.pid, dev.port],
      ['live', 'running', live.pid, live.port],
    ]);
    expect(sandboxProcesses(env.SANDBOX_DATA_ROOT as string)).toHaveLength(2);
    expect(await completedTask(live.port, 'after the restart')).toMatchObject({ status: 'completed' });
    const again = await fetch(`http://127.0.0.1:${live.port}/conductor/runs/${run.run_id}`);
    expect(await again.json()).toMatchObject({ run_id: run.run_id, status: 'completed' });

    process.kill(live.pid as number, 'SIGKILL');
    await second.waitForLog((line) => line.event === 'sandbox.ready' && line.role === 'live' && line.reason === 'crash');
    expect(sandboxProcesses(env.SANDBOX_DATA_ROOT as string)).toHaveLength(2);
  });

  it('SIGTERM stops the hypervisor with exit 0 and leaves its sandboxes running; the next start adopts them', async () => {
    const { dir, env } = hypervisorEnv();
    const first = await childHypervisor(env, dir);
    const user = uniqueUser('lee');
    const live = (await first.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.logs.map((line) => line.event)).toContain('hypervisor.stopped');
    expect(await sandboxHealth(live.port)).toMatchObject({ status: 'healthy' });
    const second = await childHypervisor(env, dir);
    expect(second.logs.find((line) => line.event === 'sandbox.adopt')).toMatchObject({ user, role: 'live', pid: live.pid });
  });

  it('removes a stray sandbox process it has no record of, and restarts what should run', async () => {
    const { dir, env } = hypervisorEnv();
    const first = await childHypervisor(env, dir);
    const user = uniqueUser('max');
    const live = (await first.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    first.child.kill('SIGKILL');
    await first.exited;
    // The records are lost (a fresh database): the running process is a stray now.
    const database = (env.HYPERVISOR_DATABASE_URL as string).slice('sqlite:'.length);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${database}${suffix}`, { force: true });
    const second = await childHypervisor(env, dir);
    expect(second.logs.find((line) => line.event === 'sandbox.stray_removed')).toMatchObject({ user, role: 'live', pid: live.pid, reason: 'no record' });
    expect(sandboxProcesses(env.SANDBOX_DATA_ROOT as string)).toEqual([]);

    const restarted = (await second.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    second.child.kill('SIGKILL');
    await second.exited;
    process.kill(restarted.pid as number, 'SIGKILL');
    await waitFor('the sandbox to be gone', () => (sandboxProcesses(env.SANDBOX_DATA_ROOT as string).length ? undefined : true), 10_000);
    const third = await childHypervisor(env, dir);
    await third.waitForLog((line) => line.event === 'sandbox.ready' && line.reason === 'reconcile');
    expect(third.logs.find((line) => line.event === 'sandbox.restart')).toMatchObject({ user, role: 'live', reason: 'reconcile' });
    expect(sandboxProcesses(env.SANDBOX_DATA_ROOT as string)).toHaveLength(1);
  });
});
