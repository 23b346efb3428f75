import type { Logger } from '../log.ts';
import type { Forwarding, Identity } from './headers.ts';
import type { ProxyLimits } from './limits.ts';

/** What a relay (HTTP or WebSocket) needs to reach a user's sandbox on their behalf. */
export interface SandboxLeg {
  /** The sandbox's loopback port (also named in error messages). */
  port: number;
  /** The path towards the sandbox (the /dev prefix already stripped). */
  path: string;
  identity: Identity;
  forwarding: Forwarding;
  limits: ProxyLimits;
  log: Logger;
}
