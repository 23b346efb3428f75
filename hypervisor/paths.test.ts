import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot, repoRoot, runsAsScript } from './paths.ts';
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

describe('whether a module runs as the script node was started with', () => {
  it('is true for the started file, also through a symlink, and false for a module it imports', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runs-as-script-'));
    try {
      const script = path.join(dir, 'script.mjs');
      writeFileSync(script, `import { runsAsScript } from ${JSON.stringify(pathToFileURL(fromRoot('hypervisor', 'paths.ts')).href)};\nconsole.log(runsAsScript(import.meta.url), runsAsScript(${JSON.stringify(pathToFileURL(fromRoot('hypervisor', 'paths.ts')).href)}));\n`);
      symlinkSync(script, path.join(dir, 'linked.mjs'));
      for (const started of ['script.mjs', 'linked.mjs']) expect((await execa(process.execPath, [path.join(dir, started)])).stdout, started).toBe('true false');
      expect(runsAsScript(import.meta.url)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
