import { chmodSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runNix } from '../nix-cli.ts';

/**
 * The cache experiment builds in separate stores (`--store <dir>`, a chroot store), each empty at
 * first, instead of deleting paths from this machine's /nix store: a deletion there fights every
 * other user of those paths (a running program, a host's profile, a concurrent build) and cannot
 * make a build cold when something keeps a path alive.
 */

/** The runtime closure of a built store path (what a cache must hold to substitute it). */
export async function runtimeClosure(storePath: string, store?: string): Promise<string[]> {
  const args = ['path-info', '--recursive', ...(store ? ['--store', store] : []), storePath];
  const result = await runNix(args);
  if (result.exitCode !== 0) throw new Error(`nix ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout.split('\n').map((p) => p.trim()).filter(Boolean);
}

/**
 * Copies built paths from a separate store into this machine's store, so they can run: their
 * programs name /nix/store paths. Paths already there are left as they are (same path, same
 * content). Signatures are not checked: the paths come from our own build, not from a cache.
 */
export async function copyToMachineStore(paths: readonly string[], fromStore: string): Promise<string> {
  const args = ['copy', '--from', fromStore, '--no-check-sigs', ...paths];
  const result = await runNix(args);
  if (result.exitCode !== 0) throw new Error(`nix ${args.join(' ')} failed: ${result.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return result.stderr;
}

function makeWritable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir)) {
    const child = path.join(dir, entry);
    if (lstatSync(child).isDirectory()) makeWritable(child);
  }
}

/** Removes a separate store; Nix leaves its paths read-only, which only root could remove as they are. */
export function removeStore(dir: string): void {
  try {
    makeWritable(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  rmSync(dir, { recursive: true, force: true });
}
