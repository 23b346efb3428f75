import { readFile } from 'node:fs/promises';

/** The part of Playwright's JSON report (reporter `json`) that says which tests did not pass. */
interface JsonSuite {
  title: string;
  suites?: JsonSuite[];
  specs?: Array<{ title: string; file: string; line: number; tests: Array<{ status: string; results: Array<{ status: string }> }> }>;
}

export interface SuiteOutcome {
  passed: number;
  /** Each test that ended unexpected or flaky: `file:line title (status)`. */
  failed: string[];
  skipped: number;
}

/** Counts a Playwright JSON report: the bench names failed lines rather than only an exit code. */
export function suiteOutcome(report: { suites?: JsonSuite[] }): SuiteOutcome {
  const outcome: SuiteOutcome = { passed: 0, failed: [], skipped: 0 };
  const walk = (suite: JsonSuite): void => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        if (test.status === 'expected') outcome.passed += 1;
        else if (test.status === 'skipped') outcome.skipped += 1;
        else outcome.failed.push(`${spec.file}:${spec.line} ${spec.title} (${test.status}: ${test.results.map((r) => r.status).join(', ') || 'never ran'})`);
      }
    }
    for (const child of suite.suites ?? []) walk(child);
  };
  for (const suite of report.suites ?? []) walk(suite);
  return outcome;
}

/** Reads the JSON report Playwright wrote at `file`; a missing or unreadable one says so with the file's name. */
export async function readSuiteOutcome(file: string): Promise<SuiteOutcome> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new Error(`Playwright wrote no JSON report at ${file} (${error.message}): the suite did not get as far as reporting; see its output above`, { cause: error });
  });
  return suiteOutcome(JSON.parse(text) as { suites?: JsonSuite[] });
}
