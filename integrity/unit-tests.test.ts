import { describe, expect, it } from 'vitest';
import { filesFailingOnlyWithDefect, unitOutcome } from './unit-tests.ts';

const repo = '/tmp/copy/repo';

describe("the unit tests' outcome", () => {
  it('is failed, naming the file and the first line of the first failure, when a test fails', () => {
    const report = {
      numTotalTests: 3,
      testResults: [
        { name: `${repo}/a.test.ts`, status: 'passed', assertionResults: [{ status: 'passed' }] },
        { name: `${repo}/gate-runner/verify.test.ts`, status: 'failed', assertionResults: [{ status: 'failed', failureMessages: ['\u001b[31mAssertionError: expected [] to deeply equal [ …(1) ]\u001b[39m\n    at x'] }] },
      ],
    };
    expect(unitOutcome(report, repo, 1)).toEqual({ status: 'failed', failedFiles: ['gate-runner/verify.test.ts'], firstError: 'AssertionError: expected [] to deeply equal [ …(1) ]' });
  });

  it('is passed when every test passed, none when no test imports the edited files', () => {
    expect(unitOutcome({ numTotalTests: 2, testResults: [{ name: `${repo}/a.test.ts`, status: 'passed' }] }, repo, 0).status).toBe('passed');
    expect(unitOutcome({ numTotalTests: 0, testResults: [] }, repo, 0).status).toBe('none');
  });

  it('is failed, never passed, when vitest wrote no report or exited non-zero with every file passed (a crash, a type error)', () => {
    expect(unitOutcome(undefined, repo, 1)).toMatchObject({ status: 'failed', firstError: 'vitest wrote no report (exit 1)' });
    expect(unitOutcome({ numTotalTests: 0, testResults: [] }, repo, 1)).toMatchObject({ status: 'failed', firstError: 'vitest exited 1' });
  });
});

describe('the test files that can claim a unit catch', () => {
  const failed = (...files: string[]) => ({ status: 'failed' as const, failedFiles: files, firstError: 'x' });
  const passed = { status: 'passed' as const, failedFiles: [], firstError: undefined };

  it('are every file that failed with the defect when the clean copy passed', () => {
    expect(filesFailingOnlyWithDefect(failed('a.test.ts', 'b.test.ts'), passed)).toEqual(['a.test.ts', 'b.test.ts']);
  });

  it('leave out a file that failed on the clean copy too, so a flaky file elsewhere voids nothing', () => {
    expect(filesFailingOnlyWithDefect(failed('ports.test.ts', 'host.test.ts'), failed('host.test.ts'))).toEqual(['ports.test.ts']);
    expect(filesFailingOnlyWithDefect(failed('host.test.ts'), failed('host.test.ts'))).toEqual([]);
  });

  it('are unknown when the clean run names no file (no report), so nothing can be cleared', () => {
    expect(filesFailingOnlyWithDefect(failed('ports.test.ts'), failed())).toBeUndefined();
  });
});
