import { test, expect } from '../../fixtures/gate-test.ts';
import { attachPodmanPs } from '../../fixtures/podman-evidence.ts';

test('Hypervisor starts/stops/restarts sandbox container locally.', async ({ target, podman, evidence, userId, request }) => {
  const role = 'live';
  const healthOf = async (port: number) => {
    const response = await request.get(`http://127.0.0.1:${port}/health`);
    expect(response.status()).toBe(200);
    return (await response.json()) as { status: string; instance_role: string };
  };

  await test.step('before: podman runs no container for the user', async () => {
    await attachPodmanPs(podman, evidence, '1-before-start');
    expect(await podman.running(userId, role)).toBeUndefined();
  });

  const first = await test.step('start: the hypervisor reports it running and podman runs its container', async () => {
    const answer = await evidence.timed('start', () => target.admin.start(userId, role));
    expect(answer.status).toBe('running');
    const row = await podman.running(userId, role);
    expect(row?.State).toBe('running');
    expect(row?.Ports?.[0]).toMatchObject({ host_ip: '127.0.0.1', host_port: answer.port, container_port: 8080 });
    expect(await target.admin.sandbox(userId, role)).toMatchObject({ status: 'running', port: answer.port });
    expect(await healthOf(answer.port)).toMatchObject({ status: 'healthy', instance_role: role });
    await attachPodmanPs(podman, evidence, '2-after-start');
    return { port: answer.port, containerId: row?.Id };
  });

  await test.step('restart: a new container replaces the old one and serves again', async () => {
    const answer = await evidence.timed('restart', () => target.admin.restart(userId, role));
    expect(answer.status).toBe('running');
    const row = await podman.running(userId, role);
    expect(row?.State).toBe('running');
    expect(row?.Id).not.toBe(first.containerId);
    expect(await target.admin.sandbox(userId, role)).toMatchObject({ status: 'running', port: answer.port });
    expect(await healthOf(answer.port)).toMatchObject({ status: 'healthy', instance_role: role });
    await attachPodmanPs(podman, evidence, '3-after-restart');
  });

  await test.step('stop: the hypervisor reports it stopped and podman no longer runs it', async () => {
    await evidence.timed('stop', () => target.admin.stop(userId, role));
    expect(await podman.running(userId, role)).toBeUndefined();
    expect(await target.admin.sandbox(userId, role)).toMatchObject({ status: 'stopped' });
    await attachPodmanPs(podman, evidence, '4-after-stop');
  });
});
