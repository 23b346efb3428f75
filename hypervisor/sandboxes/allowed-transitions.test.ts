import { describe, expect, it } from 'vitest';
import { allowedTransitions, canTransition, SandboxTransitionError } from './allowed-transitions.ts';
import { sandboxStates } from './state.ts';

describe('the allowed-transition table', () => {
  it('names every state, and only known states as targets', () => {
    expect(Object.keys(allowedTransitions).sort()).toEqual([...sandboxStates].sort());
    for (const targets of Object.values(allowedTransitions)) for (const target of targets) expect(sandboxStates).toContain(target);
  });

  it('allows staying put and the lifecycle moves, and nothing else', () => {
    expect(canTransition('running', 'running')).toBe(true);
    expect(canTransition('stopped', 'starting')).toBe(true);
    expect(canTransition('running', 'backoff')).toBe(true);
    expect(canTransition('stopping', 'running')).toBe(false);
    expect(canTransition('stopped', 'running')).toBe(false);
    expect(new SandboxTransitionError('u:live', 'stopped', 'running').message).toBe('sandbox u:live cannot go from stopped to running (allowed: starting)');
  });

  // Each move below is one the manager makes (the table's comments); each refused one would hide a bug.
  it('lets every state go where the lifecycle takes it, and only there', () => {
    const moves = sandboxStates.flatMap((from) => sandboxStates.filter((to) => to !== from && canTransition(from, to)).map((to) => `${from}->${to}`));
    expect(moves.sort()).toEqual(
      [
        'starting->running', 'starting->failed', 'starting->backoff', 'starting->stopped',
        'running->stopping', 'running->stopped', 'running->backoff', 'running->failed', 'running->starting',
        'stopping->stopped',
        'stopped->starting',
        'backoff->starting', 'backoff->stopped', 'backoff->failed',
        'failed->starting', 'failed->stopped',
      ].sort(),
    );
  });
});
