import { describe, expect, it } from 'vitest';
import { phaseById, UnknownPhaseError } from '../suites/phases.ts';
import { phaseFromArgs } from './gate-args.ts';
import { GateUsageError } from './gate-exit-code.ts';

describe('the arguments of npm run gate -- <phase>', () => {
  it('are the phase alone', () => {
    expect(phaseFromArgs(['phase3'])).toBe(phaseById('phase3'));
  });

  it('refuse any argument after the phase: there is no bypass option', () => {
    expect(() => phaseFromArgs(['phase2', '--force'])).toThrow(GateUsageError);
    expect(() => phaseFromArgs(['phase2', '--force'])).toThrow('unexpected argument(s) --force: the gate takes only the phase (there is no bypass option). usage: npm run gate');
  });

  it('refuse an empty phase and name an unknown one', () => {
    expect(() => phaseFromArgs([''])).toThrow('no phase given. usage: npm run gate');
    expect(() => phaseFromArgs(['phase9'])).toThrow(UnknownPhaseError);
  });
});
