import { readFile } from 'node:fs/promises';
import type { JSONReport, JSONReportSuite } from '@playwright/test/reporter';

export interface SuiteOutcome {
  passed: number;
  /** Each test that ended unexpected or flaky: `file:line title (status: each attempt's status)`. */
  failed: string[];
  skipped: number;
  /** Errors outside any test (global setup, a spec file that does not load). */
  errors: string[];
}

/** The parts of Playwright's JSON report (reporter `json`) that say which tests did not pass. */
export type SuiteReport = Pick<JSONReport, 'suites' | 'errors'>;

/** Counts a Playwright JSON report, so the bench names the lines that failed rather than only an exit code. */
export function suiteOutcome(report: SuiteReport): SuiteOutcome {
  const outcome: SuiteOutcome = { passed: 0, failed: [], skipped: 0, errors: report.errors.map((error) => (error.message ?? error.value ?? 'an error without a message').split('\n')[0] ?? '') };
  const walk = (suite: JSONReportSuite): void => {
    for (const spec of suite.specs) {
      for (const test of spec.tests) {
        if (test.status === 'expected') outcome.passed += 1;
        else if (test.status === 'skipped') outcome.skipped += 1;
        else outcome.failed.push(`${spec.file}:${spec.line} ${spec.title} (${test.status}: ${test.results.map((r) => r.status ?? 'unknown').join(', ') || 'never ran'})`);
      }
    }
    for (const child of suite.suites ?? []) walk(child);
  };
  for (const suite of report.suites) walk(suite);
  return outcome;
}

/** Reads the JSON report Playwright wrote at `file`; a missing one says so with the file's name. */
export async function readSuiteOutcome(file: string): Promise<SuiteOutcome> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new Error(`Playwright wrote no JSON report at ${file} (${error.message}): the suite did not get as far as reporting; see its output above`, { cause: error });
  });
  return suiteOutcome(JSON.parse(text) as SuiteReport);
}
