import { lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDataDir } from './data-dir.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'choiros-datadir-'));
  dirs.push(dir);
  return dir;
}

describe('sandbox data directory hand-over', () => {
  it('hands the tree to the sandbox user without following symlinks out of it', async () => {
    expect(process.getuid?.(), 'chown needs root, as on the project hosts').toBe(0);
    const root = tempDir();
    const outside = path.join(root, 'host-file');
    writeFileSync(outside, 'host');
    const outsideDir = path.join(root, 'host-dir');
    mkdirSync(outsideDir);
    const data = path.join(root, 'data');
    mkdirSync(path.join(data, 'nested'), { recursive: true });
    writeFileSync(path.join(data, 'nested', 'own'), 'sandbox');
    symlinkSync(outside, path.join(data, 'link-to-file'));
    symlinkSync(outsideDir, path.join(data, 'nested', 'link-to-dir'));
    await ensureDataDir(data, { uid: 1000, gid: 1000 });
    expect([statSync(outside).uid, statSync(outsideDir).uid]).toEqual([0, 0]);
    expect([data, path.join(data, 'nested', 'own'), path.join(data, 'link-to-file'), path.join(data, 'nested', 'link-to-dir')].map((file) => lstatSync(file).uid)).toEqual([1000, 1000, 1000, 1000]);
  });

  it('refuses a data directory that is a symlink, naming it', async () => {
    const root = tempDir();
    const target = path.join(root, 'elsewhere');
    mkdirSync(target);
    const data = path.join(root, 'data');
    symlinkSync(target, data);
    await expect(ensureDataDir(data, { uid: 1000, gid: 1000 })).rejects.toThrow(`the sandbox data directory ${data} is not a directory`);
    expect(statSync(target).uid).toBe(0);
  });

  it("hands the tree over when only its group is not the sandbox user's", async () => {
    expect(process.getuid?.(), 'chown needs root, as on the project hosts').toBe(0);
    const data = path.join(tempDir(), 'data');
    mkdirSync(data);
    await ensureDataDir(data, { uid: 0, gid: 1000 });
    expect(statSync(data).gid).toBe(1000);
  });
});
