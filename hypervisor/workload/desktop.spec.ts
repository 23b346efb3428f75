import { test as base, expect } from '@playwright/test';
import { removeDataDir, startSandboxProcess, type SandboxProcess } from './testing/sandbox-process.ts';

/** A sandbox child process per test; `sandboxEnv` is its environment (an option a test can override). */
const test = base.extend<{ sandboxEnv: Record<string, string>; sandbox: SandboxProcess }>({
  sandboxEnv: [{ CHOIR_SANDBOX_ROLE: 'dev', SANDBOX_CONDUCTOR_STEP_MS: '100' }, { option: true }],
  sandbox: async ({ sandboxEnv }, use) => {
    const sandbox = await startSandboxProcess({ env: sandboxEnv });
    await use(sandbox);
    await sandbox.stop();
    removeDataDir(sandbox.dataDir);
  },
});

test('a person starts a task on the desktop page and watches its progress and result arrive', async ({ page, sandbox }) => {
  await page.goto(`${sandbox.url}/`);
  await expect(page.getByTestId('sandbox-role')).toHaveText('dev');

  await page.getByLabel('Objective').fill('Summarise the desktop flow');
  await page.getByRole('button', { name: 'Start task' }).click();

  const events = page.getByTestId('run-events').locator('li');
  await expect(events.first()).toHaveText(/^conductor\.run\.started/);
  await expect(page.getByTestId('run-status')).toHaveText('running');
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  await expect(events.filter({ hasText: /^conductor\.run\.progress running step 1\/4/ })).toHaveCount(1);
  await expect(events.last()).toHaveText(/^conductor\.run\.completed/);

  const result = page.getByTestId('run-result');
  await expect(result).toContainText(/Document: documents\/summarise-the-desktop-flow-[0-9a-f]{8}\.md/);
  await expect(result).toContainText('# Report: Summarise the desktop flow');
});
