import type { SandboxManager } from '../sandboxes/manager.ts';
import type { Role } from '../sandboxes/types.ts';
import type { Route, Target } from './proxy.ts';

/** Without route pointers: main is the live sandbox and dev the dev sandbox. */
const fixedRoles = (_userId: string, route: Route): Role => (route === 'main' ? 'live' : 'dev');

/**
 * Where each route of a user goes: the sandbox the user's route pointer names (hypervisor/routing),
 * started on demand (SandboxUnavailableError when it cannot be).
 */
export function sandboxTargets(sandboxes: Pick<SandboxManager, 'ensureRunning'>, roleFor: (userId: string, route: Route) => Role = fixedRoles): (userId: string, route: Route) => Promise<Target> {
  return async (userId, route) => {
    const role = roleFor(userId, route);
    const { port } = await sandboxes.ensureRunning({ userId, role });
    return { port, role };
  };
}
