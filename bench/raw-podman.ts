import { chownSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { uniqueUser } from '../fixtures/test-hypervisor.ts';
import { podman } from '../hypervisor/podman/podman.ts';
import { sandboxUser } from '../hypervisor/workload/image/image.ts';
import { sandboxEnv } from '../hypervisor/sandboxes/env.ts';
import { waitUntilHealthy } from '../hypervisor/sandboxes/health-probe.ts';
import { podmanRunArgs } from '../hypervisor/sandboxes/podman-runtime.ts';
import { allocatePort } from '../hypervisor/sandboxes/ports.ts';

/**
 * The baseline the benches compare against: a raw `podman run` of the same image with the
 * arguments the podman runtime uses, polled to healthy the same way, with no hypervisor involved.
 * The container carries `label` so the bench can remove everything it started.
 */
export async function rawPodmanStart(image: string, label: string, dataRoot: string): Promise<{ ms: number; id: string }> {
  const user = uniqueUser('raw');
  const dataDir = path.join(dataRoot, user, 'live');
  mkdirSync(dataDir, { recursive: true });
  chownSync(dataDir, sandboxUser.uid, sandboxUser.gid);
  const port = await allocatePort(new Set());
  const env = sandboxEnv({ key: { userId: user, role: 'live' }, port: 8080, dataDir: '/data' });
  const split = label.indexOf('=');
  const labels = split < 0 ? { [label]: '' } : { [label.slice(0, split)]: label.slice(split + 1) };
  const began = performance.now();
  const id = (await podman(podmanRunArgs({ name: `choiros-bench-${user}`, image, labels, hostPort: port, dataDir, env, stopTimeoutSecs: 2 }))).trim();
  await waitUntilHealthy({ port, role: 'live', deadlineMs: 30_000 });
  return { ms: performance.now() - began, id };
}
