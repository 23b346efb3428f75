import { readdir, readlink, rm } from 'node:fs/promises';
import path from 'node:path';

/** The Nix profiles of local hosts: in /nix, which the hosts mount read-only, so a profile roots what a host runs. */
export const hostProfilesDir = '/nix/var/nix/profiles/choiros-gates';
/** Where nix-env records a profile's generations as indirect GC roots. */
export const autoRootsDir = '/nix/var/nix/gcroots/auto';

/** The folder of one machine's profiles: removed with the machine, so nothing it ran stays rooted. */
export function machineProfilesDir(machineName: string, profilesDir: string = hostProfilesDir): string {
  return path.join(profilesDir, machineName);
}

/**
 * Removes a machine's profiles and the indirect GC roots nix-env made for their generations. Nix
 * drops a root whose link is gone only at its next scan; removing them now leaves no trace of ours.
 */
export async function removeMachineProfiles(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const root of await readdir(autoRootsDir).catch(() => [])) {
    const link = path.join(autoRootsDir, root);
    const target = await readlink(link).catch(() => '');
    if (target.startsWith(`${dir}/`)) await rm(link, { force: true });
  }
}
