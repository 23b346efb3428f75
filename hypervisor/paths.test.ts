import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRoot, repoRoot } from './paths.ts';
import { packageVersion } from './version.ts';

describe('the checkout this code runs from', () => {
  it('is the directory above hypervisor/, holding package.json', () => {
    expect(path.isAbsolute(repoRoot)).toBe(true);
    expect(existsSync(path.join(repoRoot, 'package.json'))).toBe(true);
    expect(existsSync(path.join(repoRoot, 'hypervisor', 'paths.ts'))).toBe(true);
  });

  it('finds files relative to it', () => {
    expect(fromRoot('hypervisor', 'main.ts')).toBe(path.join(repoRoot, 'hypervisor', 'main.ts'));
    expect(fromRoot()).toBe(repoRoot);
  });

  it("has the version package.json names", () => {
    const { version } = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string };
    expect(packageVersion).toBe(version);
    expect(packageVersion).toMatch(/^\d+\.\d+\.\d+/);
  });
});
