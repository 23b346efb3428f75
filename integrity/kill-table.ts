import type { LineScope } from './catalogue.ts';

/**
 * One seeded defect's result: caught when a line it ran failed (the lines meant for it, or with
 * --any-line any line of its phase, failing again when run a second time); FLAKY when the lines (or
 * the unit test files) that failed passed on the second run, so the failure cannot be told from a
 * flaky one; unit (--any-line only) when no gate line caught it but the unit tests importing the
 * edited files fail with it, pass without it, and the failed files fail again with it. Only caught is a catch by the gate lines; unit is counted apart, as "the suites
 * together".
 */
export type DefectResult = 'caught' | 'unit' | 'MISSED' | 'FLAKY' | 'NOT RUN';

export interface DefectRow {
  defect: string;
  caughtBy: readonly string[];
  result: DefectResult;
  /** Which of the lines failed (with --any-line: failed twice; for unit, the failing test files), and the first line of the first failure. */
  failedLines: readonly string[];
  firstError: string | undefined;
  seconds: number;
}

const clip = (text: string, width: number): string => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

const percentOf = (count: number, total: number): number => (total ? Math.round((count / total) * 1000) / 10 : 0);

/** caught: by a gate line; withUnitTests: by a gate line or, failing that, by the unit tests. */
export function killRate(rows: readonly DefectRow[]): { caught: number; total: number; percent: number; withUnitTests: number; percentWithUnitTests: number } {
  const caught = rows.filter((r) => r.result === 'caught').length;
  const withUnitTests = caught + rows.filter((r) => r.result === 'unit').length;
  return { caught, total: rows.length, percent: percentOf(caught, rows.length), withUnitTests, percentWithUnitTests: percentOf(withUnitTests, rows.length) };
}

/** What ran for each defect: the lines (meant for it, of its phase, of any phase) or, with --unit-only, its unit tests alone. */
export type Measure = LineScope | 'unit tests';

export function renderKillTable(rows: readonly DefectRow[], scope: Measure = 'meant'): string {
  const defectWidth = Math.max(14, ...rows.map((r) => r.defect.length));
  const header = `${'seeded defect'.padEnd(defectWidth)}  ${'result'.padEnd(7)}  ${'s'.padStart(6)}  caught by (or meant to be) / first failure`;
  const body = rows.flatMap((r) => {
    const lines = r.result === 'caught' || r.result === 'FLAKY' || r.result === 'unit' ? r.failedLines : r.caughtBy;
    return [
      `${r.defect.padEnd(defectWidth)}  ${r.result.padEnd(7)}  ${r.seconds.toFixed(1).padStart(6)}  ${clip(lines.join(' | '), 110)}`,
      ...(r.firstError ? [`${''.padEnd(defectWidth + 19)}  ${clip(r.firstError, 110)}`] : []),
    ];
  });
  const rate = killRate(rows);
  if (scope === 'unit tests') {
    // No line ran: a gate-line rate of 0 would read as a measure of the suites.
    return [header, '-'.repeat(header.length), ...body, '', `caught by the unit tests that import the edited files (--unit-only, no gate line run): ${rate.withUnitTests}/${rate.total} (${rate.percentWithUnitTests}%)`].join('\n');
  }
  const by = { meant: 'by the lines meant for them', phase: 'by any line of their phase (--any-line)', all: 'by any line of any phase run (--any-phase)' }[scope];
  const footer = [`kill rate: ${rate.caught}/${rate.total} seeded defects caught ${by} (${rate.percent}%)`];
  if (scope !== 'meant') footer.push(`with the unit tests that import the edited files (where no line caught it): ${rate.withUnitTests}/${rate.total} (${rate.percentWithUnitTests}%)`);
  return [header, '-'.repeat(header.length), ...body, '', ...footer].join('\n');
}
