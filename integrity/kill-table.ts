import type { LineScope } from './catalogue.ts';

/**
 * One seeded defect's result: caught when a line it ran failed (the lines meant for it, or with
 * --any-line any line of its phase, failing again when run a second time); FLAKY when the lines that
 * failed passed on the second run, so the failure cannot be told from a flaky line; anything but
 * caught is not a catch.
 */
export type DefectResult = 'caught' | 'MISSED' | 'FLAKY' | 'NOT RUN';

export interface DefectRow {
  defect: string;
  caughtBy: readonly string[];
  result: DefectResult;
  /** Which of the lines failed (with --any-line: failed twice), and the first line of the first failure. */
  failedLines: readonly string[];
  firstError: string | undefined;
  seconds: number;
}

const clip = (text: string, width: number): string => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

export function killRate(rows: readonly DefectRow[]): { caught: number; total: number; percent: number } {
  const caught = rows.filter((r) => r.result === 'caught').length;
  return { caught, total: rows.length, percent: rows.length ? Math.round((caught / rows.length) * 1000) / 10 : 0 };
}

export function renderKillTable(rows: readonly DefectRow[], scope: LineScope = 'meant'): string {
  const defectWidth = Math.max(14, ...rows.map((r) => r.defect.length));
  const header = `${'seeded defect'.padEnd(defectWidth)}  ${'result'.padEnd(7)}  ${'s'.padStart(6)}  caught by (or meant to be) / first failure`;
  const body = rows.flatMap((r) => {
    const lines = r.result === 'caught' || r.result === 'FLAKY' ? r.failedLines : r.caughtBy;
    return [
      `${r.defect.padEnd(defectWidth)}  ${r.result.padEnd(7)}  ${r.seconds.toFixed(1).padStart(6)}  ${clip(lines.join(' | '), 110)}`,
      ...(r.firstError ? [`${''.padEnd(defectWidth + 19)}  ${clip(r.firstError, 110)}`] : []),
    ];
  });
  const rate = killRate(rows);
  const by = scope === 'meant' ? 'by the lines meant for them' : 'by any line of their phase (--any-line)';
  return [header, '-'.repeat(header.length), ...body, '', `kill rate: ${rate.caught}/${rate.total} seeded defects caught ${by} (${rate.percent}%)`].join('\n');
}
