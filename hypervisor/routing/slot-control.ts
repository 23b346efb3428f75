import { SandboxNotFoundError } from '../sandboxes/errors.ts';
import type { SandboxManager } from '../sandboxes/manager.ts';
import type { SlotControl } from './context.ts';

/** Routing's view of the sandbox manager: slots are the (user, role) sandboxes it runs. */
export function managerSlots(manager: SandboxManager): SlotControl {
  return {
    start: async (key, spec) => ({ port: (await manager.start(key, spec, 'release')).port }),
    ensureRunning: (key) => manager.ensureRunning(key),
    async stop(key) {
      try {
        await manager.stop(key, 'release_refused');
      } catch (error) {
        if (!(error instanceof SandboxNotFoundError)) throw error;
      }
    },
    status(key) {
      const info = manager.get(key);
      return info ? { status: info.status, port: info.port, spec: info.spec } : undefined;
    },
    users: () => [...new Set(manager.list().map((info) => info.userId))],
  };
}
