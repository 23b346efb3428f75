import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { publicDir } from '../workload/desktop.ts';

/** What a process sandbox runs: a Node binary, the sandbox bundled into one file and its desktop page, all outside the checkout. */
export interface StagedRuntime {
  node: string;
  entry: string;
}

/** The folder under the data root that holds staged runtimes (no user id starts with a dot). */
export const stagedRuntimesFolder = '.runtime';
export const stagedEntryName = 'sandbox.mjs';

let bundled: Promise<Uint8Array> | undefined;

/** One bundle per hypervisor process: every data root it stages into gets the same bytes. */
// Loaded only when staging: a Nix-packaged hypervisor runs from the store (below) and has no esbuild.
const sandboxBundle = (): Promise<Uint8Array> => (bundled ??= import('../workload/image/bundle.ts').then(({ bundleSandbox }) => bundleSandbox()));

/** Paths under the Nix store are world-readable and immutable: nothing to stage for them. */
export const inNixStore = (file: string): boolean => file.startsWith('/nix/store/');


/**
 * Stages the process sandbox's runtime under `<dataRoot>/.runtime/<digest>/`, as the image packs it:
 * this Node binary and the sandbox bundle, readable (not writable) by the sandbox user. A checkout
 * may live anywhere, a 0700 home included; the sandbox user then can reach neither its Node nor its
 * sources, only the data root. The digest covers the bundle and the binary, so a new version stages
 * afresh and running sandboxes keep the files they started from. The binary is hard-linked when it
 * can be (no copy of ~120 MB) and others may already run it, else copied.
 */
export async function stageRuntime(dataRoot: string, nodeBinary: string = process.execPath, sourceEntry?: string): Promise<StagedRuntime> {
  // A Nix-packaged hypervisor (nix/packages.nix): its Node and the sandbox's sources are in the store,
  // which the sandbox user can already read and nobody can change, so the sandbox runs them in place.
  if (sourceEntry !== undefined && inNixStore(nodeBinary) && inNixStore(sourceEntry)) return { node: nodeBinary, entry: sourceEntry };
  const bundle = await sandboxBundle();
  const binary = await stat(nodeBinary);
  const page = await desktopPage();
  const hash = createHash('sha256').update(bundle).update(`${nodeBinary}\0${binary.size}\0${binary.mtimeMs}`);
  for (const [name, bytes] of page) hash.update(`\0${name}\0`).update(bytes);
  const digest = hash.digest('hex').slice(0, 16);
  const folder = path.join(dataRoot, stagedRuntimesFolder);
  const target = path.join(folder, digest);
  const staged = { node: path.join(target, 'node'), entry: path.join(target, stagedEntryName) };
  if (await exists(staged.entry)) return staged;

  await mkdir(folder, { recursive: true, mode: 0o755 });
  await chmod(folder, 0o755);
  // Built aside and renamed into place, so a half-staged runtime is never used.
  const scratch = path.join(folder, `.staging-${randomBytes(6).toString('hex')}`);
  await mkdir(scratch, { mode: 0o755 });
  try {
    await chmod(scratch, 0o755);
    // A link shares the original's mode: only link a binary that others may already run, never loosen one.
    const othersMayRun = (binary.mode & 0o005) === 0o005;
    if (!othersMayRun || !(await link(nodeBinary, path.join(scratch, 'node')).then(() => true, () => false))) {
      await copyFile(nodeBinary, path.join(scratch, 'node'));
      await chmod(path.join(scratch, 'node'), 0o755);
    }
    await writeFile(path.join(scratch, stagedEntryName), bundle, { mode: 0o644 });
    // Beside the bundle, as in the image (/app/public): desktop.ts finds it next to the module.
    await mkdir(path.join(scratch, 'public'), { mode: 0o755 });
    await chmod(path.join(scratch, 'public'), 0o755);
    for (const [name, bytes] of page) await writeFile(path.join(scratch, 'public', name), bytes, { mode: 0o644 });
    await rename(scratch, target).catch(async (error: NodeJS.ErrnoException) => {
      // Another hypervisor on this data root staged the same runtime first: theirs is as good.
      if (!(await exists(staged.entry))) throw error;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return staged;
}

/** The desktop page's files (a flat folder), by name, in a stable order. */
async function desktopPage(): Promise<Array<[string, Buffer]>> {
  const names = (await readdir(publicDir)).sort();
  return Promise.all(names.map(async (name): Promise<[string, Buffer]> => [name, await readFile(path.join(publicDir, name))]));
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
