import { randomBytes } from 'node:crypto';
import { test as passkeyTest } from '../../fixtures/passkey.ts';
import { stopAllSandboxes } from '../../fixtures/stop-all-sandboxes.ts';
import { hypervisorEnv, removeDir, spawnHypervisor, type ChildHypervisor } from '../../fixtures/test-hypervisor.ts';

export { expect } from '@playwright/test';

/** `node hypervisor/main.ts` as a child process (process runtime), reached by the browser at http://localhost:PORT. */
export interface BrowsedHypervisor extends ChildHypervisor {
  baseURL: string;
}

/** A username no other run uses. */
export const newUsername = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

export const test = passkeyTest.extend<{ hypervisorLog: void }, { hypervisor: BrowsedHypervisor }>({
  hypervisor: [
    async ({ playwright: _playwright }, use) => {
      const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'process' });
      const hypervisor = await spawnHypervisor(env);
      await use({ ...hypervisor, baseURL: `http://localhost:${hypervisor.port}` });
      await stopAllSandboxes(hypervisor.admin);
      hypervisor.child.kill('SIGTERM');
      await hypervisor.exited;
      removeDir(dir);
    },
    { scope: 'worker', timeout: 90_000 },
  ],
  baseURL: async ({ hypervisor }, use) => use(hypervisor.baseURL),
  // The hypervisor's log lines written during each test, attached to it.
  hypervisorLog: [
    async ({ hypervisor }, use, testInfo) => {
      const from = hypervisor.logs.length;
      await use();
      await testInfo.attach('hypervisor log', { body: hypervisor.logs.slice(from).map((line) => JSON.stringify(line)).join('\n'), contentType: 'application/x-ndjson' });
    },
    { auto: true },
  ],
});
