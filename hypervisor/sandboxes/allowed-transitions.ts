import type { SandboxState } from './state.ts';

/**
 * Where each lifecycle state may go next (staying put is always allowed). The manager refuses any
 * other move: it would be a bug, and a record in an impossible state is worse than an error. Only
 * reconcile, which corrects records to what really runs after a restart, writes states outside it.
 */
export const allowedTransitions: Readonly<Record<SandboxState, readonly SandboxState[]>> = {
  // running once healthy; failed or backoff when it never gets there; stopped when stopped before it ran.
  starting: ['running', 'failed', 'backoff', 'stopped'],
  // A crash goes to backoff (or failed past the restart limit); a start right after a crash, to starting.
  running: ['stopping', 'stopped', 'backoff', 'failed', 'starting'],
  stopping: ['stopped'],
  stopped: ['starting'],
  backoff: ['starting', 'stopped', 'failed'],
  failed: ['starting', 'stopped'],
};

export class SandboxTransitionError extends Error {
  constructor(sandbox: string, from: SandboxState, to: SandboxState) {
    super(`sandbox ${sandbox} cannot go from ${from} to ${to} (allowed: ${allowedTransitions[from].join(', ')})`);
    this.name = 'SandboxTransitionError';
  }
}

export const canTransition = (from: SandboxState, to: SandboxState): boolean => from === to || allowedTransitions[from].includes(to);
