import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFlakesWorkflow, runsAfterFailure } from './flakes-workflow.ts';

describe("the flakes workflow's summary step condition", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'flakes-workflow-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs after a failed build only with always(), !cancelled() or success() || failure(), bare or in ${{ }}', () => {
    for (const condition of ['always()', '${{ always() }}', '!cancelled()', '${{ !cancelled() }}', 'success() || failure()']) expect(runsAfterFailure(condition), condition).toBe(true);
    for (const condition of [undefined, 'success()', 'failure()', "github.ref == 'refs/heads/main'", 'always() && false', 'true']) expect(runsAfterFailure(condition), String(condition)).toBe(false);
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
