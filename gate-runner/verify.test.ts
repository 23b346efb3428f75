import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { repoRoot } from '../hypervisor/paths.ts';
import { phaseById } from '../suites/phases.ts';
import { gateMainScript } from './gate-main.ts';
import { evidenceDirName, evidenceFolder } from './evidence-layout.ts';
import { sampleRun, tempDir } from './sample-run.ts';
import { writeVerdict } from './verdict.ts';
import { verifyBundle, verifyCommand } from './verify.ts';

const phase = phaseById('phase1');
const firstLine = phase.checklist[0]?.text ?? '';

/** A real run folder: evidence files for every line and the verdict hashing them. */
async function bundle(): Promise<{ runDir: string; verdictFile: string; evidenceFile: string }> {
  const runDir = await tempDir('verify');
  const verdictFile = await writeVerdict(runDir, await sampleRun(phase, runDir));
  return { runDir, verdictFile, evidenceFile: path.join(runDir, evidenceDirName, evidenceFolder(firstLine), 'output.txt') };
}

/** `npm run gate -- verify ARGS` as a person runs it. */
async function verify(args: readonly string[]) {
  const result = await execa(process.execPath, [gateMainScript, 'verify', ...args], { cwd: repoRoot, reject: false, all: true });
  return { exitCode: result.exitCode, output: String(result.all) };
}

describe('npm run gate -- verify', () => {
  it('accepts an untouched bundle, by run folder or by verdict.json', async () => {
    const { runDir, verdictFile } = await bundle();
    expect((await verifyBundle(runDir)).problems).toEqual([]);
    const run = await verify([verdictFile]);
    expect(run.exitCode).toBe(0);
    expect(run.output).toContain(`intact (${phase.checklist.length} evidence files`);
  });

  it('rejects a bundle with one byte of one evidence file changed, naming the file', async () => {
    const { runDir, evidenceFile } = await bundle();
    const bytes = await readFile(evidenceFile);
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    await writeFile(evidenceFile, bytes);
    const check = await verifyBundle(runDir);
    expect(check.problems).toEqual([{ kind: 'changed', path: path.relative(runDir, evidenceFile), detail: expect.stringMatching(/^sha256 [0-9a-f]{64} \(\d+ bytes\), the verdict says [0-9a-f]{64}/) }]);
    const run = await verify([runDir]);
    expect(run.exitCode).toBe(1);
    expect(run.output).toContain('NOT intact, 1 problem(s)');
    expect(run.output).toMatch(/changed +evidence\/.*\/output\.txt/);
  });

  it('rejects a bundle whose file has the listed sha256 but not the listed size', async () => {
    const { runDir, verdictFile, evidenceFile } = await bundle();
    const listedPath = path.relative(runDir, evidenceFile);
    const verdict = JSON.parse(await readFile(verdictFile, 'utf8')) as { evidence: { path: string; bytes: number }[] };
    const listed = verdict.evidence.find((file) => file.path === listedPath);
    if (!listed) throw new Error(`${listedPath} is not in the sample verdict`);
    listed.bytes += 1;
    await writeFile(verdictFile, JSON.stringify(verdict));
    expect((await verifyBundle(runDir)).problems).toEqual([{ kind: 'changed', path: listedPath, detail: expect.stringMatching(/^sha256 [0-9a-f]{64} \(\d+ bytes\), the verdict says/) }]);
  });

  it('rejects a bundle with a listed file missing', async () => {
    const { runDir, evidenceFile } = await bundle();
    await rm(evidenceFile);
    expect((await verifyBundle(runDir)).problems).toEqual([{ kind: 'missing', path: path.relative(runDir, evidenceFile), detail: 'listed in the verdict, not in the bundle' }]);
    expect((await verify([runDir])).exitCode).toBe(1);
  });

  it('rejects a bundle with an extra file the verdict does not list', async () => {
    const { runDir } = await bundle();
    await writeFile(path.join(runDir, evidenceDirName, evidenceFolder(firstLine), 'added-later.txt'), 'not part of the run\n');
    expect((await verifyBundle(runDir)).problems).toEqual([{ kind: 'unlisted', path: `${evidenceDirName}/${evidenceFolder(firstLine)}/added-later.txt`, detail: `in ${evidenceDirName}/ but not in the verdict` }]);
    expect((await verify([runDir])).exitCode).toBe(1);
  });

  it('rejects a bundle with an unlisted hidden file or folder: nothing under evidence/ escapes the check', async () => {
    const { runDir } = await bundle();
    await mkdir(path.join(runDir, evidenceDirName, '.cache'), { recursive: true });
    await writeFile(path.join(runDir, evidenceDirName, '.cache', 'notes.txt'), 'added later\n');
    await writeFile(path.join(runDir, evidenceDirName, evidenceFolder(firstLine), '.added-later'), 'added later\n');
    expect((await verifyBundle(runDir)).problems.map((p) => p.path).sort()).toEqual([`${evidenceDirName}/.cache/notes.txt`, `${evidenceDirName}/${evidenceFolder(firstLine)}/.added-later`].sort());
  });

  it('rejects a listed file replaced by a symbolic link, even to an identical copy outside the bundle', async () => {
    const { runDir, evidenceFile } = await bundle();
    const copy = path.join(await tempDir('verify-outside'), 'output.txt');
    await writeFile(copy, await readFile(evidenceFile));
    await rm(evidenceFile);
    await symlink(copy, evidenceFile);
    expect((await verifyBundle(runDir)).problems).toEqual([{ kind: 'not-a-file', path: path.relative(runDir, evidenceFile), detail: 'listed as a file, but the bundle holds a symbolic link there' }]);
    const run = await verify([runDir]);
    expect(run.exitCode).toBe(1);
    expect(run.output).toContain('not-a-file');
  });

  it('rejects listed files reached through a linked folder: the evidence folder itself a link to a copy elsewhere', async () => {
    const { runDir } = await bundle();
    const elsewhere = path.join(await tempDir('verify-outside'), evidenceDirName);
    await cp(path.join(runDir, evidenceDirName), elsewhere, { recursive: true });
    await rm(path.join(runDir, evidenceDirName), { recursive: true });
    await symlink(elsewhere, path.join(runDir, evidenceDirName));
    const { problems } = await verifyBundle(runDir);
    expect(problems).toHaveLength(phase.checklist.length);
    expect(new Set(problems.map((problem) => `${problem.kind}: ${problem.detail}`))).toEqual(new Set(['not-a-file: reached through a symbolic link: the bundle does not hold it itself']));
  });

  it('rejects an unlisted symbolic link or FIFO under evidence/, naming what it is, without reading it', async () => {
    const { runDir } = await bundle();
    const folder = path.join(runDir, evidenceDirName, evidenceFolder(firstLine));
    await symlink('/etc/hostname', path.join(folder, 'host.txt'));
    await execa('mkfifo', [path.join(folder, 'pipe')]);
    const relative = (name: string) => `${evidenceDirName}/${evidenceFolder(firstLine)}/${name}`;
    expect((await verifyBundle(runDir)).problems).toEqual([
      { kind: 'not-a-file', path: relative('host.txt'), detail: `a symbolic link in ${evidenceDirName}/, not in the verdict: a bundle holds regular files only` },
      { kind: 'not-a-file', path: relative('pipe'), detail: `a FIFO in ${evidenceDirName}/, not in the verdict: a bundle holds regular files only` },
    ]);
  });

  it('rejects a listed file replaced by a FIFO at once, without waiting on it', async () => {
    const { runDir, evidenceFile } = await bundle();
    await rm(evidenceFile);
    await execa('mkfifo', [evidenceFile]);
    expect((await verifyBundle(runDir)).problems).toEqual([{ kind: 'not-a-file', path: path.relative(runDir, evidenceFile), detail: 'listed as a file, but the bundle holds a FIFO there' }]);
  });

  it("rejects a verdict whose line cites evidence the run's list does not vouch for", async () => {
    const { runDir, verdictFile } = await bundle();
    const verdict = JSON.parse(await readFile(verdictFile, 'utf8')) as { lines: { evidence: { sha256: string }[] }[] };
    const cited = verdict.lines[0]?.evidence[0];
    if (cited) cited.sha256 = '0'.repeat(64);
    await writeFile(verdictFile, JSON.stringify(verdict));
    expect((await verifyBundle(runDir)).problems.map((p) => p.kind)).toEqual(['line-not-in-run-list']);
  });

  // Beside the folder, not in it: names that merely begin with the folder's name, or the folder itself.
  it.each([['notes.txt'], [`${evidenceDirName}.json`], [`${evidenceDirName}-old/log.txt`], [`${evidenceDirName}2/x.txt`], [evidenceDirName]])(
    'rejects a verdict that lists %s, outside evidence/, even with a matching digest',
    async (listed) => {
      const { runDir, verdictFile } = await bundle();
      const outside = path.join(runDir, listed);
      if (listed !== evidenceDirName) {
        await mkdir(path.dirname(outside), { recursive: true });
        await writeFile(outside, 'not evidence\n');
      }
      const verdict = JSON.parse(await readFile(verdictFile, 'utf8')) as { evidence: { path: string; sha256: string; bytes: number }[] };
      verdict.evidence.push({ path: listed, sha256: createHash('sha256').update('not evidence\n').digest('hex'), bytes: 13 });
      await writeFile(verdictFile, JSON.stringify(verdict));
      const { problems } = await verifyBundle(runDir);
      expect(problems).toContainEqual({ kind: 'unlisted', path: listed, detail: `the verdict lists a path outside ${evidenceDirName}/` });
      expect(problems.filter((problem) => problem.kind !== 'unlisted' || problem.path !== listed), 'nothing else wrong with the bundle').toEqual([]);
    },
  );

  it('answers 2, not 0 or 1, for more than one input or a verdict whose evidence is not a list of {path, sha256, bytes}', async () => {
    const said: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void said.push(String(line)));
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void said.push(String(line)));
    onTestFinished(() => {
      vi.restoreAllMocks();
    });
    const { runDir, verdictFile } = await bundle();
    expect(await verifyCommand([runDir, verdictFile])).toBe(2);
    expect(said.join('\n')).toContain('give exactly one run folder or verdict.json');

    const verdict = JSON.parse(await readFile(verdictFile, 'utf8')) as { evidence: unknown[] };
    verdict.evidence.push({ path: `${evidenceDirName}/x.txt`, sha256: 'f'.repeat(64) });
    await writeFile(verdictFile, JSON.stringify(verdict));
    await expect(verifyBundle(runDir)).rejects.toThrow('"evidence" must be a list of {path, sha256, bytes}');
    expect(await verifyCommand([runDir])).toBe(2);
  });

  it('explains input that is not a bundle, with exit code 2', async () => {
    const dir = await tempDir('verify');
    expect(await verify([path.join(dir, 'nowhere')])).toMatchObject({ exitCode: 2, output: expect.stringContaining('does not exist: give a gate run folder') });
    await writeFile(path.join(dir, 'verdict.json'), '{"schema":"something-else"}');
    expect(await verify([dir])).toMatchObject({ exitCode: 2, output: expect.stringContaining('not a verdict this gate runner can check') });
    expect(await verify([])).toMatchObject({ exitCode: 2, output: expect.stringContaining('give exactly one run folder or verdict.json') });
  });

  it('refuses, with exit code 2 and at once, a verdict.json that is not a regular file (a FIFO would never end)', async () => {
    const { runDir, verdictFile } = await bundle();
    await rm(verdictFile);
    await execa('mkfifo', [verdictFile]);
    const expected = `${verdictFile} is not a regular file: a gate run folder holds verdict.json, a file, next to ${evidenceDirName}/`;
    await expect(verifyBundle(runDir)).rejects.toThrow(expected);
    await expect(verifyBundle(verdictFile)).rejects.toThrow(expected);
    expect(await verify([runDir])).toMatchObject({ exitCode: 2, output: expect.stringContaining(expected) });
  });
});
