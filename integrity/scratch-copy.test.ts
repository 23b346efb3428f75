import { existsSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../hypervisor/paths.ts';
import { killRate, renderKillTable } from './kill-table.ts';
import { ScratchCopy } from './scratch-copy.ts';

describe('the scratch copy a seeded defect is applied to', () => {
  it('copies the checkout, applies and reverts edits there only, and is removed without a trace', async () => {
    const copy = await ScratchCopy.of(repoRoot);
    try {
      const file = 'hypervisor/sandboxes/data-dir.ts';
      const original = readFileSync(path.join(repoRoot, file), 'utf8');
      expect(readFileSync(path.join(copy.repo, file), 'utf8')).toBe(original);
      expect(lstatSync(path.join(copy.repo, 'node_modules')).isSymbolicLink()).toBe(true);
      expect(existsSync(path.join(copy.repo, 'reports'))).toBe(false);
      // A git repository whose tree is the checkout's (the flakes are built as git+file://).
      expect((await execa('git', ['status', '--porcelain'], { cwd: copy.repo })).stdout).toBe('');

      const revert = await copy.apply([{ file, find: 'key.role)', replace: 'key.role, "seeded")' }]);
      expect(readFileSync(path.join(copy.repo, file), 'utf8')).toContain('key.role, "seeded")');
      expect(readFileSync(path.join(repoRoot, file), 'utf8')).toBe(original);
      await revert();
      expect(readFileSync(path.join(copy.repo, file), 'utf8')).toBe(original);

      await expect(copy.apply([{ file, find: 'key.role)', replace: 'x' }, { file, find: 'not in the file', replace: 'y' }])).rejects.toThrow(`${file}: the text to replace is not there exactly once`);
      expect(readFileSync(path.join(copy.repo, file), 'utf8')).toBe(original);
    } finally {
      await copy.remove();
    }
    expect(existsSync(copy.root)).toBe(false);
  });
});

describe('the kill table', () => {
  it('counts only catches, and prints a missed defect as MISSED with the lines meant for it', () => {
    const rows = [
      { defect: 'phase1/a', caughtBy: ['Line A.'], result: 'caught' as const, failedLines: ['Line A.'], firstError: 'Error: expected 1', seconds: 12 },
      { defect: 'phase1/b', caughtBy: ['Line B.'], result: 'MISSED' as const, failedLines: [], firstError: undefined, seconds: 9.5 },
    ];
    expect(killRate(rows)).toEqual({ caught: 1, total: 2, percent: 50, withUnitTests: 1, percentWithUnitTests: 50 });
    const table = renderKillTable(rows);
    expect(table).toMatch(/phase1\/b +MISSED +9\.5 +Line B\./);
    expect(table).toContain('kill rate: 1/2 seeded defects caught by the lines meant for them (50%)');
  });
});
