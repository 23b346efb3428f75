import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { podman } from '../hypervisor/podman/podman.ts';
import { podmanSocketPath } from '../hypervisor/podman/podman-api.ts';
import { createRunStore } from './run-store.ts';

const graphRoot = (env?: Readonly<Record<string, string>>): Promise<string> => podman(['info', '--format', '{{.Store.GraphRoot}}'], env ? { env } : {}).then((out) => out.trim());

describe("an integrity run's own podman store", () => {
  it('is where podman keeps images and containers for whoever carries its environment, apart from the machine store, and is removed whole', async () => {
    const store = await createRunStore();
    try {
      expect(await graphRoot(store.env)).toBe(path.join(store.dir, 'graph'));
      expect(await graphRoot()).not.toBe(path.join(store.dir, 'graph'));
      expect((await podman(['images', '--quiet'], { env: store.env })).trim(), 'a new store holds no image').toBe('');
      expect(podmanSocketPath(undefined, store.env.CONTAINERS_STORAGE_CONF), "the store's own API service").not.toBe(podmanSocketPath(undefined, undefined));
    } finally {
      await store.remove();
    }
    expect(existsSync(store.dir)).toBe(false);
  });
});
