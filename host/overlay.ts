import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/**
 * A machine's own writable layer over the shared, read-only cached root: what the machine writes
 * (journal, state, the hypervisor's data) lands in `upper`, and survives its reboots, while the
 * cached root stays as debootstrap left it.
 */
export interface MachineOverlay {
  merged: string;
  upper: string;
  unmount(): Promise<void>;
}

/** Where the machine's root is mounted inside its folder `dir`: known before the mount, so an owner record can name it. */
export function overlayMountPoint(dir: string): string {
  return path.join(dir, 'root');
}

export async function mountOverlay(lower: string, dir: string): Promise<MachineOverlay> {
  const upper = path.join(dir, 'upper');
  const work = path.join(dir, 'work');
  const merged = overlayMountPoint(dir);
  for (const d of [upper, work, merged]) await mkdir(d, { recursive: true });
  await execa('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
  return {
    merged,
    upper,
    async unmount() {
      await execa('umount', [merged], { reject: false });
      await rm(work, { recursive: true, force: true });
    },
  };
}
