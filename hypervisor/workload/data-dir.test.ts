import { mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { checkDataDirs, DataDirError } from './data-dir.ts';
import { parseSettings } from './settings.ts';
import { removeDataDir, tempDataDir } from './testing/sandbox-process.ts';

let root: string;
/** A plain file: no directory can be made under it, whoever runs the test (root included). */
let blocker: string;

beforeEach(() => {
  root = tempDataDir();
  blocker = path.join(root, 'a-file');
  writeFileSync(blocker, '');
});

afterEach(() => removeDataDir(root));

function refusal(env: Record<string, string>): DataDirError | undefined {
  try {
    checkDataDirs(parseSettings(env));
  } catch (error) {
    if (error instanceof DataDirError) return error;
    throw error;
  }
  return undefined;
}

describe('the sandbox data directories', () => {
  test('a writable data directory, created when missing, and the database beside it are taken', () => {
    const dataDir = path.join(root, 'new', 'data');
    expect(refusal({ CHOIROS_DATA_DIR: dataDir })).toBeUndefined();
    expect(refusal({ CHOIROS_DATA_DIR: dataDir, DATABASE_URL: 'sqlite::memory:' })).toBeUndefined();
  });

  test('an unusable CHOIROS_DATA_DIR is refused naming the variable, the directory and the fix', () => {
    const dataDir = path.join(blocker, 'data');
    const error = refusal({ CHOIROS_DATA_DIR: dataDir });
    expect(error?.message).toContain(`CHOIROS_DATA_DIR directory ${dataDir} is not writable`);
    expect(error?.message).toMatch(/:U/);
  });

  test("an unusable DATABASE_URL directory is refused naming DATABASE_URL, also in sqlite:// form", () => {
    const dataDir = path.join(root, 'data');
    mkdirSync(dataDir);
    for (const url of [`sqlite:${blocker}/db/sandbox.db`, `sqlite://${blocker}/db/sandbox.db`]) {
      expect(refusal({ CHOIROS_DATA_DIR: dataDir, DATABASE_URL: url })?.message, url).toContain(`DATABASE_URL directory ${path.join(blocker, 'db')} is not writable`);
    }
  });

  test('a data directory that exists and can be read but not written is refused, not only one that cannot be made', async () => {
    // Root may write to any directory by its mode, so the directory is made immutable: even root's
    // write access to it is then refused (EPERM), while reading it still works, as for uid 1000 on a
    // root-owned 0755 mount.
    const dataDir = path.join(root, 'read-only');
    mkdirSync(dataDir);
    await execa('chattr', ['+i', dataDir]);
    try {
      const error = refusal({ CHOIROS_DATA_DIR: dataDir, DATABASE_URL: 'sqlite::memory:' });
      expect(error?.message).toContain(`CHOIROS_DATA_DIR directory ${dataDir} is not writable`);
    } finally {
      await execa('chattr', ['-i', dataDir]);
    }
  });

  test('an in-memory database (sqlite::memory:) needs no directory, even where the working directory is not writable', async () => {
    const dataDir = path.join(root, 'data');
    const unwritable = path.join(root, 'cwd');
    mkdirSync(unwritable);
    const cwd = process.cwd();
    await execa('chattr', ['+i', unwritable]);
    process.chdir(unwritable);
    try {
      expect(refusal({ CHOIROS_DATA_DIR: dataDir, DATABASE_URL: 'sqlite::memory:' })).toBeUndefined();
    } finally {
      process.chdir(cwd);
      await execa('chattr', ['-i', unwritable]);
    }
  });
});
