import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { stripAnsi } from '../gate-runner/strip-ansi.ts';
import type { Interruption } from './interruption.ts';

/**
 * The unit tests that import what a defect edits (`vitest related`): the part of "the suites
 * together" that reads code no gate line runs, the gate runner's own verdict and verify among it.
 * Used only for the unseen measure (--any-line), after no gate line caught the defect; the test
 * files that failed then run again by name, to tell a catch from a flaky test.
 */
export interface UnitTestsRun {
  /** none: no unit test imports the edited files (a .nix, .yml or .md edit, say). */
  status: 'passed' | 'failed' | 'none';
  /** Test files with a failing test, relative to the copy. */
  failedFiles: string[];
  firstError: string | undefined;
  durationMs: number;
}

interface VitestJson {
  numTotalTests?: number;
  testResults?: { name: string; status: string; message?: string; assertionResults?: { status: string; failureMessages?: string[] }[] }[];
}

/** Reads vitest's JSON report; a missing or unreadable report is a failed run, never a pass. */
export function unitOutcome(report: VitestJson | undefined, repo: string, exitCode: number | undefined): Omit<UnitTestsRun, 'durationMs'> {
  if (!report) return { status: 'failed', failedFiles: [], firstError: `vitest wrote no report (exit ${String(exitCode)})` };
  const failed = (report.testResults ?? []).filter((file) => file.status !== 'passed');
  if (!failed.length && exitCode === 0) return { status: (report.numTotalTests ?? 0) > 0 ? 'passed' : 'none', failedFiles: [], firstError: undefined };
  const message = failed.flatMap((file) => [...(file.assertionResults ?? []).flatMap((a) => a.failureMessages ?? []), file.message ?? '']).find((m) => m.trim());
  return {
    status: 'failed',
    failedFiles: failed.map((file) => path.relative(repo, file.name)),
    firstError: message === undefined ? `vitest exited ${String(exitCode)}` : stripAnsi(message).split('\n').find((l) => l.trim())?.trim(),
  };
}

export interface UnitTestsOptions {
  repo: string;
  logDir: string;
  /** related: the test files that import these source files; tests: exactly these test files. */
  files: { related: readonly string[] } | { tests: readonly string[] };
  label: string;
  env: Record<string, string>;
  interruption: Interruption;
}

export async function runUnitTests(options: UnitTestsOptions): Promise<UnitTestsRun> {
  options.interruption.check();
  const jsonFile = path.join(options.logDir, `${options.label}.json`);
  const started = performance.now();
  const cli = path.join(options.repo, 'node_modules', 'vitest', 'vitest.mjs');
  const selection = 'related' in options.files ? ['related', '--run', ...options.files.related] : ['run', ...options.files.tests];
  const child = execa(process.execPath, [cli, ...selection, '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`], {
    cwd: options.repo,
    reject: false,
    all: true,
    stdin: 'ignore',
    env: { ...options.env, FORCE_COLOR: '0' },
    extendEnv: false,
    detached: true,
  });
  options.interruption.track(child, child);
  const run = await child;
  await writeFile(path.join(options.logDir, `${options.label}.log`), String(run.all));
  options.interruption.check();
  const report = await readFile(jsonFile, 'utf8').then((text) => JSON.parse(text) as VitestJson, () => undefined);
  return { ...unitOutcome(report, options.repo, run.exitCode), durationMs: performance.now() - started };
}

/**
 * The test files that may claim a catch: those that failed with the defect and did not fail on the
 * clean copy. Compared per file, so a test elsewhere in the related set that fails on its own under
 * load (an ssh handshake cut short) does not void a catch by another file. undefined when the clean
 * run says nothing per file (it wrote no report), so no file can be cleared.
 */
export function filesFailingOnlyWithDefect(withDefect: Omit<UnitTestsRun, 'durationMs'>, clean: Omit<UnitTestsRun, 'durationMs'>): string[] | undefined {
  if (clean.status === 'passed') return withDefect.failedFiles;
  if (clean.status === 'none' || !clean.failedFiles.length) return undefined;
  return withDefect.failedFiles.filter((file) => !clean.failedFiles.includes(file));
}
