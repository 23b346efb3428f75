import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { execaNode } from 'execa';
import { hypervisorEnv, removeDir, startTestHypervisor, type TestHypervisor } from '../../fixtures/test-hypervisor.ts';
import { fromRoot } from '../paths.ts';
import { podman } from '../podman/podman.ts';
import { buildSandboxImage, ensureSandboxImage } from '../workload/image/image.ts';
import { createUserSession, startHttpLoop, UserClient } from './testing/user-traffic.ts';
import { routingAdmin, type ReleaseAnswer, type RollbackAnswer } from './testing/routing-admin.ts';

const suffix = `${process.pid}${Date.now().toString(36)}`;
let hv: TestHypervisor;
let admin: ReturnType<typeof routingAdmin>;
let databaseUrl: string;
let dataRoot: string;
let known: ReleaseAnswer;
let next: ReleaseAnswer;
let nextImage: string;
const clients: UserClient[] = [];

function user(): { userId: string; client: UserClient } {
  const { userId, cookie } = createUserSession(databaseUrl);
  const client = new UserClient(hv.url, cookie);
  clients.push(client);
  return { userId, client };
}

/** Every file of a slot's data directory with its content digest: to show a rollback touched nothing. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string): void => {
    for (const entry of readdirSync(at)) {
      const full = path.join(at, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (!/sandbox\.db(-wal|-shm)?$/.test(entry)) files[path.relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return files;
}

beforeAll(async () => {
  const image = await ensureSandboxImage();
  nextImage = `localhost/choir-sandbox:routing-${suffix}`;
  await buildSandboxImage({ version: `0.1.1-routing.${suffix}`, tag: nextImage });
  const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'podman', SANDBOX_CONTAINER_IMAGE: image, SANDBOX_STOP_TIMEOUT_SECS: '2' });
  databaseUrl = env.HYPERVISOR_DATABASE_URL as string;
  dataRoot = env.SANDBOX_DATA_ROOT as string;
  hv = await startTestHypervisor({}, { dir, env });
  admin = routingAdmin(hv.admin);
  known = await admin.createRelease({ runtime: 'podman', image, note: 'the known-good one' });
  next = await admin.createRelease({ runtime: 'podman', image: nextImage, note: 'the next one' });
}, 240_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await hv?.close();
  if (hv) {
    const ids = (await podman(['ps', '--all', '--quiet', '--filter', `label=choiros.instance=${hv.hypervisor.config.sandboxes.instanceId}`])).split('\n').filter(Boolean);
    if (ids.length) await podman(['rm', '--force', ...ids]);
    removeDir(hv.dir);
  }
  await podman(['rmi', nextImage]).catch(() => undefined);
});

describe('releases on podman', () => {
  it('a release pins the image id and the git revision from its label', async () => {
    const inspected = JSON.parse(await podman(['image', 'inspect', nextImage])) as Array<{ Id: string; Labels: Record<string, string> }>;
    expect(next.image).toBe(inspected[0]?.Id.replace(/^sha256:/, ''));
    expect(next.revision).toBe(inspected[0]?.Labels['org.opencontainers.image.revision']);
    expect(next).toMatchObject({ runtime: 'podman', image_ref: nextImage, status: 'candidate', known_good: false });
  });

  it('deploying a broken release is refused and main keeps serving', async () => {
    const { userId, client } = user();
    expect((await hv.admin('POST', `/admin/sandboxes/${userId}/live/start`)).status).toBe(200);
    const broken = await admin.createRelease({ runtime: 'podman', image: nextImage, config: { SANDBOX_CONDUCTOR_STEP_MS: 'abc' } });
    const loop = startHttpLoop(client, '/conductor/runs?limit=1', { workers: 1, maxMs: 60_000 });
    const refused = await hv.admin<{ error: string; code: string }>('POST', `/admin/sandboxes/${userId}/deploy`, { release_id: broken.id });
    const traffic = await loop.stop();
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatch(new RegExp(`release ${broken.id} was refused for user "${userId}" \\(dev slot\\): .*SANDBOX_CONDUCTOR_STEP_MS="abc" is invalid.*main still points to live`, 's'));
    expect(traffic).toMatchObject({ failed: 0 });
    expect(traffic.ok).toBeGreaterThan(0);
    expect(await admin.pointers(userId)).toMatchObject({ main: 'live', dev: 'dev', slots: { dev: { release_id: broken.id, state: 'refused' } } });
    const promote = await hv.admin<{ error: string }>('POST', `/admin/sandboxes/${userId}/promote`, {});
    expect(promote.status).toBe(409);
    expect((await client.get('/conductor/runs?limit=1')).status).toBe(200);
  });

  it('rollback with a warm standby is a pointer switch, by one CLI command, and the data written before is there after', async () => {
    const { userId, client } = user();
    await admin.release(userId, known.id);
    const before = await client.completedRun('', 'written on the known-good release');
    await admin.release(userId, next.id);
    const during = await client.completedRun('', 'written on the next release');
    const mainSlot = (await admin.pointers(userId)).main;
    const slots = { live: snapshot(path.join(dataRoot, userId, 'live')), dev: snapshot(path.join(dataRoot, userId, 'dev')) };

    const cli = await execaNode(fromRoot('hypervisor', 'main.ts'), ['rollback', '--user', userId, '--reason', 'next is bad', '--json'], {
      env: { HYPERVISOR_URL: hv.url, HYPERVISOR_ADMIN_TOKEN: hv.token },
      reject: false,
    });
    expect(cli.exitCode, String(cli.stderr)).toBe(0);
    const rolled = JSON.parse(String(cli.stdout)) as RollbackAnswer;
    expect(rolled).toMatchObject({ mode: 'warm', release: { id: known.id }, from_release: next.id, drained: true });
    expect(rolled.main).not.toBe(mainSlot);
    expect(rolled.switch).toMatchObject({ action: 'rollback', actor: expect.stringMatching(/^admin:cli:/), reason: 'next is bad', outcome: 'switched' });

    // Main serves the known-good release again, with what was written on it; what was written on the
    // next release is where it was, behind /dev/. Nothing on disk changed.
    const onMain = JSON.parse((await client.get(`/conductor/runs/${before.runId}/document`)).body) as { path: string; content: string };
    expect(onMain.path).toBe(before.documentPath);
    expect(onMain.content).toContain('written on the known-good release');
    expect((await client.get(`/dev/conductor/runs/${during.runId}`)).status).toBe(200);
    expect(snapshot(path.join(dataRoot, userId, 'live'))).toEqual(slots.live);
    expect(snapshot(path.join(dataRoot, userId, 'dev'))).toEqual(slots.dev);
  });

  it('rollback from cold starts the known-good release in the standby slot, health-gates it, switches, and the data written before is there after', async () => {
    const { userId, client } = user();
    await admin.release(userId, known.id);
    const before = await client.completedRun('', 'written before the cold rollback');
    await admin.release(userId, next.id);
    const standby = (await admin.pointers(userId)).dev;
    const oldContainer = (await hv.admin<{ container_id: string }>('GET', `/admin/sandboxes/${userId}/${standby}`)).body.container_id;
    expect((await hv.admin('POST', `/admin/sandboxes/${userId}/${standby}/stop`)).status).toBe(200);

    const loop = startHttpLoop(client, '/conductor/runs?limit=1', { workers: 1, maxMs: 60_000 });
    const rolled = await hv.admin<RollbackAnswer>('POST', `/admin/sandboxes/${userId}/rollback`, { reason: 'cold rollback rehearsal' });
    const traffic = await loop.stop();
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(200);
    expect(rolled.body).toMatchObject({ mode: 'cold', main: standby, release: { id: known.id } });
    expect(traffic.failed).toBe(0);
    const container = (await hv.admin<{ container_id: string; status: string; image: string }>('GET', `/admin/sandboxes/${userId}/${standby}`)).body;
    expect(container).toMatchObject({ status: 'running', image: known.image });
    expect(container.container_id).not.toBe(oldContainer);
    const document = JSON.parse((await client.get(`/conductor/runs/${before.runId}/document`)).body) as { content: string };
    expect(document.content).toContain('written before the cold rollback');
  });

  it('a failed rollback leaves the current route serving and says why', async () => {
    const { userId, client } = user();
    expect((await hv.admin('POST', `/admin/sandboxes/${userId}/live/start`)).status).toBe(200);
    const broken = await admin.createRelease({ runtime: 'podman', image: nextImage, config: { SANDBOX_CONDUCTOR_STEP_MS: 'abc' }, note: 'wrongly marked known-good' });
    expect((await hv.admin('POST', `/admin/releases/${broken.id}/known-good`, {})).status).toBe(200);
    const loop = startHttpLoop(client, '/conductor/runs?limit=1', { workers: 1, maxMs: 60_000 });
    const failed = await hv.admin<{ error: string; code: string }>('POST', `/admin/sandboxes/${userId}/rollback`, { release_id: broken.id });
    const traffic = await loop.stop();
    expect(failed.status).toBe(422);
    expect(failed.body.error).toMatch(new RegExp(`rollback of user "${userId}" to release ${broken.id} failed, main still serves the live slot: .*SANDBOX_CONDUCTOR_STEP_MS="abc" is invalid`, 's'));
    expect(traffic.failed).toBe(0);
    expect(await admin.pointers(userId)).toMatchObject({ main: 'live', dev: 'dev' });
    expect((await client.get('/conductor/runs?limit=1')).status).toBe(200);
  });

  it('a release on the process runtime is the Phase 1 fallback: the live route moves from podman to a process and keeps its data', async () => {
    const { userId, client } = user();
    expect((await hv.admin('POST', `/admin/sandboxes/${userId}/live/start`)).status).toBe(200);
    const onPodman = await client.completedRun('', 'written on podman');
    expect((await hv.admin('POST', `/admin/sandboxes/${userId}/swap`, {})).status).toBe(200);
    const fallback = await admin.createRelease({ runtime: 'process', note: 'direct-process fallback' });
    const deployed = await admin.deploy(userId, fallback.id);
    expect(deployed.role).toBe('live');
    const promoted = await admin.promote(userId);
    expect(promoted).toMatchObject({ main: 'live', known_good: true });
    const sandbox = (await hv.admin<{ runtime: string; pid: number | null; status: string }>('GET', `/admin/sandboxes/${userId}/live`)).body;
    expect(sandbox).toMatchObject({ runtime: 'process', status: 'running' });
    expect(sandbox.pid).toBeGreaterThan(0);
    const document = JSON.parse((await client.get(`/conductor/runs/${onPodman.runId}/document`)).body) as { content: string };
    expect(document.content).toContain('written on podman');
  });
});
