import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import path from 'node:path';

/** The checkout this code runs from; scripts, images and reports are found relative to it. */
export const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

export const fromRoot = (...parts: string[]): string => path.join(repoRoot, ...parts);

/**
 * Whether the module at `moduleUrl` (its import.meta.url) is the script node was started with, so a
 * file can be both imported by its tests and run (`node gate-runner/allure-generate.ts ...`).
 * Compared by real path: the Nix package runs scripts through a symlinked store path.
 */
export function runsAsScript(moduleUrl: string): boolean {
  const started = process.argv[1];
  if (!started) return false;
  try {
    return realpathSync(path.resolve(started)) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
