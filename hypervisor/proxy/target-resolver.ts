import type { Role } from '../domain/role.ts';
import type { Route } from '../domain/route.ts';

/** Where a route of a user goes now: the sandbox's port and its role. */
export interface Target {
  port: number;
  role: Role;
}

/**
 * What the proxy asks about a user's route, once per request. It is built where the parts are
 * composed (hypervisor/sandbox-targets.ts: route pointers and the sandbox manager), so the proxy
 * imports neither.
 */
export interface TargetResolver {
  /**
   * The sandbox the route points to, started on demand, counting as activity on it. A running
   * sandbox's target comes back at once (most requests: nothing can interleave between this and the
   * proxy's in-flight count); one that must start comes back as a promise. Throwing or rejecting
   * means "cannot serve now" (503 with Retry-After; `retryAfterSecs` on the error when it knows).
   */
  target(userId: string, route: Route): Target | Promise<Target>;
  /**
   * Where the route points now. A WebSocket whose target was chosen just before a route switch may
   * open just after the switch closed the old target's sockets; it is closed (1012) so it reconnects.
   */
  roleOf(userId: string, route: Route): Role;
  /** Activity on a relayed WebSocket (for the sandbox's idle timeout). */
  touch(userId: string, role: Role): void;
}
