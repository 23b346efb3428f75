import { describe, expect, it } from 'vitest';
import { killRate, renderKillTable, type DefectRow } from './kill-table.ts';

const row = (defect: string, result: DefectRow['result'], failedLines: string[] = []): DefectRow => ({ defect, caughtBy: ['Meant line.'], result, failedLines, firstError: failedLines.length ? 'expect(received).toBe(expected)' : undefined, seconds: 12.5 });

describe('the kill table', () => {
  it('counts only caught defects: a failure that did not repeat (FLAKY) is no catch', () => {
    const rows = [row('p/a', 'caught', ['Some line.']), row('p/b', 'FLAKY', ['Other line.']), row('p/c', 'MISSED'), row('p/d', 'NOT RUN')];
    expect(killRate(rows)).toEqual({ caught: 1, total: 4, percent: 25, withUnitTests: 1, percentWithUnitTests: 25 });
  });

  it('names the lines that failed for a caught or FLAKY defect, and the meant lines otherwise', () => {
    const table = renderKillTable([row('p/b', 'FLAKY', ['Other line.']), row('p/c', 'MISSED')], 'phase');
    expect(table).toMatch(/p\/b\s+FLAKY\s+12\.5\s+Other line\./);
    expect(table).toMatch(/p\/c\s+MISSED\s+12\.5\s+Meant line\./);
    expect(table).toContain('kill rate: 0/2 seeded defects caught by any line of their phase (--any-line) (0%)');
  });

  it('counts a defect only the unit tests caught apart from the gate lines, and names its failing test files', () => {
    const rows = [row('p/a', 'caught', ['Some line.']), row('p/b', 'unit', ['gate-runner/verify.test.ts']), row('p/c', 'MISSED')];
    expect(killRate(rows)).toEqual({ caught: 1, total: 3, percent: 33.3, withUnitTests: 2, percentWithUnitTests: 66.7 });
    const table = renderKillTable(rows, 'phase');
    expect(table).toMatch(/p\/b\s+unit\s+12\.5\s+gate-runner\/verify\.test\.ts/);
    expect(table).toContain('kill rate: 1/3 seeded defects caught by any line of their phase (--any-line) (33.3%)');
    expect(table).toContain('with the unit tests that import the edited files (where no line caught it): 2/3 (66.7%)');
    expect(renderKillTable(rows, 'meant')).not.toContain('unit tests');
  });
});

describe('the kill table of a --unit-only run', () => {
  it('says the unit tests alone ran, and gives no gate-line rate', () => {
    const table = renderKillTable([row('a', 'unit', ['gate-runner/verify.test.ts']), row('b', 'MISSED')], 'unit tests');
    expect(table).toContain('caught by the unit tests that import the edited files (--unit-only, no gate line run): 1/2 (50%)');
    expect(table).not.toContain('kill rate');
  });
});
