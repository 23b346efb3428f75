import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeLeftovers, type RunLeftover } from './leftovers.ts';

const folder = async (name: string): Promise<string> => mkdtemp(path.join(tmpdir(), `choiros-leftover-${name}-`));
const removable = (what: string, dir: string): RunLeftover => ({ what, dir, remove: () => rm(dir, { recursive: true, force: true }) });

describe('removing what an integrity run made', () => {
  it('removes each part even when an earlier one cannot be removed, and names what is left with how to remove it', async () => {
    const store = await folder('store');
    const copy = await folder('copy');
    const said: string[] = [];
    const stuck: RunLeftover = { what: 'podman store', dir: store, remove: () => Promise.reject(new Error(`EBUSY: resource busy or locked, rmdir '${store}/graph/overlay'`)) };
    const left = await removeLeftovers([stuck, removable('scratch copy', copy)], (line) => said.push(line));
    expect(existsSync(copy)).toBe(false);
    expect(left).toEqual([store]);
    expect(said).toEqual([`integrity: could not remove the podman store ${store} (EBUSY: resource busy or locked, rmdir '${store}/graph/overlay'); unmount what is mounted under it (findmnt -R ${store}), then rm -rf it`]);
    await rm(store, { recursive: true, force: true });
  });

  it('says nothing and leaves nothing when every part goes', async () => {
    const parts = [removable('podman store', await folder('store')), removable('scratch copy', await folder('copy'))];
    const said: string[] = [];
    expect(await removeLeftovers(parts, (line) => said.push(line))).toEqual([]);
    expect(said).toEqual([]);
    expect(parts.map((part) => existsSync(part.dir))).toEqual([false, false]);
  });
});
