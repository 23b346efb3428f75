import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
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
      // What podman could not let go of (a container whose creator was killed mid-start, overlay's own
      // mount of its folder) would make the removal fail with EBUSY and leave the store behind.
      await unmountUnder(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Mount points at or under `dir`, deepest first, from this process's mount table. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with space, tab, newline and backslash written as octal escapes.
  const points = table
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map((point) => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  return [...new Set(points.filter((point) => point === dir || point.startsWith(`${dir}/`)))].sort((a, b) => b.length - a.length);
}

/** Detaches every mount under `dir` (lazily: a busy one goes once its last user does). */
async function unmountUnder(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) await execa('umount', ['--lazy', point], { reject: false });
}
