import { phases, type Phase } from '../suites/phases.ts';

/**
 * `npm run gate` with no phase: every phase in order against the chosen target, stopping at the
 * first that does not pass. Each phase run keeps the ledger's rules (it still checks that its
 * predecessor passed for this target), so this is a convenience, never a bypass.
 */
export async function runPhasesInOrder(runPhase: (phase: Phase) => Promise<number>, say: (line: string) => void = console.log): Promise<number> {
  for (const [index, phase] of phases.entries()) {
    say(`gate: phase ${index + 1} of ${phases.length}: ${phase.title}`);
    const exitCode = await runPhase(phase);
    if (exitCode !== 0) {
      const skipped = phases.slice(index + 1).map((later) => later.id);
      say(`gate: stopped at ${phase.id} (${phase.title}), which did not pass${skipped.length ? `; not run: ${skipped.join(', ')}` : ''}.`);
      return exitCode;
    }
  }
  say(`gate: all ${phases.length} phases passed.`);
  return 0;
}
