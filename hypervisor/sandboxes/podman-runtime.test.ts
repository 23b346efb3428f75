import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
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
import { loadConfig } from '../config.ts';
import type { SandboxView } from '../http/admin-sandboxes.ts';
import { podman } from '../podman/podman.ts';
import { ensureSandboxImage } from '../workload/image/image.ts';
import { contractEnvNames } from './env.ts';

let image: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  image = await ensureSandboxImage();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Container {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
}

/** `podman ps -a` for one hypervisor instance, as podman itself reports it. */
async function containersOf(instanceId: string): Promise<Container[]> {
  const entries = JSON.parse((await podman(['ps', '--all', '--format', 'json', '--filter', `label=choiros.instance=${instanceId}`])) || '[]') as {
    Id: string;
    Names: string[];
    State: string;
    Labels: Record<string, string>;
  }[];
  return entries.map((entry) => ({ id: entry.Id, name: entry.Names[0] ?? '', state: entry.State, labels: entry.Labels })).sort((a, b) => a.name.localeCompare(b.name));
}

function podmanEnv(overrides: Record<string, string> = {}): { dir: string; env: Record<string, string>; instanceId: string } {
  const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'podman', SANDBOX_CONTAINER_IMAGE: image, ...overrides });
  const instanceId = loadConfig(env).sandboxes.instanceId;
  cleanups.push(() => removeDir(dir));
  cleanups.push(async () => {
    const ids = (await containersOf(instanceId)).map((container) => container.id);
    if (ids.length) await podman(['rm', '--force', '--time', '0', ...ids]);
  });
  return { dir, env, instanceId };
}

async function hypervisor(overrides: Record<string, string> = {}): Promise<TestHypervisor & { instanceId: string }> {
  const { dir, env, instanceId } = podmanEnv(overrides);
  const target = await startTestHypervisor({}, { dir, env });
  cleanups.push(() => target.close());
  return Object.assign(target, { instanceId });
}

async function childHypervisor(env: Record<string, string>): Promise<ChildHypervisor> {
  const child = await spawnHypervisor(env);
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

const transitions = (logs: LogLine[], user: string): string[] => logs.filter((line) => line.user === user && String(line.event).startsWith('sandbox.')).map((line) => String(line.event));

async function inspect(containerId: string): Promise<{
  Config: { Env: string[]; Labels: Record<string, string> };
  HostConfig: { PortBindings: Record<string, { HostIp: string; HostPort: string }[]> };
  Mounts: { Source: string; Destination: string }[];
  State: { Pid: number };
}> {
  return (JSON.parse(await podman(['container', 'inspect', containerId])) as never[])[0] as never;
}

describe('podman runtime', () => {
  it('runs live and dev for two users at once as labelled containers on loopback ports with their own /data; /health names the podman runtime and counts the four running', async () => {
    const target = await hypervisor();
    const users = [uniqueUser('ann'), uniqueUser('bob')].sort();
    const keys = users.flatMap((user) => [`${user}/dev`, `${user}/live`]);
    const started = await Promise.all(keys.map((key) => target.admin<SandboxView>('POST', `/admin/sandboxes/${key}/start`)));
    for (const answer of started) expect(answer.body).toMatchObject({ status: 'running', runtime: 'podman', image });
    expect(new Set(started.map((answer) => answer.body.port)).size).toBe(4);

    const containers = await containersOf(target.instanceId);
    expect(containers.map((c) => [c.name, c.state])).toEqual(keys.map((key) => [`choiros-sandbox-${key.replace('/', '-')}`, 'running']));
    for (const answer of started) {
      const { user_id: user, role, port, container_id: id } = answer.body;
      expect(await sandboxHealth(port)).toMatchObject({ status: 'healthy', instance_role: role });
      const details = await inspect(id as string);
      expect(details.Config.Labels).toMatchObject({ 'choiros.managed': 'true', 'choiros.user': user, 'choiros.role': role, 'choiros.image': image, 'choiros.instance': target.instanceId });
      expect(details.HostConfig.PortBindings['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(port) }]);
      expect(details.Mounts.map((m) => [m.Source, m.Destination])).toEqual([[`${target.env.SANDBOX_DATA_ROOT}/${user}/${role}`, '/data']]);
    }
    const listed = (await target.admin<SandboxView[]>('GET', '/admin/sandboxes')).body;
    expect(listed.map((s) => `${s.user_id}/${s.role}:${s.status}`)).toEqual(keys.map((key) => `${key}:running`));
    // What an operator reads first: the runtime the sandboxes run on (admin.test.ts reads "process" from one that runs processes).
    const health = await target.admin<{ runtime: string; sandboxes: Record<string, number> }>('GET', '/health');
    expect(health.body).toMatchObject({ runtime: 'podman', sandboxes: { running: 4, stopped: 0, failed: 0 } });
  });

  it('isolates sandboxes: one cannot reach another by its address, the host gateway or a published port', async () => {
    const target = await hypervisor();
    const [a, b] = await Promise.all([uniqueUser('iso'), uniqueUser('iso')].map(async (user) => (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body));
    if (!a || !b) throw new Error('both sandboxes should have started');
    const bAddress = (await podman(['container', 'inspect', '--format', '{{.NetworkSettings.IPAddress}}', b.container_id as string])).trim();
    const hostAddresses = Object.values(networkInterfaces()).flatMap((nets) => nets ?? []).filter((net) => net.family === 'IPv4' && !net.internal).map((net) => net.address);
    const gateways = ['10.0.2.2', '10.88.0.1', 'host.containers.internal', ...hostAddresses];
    const targets = [
      ...(bAddress ? [`http://${bAddress}:8080/health`] : []),
      ...gateways.flatMap((host) => [`http://${host}:${b.port}/health`, `http://${host}:${target.hypervisor.port}/health`]),
    ];
    const probe = `Promise.all(process.argv.slice(1).map((u) => fetch(u, { signal: AbortSignal.timeout(3000) }).then((r) => [u, 'reached ' + r.status], (e) => [u, 'failed ' + (e.cause?.code ?? e.name)]))).then((r) => console.log(JSON.stringify(Object.fromEntries(r))))`;
    const answers = JSON.parse(await podman(['exec', a.container_id as string, '/usr/local/bin/node', '-e', probe, 'http://127.0.0.1:8080/health', ...targets])) as Record<string, string>;
    // The probe itself works: the sandbox reaches its own server.
    expect(answers['http://127.0.0.1:8080/health']).toBe('reached 200');
    expect(Object.entries(answers).filter(([url, answer]) => url !== 'http://127.0.0.1:8080/health' && answer.startsWith('reached'))).toEqual([]);
    expect(await sandboxHealth(b.port)).toMatchObject({ status: 'healthy' });
  });

  it('start, stop and restart show in podman ps -a and in the transition log lines', async () => {
    const target = await hypervisor();
    const user = uniqueUser('cat');
    const name = `choiros-sandbox-${user}-live`;
    const first = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    expect((await containersOf(target.instanceId)).map((c) => [c.name, c.id, c.state])).toEqual([[name, first.container_id, 'running']]);
    expect((await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/stop`)).body).toMatchObject({ status: 'stopped' });
    expect((await containersOf(target.instanceId)).map((c) => [c.name, c.id, c.state])).toEqual([[name, first.container_id, 'exited']]);
    const restarted = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/restart`)).body;
    expect(restarted).toMatchObject({ status: 'running', port: first.port });
    expect((await containersOf(target.instanceId)).map((c) => [c.name, c.id, c.state])).toEqual([[name, restarted.container_id, 'running']]);
    expect(restarted.container_id).not.toBe(first.container_id);
    expect(transitions(target.logs, user)).toEqual(['sandbox.start_requested', 'sandbox.ready', 'sandbox.stop', 'sandbox.restart', 'sandbox.start_requested', 'sandbox.ready']);
    for (const event of ['sandbox.ready', 'sandbox.stop']) {
      expect(target.logs.find((line) => line.event === event && line.user === user)).toEqual(
        expect.objectContaining({ role: 'live', runtime: 'podman', port: first.port, container_id: first.container_id, duration_ms: expect.any(Number) }),
      );
    }
  });

  it('restarts a container whose process was killed with kill -9', async () => {
    const target = await hypervisor();
    const user = uniqueUser('dan');
    const before = (await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/dev/start`)).body;
    process.kill((await inspect(before.container_id as string)).State.Pid, 'SIGKILL');
    expect(await target.waitForLog((line) => line.event === 'sandbox.crash' && line.user === user)).toMatchObject({ container_id: before.container_id, error: 'exit code 137' });
    const ready = await target.waitForLog((line) => line.event === 'sandbox.ready' && line.user === user && line.reason === 'crash');
    expect(ready.container_id).not.toBe(before.container_id);
    expect(await sandboxHealth(before.port)).toMatchObject({ status: 'healthy', instance_role: 'dev' });
    expect((await containersOf(target.instanceId)).map((c) => [c.id, c.state])).toEqual([[ready.container_id, 'running']]);
  });

  it('gives the container only the allowlisted environment, never a platform secret or proxy (podman inspect)', async () => {
    const proxy = `http://canary:${randomBytes(8).toString('hex')}@127.0.0.1:1`;
    const { env } = podmanEnv({ OPENAI_API_KEY: 'sk-platform-secret', AWS_SECRET_ACCESS_KEY: 'aws-platform-secret', SESSION_SECRET: 'session-platform-secret', HTTPS_PROXY: proxy, http_proxy: proxy, no_proxy: 'canary-no-proxy' });
    const child = await childHypervisor(env);
    const user = uniqueUser('eve');
    const started = (await child.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    expect(started.status).toBe('running');
    const containerEnv = (await inspect(started.container_id as string)).Config.Env;
    const imageEnv = JSON.parse(await podman(['image', 'inspect', '--format', '{{json .Config.Env}}', image])) as string[];
    // What podman itself always sets, and what the image bakes in, are not from the hypervisor.
    const fromHypervisor = containerEnv.filter((entry) => !imageEnv.includes(entry) && !/^(container|TERM|HOME|HOSTNAME)=/.test(entry));
    expect(fromHypervisor.map((entry) => entry.slice(0, entry.indexOf('='))).every((name) => (contractEnvNames as readonly string[]).includes(name))).toBe(true);
    expect(containerEnv).toEqual(expect.arrayContaining([`CHOIR_SANDBOX_USER_ID=${user}`, 'CHOIR_SANDBOX_ROLE=live', `CHOIR_SANDBOX_ID=${user}:live`, 'CHOIROS_DATA_DIR=/data', 'PORT=8080']));
    const all = containerEnv.join('\n');
    for (const secret of ['OPENAI_API_KEY', 'AWS_SECRET_ACCESS_KEY', 'SESSION_SECRET', 'HYPERVISOR_ADMIN_TOKEN', 'sk-platform-secret', 'aws-platform-secret', env.HYPERVISOR_ADMIN_TOKEN as string, proxy, 'canary-no-proxy']) {
      expect(all).not.toContain(secret);
    }
  });

  it('the hypervisor killed (SIGKILL) and started again adopts its containers: no duplicates, data intact', async () => {
    const { env, instanceId } = podmanEnv();
    const first = await childHypervisor(env);
    const user = uniqueUser('fay');
    const live = (await first.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    const dev = (await first.admin<SandboxView>('POST', `/admin/sandboxes/${user}/dev/start`)).body;
    const run = await completedTask(live.port);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await childHypervisor(env);
    expect(second.logs.filter((line) => line.event === 'sandbox.adopt').map((line) => [line.role, line.container_id]).sort()).toEqual([
      ['dev', dev.container_id],
      ['live', live.container_id],
    ]);
    expect((await containersOf(instanceId)).map((c) => [c.id, c.state]).sort()).toEqual(
      [
        [dev.container_id, 'running'],
        [live.container_id, 'running'],
      ].sort(),
    );
    const again = await fetch(`http://127.0.0.1:${live.port}/conductor/runs/${run.run_id}`);
    expect(await again.json()).toMatchObject({ run_id: run.run_id, status: 'completed' });

    // Still watched after adoption: a crash is noticed and repaired.
    process.kill((await inspect(live.container_id as string)).State.Pid, 'SIGKILL');
    const ready = await second.waitForLog((line) => line.event === 'sandbox.ready' && line.role === 'live' && line.reason === 'crash');
    expect((await containersOf(instanceId)).filter((c) => c.labels['choiros.role'] === 'live').map((c) => [c.id, c.state])).toEqual([[ready.container_id, 'running']]);
    const afterCrash = await fetch(`http://127.0.0.1:${live.port}/conductor/runs/${run.run_id}`);
    expect(await afterCrash.json()).toMatchObject({ run_id: run.run_id, status: 'completed' });
  });

  it("removes its own strays and never touches another hypervisor's containers", async () => {
    const other = await hypervisor();
    const neighbour = uniqueUser('nbr');
    const theirs = (await other.admin<SandboxView>('POST', `/admin/sandboxes/${neighbour}/live/start`)).body;

    const { env, instanceId } = podmanEnv();
    const first = await childHypervisor(env);
    const user = uniqueUser('gus');
    const ours = (await first.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    first.child.kill('SIGKILL');
    await first.exited;
    const database = (env.HYPERVISOR_DATABASE_URL as string).slice('sqlite:'.length);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${database}${suffix}`, { force: true });

    const second = await childHypervisor(env);
    expect(second.logs.find((line) => line.event === 'sandbox.stray_removed')).toMatchObject({ user, role: 'live', container_id: ours.container_id, reason: 'no record' });
    expect(await containersOf(instanceId)).toEqual([]);
    expect((await containersOf(other.instanceId)).map((c) => [c.id, c.state])).toEqual([[theirs.container_id, 'running']]);
  });

  it('a container that never becomes healthy is stopped and marked failed, with its log tail', async () => {
    const target = await hypervisor();
    const user = uniqueUser('hal');
    const answer = await target.admin<{ error: string; log_tail: string }>('POST', `/admin/sandboxes/${user}/live/start`, { config: { SANDBOX_CONDUCTOR_STEP_MS: 'abc' } });
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatch(/exited before it became healthy \(exit code 78\)/);
    expect(answer.body.log_tail).toContain('SANDBOX_CONDUCTOR_STEP_MS="abc" is invalid');
    expect((await containersOf(target.instanceId)).map((c) => c.state)).toEqual(['exited']);
    expect(target.hypervisor.sandboxes.get({ userId: user, role: 'live' })).toMatchObject({ status: 'failed' });
  });

  it('a start with an image podman does not have fails clearly, saying how to build it', async () => {
    const target = await hypervisor();
    const user = uniqueUser('img');
    const answer = await target.admin<{ error: string }>('POST', `/admin/sandboxes/${user}/live/start`, { image: 'localhost/choir-sandbox:no-such-version' });
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatch(/the sandbox image localhost\/choir-sandbox:no-such-version is not in podman's image store .*npm run image/);
    expect(target.hypervisor.sandboxes.get({ userId: user, role: 'live' })).toMatchObject({ status: 'failed' });
  });

  it('fails to start with a message naming the podman binary and what it answered', async () => {
    const missing = podmanEnv({ SANDBOX_PODMAN_BINARY: '/nonexistent/podman' });
    const noPodman = await runHypervisorToExit(missing.env);
    expect(noPodman.code).toBe(1);
    expect(noPodman.stderr).toMatch(/\/nonexistent\/podman version .*failed.*not found.*SANDBOX_PODMAN_BINARY/s);

    const broken = podmanEnv({ SANDBOX_PODMAN_BINARY: '/bin/false' });
    const failing = await runHypervisorToExit(broken.env);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/\/bin\/false version .*failed \(exit 1\)/);
  });

  it('with SANDBOX_RUNTIME=process nothing touches podman', async () => {
    const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'process', SANDBOX_PODMAN_BINARY: '/nonexistent/podman' });
    cleanups.push(() => removeDir(dir));
    const child = await childHypervisor(env);
    const user = uniqueUser('ivy');
    const started = (await child.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`)).body;
    expect(started).toMatchObject({ status: 'running', runtime: 'process' });
    await child.admin('POST', `/admin/sandboxes/${user}/live/stop`);
    await waitFor('the stop', () => (child.logs.some((line) => line.event === 'sandbox.stop') ? true : undefined), 10_000);
  });
});
