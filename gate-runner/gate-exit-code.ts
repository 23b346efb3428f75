import { UnknownPhaseError } from '../suites/phases.ts';
import { GateRefusedError } from './gate-refused.ts';
import { GateTargetConfigError } from './gate-target.ts';
import { GitHubIssueError } from './github-issues.ts';
import { NoRecordedRunError } from './latest-run.ts';

/** The gate command was called wrongly (a missing or extra argument); the message carries the usage. */
export class GateUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GateUsageError';
  }
}

/**
 * How `npm run gate` ends on an error it expects: 1 when the run was refused or could not be
 * reported (the command was right, the state was not), 2 when the command or its configuration is
 * wrong. Undefined for anything else: a bug, which the CLI rethrows with its stack.
 */
export function gateExitCode(error: unknown): 1 | 2 | undefined {
  if (error instanceof GateRefusedError || error instanceof GitHubIssueError || error instanceof NoRecordedRunError) return 1;
  if (error instanceof GateUsageError || error instanceof UnknownPhaseError || error instanceof GateTargetConfigError) return 2;
  return undefined;
}

/** The line the CLI prints for such an error: a refusal says so up front. */
export const gateErrorLine = (error: Error): string => (error instanceof GateRefusedError ? `gate REFUSED: ${error.message}` : `gate: ${error.message}`);
