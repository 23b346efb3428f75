import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hashEvidence } from './evidence-files.ts';
import { tempDir } from './sample-run.ts';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A fresh run folder holding these files (path from the run folder to its text). */
async function runWith(files: Record<string, string>): Promise<string> {
  const runDir = await tempDir('evidence');
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(runDir, file)), { recursive: true });
    await writeFile(path.join(runDir, file), text);
  }
  return runDir;
}

/** The paths hashEvidence lists for a run holding `names`, in its order. */
async function listedPaths(names: readonly string[]): Promise<string[]> {
  const runDir = await runWith(Object.fromEntries(names.map((name) => [name, name])));
  return (await hashEvidence(path.join(runDir, 'evidence'), runDir)).map((file) => file.path);
}

describe('hashing a run\'s evidence', () => {
  it('lists every file under the folder, nested ones included, relative to the run, with digest and size, sorted by path', async () => {
    const files = { 'evidence/b-line/output.txt': 'b\n', 'evidence/a-line/nested/podman-ps.txt': 'CONTAINER ID\n', 'evidence/a-line/output.txt': 'a line\n' };
    const runDir = await runWith(files);
    expect(await hashEvidence(path.join(runDir, 'evidence'), runDir)).toEqual(
      ['evidence/a-line/nested/podman-ps.txt', 'evidence/a-line/output.txt', 'evidence/b-line/output.txt'].map((file) => ({ path: file, sha256: sha256(files[file as keyof typeof files]), bytes: Buffer.byteLength(files[file as keyof typeof files]) })),
    );
  });

  it('sorts by path, not in the order a walk of the folders meets the files', async () => {
    // Node lists a folder's entries in byte order (uppercase first) and a walk finishes one folder
    // before the next ("a/" before "a-line/"); the list is sorted by path as a whole, as text.
    const names = ['evidence/a/output.txt', 'evidence/a-line/output.txt', 'evidence/b-line/Podman-ps.txt', 'evidence/b-line/output.txt', 'evidence/B-line/output.txt'];
    expect(await listedPaths(names)).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('lists hidden files and the files of hidden folders too: nothing under evidence/ escapes the digests', async () => {
    // A hidden file is still evidence someone can change; skipping it would let `gate verify` call a
    // bundle intact with a dotfile added or altered.
    const names = ['evidence/.hidden.txt', 'evidence/line/.env', 'evidence/line/.cache/trace.json', 'evidence/line/output.txt'];
    expect(await listedPaths(names)).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('has no files when the run wrote no evidence folder (a suite that crashed first), rather than failing the verdict', async () => {
    const runDir = await tempDir('evidence');
    expect(await hashEvidence(path.join(runDir, 'evidence'), runDir)).toEqual([]);
  });

  it('fails, rather than reporting no evidence, when the evidence path cannot be read as a folder', async () => {
    const runDir = await runWith({ evidence: 'a file where the folder should be' });
    await expect(hashEvidence(path.join(runDir, 'evidence'), runDir)).rejects.toThrow(/ENOTDIR/);
  });

  it('hashes regular files only: a socket a test left under evidence/ is not read as evidence', async () => {
    const runDir = await runWith({ 'evidence/line/output.txt': 'out' });
    const socket = createServer();
    await new Promise<void>((resolve) => socket.listen(path.join(runDir, 'evidence', 'line', 'agent.sock'), resolve));
    onTestFinished(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    expect((await hashEvidence(path.join(runDir, 'evidence'), runDir)).map((file) => file.path)).toEqual(['evidence/line/output.txt']);
  });
});
