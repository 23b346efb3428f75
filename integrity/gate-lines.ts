import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { stripAnsi } from '../gate-runner/strip-ansi.ts';
import type { Interruption } from './interruption.ts';

export type LineOutcome = 'passed' | 'failed' | 'not run';

export interface LinesRun {
  outcomes: Map<string, { status: LineOutcome; error: string | undefined }>;
  durationMs: number;
  /** Playwright's list output, for a person reading why. */
  logFile: string;
}

interface JsonSuite {
  suites?: JsonSuite[];
  specs?: { title: string; tests: { projectName: string; status: string; results: { error?: { message?: string } }[] }[] }[];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A --grep that matches exactly these titles (Playwright matches it against "<project> <file> <title>"). */
export const exactTitles = (titles: readonly string[]): string => `(?:${titles.map((t) => `${escapeRegExp(t)}$`).join('|')})`;

function specsOf(suite: JsonSuite): NonNullable<JsonSuite['specs']> {
  return [...(suite.specs ?? []), ...(suite.suites ?? []).flatMap(specsOf)];
}

const firstLine = (message: string | undefined): string | undefined =>
  message === undefined
    ? undefined
    : stripAnsi(message)
        .split('\n')
        .find((line) => line.trim())
        ?.trim();

/**
 * Runs only `titles` of one Playwright project in the scratch copy at `repo`, through the checkout's
 * own Playwright, and reads each line's outcome from its JSON report (a title that did not run is
 * `not run`, never a catch).
 */
export async function runGateLines(options: { repo: string; logDir: string; project: string; titles: readonly string[]; label: string; env: Record<string, string>; interruption: Interruption }): Promise<LinesRun> {
  options.interruption.check();
  const jsonFile = path.join(options.logDir, `${options.label}.json`);
  const logFile = path.join(options.logDir, `${options.label}.log`);
  const cli = path.join(options.repo, 'node_modules', '@playwright', 'test', 'cli.js');
  const started = performance.now();
  const child = execa(process.execPath, [cli, 'test', '--project', options.project, '--grep', exactTitles(options.titles), '--reporter', 'list,json'], {
    cwd: options.repo,
    reject: false,
    all: true,
    stdin: 'ignore',
    // TMPDIR stays the system's: podman refuses a run root longer than 50 characters.
    env: { ...options.env, PLAYWRIGHT_JSON_OUTPUT_FILE: jsonFile, FORCE_COLOR: '0' },
    extendEnv: false,
    // A process group of its own: on Ctrl-C the runner asks it to stop once and waits (interruption.ts).
    detached: true,
  });
  // execa's subprocess is also the promise of its end (reject: false, so it never rejects).
  options.interruption.track(child, child);
  const run = await child;
  await writeFile(logFile, String(run.all));
  // Interrupted: the child has stopped; its outcomes are no verdict, and nothing further may start.
  options.interruption.check();
  const durationMs = performance.now() - started;
  const outcomes = new Map<string, { status: LineOutcome; error: string | undefined }>(options.titles.map((title) => [title, { status: 'not run', error: undefined }]));
  let report: JsonSuite;
  try {
    report = JSON.parse(await readFile(jsonFile, 'utf8')) as JsonSuite;
  } catch {
    return { outcomes, durationMs, logFile };
  }
  for (const spec of specsOf(report)) {
    for (const test of spec.tests.filter((t) => t.projectName === options.project)) {
      if (!outcomes.has(spec.title) || test.status === 'skipped') continue;
      const passed = test.status === 'expected' || test.status === 'flaky';
      outcomes.set(spec.title, { status: passed ? 'passed' : 'failed', error: passed ? undefined : firstLine(test.results.find((r) => r.error)?.error?.message) });
    }
  }
  return { outcomes, durationMs, logFile };
}
