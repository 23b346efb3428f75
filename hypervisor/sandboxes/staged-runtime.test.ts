import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRuntime, stagedEntryName, stagedRuntimesFolder } from './staged-runtime.ts';

let scratch: string;
/** A Node binary others may run (it can be linked) and one they may not (it must be copied). */
let sharedNode: string;
let privateNode: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'choiros-staged-'));
  sharedNode = path.join(scratch, 'shared-node');
  privateNode = path.join(scratch, 'private-node');
  copyFileSync(process.execPath, sharedNode);
  chmodSync(sharedNode, 0o755);
  copyFileSync(process.execPath, privateNode);
  chmodSync(privateNode, 0o700);
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const mode = (file: string): number => statSync(file).mode & 0o777;

describe("the process sandbox's staged runtime", () => {
  it.each([
    { nodeMode: 0o700, shown: '0700' },
    { nodeMode: 0o744, shown: '0744' },
  ])('is Node (a $shown binary: copied) and the bundle under <data root>/.runtime/<digest>/, readable and runnable by the sandbox user, never writable by it', async ({ nodeMode }) => {
    chmodSync(privateNode, nodeMode);
    const dataRoot = path.join(scratch, `private-root-${nodeMode.toString(8)}`);
    // A runtimes folder left owner-only (by hand, by a stricter umask) is opened to the sandbox user.
    mkdirSync(path.join(dataRoot, stagedRuntimesFolder), { recursive: true, mode: 0o700 });
    const staged = await stageRuntime(dataRoot, privateNode);
    const folder = path.dirname(staged.entry);
    expect(path.dirname(folder)).toBe(path.join(dataRoot, stagedRuntimesFolder));
    expect(path.basename(folder)).toMatch(/^[0-9a-f]{16}$/);
    expect(staged).toEqual({ node: path.join(folder, 'node'), entry: path.join(folder, stagedEntryName) });
    expect([mode(path.join(dataRoot, stagedRuntimesFolder)), mode(folder), mode(staged.node), mode(staged.entry), mode(path.join(folder, 'public'))]).toEqual([0o755, 0o755, 0o755, 0o644, 0o755]);
    for (const page of readdirSync(path.join(folder, 'public'))) expect(mode(path.join(folder, 'public', page)), page).toBe(0o644);
    expect(statSync(staged.node).ino, 'a binary others may not run is copied, not linked').not.toBe(statSync(privateNode).ino);
    expect(mode(privateNode), "the original's mode is never loosened").toBe(nodeMode);
    expect(readdirSync(path.join(dataRoot, stagedRuntimesFolder)), 'no half-staged folder is left').toEqual([path.basename(folder)]);
  });

  it('links a Node binary others may already run instead of copying it', async () => {
    const staged = await stageRuntime(path.join(scratch, 'shared-root'), sharedNode);
    expect(statSync(staged.node).ino).toBe(statSync(sharedNode).ino);
  });

  it('is staged once per version: the same again is reused, a changed Node binary is staged beside it', async () => {
    const dataRoot = path.join(scratch, 'versions-root');
    const first = await stageRuntime(dataRoot, sharedNode);
    expect(await stageRuntime(dataRoot, sharedNode)).toEqual(first);
    utimesSync(sharedNode, new Date(), new Date(Date.now() - 3_600_000));
    const second = await stageRuntime(dataRoot, sharedNode);
    expect(second.entry).not.toBe(first.entry);
    expect(existsSync(first.entry), 'a running sandbox keeps the files it started from').toBe(true);
    expect(readdirSync(path.join(dataRoot, stagedRuntimesFolder)).sort()).toEqual([path.basename(path.dirname(first.entry)), path.basename(path.dirname(second.entry))].sort());
  });

  it('runs a Nix-packaged Node and sandbox in place, staging nothing', async () => {
    const dataRoot = path.join(scratch, 'nix-root');
    const inStore = { node: '/nix/store/abc-nodejs/bin/node', entry: '/nix/store/def-choiros/hypervisor/workload/main.ts' };
    expect(await stageRuntime(dataRoot, inStore.node, inStore.entry)).toEqual(inStore);
    expect(existsSync(dataRoot)).toBe(false);
    const checkoutNode = await stageRuntime(dataRoot, sharedNode, inStore.entry);
    expect(path.dirname(path.dirname(checkoutNode.entry)), 'a Node outside the store is staged, and the bundle with it').toBe(path.join(dataRoot, stagedRuntimesFolder));
  });
});
