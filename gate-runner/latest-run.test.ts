import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { phaseById } from '../suites/phases.ts';
import { latestRun, NoRecordedRunError } from './latest-run.ts';
import { tempDir } from './sample-run.ts';
import { recordedRun } from './testing/recorded-runs.ts';

const phase1 = phaseById('phase1');
const phase2 = phaseById('phase2');

describe('the latest recorded run of a phase for a target', () => {
  it('is the phase\'s own latest run for that target, never a later run of another phase or target', async () => {
    const gatesDir = path.join(await tempDir('latest'), 'gates');
    await recordedRun(gatesDir, phase1, { runId: 'phase1-old', endedAt: new Date('2026-02-19T10:00:00Z') });
    await recordedRun(gatesDir, phase1, { runId: 'phase1-new', endedAt: new Date('2026-02-20T10:00:00Z') });
    await recordedRun(gatesDir, phase2, { runId: 'phase2-later', endedAt: new Date('2026-02-21T10:00:00Z') });
    await recordedRun(gatesDir, phase1, { runId: 'phase1-production', targetId: 'production', endedAt: new Date('2026-02-22T10:00:00Z') });

    const run = await latestRun(gatesDir, phase1, 'local');
    expect([run.entry.runId, run.verdict.runId, run.verdict.phase.id]).toEqual(['phase1-new', 'phase1-new', 'phase1']);
    expect(run.runDir).toBe(path.join(gatesDir, 'phase1', 'phase1-new'));
    expect((await latestRun(gatesDir, phase2, 'local')).entry.runId).toBe('phase2-later');
  });

  it('is the run that ended last, whatever order the ledger lines were written in', async () => {
    const gatesDir = path.join(await tempDir('latest'), 'gates');
    await recordedRun(gatesDir, phase1, { runId: 'ended-last', endedAt: new Date('2026-02-21T10:00:00Z') });
    await recordedRun(gatesDir, phase1, { runId: 'ended-first', endedAt: new Date('2026-02-20T10:00:00Z') });
    expect((await latestRun(gatesDir, phase1, 'local')).entry.runId).toBe('ended-last');
  });

  it('names the run to make when the phase has none for the target, even if another phase has', async () => {
    const gatesDir = path.join(await tempDir('latest'), 'gates');
    await recordedRun(gatesDir, phase1, { runId: 'run-1' });
    await expect(latestRun(gatesDir, phase2, 'local')).rejects.toThrow(NoRecordedRunError);
    await expect(latestRun(gatesDir, phase2, 'local')).rejects.toThrow('no phase2 gate run for target local is recorded');
  });
});
