import type { SandboxManager } from '../sandboxes/manager.ts';
import type { Role } from '../sandboxes/types.ts';
import type { Route, Target } from './proxy.ts';

/** Without route pointers: main is the live sandbox and dev the dev sandbox. */
export const fixedRoles = (_userId: string, route: Route): Role => (route === 'main' ? 'live' : 'dev');

/** Which sandbox (role) a user's route points to right now. */
export type RoleFor = (userId: string, route: Route) => Role;

/**
 * Where each route of a user goes: the sandbox the user's route pointer names (hypervisor/routing),
 * started on demand (SandboxUnavailableError when it cannot be).
 */
export function sandboxTargets(sandboxes: Pick<SandboxManager, 'ensureRunning'>, roleFor: RoleFor = fixedRoles): (userId: string, route: Route) => Promise<Target> {
  return async (userId, route) => {
    const role = roleFor(userId, route);
    const { port } = await sandboxes.ensureRunning({ userId, role });
    return { port, role };
  };
}

/**
 * The same without waiting: the target when its sandbox is already running, else undefined (the
 * proxy then takes the asynchronous path above, which can start it).
 */
export function runningTargets(sandboxes: Pick<SandboxManager, 'runningPort'>, roleFor: RoleFor = fixedRoles): (userId: string, route: Route) => Target | undefined {
  return (userId, route) => {
    const role = roleFor(userId, route);
    const port = sandboxes.runningPort({ userId, role });
    return port === undefined ? undefined : { port, role };
  };
}
