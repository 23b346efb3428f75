import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { containersConf, podman } from '../hypervisor/podman/podman.ts';
import { podmanServicePidFile, podmanSocketPath } from '../hypervisor/podman/podman-api.ts';

/**
 * The integrity run's own podman store (images, containers, podman's API service), chosen through
 * CONTAINERS_STORAGE_CONF, which every podman call of the run and of the hypervisors it starts
 * carries. A seeded defect in the workload builds `localhost/choir-sandbox:<version>` from the
 * scratch copy; in the machine's store that image would be the one every other run on the machine
 * uses (its unit tests, its gates, a CI run next door) until it is rebuilt. Here it never leaves the run.
 */
export interface RunStore {
  dir: string;
  /** What the run's child processes need in their environment to use this store. */
  env: Readonly<Record<string, string>>;
  /** Removes every container and image of the store, its API service and the store itself. */
  remove(): Promise<void>;
}

export async function createRunStore(): Promise<RunStore> {
  // Under /var/tmp: podman refuses a runroot longer than 50 characters, and a run's TMPDIR can be deep.
  const dir = await mkdtemp('/var/tmp/choiros-integrity-store-');
  const storageConf = path.join(dir, 'storage.conf');
  // overlay, like the machine's own store: a run starts dozens of containers, and vfs copies the image for each.
  await writeFile(storageConf, `[storage]\ndriver = "overlay"\ngraphroot = "${path.join(dir, 'graph')}"\nrunroot = "${path.join(dir, 'run')}"\n`);
  const env = { CONTAINERS_STORAGE_CONF: storageConf };
  const inStore = (args: readonly string[]): Promise<string> => podman(args, { env });
  return {
    dir,
    env,
    async remove() {
      await stopApiService(podmanSocketPath(containersConf(), storageConf));
      await inStore(['rm', '--all', '--force', '--time', '1']).catch(() => '');
      await inStore(['rmi', '--all', '--force']).catch(() => '');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The run's own API service (Playwright's global setup started it for testcontainers) would otherwise idle on for half an hour. */
async function stopApiService(socketPath: string): Promise<void> {
  const pid = Number((await readFile(podmanServicePidFile(socketPath), 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone: it stops by itself once idle.
    }
  }
  await rm(path.dirname(socketPath), { recursive: true, force: true });
}
