import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { buildFlakeOutput, type FlakeBuild } from '../../nix/build.ts';
import { repoRoot } from '../paths.ts';

/** The hypervisor package (bin/choiros-hypervisor) built from this checkout's hypervisor flake. */
export function hypervisorPackage(): Promise<FlakeBuild> {
  return buildFlakeOutput('hypervisor');
}

/**
 * A new hypervisor version for a deploy of generation N+1: this checkout's committed tree in a
 * scratch clone, package.json's version set to `version`, built by the same flake. Its /health says
 * the new version; nothing else differs.
 */
export async function hypervisorPackageVersion(version: string): Promise<FlakeBuild> {
  const checkout = await mkdtemp(path.join(tmpdir(), 'choiros-next-version-'));
  try {
    await execa('git', ['clone', '--quiet', '--shared', repoRoot, checkout]);
    const manifest = path.join(checkout, 'package.json');
    const parsed = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
    await writeFile(manifest, `${JSON.stringify({ ...parsed, version }, null, 2)}\n`);
    return await buildFlakeOutput('hypervisor', { checkout });
  } finally {
    await rm(checkout, { recursive: true, force: true });
  }
}
