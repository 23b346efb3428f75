import { createOwnStore } from '../hypervisor/podman/own-store.ts';
import { containersConf } from '../hypervisor/podman/podman.ts';
import { podmanSocketPath, stopPodmanApi } from '../hypervisor/podman/podman-api.ts';

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
  // overlay, like the machine's own store: a run starts dozens of containers, and vfs copies the
  // image for each. Under /var/tmp: a run's TMPDIR can be too deep for podman's run root.
  const store = await createOwnStore('choiros-integrity-store-', 'overlay', '/var/tmp');
  return {
    dir: store.dir,
    env: store.env,
    async remove() {
      // The run's own API service (Playwright's global setup started it for testcontainers) would otherwise idle on for half an hour.
      await stopPodmanApi(podmanSocketPath(containersConf(), store.env.CONTAINERS_STORAGE_CONF));
      await store.remove();
    },
  };
}
