import { build, type Plugin } from 'esbuild';
import path from 'node:path';
import { fromRoot } from '../../hypervisor/paths.ts';

/**
 * The npm packages the hypervisor and the sandbox load at run time, as folders under node_modules
 * (nested ones included), found by resolving every import from their entry points with esbuild.
 * The offline package set has npm install these, with the lock entries they need (lock-closure.ts);
 * the real nixpkgs set installs package-lock.json whole.
 */
export async function runtimePackageDirs(): Promise<string[]> {
  const result = await build({
    entryPoints: [fromRoot('hypervisor', 'main.ts'), fromRoot('hypervisor', 'workload', 'main.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    outdir: 'unused',
    logLevel: 'error',
    external: ['bufferutil', 'utf-8-validate'],
    plugins: [outsideThePackage],
    // Paths as this checkout sees them: where node_modules is a link (the integrity run's scratch
    // copy links the checkout's), the real paths would lie outside it and no package would be found.
    absWorkingDir: fromRoot(),
    preserveSymlinks: true,
  });
  const dirs = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const dir = packageDirOf(input);
    if (dir) dirs.add(dir);
  }
  // Resolved at run time with require.resolve (hypervisor/auth/pages.ts serves its browser bundle).
  dirs.add('node_modules/@simplewebauthn/browser');
  return [...dirs].sort();
}

/**
 * The Nix package leaves the sandbox image builder out of its source (nix/packages.nix, `excluded`):
 * the hypervisor imports it lazily, only to stage a podman image from a checkout. What only that
 * lazy import reaches (esbuild, a native binary of 10 MB) is never loaded from the store, so it is no
 * runtime package. A static import of it would crash the packaged program: that is refused here.
 */
const imageBuilder = /(^|\/)hypervisor\/workload\/image\//;
const outsideThePackage: Plugin = {
  name: 'outside-the-nix-package',
  setup(bundler) {
    bundler.onResolve({ filter: /(^|\/)image\// }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path);
      if (!imageBuilder.test(path.relative(fromRoot(), resolved).split(path.sep).join('/'))) return undefined;
      if (args.kind !== 'dynamic-import') {
        return { errors: [{ text: `${args.importer} imports ${args.path} statically, but the Nix package leaves hypervisor/workload/image/ out (nix/packages.nix): import it lazily, as hypervisor/sandboxes/staged-runtime.ts does` }] };
      }
      return { path: args.path, external: true };
    });
  },
};

/** `node_modules/a/node_modules/@s/b/lib/x.js` -> `node_modules/a/node_modules/@s/b`. */
export function packageDirOf(input: string): string | undefined {
  const parts = path.normalize(input).split(path.sep);
  const last = parts.lastIndexOf('node_modules');
  if (last === -1) return undefined;
  const name = parts[last + 1]?.startsWith('@') ? parts.slice(last + 1, last + 3) : parts.slice(last + 1, last + 2);
  return [...parts.slice(0, last + 1), ...name].join('/');
}
