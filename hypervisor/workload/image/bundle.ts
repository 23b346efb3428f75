import { build } from 'esbuild';
import { fromRoot } from '../../paths.ts';

/**
 * Bundles the sandbox (main.ts and its dependencies: ws, pino) into one ES module for the image,
 * returned as bytes so the image can be fingerprinted before anything is built. CommonJS
 * dependencies call require() for Node built-ins, so the bundle gets a real require.
 */
export async function bundleSandbox(): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [fromRoot('hypervisor', 'workload', 'main.ts')],
    write: false,
    outfile: 'sandbox.mjs',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Unminified: stack traces stay readable, and a few hundred KB are nothing next to Node itself.
    minify: false,
    legalComments: 'none',
    logLevel: 'error',
    // ws loads these optional native speed-ups inside try/catch; without them it uses plain JS.
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no bundle for hypervisor/workload/main.ts');
  return output.contents;
}
