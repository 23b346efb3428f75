import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JSONReportSpec, JSONReportTest } from '@playwright/test/reporter';
import { describe, expect, it } from 'vitest';
import { readSuiteOutcome, suiteOutcome, type SuiteReport } from './playwright-results.ts';

const test = (status: JSONReportTest['status'], results: Array<'passed' | 'failed' | 'timedOut' | 'skipped'>): JSONReportTest => ({
  timeout: 120_000,
  annotations: [],
  expectedStatus: 'passed',
  projectName: 'phase5',
  projectId: 'phase5',
  results: results.map((status, retry) => ({ workerIndex: 0, parallelIndex: 0, status, duration: 1, error: undefined, errors: [], stdout: [], stderr: [], retry, startTime: '2026-01-01T00:00:00.000Z', attachments: [], annotations: [] })),
  status,
});
const spec = (title: string, line: number, tests: JSONReportTest[]): JSONReportSpec => ({ tags: [], title, ok: tests.every((t) => t.status !== 'unexpected'), tests, id: title, file: 'gate.spec.ts', line, column: 1 });

// Typed as Playwright's own JSONReport parts, so a change in its shape fails tsc here.
const report: SuiteReport = {
  errors: [],
  suites: [
    {
      title: 'gate.spec.ts',
      file: 'gate.spec.ts',
      line: 0,
      column: 0,
      specs: [spec('the smoke suite passes', 10, [test('expected', ['passed'])])],
      suites: [{ title: 'nested', file: 'gate.spec.ts', line: 20, column: 1, specs: [spec('rollback rehearsal', 30, [test('unexpected', ['timedOut'])]), spec('skipped line', 40, [test('skipped', ['skipped'])]), spec('flaky line', 50, [test('flaky', ['failed', 'passed'])])] }],
    },
  ],
};

describe("the production bench's reading of the suite's JSON report", () => {
  it('counts passed and skipped tests and names each failed or flaky one with its file, line and attempts, nested suites included', () => {
    expect(suiteOutcome(report)).toEqual({
      passed: 1,
      skipped: 1,
      failed: ['gate.spec.ts:30 rollback rehearsal (unexpected: timedOut)', 'gate.spec.ts:50 flaky line (flaky: failed, passed)'],
      errors: [],
    });
  });

  it('reports errors outside any test (a global setup that threw) by their first line', () => {
    expect(suiteOutcome({ suites: [], errors: [{ message: 'Error: podman is missing\n    at setup.ts:1' }] }).errors).toEqual(['Error: podman is missing']);
  });

  it('a missing report is an error naming the file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'choiros-bench-results-'));
    try {
      await expect(readSuiteOutcome(path.join(dir, 'results.json'))).rejects.toThrow(/Playwright wrote no JSON report at .*results\.json/);
      await writeFile(path.join(dir, 'results.json'), JSON.stringify(report));
      expect((await readSuiteOutcome(path.join(dir, 'results.json'))).passed).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
