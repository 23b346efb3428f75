import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { hostRootCache } from '../../host/root.ts';
import { nixErrorMessage, nixosDir, ModuleEvalError, type ModuleSettings } from './module-eval.ts';
import { explainLibFailure, nixpkgsLibExpression, offlineNixConfig } from './nixpkgs-lib.ts';

/** The store path the local host runs (package + rendered unit + sysusers), and how it was built. */
export interface HostClosure {
  outPath: string;
  /** The command line that built it, and what nix printed (evidence of the build). */
  command: string;
  log: string;
  /** Every store path in its closure (nix-store -qR). */
  paths: string[];
}

const busyboxSource = '/bin/busybox';

/**
 * Debian's static busybox in a directory of its own with `sh` beside it, the builder of the
 * closure derivation (busybox picks its applet from the name it was called by). Cached by the
 * binary's hash.
 */
async function busyboxDir(): Promise<string> {
  if (!existsSync(busyboxSource)) throw new Error(`${busyboxSource} is missing: install it with "apt-get install -y busybox-static" (bash scripts/setup.sh does it)`);
  const hash = createHash('sha256').update(await readFile(busyboxSource)).digest('hex').slice(0, 16);
  const dir = path.join(hostRootCache, `busybox-static-${hash}`);
  if (existsSync(path.join(dir, 'bin', 'sh'))) return dir;
  const building = `${dir}.building-${process.pid}`;
  await mkdir(path.join(building, 'bin'), { recursive: true });
  await copyFile(busyboxSource, path.join(building, 'bin', 'busybox'));
  await symlink('busybox', path.join(building, 'bin', 'sh'));
  await rename(building, dir).catch(async () => rm(building, { recursive: true, force: true }));
  return dir;
}

/**
 * Builds, with the real nix CLI, what the local host runs for `settings` and the hypervisor
 * `packagePath` (a store path with bin/choiros-hypervisor): the unit and sysusers files are rendered
 * from the evaluated module (hypervisor/nixos/local/host-closure.nix). A failed assertion or a bad
 * value is a ModuleEvalError carrying the module's message.
 */
export async function buildHostClosure(packagePath: string, settings: ModuleSettings): Promise<HostClosure> {
  const lib = nixpkgsLibExpression();
  const busybox = await busyboxDir();
  const expression = `{ settingsJSON }: import ${JSON.stringify(path.join(nixosDir, 'local', 'host-closure.nix'))} {
    lib = ${lib.expression};
    package = builtins.storePath ${JSON.stringify(packagePath)};
    busybox = builtins.path { path = ${JSON.stringify(busybox)}; name = "busybox-static"; };
    inherit settingsJSON;
  }`;
  const args = ['--no-out-link', '--expr', expression, '--argstr', 'settingsJSON', JSON.stringify(settings)];
  const result = await execa('nix-build', args, { reject: false, all: true, env: { NIX_CONFIG: offlineNixConfig } });
  if (result.exitCode !== 0) throw new ModuleEvalError(explainLibFailure(nixErrorMessage(result.stderr), lib));
  const outPath = result.stdout.trim().split('\n').pop() ?? '';
  const paths = (await execa('nix-store', ['-qR', outPath])).stdout.split('\n').filter(Boolean);
  return { outPath, command: `nix-build --no-out-link hypervisor/nixos/local/host-closure.nix (package ${packagePath}, settings ${JSON.stringify(settings)})`, log: result.all ?? '', paths };
}
