import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { currentCommit, describeCommit } from './commit.ts';
import { tempDir } from './sample-run.ts';

async function repoWithOneCommit(): Promise<{ dir: string; sha: string }> {
  const dir = await tempDir('commit');
  const git = (...args: string[]) => execa('git', ['-c', 'user.name=gate', '-c', 'user.email=gate@example.invalid', ...args], { cwd: dir });
  await git('init', '-q');
  await writeFile(path.join(dir, 'tracked.txt'), 'one\n');
  await git('add', 'tracked.txt');
  await git('commit', '-q', '-m', 'one');
  return { dir, sha: String((await git('rev-parse', 'HEAD')).stdout).trim() };
}

describe('the commit a verdict records', () => {
  it('is HEAD, clean; an untracked file does not make it dirty, a changed tracked file does', async () => {
    const { dir, sha } = await repoWithOneCommit();
    expect(await currentCommit(dir)).toEqual({ sha, dirty: false });
    await writeFile(path.join(dir, 'untracked.txt'), 'scratch\n');
    expect(await currentCommit(dir)).toEqual({ sha, dirty: false });
    await writeFile(path.join(dir, 'tracked.txt'), 'two\n');
    expect(await currentCommit(dir)).toEqual({ sha, dirty: true });
    expect(describeCommit({ sha, dirty: true })).toBe(`${sha} (with uncommitted changes)`);
    expect(describeCommit({ sha, dirty: false })).toBe(sha);
  });

  it('is "unknown" outside a git checkout, rather than failing the run', async () => {
    expect(await currentCommit(await tempDir('commit'))).toEqual({ sha: 'unknown', dirty: false });
  });
});
