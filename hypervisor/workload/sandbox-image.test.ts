import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chownSync } from 'node:fs';
import { execa } from 'execa';
import { fetch } from 'undici';
import { podman } from '../podman/podman.ts';
import { repoRoot } from '../paths.ts';
import { randomUUID } from 'node:crypto';
import { buildSandboxImage, ensureSandboxImage, sandboxImage, sandboxImageLatest, sandboxUser } from './image/image.ts';
import { packageVersion } from '../version.ts';
import { removeDataDir, tempDataDir } from './testing/sandbox-process.ts';
import { runRefusedContainer, startSandboxContainer, type SandboxContainer, type SandboxContainerOptions } from './testing/sandbox-container.ts';
import { WsClient } from './testing/ws-client.ts';
import type { RunView } from './run.ts';

let image: string;
const containers: SandboxContainer[] = [];
const dataDirs: string[] = [];
const releaseImages: string[] = [];

beforeAll(async () => {
  image = await ensureSandboxImage();
});

afterEach(async () => {
  for (const container of containers.splice(0)) await container.remove();
});

afterAll(async () => {
  for (const dir of dataDirs.splice(0)) removeDataDir(dir);
  for (const ref of releaseImages.splice(0)) await podman(['rmi', ref]).catch(() => undefined);
});

const imageId = async (ref: string): Promise<string> => (await podman(['image', 'inspect', '--format', '{{.Id}}', ref])).trim();

async function start(options: SandboxContainerOptions = {}): Promise<SandboxContainer> {
  const sandbox = await startSandboxContainer(image, { ...options, env: { SANDBOX_CONDUCTOR_STEP_MS: '20', ...options.env } });
  containers.push(sandbox);
  return sandbox;
}

async function runTaskOverWs(url: string, objective: string): Promise<{ runId: string; events: string[]; documentPath: unknown }> {
  const ws = await WsClient.connect(url);
  try {
    await ws.waitFor((m) => m.type === 'pong');
    ws.send({ type: 'subscribe', desktop_id: 'desk-container' });
    await ws.waitFor((m) => m.type === 'desktop_state');
    const response = await fetch(`${url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ objective, desktop_id: 'desk-container' }) });
    const runId = ((await response.json()) as { run_id: string }).run_id;
    const completed = await ws.waitFor((m) => m.type === 'conductor.run.completed' && m.run_id === runId, { timeoutMs: 20_000 });
    const events = ws.messages.filter((m) => m.run_id === runId).map((m) => m.type);
    return { runId, events, documentPath: completed.document_path };
  } finally {
    ws.close();
  }
}

const getRun = async (url: string, runId: string): Promise<RunView> => (await (await fetch(`${url}/conductor/runs/${runId}`)).json()) as RunView;

describe('the sandbox OCI image on podman', () => {
  test('the image is localhost/choir-sandbox:<version>, runs as a non-root user, and carries version and revision labels', async () => {
    expect(image).toBe(sandboxImage);
    expect(sandboxImage).toBe(`localhost/choir-sandbox:${packageVersion}`);
    const inspected = JSON.parse(await podman(['image', 'inspect', image]))[0] as { Config: { User: string; ExposedPorts: object; Labels: Record<string, string> } };
    expect(inspected.Config.User).toBe(`${sandboxUser.uid}:${sandboxUser.gid}`);
    expect(Object.keys(inspected.Config.ExposedPorts)).toEqual(['8080/tcp']);
    expect(inspected.Config.Labels['org.opencontainers.image.version']).toBe(packageVersion);
    const head = await execa('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, reject: false });
    expect(inspected.Config.Labels['org.opencontainers.image.revision']).toBe(head.failed ? 'unknown' : String(head.stdout).trim());
  });

  test('the image starts and /health answers healthy with the role it was given', async () => {
    const sandbox = await start({ env: { CHOIR_SANDBOX_ROLE: 'dev', CHOIR_SANDBOX_USER_ID: 'image-user', CHOIR_SANDBOX_ID: 'image-user:dev' } });
    const health = await (await fetch(`${sandbox.url()}/health`)).json();
    expect(health).toMatchObject({ status: 'healthy', service: 'choiros-sandbox', version: packageVersion, instance_role: 'dev' });
  });

  test('a test container publishes its port on loopback only', async () => {
    const sandbox = await start({ env: { CHOIR_SANDBOX_ROLE: 'dev' } });
    const ports = JSON.parse(await podman(['inspect', '--format', '{{json .NetworkSettings.Ports}}', sandbox.container.getId()])) as Record<string, Array<{ HostIp: string }>>;
    expect(ports['8080/tcp']?.map((binding) => binding.HostIp)).toEqual(['127.0.0.1']);
  });

  test('a task runs end to end over /ws in the container', async () => {
    const sandbox = await start({ env: { CHOIR_SANDBOX_ROLE: 'live' } });
    const run = await runTaskOverWs(sandbox.url(), 'Run inside the container');
    expect(run.events[0]).toBe('conductor.run.started');
    expect(run.events).toContain('conductor.run.progress');
    expect(run.events.at(-1)).toBe('conductor.run.completed');
    expect(run.documentPath).toMatch(/^documents\/run-inside-the-container-/);
  });

  test('a container restart keeps the completed run', async () => {
    const sandbox = await start({ env: { CHOIR_SANDBOX_ROLE: 'live' } });
    const { runId } = await runTaskOverWs(sandbox.url(), 'Survive a container restart');
    await sandbox.container.restart({ timeout: 5 });
    const deadline = Date.now() + 30_000;
    let run: RunView | undefined;
    while (!run && Date.now() < deadline) {
      run = await getRun(sandbox.url(), runId).catch(() => undefined);
      if (!run) await sleep(100);
    }
    expect(run).toMatchObject({ run_id: runId, status: 'completed' });
  });

  test('a new container on the same host data directory keeps the completed run and its document', async () => {
    const dataDir = tempDataDir();
    dataDirs.push(dataDir);
    // The image runs as uid 1000; rootful podman maps it to host uid 1000, which must own the directory.
    chownSync(dataDir, sandboxUser.uid, sandboxUser.gid);
    const first = await start({ dataDir, env: { CHOIR_SANDBOX_ROLE: 'live' } });
    const { runId } = await runTaskOverWs(first.url(), 'Outlive the container');
    const document = await (await fetch(`${first.url()}/conductor/runs/${runId}/document`)).json();
    await first.remove();

    const second = await start({ dataDir, env: { CHOIR_SANDBOX_ROLE: 'live' } });
    expect(await getRun(second.url(), runId)).toMatchObject({ status: 'completed' });
    expect(await (await fetch(`${second.url()}/conductor/runs/${runId}/document`)).json()).toEqual(document);
  });

  // How long the stop takes is a figure of `npm run bench -- image` (goal: under 1 s).
  test('podman stop ends the sandbox with exit code 0: the sandbox handles SIGTERM as PID 1', async () => {
    const sandbox = await start({ env: { CHOIR_SANDBOX_ROLE: 'live' } });
    // A 10 s grace period: a sandbox ignoring SIGTERM would be SIGKILLed after it (exit code 137).
    await podman(['stop', '--time', '10', sandbox.container.getId()]);
    const exitCode = Number((await podman(['inspect', '--format', '{{.State.ExitCode}}', sandbox.container.getId()])).trim());
    expect(exitCode).toBe(0);
  });

  test('a managed container with a provider key exits non-zero with the keyless refusal in its logs', async () => {
    const refused = await runRefusedContainer(image, { env: { CHOIR_SANDBOX_ROLE: 'live', ANTHROPIC_API_KEY: 'sk-ant-never-print' } });
    expect(refused.exitCode).toBe(78);
    expect(refused.logs).toContain('refusing to start');
    expect(refused.logs).toContain('ANTHROPIC_API_KEY');
    expect(refused.logs).not.toContain('sk-ant-never-print');
  });

  test('a release image built with another version reports that version and leaves :latest alone', async () => {
    const latestBefore = await imageId(sandboxImageLatest);
    const version = `${packageVersion}-release.${randomUUID().slice(0, 8)}`;
    const release = await buildSandboxImage({ version });
    releaseImages.push(release.ref);
    expect(release.ref).toBe(`localhost/choir-sandbox:${version}`);
    expect(release.tags).toEqual([release.ref]);
    expect(release.sizeBytes).toBeGreaterThan(0);
    expect(await imageId(sandboxImageLatest)).toBe(latestBefore);

    const sandbox = await startSandboxContainer(release.ref, { env: { CHOIR_SANDBOX_ROLE: 'live' } });
    containers.push(sandbox);
    expect(await (await fetch(`${sandbox.url()}/health`)).json()).toMatchObject({ status: 'healthy', version });
    const labels = (await podman(['image', 'inspect', '--format', '{{index .Labels "org.opencontainers.image.version"}}', release.ref])).trim();
    expect(labels).toBe(version);
  });

  test('a rebuild under the same reference removes the image it displaced, which nothing else tags', async () => {
    const tag = `rebuild-${randomUUID().slice(0, 8)}`;
    const first = await buildSandboxImage({ tag, version: `${packageVersion}-first` });
    releaseImages.push(first.ref);
    const second = await buildSandboxImage({ tag, version: `${packageVersion}-second` });
    expect(second.ref).toBe(first.ref);
    expect(second.id).not.toBe(first.id);
    expect(await imageId(second.ref)).toBe(second.id);
    expect(await podman(['image', 'exists', first.id]).then(() => 'kept', () => 'removed'), 'the displaced image').toBe('removed');
  });

  test('a rebuild keeps the image it displaced while another reference still tags it', async () => {
    const tag = `rebuild-${randomUUID().slice(0, 8)}`;
    const first = await buildSandboxImage({ tag, version: `${packageVersion}-kept` });
    const keeper = `${first.ref}-keeper`;
    await podman(['tag', first.id, keeper]);
    releaseImages.push(first.ref, keeper);
    const second = await buildSandboxImage({ tag, version: `${packageVersion}-other` });
    expect(second.id).not.toBe(first.id);
    expect(await imageId(keeper), 'the displaced image, still tagged').toBe(first.id);
  });

  test('ensureSandboxImage reuses an image built from the same sources instead of rebuilding it', async () => {
    const version = `${packageVersion}-reuse.${randomUUID().slice(0, 8)}`;
    const built = await buildSandboxImage({ version });
    releaseImages.push(built.ref);
    expect(await ensureSandboxImage({ version })).toBe(built.ref);
    expect(await imageId(built.ref)).toBe(built.id);
  });
});
