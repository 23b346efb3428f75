import { lchown, lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseUserId } from './user-id.ts';
import type { SandboxKey } from '../domain/sandbox.ts';

/** <data root>/<user>/<role>; the user id is checked again here because this is where a bad one would escape. */
export function sandboxDataDir(dataRoot: string, key: SandboxKey): string {
  const dir = path.resolve(dataRoot, parseUserId(key.userId), key.role);
  const relative = path.relative(path.resolve(dataRoot), dir);
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`sandbox data directory ${dir} is outside the data root ${dataRoot}`);
  return dir;
}

export interface Owner {
  uid: number;
  gid: number;
}

/** Never follows a symlink: a sandbox could plant one pointing anywhere on the host. */
async function chownTree(target: string, owner: Owner): Promise<void> {
  await lchown(target, owner.uid, owner.gid);
  const info = await lstat(target);
  if (!info.isDirectory()) return;
  for (const entry of await readdir(target)) await chownTree(path.join(target, entry), owner);
}

/**
 * Creates the data directory. With an owner (a container's non-root user), hands the tree over to
 * it when it is not already theirs, so that data written by a process-mode sandbox stays writable.
 */
export async function ensureDataDir(dir: string, owner?: Owner): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (!owner) return;
  const info = await lstat(dir);
  if (!info.isDirectory()) throw new Error(`the sandbox data directory ${dir} is not a directory (a symlink?); remove it so that the hypervisor can create it`);
  if (info.uid === owner.uid && info.gid === owner.gid) return;
  try {
    await chownTree(dir, owner);
  } catch (error) {
    throw new Error(
      `cannot hand the sandbox data directory ${dir} to the container user ${owner.uid}:${owner.gid} (${(error as NodeJS.ErrnoException).code ?? String(error)}); run the hypervisor as root (rootful podman) or make the directory writable by that user`,
      { cause: error },
    );
  }
}
