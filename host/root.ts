import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { runsAsScript } from '../hypervisor/paths.ts';
import { requireHostTools } from './prerequisites.ts';

/**
 * The Debian root the local systemd host boots from: built once with debootstrap into a cache
 * directory outside the checkout, named by a hash of everything that shapes it, so a change to the
 * inputs builds a new root and an unchanged one is reused. Machines never write into it: each boot
 * mounts an overlay of its own on top (host/machine.ts). Cold build measured here: 294 s with the
 * 2-core machine busy with other builds (debootstrap alone is about 50 s on an idle machine); reuse: 0 s.
 */
export interface RootInputs {
  suite: string;
  mirror: string;
  variant: string;
  packages: readonly string[];
  /** Shell run in the root after debootstrap (chroot); part of the hash. */
  finish: string;
}

export const hostRootInputs: RootInputs = {
  suite: 'bookworm',
  mirror: 'http://deb.debian.org/debian',
  variant: 'minbase',
  // systemd as PID 1 and its bus; sshd for the deploys of Phase 4; iproute2 for `ss` in evidence.
  packages: ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2'],
  finish: [
    // Each machine gets its own host key at boot (host/machine.ts); the root carries none.
    'rm -f /etc/ssh/ssh_host_*',
    // Units and profiles come from the read-only /nix of the machine running it.
    'mkdir -p /nix',
    'apt-get clean',
    'rm -rf /var/lib/apt/lists/*',
    // A root-less login prompt on the console is noise here.
    'systemctl mask console-getty.service getty@.service',
  ].join('\n'),
};

export const hostRootCache = process.env.CHOIROS_HOST_ROOT_CACHE ?? '/var/cache/choiros-gates';

export function rootInputsHash(inputs: RootInputs): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

export interface HostRoot {
  dir: string;
  /** True when this call ran debootstrap (a cold build). */
  built: boolean;
  buildMs: number;
}

/** The cached root for `inputs`, built first when missing. Concurrent builders each build aside and the first rename wins. */
export async function ensureHostRoot(inputs: RootInputs = hostRootInputs, cache: string = hostRootCache): Promise<HostRoot> {
  const dir = path.join(cache, `host-root-${rootInputsHash(inputs)}`);
  const ready = path.join(dir, '.choiros-root-ready');
  if (existsSync(ready)) return { dir, built: false, buildMs: 0 };
  await requireHostTools();
  await mkdir(cache, { recursive: true });
  const started = performance.now();
  const building = `${dir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  try {
    await execa('debootstrap', [`--variant=${inputs.variant}`, `--include=${inputs.packages.join(',')}`, inputs.suite, building, inputs.mirror], { all: true });
    await execa('chroot', [building, 'sh', '-ec', inputs.finish], { all: true, env: { DEBIAN_FRONTEND: 'noninteractive' } });
    await writeFile(path.join(building, '.choiros-root-ready'), `${JSON.stringify(inputs)}\n`);
    // Two cold builders at once (vitest runs two files in parallel): the first rename wins, the other's root is dropped.
    if (!existsSync(ready)) await rename(building, dir).catch((error: unknown) => {
      if (!existsSync(ready)) throw error;
    });
  } catch (error) {
    const output = (error as { all?: string }).all;
    throw new Error(`building the host root in ${building} failed: ${output ? output.split('\n').slice(-15).join('\n') : String(error)}`, { cause: error });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return { dir, built: true, buildMs: performance.now() - started };
}

if (runsAsScript(import.meta.url)) {
  const root = await ensureHostRoot();
  console.log(JSON.stringify({ dir: root.dir, built: root.built, buildSeconds: Math.round(root.buildMs / 100) / 10 }));
}
