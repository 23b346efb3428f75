import { chownSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { uniqueUser } from '../fixtures/test-hypervisor.ts';
import { podman } from '../hypervisor/podman/podman.ts';
import { sandboxUser } from '../hypervisor/sandbox/image/image.ts';
import { sandboxEnv } from '../hypervisor/sandboxes/env.ts';
import { waitUntilHealthy } from '../hypervisor/sandboxes/health-probe.ts';
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
  const began = performance.now();
  const id = (
    await podman([
      'run', '--detach', '--pull=never', '--name', `choiros-bench-${user}`, '--label', label,
      '--publish', `127.0.0.1:${port}:8080`, '--volume', `${dataDir}:/data`,
      ...Object.entries(env).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
      '--stop-timeout', '2', '--cap-drop=all', '--security-opt=no-new-privileges', image,
    ])
  ).trim();
  await waitUntilHealthy({ port, role: 'live', deadlineMs: 30_000 });
  return { ms: performance.now() - began, id };
}
