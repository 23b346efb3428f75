import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Phase } from '../suites/phases.ts';
import { ledgerFile, readLedger, type LedgerEntry } from './ledger.ts';
import type { Verdict } from './verdict.ts';

export interface RecordedRun {
  entry: LedgerEntry;
  verdict: Verdict;
  /** The run's directory (verdict.json, summary.md, evidence/). */
  runDir: string;
}

export class NoRecordedRunError extends Error {
  constructor(phase: Phase, targetId: string, gatesDir: string) {
    super(`no ${phase.id} gate run for target ${targetId} is recorded in ${ledgerFile(gatesDir)}: run \`npm run gate -- ${phase.id}\` first.`);
    this.name = 'NoRecordedRunError';
  }
}

/** The phase's latest gate run for the target, as the ledger records it, with its verdict. */
export async function latestRun(gatesDir: string, phase: Phase, targetId: string): Promise<RecordedRun> {
  const runs = (await readLedger(gatesDir)).filter((entry) => entry.phase === phase.id && entry.target === targetId).sort((a, b) => a.endedAt.localeCompare(b.endedAt));
  const entry = runs.at(-1);
  if (!entry) throw new NoRecordedRunError(phase, targetId, gatesDir);
  const verdictFile = path.join(gatesDir, entry.verdict);
  const verdict = JSON.parse(await readFile(verdictFile, 'utf8')) as Verdict;
  return { entry, verdict, runDir: path.dirname(verdictFile) };
}
