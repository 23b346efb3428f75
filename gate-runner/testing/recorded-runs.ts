import path from 'node:path';
import type { Phase } from '../../suites/phases.ts';
import { recordRun } from '../ledger.ts';
import { sampleRun, type SampleRunOptions } from '../sample-run.ts';
import { renderSummary, writeSummary } from '../summary.ts';
import { writeVerdict, type Verdict } from '../verdict.ts';

/** A finished gate run in `gatesDir` as `npm run gate` leaves it: verdict, summary.md, a ledger line. */
export async function recordedRun(gatesDir: string, phase: Phase, options: SampleRunOptions & { runId: string }): Promise<Verdict> {
  const runDir = path.join(gatesDir, phase.id, options.runId);
  const verdict = await sampleRun(phase, runDir, options);
  const verdictFile = await writeVerdict(runDir, verdict);
  await writeSummary(runDir, renderSummary(phase, verdict));
  await recordRun(gatesDir, verdictFile, verdict);
  return verdict;
}
