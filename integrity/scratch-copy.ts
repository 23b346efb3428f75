import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { SourceEdit } from './seeded-defect.ts';

/**
 * A throwaway copy of the checkout (tracked and new files, no reports, node_modules linked) where
 * seeded defects are applied one at a time and reverted, so the checkout itself is never edited.
 */
export class ScratchCopy {
  /** Holds the copy (repo/). */
  readonly root: string;
  readonly repo: string;

  private constructor(root: string) {
    this.root = root;
    this.repo = path.join(root, 'repo');
  }

  static async of(checkout: string): Promise<ScratchCopy> {
    const copy = new ScratchCopy(await mkdtemp(path.join(tmpdir(), 'choiros-integrity-')));
    try {
      // Readable like the checkout: a root hypervisor runs process-mode sandboxes from it as an unprivileged user.
      await chmod(copy.root, 0o755);
      const listed = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: checkout });
      const files = String(listed.stdout).split('\0').filter((file) => file && !file.startsWith('reports/') && existsSync(path.join(checkout, file)));
      for (const file of files) {
        await mkdir(path.dirname(path.join(copy.repo, file)), { recursive: true });
        await copyFile(path.join(checkout, file), path.join(copy.repo, file));
      }
      // A git repository of its own: the flakes are built as git+file:// (nix/build.ts), which needs
      // one. Nix reads a dirty tree's tracked files as they are on disk, so a seeded edit is built.
      const git = (...args: string[]) => execa('git', ['-c', 'user.name=integrity', '-c', 'user.email=integrity@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd: copy.repo });
      await git('init', '--quiet');
      await git('add', '--all');
      await git('commit', '--quiet', '--no-verify', '-m', 'scratch copy of the checkout');
      await symlink(path.join(checkout, 'node_modules'), path.join(copy.repo, 'node_modules'), 'dir');
      return copy;
    } catch (error) {
      await copy.remove();
      throw error;
    }
  }

  /** Applies the edits; resolves to a function that puts every touched file back as it was. */
  async apply(edits: readonly SourceEdit[]): Promise<() => Promise<void>> {
    const originals = new Map<string, string>();
    const revert = async (): Promise<void> => {
      for (const [file, text] of originals) await writeFile(file, text);
    };
    try {
      for (const edit of edits) {
        const file = path.join(this.repo, edit.file);
        const text = await readFile(file, 'utf8');
        if (!originals.has(file)) originals.set(file, text);
        const at = text.indexOf(edit.find);
        if (at < 0 || text.indexOf(edit.find, at + 1) >= 0) throw new Error(`${edit.file}: the text to replace is not there exactly once`);
        await writeFile(file, text.slice(0, at) + edit.replace + text.slice(at + edit.find.length));
      }
    } catch (error) {
      await revert();
      throw error;
    }
    return revert;
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
