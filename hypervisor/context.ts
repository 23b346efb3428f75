import type { HypervisorConfig } from './config.ts';
import type { Logger } from './log.ts';
import type { SandboxManager } from './sandboxes/manager.ts';
import type { Database } from './store/database.ts';

/**
 * What every part of the hypervisor is built from; app.ts fills it in once listening and hands it
 * to what it composes. It names the parts by type only, so nothing that uses it imports app.ts.
 */
export interface HypervisorContext {
  /** The configuration with the real listening port filled in (HYPERVISOR_PORT=0). */
  config: HypervisorConfig;
  db: Database;
  sandboxes: SandboxManager;
  log: Logger;
  bootId: string;
  startedAt: number;
  port: number;
  /** Registers a clean-up for close(); they run last registered first, before the database closes. */
  onClose(cleanup: () => void | Promise<void>): void;
}
