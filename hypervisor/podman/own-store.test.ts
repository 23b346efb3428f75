import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createOwnStore, mountsUnder } from './own-store.ts';
import { podman } from './podman.ts';

const storeInfo = (env?: Readonly<Record<string, string>>): Promise<string> =>
  podman(['info', '--format', '{{.Store.GraphRoot}} {{.Store.GraphDriverName}}'], env ? { env } : {}).then((out) => out.trim());

describe('a podman store of its own', () => {
  it('is where podman keeps images for whoever carries its environment, with its driver, empty at first, and is removed whole', async () => {
    const store = await createOwnStore('choiros-own-store-test-', 'vfs', '/tmp');
    try {
      expect(await storeInfo(store.env)).toBe(`${store.graphroot} vfs`);
      expect(await storeInfo()).not.toContain(store.graphroot);
      expect(path.dirname(store.graphroot)).toBe(store.dir);
      expect((await podman(['images', '--quiet'], { env: store.env })).trim(), 'a new store holds no image').toBe('');
    } finally {
      await store.remove();
    }
    expect(existsSync(store.dir)).toBe(false);
  });

  it('goes to /tmp when the base folder is too deep for podman\'s run root', async () => {
    const deep = await mkdtemp(path.join('/tmp', 'a-run-temp-folder-deeper-than-podman-allows-'));
    const store = await createOwnStore('choiros-own-store-test-', 'vfs', deep);
    try {
      expect(path.dirname(store.dir)).toBe('/tmp');
      expect(store.runroot.length).toBeLessThanOrEqual(50);
    } finally {
      await store.remove();
      await rm(deep, { recursive: true, force: true });
    }
  });

  it("stays under the base folder while its run root is at most podman's 50 characters, and goes to /tmp from 51", async () => {
    const prefix = 'choiros-own-store-test-';
    const runRootLength = (base: string): number => path.join(base, `${prefix}XXXXXX`, 'run').length;
    const fits = await mkdtemp('/tmp/base-');
    const over = await mkdtemp('/tmp/base-1');
    expect([runRootLength(fits), runRootLength(over)]).toEqual([50, 51]);
    const stores = [await createOwnStore(prefix, 'vfs', fits), await createOwnStore(prefix, 'vfs', over)];
    try {
      expect(stores.map((store) => path.dirname(store.dir))).toEqual([fits, '/tmp']);
    } finally {
      for (const store of stores) await store.remove();
      await rm(fits, { recursive: true, force: true });
      await rm(over, { recursive: true, force: true });
    }
  });

  // An interrupted integrity run once left its store behind so: rmdir EBUSY on a mount podman did not undo.
  it('is removed whole even with something still mounted inside it, a mount point with a space in its name included', async () => {
    const store = await createOwnStore('choiros-own-store-test-', 'overlay', '/tmp');
    // Beside the graph root, where podman's own clean-up of its driver's mounts does not reach.
    const leftovers = [path.join(store.dir, 'left behind'), path.join(store.dir, 'left behind', 'a container', 'merged')];
    onTestFinished(async () => {
      for (const point of [...leftovers].reverse()) await execa('umount', ['--lazy', point], { reject: false });
      await rm(store.dir, { recursive: true, force: true });
    });
    await mkdir(leftovers[0] as string, { recursive: true });
    await execa('mount', ['--bind', leftovers[0] as string, leftovers[0] as string]);
    await mkdir(leftovers[1] as string, { recursive: true });
    await execa('mount', ['-t', 'tmpfs', 'none', leftovers[1] as string]);
    expect(await mountsUnder(store.dir)).toEqual([...leftovers].reverse());
    await store.remove();
    expect(existsSync(store.dir)).toBe(false);
    expect(await mountsUnder(store.dir)).toEqual([]);
  });

  it('keeps the driver it is given: overlay as well as vfs', async () => {
    const store = await createOwnStore('choiros-own-store-test-', 'overlay', '/tmp');
    try {
      expect(await storeInfo(store.env)).toBe(`${store.graphroot} overlay`);
    } finally {
      await store.remove();
    }
  });
});
