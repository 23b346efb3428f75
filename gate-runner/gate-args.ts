import { phaseById, type Phase } from '../suites/phases.ts';
import { GateUsageError } from './gate-exit-code.ts';

export const gateUsage = 'usage: npm run gate [-- <phase>]   (no phase: phase1 .. phase5 in order, stopping at the first failure; target: GATE_TARGET=<name>, default local)';

/** `npm run gate -- <phase>` takes the phase and nothing else: there is no option to bypass a rule. */
export function phaseFromArgs(args: readonly string[]): Phase {
  const [id, ...rest] = args;
  if (!id) throw new GateUsageError(`no phase given. ${gateUsage}`);
  if (rest.length) throw new GateUsageError(`unexpected argument(s) ${rest.join(' ')}: the gate takes only the phase (there is no bypass option). ${gateUsage}`);
  return phaseById(id);
}
