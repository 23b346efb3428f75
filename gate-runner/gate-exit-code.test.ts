import { describe, expect, it } from 'vitest';
import { phaseById, UnknownPhaseError } from '../suites/phases.ts';
import { gateErrorLine, gateExitCode, GateUsageError } from './gate-exit-code.ts';
import { GateRefusedError } from './gate-refused.ts';
import { GateTargetConfigError } from './gate-target.ts';
import { GitHubIssueError } from './github-issues.ts';
import { NoRecordedRunError } from './latest-run.ts';

describe('how npm run gate ends on an error', () => {
  it('exits 1 when the run was refused or could not be reported', () => {
    expect(gateExitCode(new GateRefusedError('phase2 cannot start'))).toBe(1);
    expect(gateExitCode(new GitHubIssueError('GitHub refused the defect issue'))).toBe(1);
    expect(gateExitCode(new NoRecordedRunError(phaseById('phase1'), 'local', '/tmp/gates'))).toBe(1);
  });

  it('exits 2 when the command or its configuration is wrong', () => {
    expect(gateExitCode(new GateUsageError('no phase given'))).toBe(2);
    expect(gateExitCode(new UnknownPhaseError('phase9'))).toBe(2);
    expect(gateExitCode(new GateTargetConfigError('GATE_TARGET_URL is not a URL'))).toBe(2);
  });

  it('has no exit code for any other error: a bug is rethrown with its stack', () => {
    expect(gateExitCode(new Error('undefined is not a function'))).toBeUndefined();
    expect(gateExitCode('a string')).toBeUndefined();
  });

  it('says a refusal up front, any other expected error after "gate:"', () => {
    expect(gateErrorLine(new GateRefusedError('phase2 cannot start'))).toBe('gate REFUSED: phase2 cannot start');
    expect(gateErrorLine(new GateUsageError('no phase given'))).toBe('gate: no phase given');
  });
});
