import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A registry tarball copied to this machine, with the sha512 integrity it was checked against. */
export interface PackedTarball {
  spec: string;
  /** Its file name in the destination folder (npm pack's: `@scope/name` becomes `scope-name-<version>.tgz`). */
  file: string;
  /** `sha512-<base64>`, the form package-lock.json and Nix's fetchurl `hash` both take. */
  integrity: string;
}

export class TarballFetchError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'TarballFetchError';
  }
}

/** The sha512 part of an SRI integrity string (a lock may list several algorithms). */
export function sha512Of(integrity: string): string | undefined {
  return integrity.split(/\s+/).find((hash) => hash.startsWith('sha512-'));
}

export function fileIntegrity(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/**
 * Copies the registry tarballs of `specs` (`name@version`) into `destination` with npm's own
 * fetcher: from the npm cache when it holds them, else from the registry, each checked by npm
 * against the registry's integrity. `expected` (spec -> integrity from the lock) is checked again
 * here on the file itself, so a tarball that is not the one the lock pins never reaches the set.
 */
export async function packTarballs(specs: readonly string[], destination: string, expected: ReadonlyMap<string, string> = new Map()): Promise<PackedTarball[]> {
  const unique = [...new Set(specs)];
  const run = await execa('npm', ['pack', ...unique, '--json', '--prefer-offline', '--ignore-scripts', '--pack-destination', destination], { reject: false });
  if (run.exitCode !== 0) {
    const tail = String(run.stderr).trim().split('\n').slice(-6).join('\n');
    throw new TarballFetchError(`npm pack could not copy the locked npm tarballs (exit ${String(run.exitCode)}): neither the npm cache (~/.npm/_cacache) nor the registry (npm config get registry) gave them. Run it once where the npm registry is reachable.\n${tail}`);
  }
  const packed = JSON.parse(String(run.stdout)) as { id: string; filename: string; integrity: string }[];
  return unique.map((spec) => {
    const result = packed.find((p) => p.id === spec);
    if (!result) throw new TarballFetchError(`npm pack printed no tarball for ${spec}`);
    const integrity = fileIntegrity(path.join(destination, result.filename));
    const want = expected.get(spec);
    if (want && sha512Of(want) !== integrity) {
      throw new TarballFetchError(`the registry tarball of ${spec} (${integrity}) is not the one package-lock.json pins (${want}): the lock or the npm cache is wrong; run npm cache verify, then npm install to refresh the lock.`);
    }
    return { spec, file: result.filename, integrity };
  });
}
