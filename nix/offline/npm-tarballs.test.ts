import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromRoot } from '../../hypervisor/paths.ts';
import { lockPackages, type PackageLock } from './lock-closure.ts';
import { fileIntegrity, packTarballs, TarballFetchError } from './npm-tarballs.ts';

// Real npm pack: from the npm cache when it holds the tarball, else from the registry.
describe('the locked tarballs the offline set copies with npm pack', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const newDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'npm-tarballs-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const lock = lockPackages(JSON.parse(readFileSync(fromRoot('package-lock.json'), 'utf8')) as PackageLock);
  const ws = lock['node_modules/ws'];

  it("are the registry's bytes the lock pins: the file's sha512 is the lock's integrity", async () => {
    const dir = newDir();
    const spec = `ws@${ws?.version ?? ''}`;
    const [packed] = await packTarballs([spec], dir, new Map([[spec, ws?.integrity ?? '']]));
    expect(packed?.integrity).toBe(ws?.integrity);
    expect(fileIntegrity(path.join(dir, packed?.file ?? ''))).toBe(ws?.integrity);
  });

  it('are refused when the tarball is not the one the lock pins, naming the package and both hashes', async () => {
    const spec = `ws@${ws?.version ?? ''}`;
    const pinned = lock['node_modules/undici']?.integrity ?? '';
    const attempt = packTarballs([spec], newDir(), new Map([[spec, pinned]]));
    await expect(attempt).rejects.toThrow(TarballFetchError);
    await expect(attempt).rejects.toThrow(`the registry tarball of ${spec} (${ws?.integrity ?? ''}) is not the one package-lock.json pins (${pinned})`);
  });

  it('say what to do when neither the npm cache nor the registry has the package', async () => {
    await expect(packTarballs(['ws@0.0.0-never-published'], newDir())).rejects.toThrow(/npm pack could not copy the locked npm tarballs \(exit \d+\): neither the npm cache .* nor the registry .* gave them/);
  });
});
