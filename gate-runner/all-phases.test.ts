import { describe, expect, it } from 'vitest';
import { phaseIds, type Phase } from '../suites/phases.ts';
import { runPhasesInOrder } from './all-phases.ts';

async function runAll(exitCodes: Partial<Record<string, number>>): Promise<{ exitCode: number; ran: string[]; said: string[] }> {
  const ran: string[] = [];
  const said: string[] = [];
  const exitCode = await runPhasesInOrder(
    async (phase: Phase) => {
      ran.push(phase.id);
      return exitCodes[phase.id] ?? 0;
    },
    (line) => said.push(line),
  );
  return { exitCode, ran, said };
}

describe('npm run gate with no phase', () => {
  it('runs phase1 to phase5 in order when each passes', async () => {
    const run = await runAll({});
    expect(run).toMatchObject({ exitCode: 0, ran: [...phaseIds] });
    expect(run.said.at(-1)).toBe('gate: all 5 phases passed.');
  });

  it('announces each phase as it starts, counting from 1 of 5', async () => {
    const run = await runAll({ phase2: 1 });
    expect(run.said.slice(0, 2)).toEqual(['gate: phase 1 of 5: Phase 1: Local Podman Smoke', 'gate: phase 2 of 5: Phase 2: CI + FlakeHub Cache']);
  });

  it('stops at the first phase that does not pass, with its exit code, naming the phases not run', async () => {
    const run = await runAll({ phase3: 1 });
    expect(run).toMatchObject({ exitCode: 1, ran: ['phase1', 'phase2', 'phase3'] });
    expect(run.said.at(-1)).toBe('gate: stopped at phase3 (Phase 3: Hypervisor NixOS Module), which did not pass; not run: phase4, phase5.');
  });
  it('stops as well at a phase the gate refused to start (exit 2), passing that code on', async () => {
    const run = await runAll({ phase2: 2 });
    expect(run).toMatchObject({ exitCode: 2, ran: ['phase1', 'phase2'] });
    expect(run.said.at(-1)).toBe('gate: stopped at phase2 (Phase 2: CI + FlakeHub Cache), which did not pass; not run: phase3, phase4, phase5.');
  });

  it('names no phase as not run when the last one fails', async () => {
    const run = await runAll({ phase5: 1 });
    expect(run).toMatchObject({ exitCode: 1, ran: [...phaseIds] });
    expect(run.said.at(-1)).toBe('gate: stopped at phase5 (Phase 5: Production Validation), which did not pass.');
  });
});
