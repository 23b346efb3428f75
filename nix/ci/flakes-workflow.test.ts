import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFlakesWorkflow } from './flakes-workflow.ts';
import { runsAfterFailure, runsAfterSuccess } from './step-condition.ts';

describe("the flakes workflow's summary step condition", () => {
  // Made when the tests run, not when vitest collects them (a filtered run would leave it behind).
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flakes-workflow-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs after a failed build with always(), !cancelled(), failure() or success() || failure(), bare, in ${{ }} or with other terms', () => {
    for (const condition of ['always()', '${{ always() }}', '!cancelled()', '${{ !cancelled() }}', 'success() || failure()', 'failure()', "always() && steps.build.outcome != 'skipped'", "!cancelled() && github.event_name == 'push'", '(failure() || success()) && true']) {
      expect(runsAfterFailure(condition), condition).toBe(true);
    }
  });

  it("is skipped after a failed build without a condition, with success(), or with one naming no status function (GitHub puts success() && before it)", () => {
    for (const condition of [undefined, 'success()', '${{ success() }}', "github.ref == 'refs/heads/main'", 'true', 'cancelled()', '!always()', "success() && github.event_name == 'push'"]) {
      expect(runsAfterFailure(condition), String(condition)).toBe(false);
    }
  });

  it('runs while every earlier step succeeded without a condition, with success(), always(), !cancelled() or a condition naming no status function; not with failure() or cancelled()', () => {
    for (const condition of [undefined, 'success()', 'always()', '!cancelled()', "always() && steps.gate.outcome != 'skipped'", "github.ref == 'refs/heads/main'", 'success() || failure()']) {
      expect(runsAfterSuccess(condition), String(condition)).toBe(true);
    }
    for (const condition of ['failure()', '${{ failure() }}', 'cancelled()', '!always()', "failure() && steps.gate.outcome == 'failure'"]) {
      expect(runsAfterSuccess(condition), condition).toBe(false);
    }
  });

  it('refuses a condition it cannot read rather than guessing', () => {
    expect(() => runsAfterFailure('(always()')).toThrow(/unclosed parenthesis/);
  });

  it("reads the summary step's if: from the workflow file, and none when it has none", () => {
    const file = path.join(dir, 'flakes.yml');
    const workflow = (condition: string) => `jobs:\n  build:\n    steps:\n      - uses: DeterminateSystems/flakehub-cache-action@main\n      - run: nix build ./hypervisor\n      - name: summary\n${condition}        run: node nix/ci/job-summary.ts build-logs >> "$GITHUB_STEP_SUMMARY"\n`;
    writeFileSync(file, workflow('        if: ${{ always() }}\n'));
    expect(readFlakesWorkflow(file).summaryIf).toBe('${{ always() }}');
    writeFileSync(file, workflow(''));
    expect(readFlakesWorkflow(file).summaryIf).toBeUndefined();
  });

  it("holds for this checkout's .github/workflows/flakes.yml", () => {
    expect(runsAfterFailure(readFlakesWorkflow().summaryIf)).toBe(true);
  });
});

describe("the flakes workflow's token permissions", () => {
  // Made when the tests run, not when vitest collects them (a filtered run would leave it behind).
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flakes-permissions-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const workflow = (jobPermissions: string) =>
    `permissions:\n  id-token: write\n  contents: read\njobs:\n  build:\n${jobPermissions}    steps:\n      - uses: DeterminateSystems/flakehub-cache-action@main\n`;

  it("are the workflow's when the build job has none", () => {
    const file = path.join(dir, 'workflow-level.yml');
    writeFileSync(file, workflow(''));
    expect(readFlakesWorkflow(file).permissions).toEqual({ 'id-token': 'write', contents: 'read' });
  });

  it("are the job's alone when it has its own: GitHub does not merge them with the workflow's", () => {
    const file = path.join(dir, 'job-level.yml');
    writeFileSync(file, workflow('    permissions:\n      contents: read\n'));
    expect(readFlakesWorkflow(file).permissions).toEqual({ contents: 'read' });
  });
});
