import type { SandboxStatus } from '../domain/sandbox.ts';

/**
 * A sandbox's lifecycle as the manager tracks it. The admin API reports the contract's three
 * statuses; `state` keeps the detail (a sandbox waiting to be restarted after a crash is `backoff`).
 */
export const sandboxStates = ['starting', 'running', 'stopping', 'stopped', 'backoff', 'failed'] as const;
export type SandboxState = (typeof sandboxStates)[number];

/** Whether the hypervisor should keep the sandbox running (survives hypervisor restarts). */
export type DesiredState = 'running' | 'stopped';

export function statusOf(state: SandboxState): SandboxStatus {
  if (state === 'running') return 'running';
  if (state === 'failed') return 'failed';
  return 'stopped';
}
