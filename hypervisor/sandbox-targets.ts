import type { Role } from './domain/role.ts';
import type { Route } from './domain/route.ts';
import type { TargetResolver } from './proxy/target-resolver.ts';
import type { SandboxManager } from './sandboxes/manager.ts';

/** Which sandbox (role) a user's route points to right now. */
export type RoleOf = (userId: string, route: Route) => Role;

/** Without route pointers: main is the live sandbox and dev the dev sandbox. */
export const fixedRoles: RoleOf = (_userId, route) => (route === 'main' ? 'live' : 'dev');

/**
 * The proxy's one question per request, answered from the route pointers (`roleOf`: routing's
 * durable pointers) and the sandbox manager: the role once, the running sandbox's port at once (which
 * records the activity), else a start on demand (SandboxUnavailableError when it cannot run).
 */
export function sandboxTargets(sandboxes: Pick<SandboxManager, 'runningPort' | 'ensureRunning' | 'touch'>, roleOf: RoleOf = fixedRoles): TargetResolver {
  return {
    target(userId, route) {
      const role = roleOf(userId, route);
      const port = sandboxes.runningPort({ userId, role });
      if (port !== undefined) return { port, role };
      return sandboxes.ensureRunning({ userId, role }).then((started) => ({ port: started.port, role }));
    },
    roleOf,
    touch: (userId, role) => sandboxes.touch({ userId, role }),
  };
}
