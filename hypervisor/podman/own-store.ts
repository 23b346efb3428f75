import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { podman } from './podman.ts';

/**
 * A podman store of its own: a storage.conf in a new folder naming a graph root and a run root
 * there. Whoever carries `env` (CONTAINERS_STORAGE_CONF) keeps its images and containers in it,
 * apart from the machine's store and from every other run's.
 */
export interface OwnStore {
  dir: string;
  graphroot: string;
  runroot: string;
  driver: OwnStoreDriver;
  /** What a podman call or a child process needs in its environment to use this store. */
  env: Readonly<{ CONTAINERS_STORAGE_CONF: string }>;
  /** Removes every container and image of the store, then the store itself. */
  remove(): Promise<void>;
}

/** overlay shares an image's layers between its containers; vfs copies them, but needs nothing of the kernel. */
export type OwnStoreDriver = 'overlay' | 'vfs';

/** podman refuses a run root longer than this. */
const longestRunRoot = 50;

/**
 * Makes the store under `base` (a run's own TMPDIR can be too deep for podman's run root; the
 * store then goes to /tmp). `prefix` names the store's folder for a person reading `ls`.
 */
export async function createOwnStore(prefix: string, driver: OwnStoreDriver, base: string): Promise<OwnStore> {
  const parent = path.join(base, `${prefix}XXXXXX`, 'run').length <= longestRunRoot ? base : '/tmp';
  const dir = await mkdtemp(path.join(parent, prefix));
  const graphroot = path.join(dir, 'graph');
  const runroot = path.join(dir, 'run');
  const storageConf = path.join(dir, 'storage.conf');
  await writeFile(storageConf, `[storage]\ndriver = "${driver}"\ngraphroot = "${graphroot}"\nrunroot = "${runroot}"\n`);
  const env = { CONTAINERS_STORAGE_CONF: storageConf };
  return {
    dir,
    graphroot,
    runroot,
    driver,
    env,
    async remove() {
      // Best effort before the folder goes: a container left running would keep its mounts.
      await podman(['rm', '--all', '--force', '--time', '1'], { env }).catch(() => '');
      await podman(['rmi', '--all', '--force'], { env }).catch(() => '');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
